//! What one instance's writes changed, told to every other instance on the
//! same PostgreSQL (`NOTIFY` / `LISTEN`), so that their caches forget it too.
//!
//! - [`publish`] runs inside the write transaction: PostgreSQL delivers a
//!   notification at the commit, to every listening session, and never
//!   for a rolled-back transaction. The payload names the changes (the
//!   cache's keys, never a value), and the cache of the instance that
//!   caused them ([`Listener::origin`]), which has already applied them.
//! - [`spawn`] starts one thread an instance, holding its own connection
//!   (not one of the pool's), which polls for notifications every
//!   [`POLL`] and hands them to the [`Listener`] (the cache). Polling reads
//!   only what already arrived on the socket: no query, no round trip.
//! - A notification can be missed only while that connection is down. The
//!   thread notices within [`HEARTBEAT`] (a query on it fails), reconnects,
//!   and on every (re)connection tells the listener that it may have missed
//!   something ([`Listener::missed`]: the cache forgets everything). The
//!   cache's TTL bounds the rest: see docs/PERFORMANCE.md, "Caches across
//!   instances".
//!
//! SQLite has one process by design (the embedded default): nothing to
//! publish, no thread.

use std::sync::Weak;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Text};

use super::{Change, DbConn, DbError, Listener};

/// The channel all instances of one database share.
pub const CHANNEL: &str = "portico_changes";
/// How often the listening thread looks for notifications.
pub const POLL: Duration = Duration::from_millis(20);
/// How often it checks that its connection is alive.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// PostgreSQL takes payloads under 8,000 bytes; a longer list of changes is
/// sent as several notifications of the same transaction (the housekeeping
/// ends 2,000 sessions a commit: sent as "everything", that would empty
/// every other instance's cache a few hundred times a round).
const MAX_PAYLOAD: usize = 7_000;

/// Publishes `changes` to the other instances when `conn` is PostgreSQL;
/// called inside the write transaction that made them. One statement
/// whatever their number.
pub fn publish(conn: &mut DbConn, origin: u64, changes: &[Change]) -> Result<(), DbError> {
    let DbConn::Pg(conn) = conn else {
        return Ok(());
    };
    let publish = Publish(payloads_of(origin, changes));
    if !publish.0.is_empty() {
        publish.execute(conn)?;
    }
    Ok(())
}

/// The payloads that publish `changes` made by the instance `origin`; none
/// for no change. For a statement that publishes them itself (a batch of
/// sign-ins, `writer::Batch`), with `pg_notify('portico_changes', p)`.
pub(super) fn payloads_of(origin: u64, changes: &[Change]) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    payloads(&format!("{origin:x}"), changes)
}

/// `SELECT pg_notify('portico_changes', p) FROM unnest($1) AS p` over
/// payloads: a type of its own, so that diesel keeps it prepared
/// (`sql_query` is parsed and planned again at every call, and every write
/// transaction runs it); also the end of a batch's one statement
/// (`writer::WriteTogether`).
#[derive(Default, diesel::query_builder::QueryId)]
pub(super) struct Publish(pub Vec<String>);

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Publish {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("SELECT pg_notify('");
        out.push_sql(CHANNEL);
        out.push_sql("', p) FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.0)?;
        out.push_sql(") AS p");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for Publish {}

/// `<origin> <change> <change> …`, each change a letter and maybe an id,
/// each named once; as many payloads as it takes to keep each under
/// [`MAX_PAYLOAD`].
fn payloads(instance: &str, changes: &[Change]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from(instance);
    let mut seen = std::collections::HashSet::new();
    for change in changes {
        if !seen.insert(*change) {
            continue;
        }
        let (letter, id) = match *change {
            Change::Company(id) => ('c', Some(id)),
            Change::User(id) => ('u', Some(id)),
            Change::Projects(id) => ('p', Some(id)),
            Change::Memberships(id) => ('m', Some(id)),
            Change::AllMemberships => ('M', None),
            Change::Session(id) => ('s', Some(id)),
            Change::OpenRequests(id) => ('o', Some(id)),
            Change::Request(id) => ('r', Some(id)),
            Change::Staff(id) => ('a', Some(id)),
        };
        let word = match id {
            Some(id) => format!(" {letter}{id}"),
            None => format!(" {letter}"),
        };
        if current.len() + word.len() > MAX_PAYLOAD {
            out.push(std::mem::replace(&mut current, String::from(instance)));
        }
        current.push_str(&word);
    }
    out.push(current);
    out
}

/// What a payload asks: `None` when it came from `instance` itself.
#[derive(Debug, PartialEq, Eq)]
enum Heard {
    Changes(Vec<Change>),
    Everything,
}

fn parse(payload: &str, instance: &str) -> Option<Heard> {
    let mut words = payload.split(' ');
    if words.next()? == instance {
        return None;
    }
    let mut changes = Vec::new();
    for word in words {
        let (letter, id) = word.split_at(word.char_indices().nth(1).map_or(word.len(), |(i, _)| i));
        let id = id.parse::<i64>();
        let change = match (letter, id) {
            ("c", Ok(id)) => Change::Company(id),
            ("u", Ok(id)) => Change::User(id),
            ("p", Ok(id)) => Change::Projects(id),
            ("m", Ok(id)) => Change::Memberships(id),
            ("M", _) => Change::AllMemberships,
            ("s", Ok(id)) => Change::Session(id),
            ("o", Ok(id)) => Change::OpenRequests(id),
            ("r", Ok(id)) => Change::Request(id),
            ("a", Ok(id)) => Change::Staff(id),
            // Anything this version does not know ("*" of an older
            // instance, or a newer one's during an upgrade): forgetting
            // everything is right.
            _ => return Some(Heard::Everything),
        };
        changes.push(change);
    }
    Some(Heard::Changes(changes))
}

/// Starts the listening thread for the PostgreSQL database at `url`; it
/// ends when `listener` is dropped (a test's server going away).
pub fn spawn(url: String, listener: Weak<dyn Listener>) -> Result<(), String> {
    std::thread::Builder::new()
        .name("portico-notify".into())
        .spawn(move || listen(&url, &listener))
        .map(|_| ())
        .map_err(|e| format!("cannot start the notification thread: {e}"))
}

fn listen(url: &str, listener: &Weak<dyn Listener>) {
    let mut was_down = false;
    while listener.strong_count() > 0 {
        match subscribe(url) {
            Ok(mut conn) => {
                if was_down {
                    log::info!("listening for other instances' changes again");
                }
                // Whatever changed while nobody listened is forgotten.
                if let Some(l) = listener.upgrade() {
                    l.missed();
                }
                if let Err(e) = follow(&mut conn, listener) {
                    log::warn!("lost the connection that hears other instances' changes: {e}");
                    was_down = true;
                }
            }
            Err(e) => {
                if !was_down {
                    log::warn!("cannot listen for other instances' changes: {e}");
                }
                was_down = true;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn subscribe(url: &str) -> Result<PgConnection, String> {
    let mut conn = super::establish_pg(url).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Hands notifications to the listener until the connection fails or the
/// listener is gone.
fn follow(conn: &mut PgConnection, listener: &Weak<dyn Listener>) -> Result<(), String> {
    let mut checked = Instant::now();
    loop {
        let Some(l) = listener.upgrade() else {
            return Ok(());
        };
        let origin = format!("{:x}", l.origin());
        for heard in conn.notifications_iter() {
            let heard = heard.map_err(|e| e.to_string())?;
            match parse(&heard.payload, &origin) {
                None => {}
                Some(Heard::Changes(changes)) => l.committed(&changes),
                Some(Heard::Everything) => l.missed(),
            }
        }
        drop(l);
        if checked.elapsed() >= HEARTBEAT {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map_err(|e| e.to_string())?;
            checked = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_changes_once_and_skip_their_sender() {
        let changes = [
            Change::Company(7),
            Change::User(42),
            Change::User(42),
            Change::AllMemberships,
            Change::Session(9),
            Change::OpenRequests(5),
            Change::Request(6),
            Change::Staff(7),
        ];
        let p = payloads("me", &changes);
        assert_eq!(p, ["me c7 u42 M s9 o5 r6 a7"]);
        let p = &p[0];
        assert_eq!(parse(p, "me"), None);
        assert_eq!(
            parse(p, "other"),
            Some(Heard::Changes(vec![
                Change::Company(7),
                Change::User(42),
                Change::AllMemberships,
                Change::Session(9),
                Change::OpenRequests(5),
                Change::Request(6),
                Change::Staff(7)
            ]))
        );
        assert_eq!(
            parse("x p3 m4", "me"),
            Some(Heard::Changes(vec![
                Change::Projects(3),
                Change::Memberships(4)
            ]))
        );
    }

    #[test]
    fn many_changes_are_split_into_payloads_postgresql_takes() {
        let many: Vec<Change> = (1_000_000..1_002_000).map(Change::Session).collect();
        let p = payloads("me", &many);
        assert!(p.len() > 1, "{} payloads", p.len());
        let mut heard = Vec::new();
        for one in &p {
            assert!(one.len() <= MAX_PAYLOAD, "{} bytes", one.len());
            assert_eq!(parse(one, "me"), None);
            match parse(one, "other") {
                Some(Heard::Changes(changes)) => heard.extend(changes),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(heard, many);
    }

    #[test]
    fn what_is_unknown_means_everything() {
        assert_eq!(parse("x *", "me"), Some(Heard::Everything));
        assert_eq!(parse("x q1", "me"), Some(Heard::Everything));
        assert_eq!(parse("x u", "me"), Some(Heard::Everything));
    }
}
