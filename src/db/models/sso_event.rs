use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::schema::sso_events;
use crate::db::{DbBackend, DbConn, DbError, Tx};
use crate::input::proxies::Network;

/// One SSO attempt for a known company, as recorded: the audit log of
/// Settings → SSO. A refusal's row stands for every refusal of its
/// company, reason and client IP in its minute: `count` of them, the last
/// one's time, subject and `iss`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sso_events)]
pub struct SsoEvent {
    pub id: i64,
    #[diesel(embed)]
    pub event: NewSsoEvent,
    pub count: i64,
}

/// The sign-ins a company keeps, and apart the refusal rows it keeps; older
/// ones are deleted by the housekeeping.
pub const KEEP_PER_COMPANY: i64 = 10_000;

/// A sign-in's row as written (`minute` stays NULL: only refusals are
/// counted per minute).
#[derive(Insertable)]
#[diesel(table_name = sso_events, treat_none_as_default_value = false)]
struct Row {
    #[diesel(embed)]
    event: NewSsoEvent,
    count: i64,
}

/// An SSO attempt to record.
// `treat_none_as_default_value = false`: one SQL text whatever is absent, so
// diesel keeps one prepared statement instead of one per shape.
#[derive(Debug, Clone, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = sso_events, treat_none_as_default_value = false)]
pub struct NewSsoEvent {
    pub company_id: i64,
    pub created_at: i64,
    /// [`SsoEvent::OK`] or a reason code.
    pub outcome: String,
    pub subject: Option<String>,
    pub user_id: Option<i64>,
    pub ip: Option<String>,
    pub iss: Option<String>,
}

/// Audit fields are cut to this many characters: a token may carry long text.
const MAX_FIELD: usize = 200;

fn cut(s: Option<String>) -> Option<String> {
    s.map(|s| s.chars().take(MAX_FIELD).collect())
}

impl NewSsoEvent {
    /// Records sign-ins (`ok` events), each a row of its own, in one
    /// statement: a batch of sign-ins writes its events together.
    pub fn insert_sign_ins(tx: &mut Tx<'_>, events: Vec<NewSsoEvent>) -> Result<(), DbError> {
        let rows: Vec<Row> = events
            .into_iter()
            .map(|e| Row {
                event: e.cut(),
                count: 1,
            })
            .collect();
        match tx.conn()? {
            // SQLite: all the rows in one statement kept prepared, as one
            // JSON array bound once: a multi-row insert is a new SQL text
            // for every count of rows (diesel prepares it again each time),
            // and a statement a row spent most of its time binding nine
            // values (docs/PERFORMANCE.md).
            DbConn::Sqlite(c) => {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        let e = &r.event;
                        (
                            e.company_id,
                            e.created_at,
                            &e.outcome,
                            &e.subject,
                            e.user_id,
                            &e.ip,
                            &e.iss,
                        )
                    })
                    .collect();
                let json = crate::db::json_array(&rows)?;
                InsertSignIns(json).execute(c)?;
            }
            // PostgreSQL: one round trip for up to 256 rows (9 values a row:
            // far below its limit on parameters).
            DbConn::Pg(c) => {
                for chunk in rows.chunks(256) {
                    diesel::insert_into(sso_events::table)
                        .values(chunk)
                        .execute(c)?;
                }
            }
        }
        Ok(())
    }

    /// The event with its audit fields cut to what is kept.
    pub fn cut(self) -> NewSsoEvent {
        NewSsoEvent {
            subject: cut(self.subject),
            iss: cut(self.iss),
            ..self
        }
    }

    /// Records the event: a sign-in as a row of its own; a refusal counted
    /// into its minute's row (one statement either way, so the sign-in path
    /// pays no more than one insert did).
    pub fn insert(&self, tx: &mut Tx<'_>) -> Result<(), DbError> {
        let event = NewSsoEvent {
            subject: cut(self.subject.clone()),
            iss: cut(self.iss.clone()),
            ..self.clone()
        };
        if event.outcome == SsoEvent::OK {
            return NewSsoEvent::insert_sign_ins(tx, vec![event]);
        }
        // Refusals are counted per client network (an IPv6 host holds a
        // whole /64: one row, not one per address it picks).
        let network = event.ip.as_deref().map(|ip| match ip.parse() {
            Ok(ip) => Network::of(ip).to_string(),
            Err(_) => ip.to_owned(),
        });
        // The unique index is partial (refusals only, so that a sign-in's
        // insert does not pay for it), and an upsert on a partial index
        // names its condition: written out, as diesel's builder cannot. One
        // text for both backends: `$n` is PostgreSQL's placeholder, and
        // SQLite numbers `$name` parameters in the order they appear.
        diesel::sql_query(
            "INSERT INTO sso_events \
                 (company_id, created_at, outcome, subject, user_id, ip, iss, count, minute) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) \
             ON CONFLICT (company_id, outcome, ip, minute) WHERE minute IS NOT NULL \
             DO UPDATE SET count = sso_events.count + 1, created_at = excluded.created_at, \
                 subject = excluded.subject, user_id = excluded.user_id, iss = excluded.iss",
        )
        .bind::<BigInt, _>(event.company_id)
        .bind::<BigInt, _>(event.created_at)
        .bind::<Text, _>(&event.outcome)
        .bind::<Nullable<Text>, _>(&event.subject)
        .bind::<Nullable<BigInt>, _>(event.user_id)
        .bind::<Nullable<Text>, _>(&network)
        .bind::<Nullable<Text>, _>(&event.iss)
        .bind::<BigInt, _>(event.created_at.div_euclid(60))
        .execute(tx.conn()?)?;
        Ok(())
    }
}

impl SsoEvent {
    /// The outcome of a sign-in that succeeded.
    pub const OK: &'static str = "ok";

    pub fn is_ok(&self) -> bool {
        self.event.outcome == Self::OK
    }

    /// The company's latest sign-ins (`ok: true`) or refusals, newest
    /// first: apart, so that a flood of refusals never hides a sign-in.
    pub fn recent(
        conn: &mut DbConn,
        company_id: i64,
        ok: bool,
        limit: i64,
    ) -> Result<Vec<SsoEvent>, DbError> {
        let q = sso_events::table
            .filter(sso_events::company_id.eq(company_id))
            .into_boxed();
        let q = if ok {
            q.filter(sso_events::outcome.eq(Self::OK))
        } else {
            q.filter(sso_events::outcome.ne(Self::OK))
        };
        Ok(q.order(sso_events::id.desc())
            .limit(limit)
            .select(SsoEvent::as_select())
            .load(conn)?)
    }

    /// Housekeeping, read part (no write lock): each company keeps its last
    /// [`KEEP_PER_COMPANY`] sign-ins and, apart, its last
    /// [`KEEP_PER_COMPANY`] refusal rows — so that a flood of refusals can
    /// never delete a real sign-in. For each company and kind (`ok`: sign-ins
    /// or refusals) with more, the oldest id it keeps; what is older goes
    /// with [`SsoEvent::prune_below`]. Read once a round: the deletes then
    /// walk the company's index from its oldest row and nothing else (a
    /// version that counted the whole table again for each 2,000 rows it
    /// deleted held the writer for minutes after the benchmark's sign-ins).
    pub fn prune_bounds(conn: &mut DbConn) -> Result<Vec<(i64, bool, i64)>, DbError> {
        let mut bounds = Vec::new();
        for ok in [false, true] {
            let crowded: Vec<i64> = sso_events::table
                .filter(kind(ok))
                .group_by(sso_events::company_id)
                .having(diesel::dsl::count_star().gt(KEEP_PER_COMPANY))
                .select(sso_events::company_id)
                .load(conn)?;
            for company_id in crowded {
                let oldest_kept: Option<i64> = sso_events::table
                    .filter(kind(ok))
                    .filter(sso_events::company_id.eq(company_id))
                    .order(sso_events::id.desc())
                    .offset(KEEP_PER_COMPANY - 1)
                    .limit(1)
                    .select(sso_events::id)
                    .load(conn)?
                    .pop();
                if let Some(oldest_kept) = oldest_kept {
                    bounds.push((company_id, ok, oldest_kept));
                }
            }
        }
        Ok(bounds)
    }

    /// Housekeeping: deletes at most `limit` events of `company_id` of the
    /// kind `ok` older than `oldest_kept` (from [`SsoEvent::prune_bounds`]),
    /// oldest first, so that the write lock is held briefly; how many went.
    pub fn prune_below(
        tx: &mut Tx<'_>,
        company_id: i64,
        ok: bool,
        oldest_kept: i64,
        limit: i64,
    ) -> Result<usize, DbError> {
        let doomed: Vec<i64> = sso_events::table
            .filter(kind(ok))
            .filter(sso_events::company_id.eq(company_id))
            .filter(sso_events::id.lt(oldest_kept))
            .order(sso_events::id.asc())
            .limit(limit)
            .select(sso_events::id)
            .load(tx.conn()?)?;
        Ok(
            diesel::delete(sso_events::table.filter(sso_events::id.eq_any(&doomed)))
                .execute(tx.conn()?)?,
        )
    }
}

/// Sign-ins (`ok`) or refusals.
fn kind(
    ok: bool,
) -> Box<dyn BoxableExpression<sso_events::table, DbBackend, SqlType = diesel::sql_types::Bool>> {
    if ok {
        Box::new(sso_events::outcome.eq(SsoEvent::OK))
    } else {
        Box::new(sso_events::outcome.ne(SsoEvent::OK))
    }
}

/// SQLite: `ok` events from one JSON array of
/// `[company_id, created_at, outcome, subject, user_id, ip, iss]` rows, one
/// SQL text with a type of its own, so that diesel keeps it prepared. Read
/// with `jsonb_each`, whose rows are binary JSON: `json_each` gives each row
/// as text, which every `->>` parsed again (~10 % of the writer's time).
#[derive(diesel::query_builder::QueryId)]
struct InsertSignIns(String);

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for InsertSignIns {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO sso_events \
               (company_id, created_at, outcome, subject, user_id, ip, iss, count) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
               value ->> 5, value ->> 6, 1 FROM jsonb_each(",
        );
        out.push_bind_param::<Text, _>(&self.0)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::SqliteConnection> for InsertSignIns {}
