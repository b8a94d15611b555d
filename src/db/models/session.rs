//! Sessions on the server: the row a `portico_session` cookie names. Each
//! request checks it still exists (`crate::auth::extract`, from the cache on
//! the hot path); sign-out, "end this session", "sign out everywhere" and
//! disabling a user delete rows, and each deletion is a [`Change`], so the
//! cache forgets the session as soon as the write commits.

use diesel::prelude::*;
use rand::RngCore;
use rand::rngs::OsRng;

use crate::db::schema::sessions;
use crate::db::{Change, DbConn, DbError, Tx};

use super::Method;

/// A person keeps at most this many live sessions (browsers, devices); the
/// oldest beyond are ended by the housekeeping, so that a valid token used
/// in a loop cannot grow the table without bound.
pub const MAX_PER_USER: i64 = 50;
/// What is kept of a browser's `User-Agent`.
const MAX_USER_AGENT: usize = 200;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct LiveSession {
    pub id: i64,
    pub user_id: i64,
    pub method: Method,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl LiveSession {
    /// A session for `user_id`, not yet stored: its random id is what the
    /// cookie will name.
    pub fn new(
        user_id: i64,
        method: Method,
        now: i64,
        lifetime: i64,
        ip: Option<String>,
        user_agent: Option<&str>,
    ) -> LiveSession {
        LiveSession {
            id: random_id(),
            user_id,
            method,
            created_at: now,
            expires_at: now + lifetime,
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }

    /// Stores the session (a new random id in the astronomically rare case
    /// that its id is taken); returns the id stored.
    pub fn insert(&self, tx: &mut Tx<'_>) -> Result<i64, DbError> {
        let mut row = self.clone();
        loop {
            let inserted = diesel::insert_into(sessions::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(&mut **tx)?;
            if inserted == 1 {
                return Ok(row.id);
            }
            row.id = random_id();
        }
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
            .order(sessions::created_at.desc())
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

    /// Housekeeping: deletes expired sessions, and the oldest of anyone
    /// holding more than [`MAX_PER_USER`]. Returns the ids of the ended live
    /// ones (for the cache) and how many rows went.
    pub fn prune(tx: &mut Tx<'_>, now: i64) -> Result<usize, DbError> {
        let expired = diesel::delete(sessions::table.filter(sessions::expires_at.le(now)))
            .execute(&mut **tx)?;
        let crowded: Vec<i64> = sessions::table
            .group_by(sessions::user_id)
            .having(diesel::dsl::count_star().gt(MAX_PER_USER))
            .select(sessions::user_id)
            .load(&mut **tx)?;
        let mut ended = 0;
        for user_id in crowded {
            let keep: Vec<i64> = sessions::table
                .filter(sessions::user_id.eq(user_id))
                .order(sessions::created_at.desc())
                .limit(MAX_PER_USER)
                .select(sessions::id)
                .load(&mut **tx)?;
            let ids: Vec<i64> = diesel::delete(
                sessions::table
                    .filter(sessions::user_id.eq(user_id))
                    .filter(sessions::id.ne_all(&keep)),
            )
            .returning(sessions::id)
            .get_results(&mut **tx)?;
            for id in &ids {
                tx.changed(Change::Session(*id));
            }
            ended += ids.len();
        }
        Ok(expired + ended)
    }
}

/// A random positive 63-bit id.
fn random_id() -> i64 {
    (OsRng.next_u64() >> 1) as i64
}
