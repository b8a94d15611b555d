//! Sessions on the server: the row a `portico_session` cookie names. Each
//! request checks it still exists (`crate::auth::extract`, from the cache on
//! the hot path); sign-out, "end this session", "sign out everywhere" and
//! disabling a user delete rows, and each deletion is a [`Change`], so the
//! cache forgets the session as soon as the write commits.

use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::{Change, DbConn, DbError, Tx, insert_id, per_backend};

use super::Method;

/// A person may start at most this many sessions (browsers, devices)
/// between two housekeeping rounds (a minute); the oldest beyond are ended,
/// so that a valid token used in a loop cannot fill the table. (Every
/// session ends 12 hours after its sign-in anyway.)
pub const MAX_PER_USER: i64 = 50;

/// A row of one id, read by a statement written by hand.
#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// What is kept of a browser's `User-Agent`.
const MAX_USER_AGENT: usize = 200;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct LiveSession {
    pub id: i64,
    #[diesel(embed)]
    pub data: NewSession,
}

/// A session to store; the database gives its id (never reused).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct NewSession {
    pub user_id: i64,
    pub method: Method,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl NewSession {
    pub fn new(
        user_id: i64,
        method: Method,
        now: i64,
        lifetime: i64,
        ip: Option<String>,
        user_agent: Option<&str>,
    ) -> NewSession {
        NewSession {
            user_id,
            method,
            created_at: now,
            expires_at: now + lifetime,
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }

    /// Stores the session in place of `previous` (the `(id, user id)` of the
    /// session the browser held, if any, which ends: a copy of its cookie
    /// must not outlive the sign-in that replaced it); the stored row.
    pub fn insert_replacing(
        self,
        tx: &mut Tx<'_>,
        previous: Option<(i64, i64)>,
    ) -> Result<LiveSession, DbError> {
        if let Some((id, user_id)) = previous {
            LiveSession::end(tx, id, user_id)?;
        }
        self.insert(tx)
    }

    /// Stores the session; the stored row, with its id.
    pub fn insert(self, tx: &mut Tx<'_>) -> Result<LiveSession, DbError> {
        let id = insert_id!(tx.conn()?, sessions::table, &self, sessions::id)?;
        Ok(LiveSession { id, data: self })
    }
}

impl LiveSession {
    /// `n` new session ids, in one statement, for sessions written later
    /// with the rest of a batch of sign-ins ([`LiveSession::insert_many`],
    /// `crate::db::writer::Batch`). PostgreSQL takes them from the table's
    /// sequence: never given twice. SQLite counts on from the highest id
    /// given so far (`AUTOINCREMENT`'s, in `sqlite_sequence`): ids that
    /// hold in the write transaction that reads them, which holds the
    /// database's write lock until its sessions are written. (A sequence
    /// is outside any transaction: PostgreSQL's reservation begins none.)
    pub fn reserve_ids(tx: &mut Tx<'_>, n: usize) -> Result<Vec<i64>, DbError> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match tx.read() {
            DbConn::Pg(c) => Ok(ReserveIds(n).load(c)?),
            DbConn::Sqlite(c) => {
                let last: i64 = LastId.get_result(c)?;
                Ok((last + 1..=last.saturating_add(n)).collect())
            }
        }
    }

    /// Stores `rows`, whose ids were reserved ([`LiveSession::reserve_ids`]),
    /// in one statement (SQLite; PostgreSQL writes them in the batch's one
    /// statement).
    pub fn insert_many(tx: &mut Tx<'_>, rows: &[LiveSession]) -> Result<(), DbError> {
        let DbConn::Sqlite(c) = tx.conn()? else {
            return Err(DbError::Busy("sessions are written with the batch"));
        };
        let rows: Vec<_> = rows
            .iter()
            .map(|s| {
                let d = &s.data;
                (
                    s.id,
                    d.user_id,
                    d.method.as_str(),
                    d.created_at,
                    d.expires_at,
                    &d.ip,
                    &d.user_agent,
                )
            })
            .collect();
        let json = crate::db::json_array(&rows)?;
        InsertSessions(json).execute(c)?;
        Ok(())
    }

    /// The live session `id` of `user_id`, if it has not ended or expired.
    pub fn find(
        conn: &mut DbConn,
        id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<Option<LiveSession>, DbError> {
        Ok(sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires_at.gt(now))
            .select(LiveSession::as_select())
            .load(conn)?
            .pop())
    }

    /// A person's live sessions, newest first.
    pub fn list_of(conn: &mut DbConn, user_id: i64, now: i64) -> Result<Vec<LiveSession>, DbError> {
        Ok(sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires_at.gt(now))
            .order(sessions::id.desc())
            .select(LiveSession::as_select())
            .load(conn)?)
    }

    /// Ends one session of `user_id`; false when there was none.
    pub fn end(tx: &mut Tx<'_>, id: i64, user_id: i64) -> Result<bool, DbError> {
        let n = diesel::delete(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::user_id.eq(user_id)),
        )
        .execute(tx.conn()?)?;
        tx.changed(Change::Session(id));
        Ok(n > 0)
    }

    /// Ends every session of `user_id`; how many there were.
    pub fn end_all_of(tx: &mut Tx<'_>, user_id: i64) -> Result<usize, DbError> {
        let ids: Vec<i64> = diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
            .returning(sessions::id)
            .get_results(tx.conn()?)?;
        for id in &ids {
            tx.changed(Change::Session(*id));
        }
        Ok(ids.len())
    }

    /// Housekeeping, read part (no write lock): among the sessions started
    /// after `after` (the newest id the previous round saw), those to end
    /// because their person started more than [`MAX_PER_USER`] of them (the
    /// oldest beyond); and the newest id seen. A round reads only what
    /// is new since the last one, in one statement: one pass over the new
    /// rows and a sort by person (the table has no per-person index, so a
    /// query per crowded person would read all the new rows again each
    /// time — a benchmark's 10,000 people with 110 sessions each took
    /// minutes of a core that way; this takes about a second).
    pub fn crowded_since(conn: &mut DbConn, after: i64) -> Result<(Vec<i64>, i64), DbError> {
        let newest: Option<i64> = sessions::table
            .select(diesel::dsl::max(sessions::id))
            .get_result(conn)?;
        let Some(newest) = newest.filter(|n| *n > after) else {
            return Ok((Vec::new(), after));
        };
        // Integers only, so written into the statement: the two backends
        // spell parameters differently.
        let query = diesel::sql_query(format!(
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER \
               (PARTITION BY user_id ORDER BY id DESC) AS n \
               FROM sessions WHERE id > {after} AND id <= {newest}) AS recent \
             WHERE n > {MAX_PER_USER} ORDER BY id"
        ));
        let ids: Vec<Id> = per_backend!(conn, |c| query.load(c))?;
        Ok((ids.into_iter().map(|i| i.id).collect(), newest))
    }

    /// Housekeeping, read part: the id of the oldest live session (every
    /// session lives as long, so the expired ones are the ids below it), or
    /// `None` when none is live. Read without the write lock.
    pub fn first_live(conn: &mut DbConn, now: i64) -> Result<Option<i64>, DbError> {
        Ok(sessions::table
            .filter(sessions::expires_at.gt(now))
            .order(sessions::id.asc())
            .limit(1)
            .select(sessions::id)
            .load(conn)?
            .pop())
    }

    /// Housekeeping: deletes at most `limit` of the sessions below
    /// `first_live` (all of them when `None`), oldest first; how many went.
    pub fn delete_expired(
        tx: &mut Tx<'_>,
        now: i64,
        first_live: Option<i64>,
        limit: i64,
    ) -> Result<usize, DbError> {
        let below = first_live.unwrap_or(i64::MAX);
        let doomed: Vec<i64> = sessions::table
            .filter(sessions::id.lt(below))
            .filter(sessions::expires_at.le(now))
            .order(sessions::id.asc())
            .limit(limit)
            .select(sessions::id)
            .load(tx.conn()?)?;
        Ok(
            diesel::delete(sessions::table.filter(sessions::id.eq_any(&doomed)))
                .execute(tx.conn()?)?,
        )
    }

    /// Ends the sessions `ids` (housekeeping); how many there were.
    pub fn end_ids(tx: &mut Tx<'_>, ids: &[i64]) -> Result<usize, DbError> {
        let n =
            diesel::delete(sessions::table.filter(sessions::id.eq_any(ids))).execute(tx.conn()?)?;
        for id in ids {
            tx.changed(Change::Session(*id));
        }
        Ok(n)
    }
}

/// PostgreSQL: `n` new session ids ([`LiveSession::reserve_ids`]): a type of its own,
/// so that diesel keeps the statement prepared (`sql_query` is parsed and
/// planned again at every call).
#[derive(diesel::query_builder::QueryId)]
struct ReserveIds(i64);

impl diesel::query_builder::Query for ReserveIds {
    type SqlType = diesel::sql_types::BigInt;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for ReserveIds {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT nextval(pg_get_serial_sequence('sessions', 'id')) FROM generate_series(1, ",
        );
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.0)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for ReserveIds {}

/// SQLite: the highest session id given so far — `AUTOINCREMENT`'s record
/// of it, or the table's (equal, unless someone edited either by hand).
#[derive(diesel::query_builder::QueryId)]
struct LastId;

impl diesel::query_builder::Query for LastId {
    type SqlType = diesel::sql_types::BigInt;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for LastId {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'sessions'), 0), \
               COALESCE((SELECT MAX(id) FROM sessions), 0))",
        );
        Ok(())
    }
}

impl RunQueryDsl<diesel::SqliteConnection> for LastId {}

/// SQLite: sessions from one JSON array of `[id, user_id, method,
/// created_at, expires_at, ip, user_agent]` rows, one SQL text with a type
/// of its own, so that diesel keeps it prepared (read as the events are:
/// `sso_event::InsertSignIns`).
#[derive(diesel::query_builder::QueryId)]
struct InsertSessions(String);

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for InsertSessions {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO sessions (id, user_id, method, created_at, expires_at, ip, user_agent) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
               value ->> 5, value ->> 6 FROM jsonb_each(",
        );
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.0)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::SqliteConnection> for InsertSessions {}
