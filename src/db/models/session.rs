//! Sessions on the server: the row a `portico_session` cookie names. Each
//! request checks it still exists (`crate::auth::extract`, from the cache on
//! the hot path); sign-out, "end this session", "sign out everywhere" and
//! disabling a user delete rows, and each deletion is a [`Change`], so the
//! cache forgets the session as soon as the write commits.

use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::{Change, DbConn, DbError, Tx};

use super::Method;

/// A person keeps at most this many live sessions (browsers, devices); the
/// oldest beyond are ended by the housekeeping, so that a valid token used
/// in a loop cannot grow the table without bound.
pub const MAX_PER_USER: i64 = 50;
/// What is kept of a browser's `User-Agent`.
const MAX_USER_AGENT: usize = 200;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
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

    /// Stores the session; the stored row, with its id.
    pub fn insert(&self, tx: &mut Tx<'_>) -> Result<LiveSession, DbError> {
        let id = diesel::insert_into(sessions::table)
            .values(self)
            .returning(sessions::id)
            .get_result(&mut **tx)?;
        Ok(LiveSession {
            id,
            data: self.clone(),
        })
    }
}

impl LiveSession {
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
        .execute(&mut **tx)?;
        tx.changed(Change::Session(id));
        Ok(n > 0)
    }

    /// Ends every session of `user_id`; how many there were.
    pub fn end_all_of(tx: &mut Tx<'_>, user_id: i64) -> Result<usize, DbError> {
        let ids: Vec<i64> = diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
            .returning(sessions::id)
            .get_results(&mut **tx)?;
        for id in &ids {
            tx.changed(Change::Session(*id));
        }
        Ok(ids.len())
    }

    /// Housekeeping, read part (no lock): the sessions to end because
    /// their person holds more than [`MAX_PER_USER`] (the oldest beyond).
    pub fn crowded(conn: &mut DbConn, now: i64) -> Result<Vec<i64>, DbError> {
        let users: Vec<i64> = sessions::table
            .filter(sessions::expires_at.gt(now))
            .group_by(sessions::user_id)
            .having(diesel::dsl::count_star().gt(MAX_PER_USER))
            .select(sessions::user_id)
            .load(conn)?;
        let mut ids = Vec::new();
        for user_id in users {
            ids.extend(
                sessions::table
                    .filter(sessions::user_id.eq(user_id))
                    .order(sessions::id.desc())
                    .offset(MAX_PER_USER)
                    .select(sessions::id)
                    .load::<i64>(conn)?,
            );
        }
        Ok(ids)
    }

    /// Housekeeping, write part: deletes the expired sessions (every
    /// session lives as long, so they are the ids below the first live one:
    /// a range of the table's own B-tree) and the `crowded` ones; how many
    /// rows went.
    pub fn prune(tx: &mut Tx<'_>, now: i64, crowded: &[i64]) -> Result<usize, DbError> {
        let first_live: Option<i64> = sessions::table
            .filter(sessions::expires_at.gt(now))
            .order(sessions::id.asc())
            .limit(1)
            .select(sessions::id)
            .load(&mut **tx)?
            .pop();
        let expired = match first_live {
            Some(id) => {
                diesel::delete(sessions::table.filter(sessions::id.lt(id))).execute(&mut **tx)?
            }
            None => diesel::delete(sessions::table).execute(&mut **tx)?,
        };
        let mut ended = 0;
        for chunk in crowded.chunks(500) {
            ended += diesel::delete(sessions::table.filter(sessions::id.eq_any(chunk)))
                .execute(&mut **tx)?;
            for id in chunk {
                tx.changed(Change::Session(*id));
            }
        }
        Ok(expired + ended)
    }
}
