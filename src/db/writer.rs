//! The write path of sign-ins: a thread that owns the writing, takes the
//! work queued by all HTTP workers and runs it in batches, each batch one
//! write transaction ([`Tx`]: `BEGIN IMMEDIATE` on SQLite; on PostgreSQL
//! begun at its first write, or none when its one statement writes alone).
//! A waiter is answered only after its batch
//! committed, so nothing answered is lost; the cost of a transaction (the
//! lock, the WAL append) is shared by up to [`MAX_BATCH`] sign-ins instead of
//! paid by each, and writers never queue on SQLite's lock against each other.
//!
//! Work is run optimistically, all of a batch in one transaction without
//! savepoints. Should one piece fail, the batch is rolled back and each piece
//! is run again in a transaction of its own, so one failure never takes the
//! others down with it and never leaves half of itself committed.
//!
//! What every sign-in of a batch writes alike — the users' last sign-in, the
//! `ok` events — is written once for the batch ([`Batch`]): one statement
//! instead of one each. The batch also reads the users its sign-ins name in
//! one statement before they run ([`Wanted`]) and writes their sessions (ids
//! reserved ahead, [`Spare`]) at its end. On PostgreSQL, where each statement
//! is a round trip, the sessions, `ok` events, last sign-ins and `NOTIFY` are
//! one statement; on SQLite a statement each, each over one JSON array.
//!
//! What the pieces change is told to the [`Listener`] (the cache) once
//! their batch is committed, before any of them is answered.
//!
//! On PostgreSQL the number of writer threads is [`PG_THREADS`] (one since
//! a batch costs a fixed handful of statements: larger batches beat
//! parallel ones there, see docs/PERFORMANCE.md); rows are locked as they
//! are written, and several instances write side by side. Two batches (of
//! two instances, or threads) may then race for one unique row (a first
//! sign-in's email, a `jti`): the loser's batch fails with a unique violation or a deadlock, is rolled back, and
//! each of its pieces runs again alone — and finds the row the winner wrote.
//!
//! Work that waited longer than [`MAX_WAIT`] (another process holding the
//! database's write lock, say) is answered "busy" without running, and a
//! full queue refuses at once: the server degrades to clean 503s, never to
//! a hang, and recovers by itself.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::models::{LiveSession, Method, NewSession, NewSsoEvent, SsoSecret, User};
use super::{Change, DbConn, DbError, DbPool, Listener, Tx};

/// Writer threads on PostgreSQL. A batch of returning sign-ins there costs
/// a fixed number of statements whatever its size (five when this was
/// measured, two since: [`Tx`]), so one thread taking all that is queued
/// beat two taking half each: 21.0–21.6k returning sign-ins a second
/// against 16.7–18.0k, alternating runs. First
/// visits pay for it (each new user is an insert of its own, one after the
/// other: 6.5k a second against 13k with two), well above their target.
pub const PG_THREADS: usize = 1;
/// The most pieces of work one transaction carries.
pub const MAX_BATCH: usize = 256;
/// Work queued longer than this is answered "busy" without running.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// Work waiting at once; more is refused at once with "busy".
const QUEUE: usize = 16_384;

/// What the pieces of one batch read once and write together, at its end.
#[derive(Default)]
pub struct Batch {
    /// Users who signed in through SSO, with the time.
    sso_logins: Vec<i64>,
    now: i64,
    /// The `ok` events of those sign-ins.
    sign_ins: Vec<NewSsoEvent>,
    /// Secrets as read in this transaction, by id (`None`: there is no
    /// such secret).
    secrets: HashMap<i64, Option<SsoSecret>>,
    /// Secrets whose use is to be recorded.
    touched: Vec<i64>,
    /// How many pieces of work the batch holds.
    size: usize,
    /// Users read ahead for the pieces, by email and by id
    /// (`None`: there is no such user). A user the batch writes is dropped
    /// from these, so a later piece reads it again.
    users_by_email: HashMap<String, Option<User>>,
    users_by_id: HashMap<i64, Option<User>>,
    /// Session ids reserved and not yet given; on PostgreSQL kept by the
    /// writer thread from batch to batch.
    spare: Spare,
    /// Who publishes the batch's changes (`Listener::origin`).
    origin: u64,
    /// Sessions to write with the batch.
    sessions: Vec<LiveSession>,
}

/// Session ids a batch reserved and has not given yet. On PostgreSQL,
/// where reserving them is a round trip, a batch reserves at
/// least [`RESERVE`] and the next batches of the thread use the rest — for
/// at most [`SPARE_FOR`]: the housekeeping's cap of sessions a person
/// reads the sessions started since its last round by their ids, and an id
/// reserved long before its session would slip under that mark. (Across
/// instances the cap is approximate anyway: another instance's sessions may
/// take higher ids first, within that second.)
#[derive(Default)]
pub struct Spare {
    /// The next one last.
    ids: Vec<i64>,
    reserved_at: Option<Instant>,
}

impl Spare {
    /// The ids, if reserved within [`SPARE_FOR`]; none otherwise.
    fn take_fresh(&mut self) -> Spare {
        let spare = std::mem::take(self);
        match spare.reserved_at {
            Some(at) if at.elapsed() < SPARE_FOR => spare,
            _ => Spare::default(),
        }
    }

    /// The next id, if any is left.
    fn next(&mut self) -> Option<i64> {
        self.ids.pop()
    }

    /// Keeps `ids` (ascending), reserved now.
    fn refill(&mut self, mut ids: Vec<i64>) {
        // Given from the lowest: a thread's sessions keep the order in
        // which they started.
        ids.reverse();
        *self = Spare {
            ids,
            reserved_at: Some(Instant::now()),
        };
    }
}

/// The fewest session ids a batch reserves on PostgreSQL.
const RESERVE: usize = 128;
/// How long reserved session ids are used.
const SPARE_FOR: Duration = Duration::from_secs(1);

/// What a piece of work will read, for its batch to read ahead with the
/// others' ([`Batch::usable_secret`], [`Batch::user_by_email`],
/// [`Batch::user_in_company`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// The secret a sign-in's token was signed with.
    pub secret: Option<i64>,
    /// The user it names.
    pub user: Option<WantedUser>,
}

/// A user a piece of work will look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedUser {
    /// By (normalised) email.
    Email(String),
    /// By id.
    Id(i64),
}

impl Batch {
    /// Records an SSO sign-in of `user_id` at `now`, written with the batch.
    pub fn sso_login(&mut self, user_id: i64, now: i64) {
        self.sso_logins.push(user_id);
        self.now = self.now.max(now);
    }

    /// Records a sign-in's `ok` event, written with the batch.
    pub fn sign_in_event(&mut self, event: NewSsoEvent) {
        self.sign_ins.push(event);
    }

    /// The secret `id` if it is usable at `now`, read from the database once
    /// a batch (or read ahead): the sign-ins of one batch are one
    /// transaction, and see one secret alike.
    pub fn usable_secret(
        &mut self,
        tx: &mut Tx<'_>,
        id: i64,
        now: i64,
    ) -> Result<Option<SsoSecret>, DbError> {
        let secret = match self.secrets.get(&id) {
            Some(secret) => secret.clone(),
            None => {
                let secret = SsoSecret::find(tx.read(), id)?;
                self.secrets.insert(id, secret.clone());
                secret
            }
        };
        Ok(secret.filter(|s| s.usable_at(now)))
    }

    /// Records a use of `secret` at `now`, at most once a minute
    /// ([`SsoSecret::needs_touch`]), written with the batch.
    pub fn touch_secret(&mut self, secret: &SsoSecret, now: i64) {
        if secret.needs_touch(now) && !self.touched.contains(&secret.id) {
            self.touched.push(secret.id);
            self.now = self.now.max(now);
        }
    }

    /// Reads what `wanted` names: the users in one statement; on
    /// PostgreSQL, where a statement is a round trip, the secrets in the
    /// same one.
    fn read_ahead<'w>(
        &mut self,
        tx: &mut Tx<'_>,
        wanted: impl Iterator<Item = &'w Wanted>,
    ) -> Result<(), DbError> {
        let (mut secrets, mut emails, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        for want in wanted {
            if let Some(id) = want.secret
                && !secrets.contains(&id)
            {
                secrets.push(id);
            }
            match &want.user {
                Some(WantedUser::Email(email)) => emails.push(email.clone()),
                Some(WantedUser::Id(id)) => ids.push(*id),
                None => {}
            }
        }
        let users = match tx.read() {
            DbConn::Pg(c) if !secrets.is_empty() => {
                let (found, users) = SsoSecret::find_with_users(c, &secrets, &emails, &ids)?;
                for id in secrets {
                    let secret = found.iter().find(|s| s.id == id).cloned();
                    self.secrets.insert(id, secret);
                }
                // None: the first secret is gone, and the users were not
                // read with it (the pieces read theirs one by one).
                match users {
                    Some(users) => users,
                    None => return Ok(()),
                }
            }
            _ if emails.is_empty() && ids.is_empty() => return Ok(()),
            conn => User::find_many(conn, &emails, &ids)?,
        };
        for user in users {
            self.users_by_id.insert(user.id, Some(user.clone()));
            self.users_by_email.insert(user.email.clone(), Some(user));
        }
        for email in emails {
            self.users_by_email.entry(email).or_insert(None);
        }
        for id in ids {
            self.users_by_id.entry(id).or_insert(None);
        }
        Ok(())
    }

    /// The user with `email`: as read ahead, else from the database.
    pub fn user_by_email(&self, tx: &mut Tx<'_>, email: &str) -> Result<Option<User>, DbError> {
        match self.users_by_email.get(email) {
            Some(user) => Ok(user.clone()),
            None => User::find_by_email(tx.read(), email),
        }
    }

    /// The user `id` if of `company_id`: as read ahead, else from the
    /// database.
    pub fn user_in_company(
        &self,
        tx: &mut Tx<'_>,
        company_id: i64,
        id: i64,
    ) -> Result<Option<User>, DbError> {
        match self.users_by_id.get(&id) {
            Some(user) => Ok(user.clone().filter(|u| u.company_id == company_id)),
            None => User::find_in_company(tx.read(), company_id, id),
        }
    }

    /// `user` was written by this batch: later pieces read it again.
    pub fn wrote_user(&mut self, user: &User) {
        self.users_by_email.remove(&user.email);
        self.users_by_id.remove(&user.id);
    }

    /// Stores `row` as a session, in place of `previous` (its `(id, user
    /// id)`), which ends; the new session's id. Its id is reserved now (ids
    /// for the rest of the batch with it: [`LiveSession::reserve_ids`]) and
    /// the row written with the batch's others in one statement.
    pub fn new_session(
        &mut self,
        tx: &mut Tx<'_>,
        row: NewSession,
        previous: Option<(i64, i64)>,
    ) -> Result<i64, DbError> {
        if let Some((id, user_id)) = previous {
            LiveSession::end(tx, id, user_id)?;
        }
        if self.spare.ids.is_empty() {
            let left = self.size.saturating_sub(self.sessions.len()).max(1);
            // PostgreSQL keeps what the batch leaves for the next ones: a
            // reservation is a statement of its own there.
            let n = match **tx {
                DbConn::Pg(_) => left.max(RESERVE),
                DbConn::Sqlite(_) => left,
            };
            self.spare.refill(LiveSession::reserve_ids(tx, n)?);
        }
        let id = self
            .spare
            .next()
            .ok_or(DbError::Busy("no session id was reserved"))?;
        self.sessions.push(LiveSession { id, data: row });
        Ok(id)
    }

    fn write(&mut self, tx: &mut Tx<'_>) -> Result<(), DbError> {
        // First: on PostgreSQL the batch's one statement is its
        // transaction's last.
        for id in std::mem::take(&mut self.touched) {
            SsoSecret::touch(tx, id, self.now)?;
        }
        let logins = std::mem::take(&mut self.sso_logins);
        let sessions = std::mem::take(&mut self.sessions);
        let events = std::mem::take(&mut self.sign_ins);
        if let DbConn::Pg(_) = **tx {
            for &id in &logins {
                tx.changed(Change::User(id));
            }
            let payloads = super::notify::payloads_of(self.origin, tx.changes());
            // A batch that wrote nothing before it (returning sign-ins)
            // writes alone: no `BEGIN`, no `COMMIT` (`Tx::last`).
            if let DbConn::Pg(c) = tx.last()
                && write_together(c, sessions, events, logins, self.now, payloads)?
            {
                tx.published_all();
            }
        } else {
            // SQLite: a statement each, each over one JSON array.
            if !sessions.is_empty() {
                LiveSession::insert_many(tx, &sessions)?;
            }
            if !logins.is_empty() {
                User::record_logins(tx, &logins, Method::Sso, self.now)?;
            }
            if !events.is_empty() {
                NewSsoEvent::insert_sign_ins(tx, events)?;
            }
        }
        Ok(())
    }
}

/// PostgreSQL: a batch's sessions, `ok` events and last sign-ins in one
/// statement — a data-modifying `WITH` over arrays, so one round trip and
/// one SQL text whatever the batch's size (three statements before: see
/// docs/PERFORMANCE.md, "Where a PostgreSQL sign-in's time goes"), kept
/// prepared by the connection ([`WriteTogether`]); it also publishes the
/// transaction's changes so far (`payloads`) to the other instances, which
/// was one more statement. False when there was nothing to write (and
/// nothing was published).
fn write_together(
    c: &mut diesel::PgConnection,
    sessions: Vec<LiveSession>,
    events: Vec<NewSsoEvent>,
    logins: Vec<i64>,
    now: i64,
    payloads: Vec<String>,
) -> Result<bool, DbError> {
    use diesel::RunQueryDsl;
    if sessions.is_empty() && events.is_empty() && logins.is_empty() {
        return Ok(false);
    }
    let mut q = WriteTogether {
        payloads: super::notify::Publish(payloads),
        now,
        method: Method::Sso.as_str(),
        logins,
        ..WriteTogether::default()
    };
    for live in sessions {
        let d = live.data;
        q.s_id.push(live.id);
        q.s_user.push(d.user_id);
        q.s_method.push(d.method.as_str());
        q.s_created.push(d.created_at);
        q.s_expires.push(d.expires_at);
        q.s_ip.push(d.ip);
        q.s_agent.push(d.user_agent);
    }
    for event in events {
        let event = event.cut();
        q.e_company.push(event.company_id);
        q.e_created.push(event.created_at);
        q.e_outcome.push(event.outcome);
        q.e_subject.push(event.subject);
        q.e_user.push(event.user_id);
        q.e_ip.push(event.ip);
        q.e_iss.push(event.iss);
    }
    q.execute(c)?;
    Ok(true)
}

/// The statement of [`write_together`], a type of its own so that diesel
/// keeps it prepared: `sql_query` is parsed and planned again at every
/// call, and a batch is one call.
#[derive(Default, diesel::query_builder::QueryId)]
struct WriteTogether {
    s_id: Vec<i64>,
    s_user: Vec<i64>,
    s_method: Vec<&'static str>,
    s_created: Vec<i64>,
    s_expires: Vec<i64>,
    s_ip: Vec<Option<String>>,
    s_agent: Vec<Option<String>>,
    e_company: Vec<i64>,
    e_created: Vec<i64>,
    e_outcome: Vec<String>,
    e_subject: Vec<Option<String>>,
    e_user: Vec<Option<i64>>,
    e_ip: Vec<Option<String>>,
    e_iss: Vec<Option<String>>,
    now: i64,
    method: &'static str,
    logins: Vec<i64>,
    payloads: super::notify::Publish,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for WriteTogether {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Nullable, Text};
        out.push_sql(
            "WITH s AS (INSERT INTO sessions \
               (id, user_id, method, created_at, expires_at, ip, user_agent) \
               SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.s_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.s_user)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.s_method)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.s_created)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.s_expires)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.s_ip)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.s_agent)?;
        out.push_sql(
            ")), e AS (INSERT INTO sso_events \
               (company_id, created_at, outcome, subject, user_id, ip, iss) \
               SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.e_company)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.e_created)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.e_outcome)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.e_subject)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.e_user)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.e_ip)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.e_iss)?;
        out.push_sql(")), u AS (UPDATE users SET last_login_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(", last_login_method = ");
        out.push_bind_param::<Text, _>(&self.method)?;
        out.push_sql(" WHERE id = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.logins)?;
        out.push_sql(")) ");
        self.payloads.walk_ast(out.reborrow())
    }
}

impl diesel::RunQueryDsl<diesel::PgConnection> for WriteTogether {}

/// One piece of work, as the writer thread sees it.
trait Task: Send {
    /// Runs inside a transaction; may run again if its batch is retried.
    fn run(&mut self, tx: &mut Tx<'_>, batch: &mut Batch) -> Result<(), DbError>;
    /// Answers the waiter once the work is committed (`Ok`) or failed.
    fn finish(self: Box<Self>, committed: Result<(), &'static str>);
    fn queued_at(&self) -> Instant;
    /// What the work will read, as far as it says.
    fn wants(&self) -> &Wanted;
}

struct Job<T, F> {
    work: F,
    wanted: Wanted,
    result: Option<Result<T, DbError>>,
    reply: oneshot::Sender<Result<T, DbError>>,
    queued_at: Instant,
}

impl<T, F> Task for Job<T, F>
where
    T: Send,
    F: FnMut(&mut Tx<'_>, &mut Batch) -> Result<T, DbError> + Send,
{
    fn run(&mut self, tx: &mut Tx<'_>, batch: &mut Batch) -> Result<(), DbError> {
        match (self.work)(tx, batch) {
            Ok(value) => {
                self.result = Some(Ok(value));
                Ok(())
            }
            Err(e) => {
                self.result = Some(Err(DbError::Busy("failed in its batch")));
                Err(e)
            }
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), &'static str>) {
        let Job {
            work,
            result,
            reply,
            ..
        } = *self;
        // What the work captured was (mostly) allocated by the waiter: let
        // go of it before the answer, so that what the waiter shares with
        // it (an `Arc`) is freed by the waiter, on its own thread's heap.
        drop(work);
        let answer = match (committed, result) {
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Ok(()), Some(Err(e))) => Err(e),
            (Ok(()), None) => Err(DbError::Busy("not run")),
            (Err(why), _) => Err(DbError::Busy(why)),
        };
        // The waiter may have given up (timed out): nothing to do then.
        let _ = reply.send(answer);
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }

    fn wants(&self) -> &Wanted {
        &self.wanted
    }
}

/// The handle HTTP workers queue work on.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Box<dyn Task>>,
}

impl Writer {
    /// Starts `threads` writer threads (one on SQLite, whose writes are one
    /// at a time anyway; [`PG_THREADS`] on PostgreSQL); they stop when every
    /// handle is dropped.
    pub fn spawn(
        pool: DbPool,
        listener: Arc<dyn Listener>,
        threads: usize,
    ) -> Result<Writer, String> {
        let (queue, work) = sync_channel::<Box<dyn Task>>(QUEUE);
        let work = Arc::new(Mutex::new(work));
        for n in 0..threads.max(1) {
            let (work, pool, listener) = (work.clone(), pool.clone(), listener.clone());
            std::thread::Builder::new()
                .name(format!("portico-writer-{n}"))
                .spawn(move || run(&work, pool, &*listener))
                .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        }
        Ok(Writer { queue })
    }

    /// Runs `work` in the next batch; resolves once it is committed and
    /// what it changed was told to the listener. `work` may run twice (its
    /// batch retried), so it must only read what it captured.
    pub async fn submit<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>, &mut Batch) -> Result<T, DbError> + Send + 'static,
    {
        self.submit_for(Wanted::default(), work).await
    }

    /// [`Writer::submit`] for work that will read what `wanted` names
    /// (through the [`Batch`]), which its batch reads ahead with the
    /// others'.
    pub async fn submit_for<T, F>(&self, wanted: Wanted, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>, &mut Batch) -> Result<T, DbError> + Send + 'static,
    {
        let answer = self.enqueue(wanted, work)?;
        // The writer answers every job; the bound is only a safety net.
        match actix_web::rt::time::timeout(MAX_WAIT * 2, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(DbError::Canceled),
            Err(_) => Err(DbError::Busy("no answer in time")),
        }
    }

    /// [`Writer::submit`] for a thread of its own (the housekeeping): its
    /// writes take their turn in the batches with the sign-ins', rather
    /// than racing the writer for the database's lock — on SQLite a writer
    /// that loses that race sleeps in the busy handler, and a loop of
    /// housekeeping transactions starved the sign-ins (503s in the
    /// benchmark).
    pub fn submit_blocking<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>, &mut Batch) -> Result<T, DbError> + Send + 'static,
    {
        self.enqueue(Wanted::default(), work)?
            .blocking_recv()
            .unwrap_or(Err(DbError::Canceled))
    }

    fn enqueue<T, F>(
        &self,
        wanted: Wanted,
        work: F,
    ) -> Result<oneshot::Receiver<Result<T, DbError>>, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>, &mut Batch) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Job {
            work,
            wanted,
            result: None,
            reply,
            queued_at: Instant::now(),
        });
        match self.queue.try_send(job) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) => Err(DbError::Busy("the write queue is full")),
            Err(TrySendError::Disconnected(_)) => Err(DbError::Canceled),
        }
    }
}

/// Runs `jobs` in one transaction; the error is what failed it.
fn transaction(
    conn: &mut DbConn,
    listener: &dyn Listener,
    jobs: &mut [Box<dyn Task>],
    spare: &mut Spare,
) -> Result<(), DbError> {
    super::transaction(conn, listener, |tx| {
        let mut batch = Batch {
            size: jobs.len(),
            origin: listener.origin(),
            spare: spare.take_fresh(),
            ..Batch::default()
        };
        let outcome = run_batch(tx, &mut batch, jobs);
        // On PostgreSQL what the batch did not give is kept, whatever its
        // outcome: ids taken from the sequence are never given back to it.
        // SQLite's hold only in the transaction that counted them.
        if let DbConn::Pg(_) = **tx {
            *spare = std::mem::take(&mut batch.spare);
        }
        outcome
    })
}

fn run_batch(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    jobs: &mut [Box<dyn Task>],
) -> Result<(), DbError> {
    batch.read_ahead(tx, jobs.iter().map(|job| job.wants()))?;
    for job in jobs.iter_mut() {
        job.run(tx, batch)?;
    }
    batch.write(tx)
}

fn busy_reason(e: &DbError) -> &'static str {
    if e.is_busy() {
        "the database is locked"
    } else {
        "the write failed"
    }
}

/// The next batch: waits for one piece of work, then takes what else is
/// queued, up to [`MAX_BATCH`]. `None` once every handle is gone.
fn next_batch(work: &Mutex<Receiver<Box<dyn Task>>>) -> Option<Vec<Box<dyn Task>>> {
    let work = work.lock().ok()?;
    let mut batch = vec![work.recv().ok()?];
    while batch.len() < MAX_BATCH {
        match work.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(work: &Mutex<Receiver<Box<dyn Task>>>, pool: DbPool, listener: &dyn Listener) {
    let mut spare = Spare::default();
    while let Some(batch) = next_batch(work) {
        let (mut live, stale): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|job| job.queued_at().elapsed() < MAX_WAIT);
        for job in stale {
            job.finish(Err("waited too long for the database"));
        }
        if live.is_empty() {
            continue;
        }
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                log::warn!("the writer has no database connection: {e}");
                for job in live {
                    job.finish(Err("no database connection"));
                }
                continue;
            }
        };
        let outcome = transaction(&mut conn, listener, &mut live, &mut spare);
        match conn.check(outcome) {
            Ok(()) => {
                for job in live {
                    job.finish(Ok(()));
                }
            }
            // A locked database fails every piece alike: no use retrying;
            // nor is there for one piece that failed by itself. A race lost
            // to another transaction (PostgreSQL: another writer thread or
            // instance wrote the same unique row first) is run again.
            Err(e) if !e.is_conflict() && (e.is_busy() || live.len() == 1) => {
                log::warn!("a batch of {} sign-in writes failed: {e}", live.len());
                let why = busy_reason(&e);
                for job in live {
                    job.finish(Err(why));
                }
            }
            // One piece failed: each runs again on its own.
            Err(_) => {
                for mut job in live {
                    let outcome = transaction(
                        &mut conn,
                        listener,
                        std::slice::from_mut(&mut job),
                        &mut spare,
                    );
                    let outcome = conn.check(outcome);
                    if let Err(e) = &outcome {
                        log::warn!("a sign-in write failed: {e}");
                    }
                    job.finish(outcome.map_err(|e| busy_reason(&e)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;

    use super::*;

    fn count(conn: &mut DbConn) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS n FROM settings")
            .get_result::<N>(conn)
            .map(|r| r.n)
            .unwrap_or(-1)
    }

    fn put(key: &'static str) -> impl FnMut(&mut Tx<'_>, &mut Batch) -> Result<(), DbError> {
        move |tx, _| {
            diesel::sql_query(format!(
                "INSERT INTO settings (key, value) VALUES ('{key}', 'v')"
            ))
            .execute(tx.conn()?)?;
            Ok(())
        }
    }

    /// A failing piece is rolled back whole and alone: the others of its
    /// batch are committed, each answered with its own outcome.
    #[actix_web::test]
    async fn one_failure_does_not_take_its_batch_down() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(&dir.path().join("w.db").to_string_lossy()).unwrap();
        let writer = Writer::spawn(pool.clone(), Arc::new(()), 1).unwrap();
        let failing = |tx: &mut Tx<'_>, _: &mut Batch| -> Result<(), DbError> {
            diesel::sql_query("INSERT INTO settings (key, value) VALUES ('half', 'v')")
                .execute(tx.conn()?)?;
            diesel::sql_query("INSERT INTO no_such_table VALUES (1)").execute(tx.conn()?)?;
            Ok(())
        };
        // A slow first piece holds the writer, so the next three queue up
        // and run as one batch.
        let slow = |_: &mut Tx<'_>, _: &mut Batch| -> Result<(), DbError> {
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        };
        let (_, a, b, c) = tokio::join!(
            writer.submit(slow),
            writer.submit(put("a")),
            writer.submit(failing),
            writer.submit(put("c")),
        );
        assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
        assert!(b.is_err());
        let mut conn = pool.get().unwrap();
        assert_eq!(
            count(&mut conn),
            2,
            "a and c, and nothing of the failed piece"
        );
    }
}
