//! Rate counters kept in the database, so that every instance on one
//! database counts the same attempts: the generic cell rate algorithm
//! (GCRA, as most rate limiters use it), one row a
//! counter holding its *theoretical arrival time* (`tat`, Unix ms).
//!
//! A counter allows `burst` attempts at once and one more every `every_ms`
//! after that. An attempt at `now` is allowed when
//! `max(tat, now) + every - every × burst <= now`, and then moves `tat` to
//! `max(tat, now) + every`; a refused one changes nothing. The test and the
//! move are one `UPDATE` (PostgreSQL re-checks its condition on the row it
//! locks, so concurrent instances never both take the last place); a
//! counter seen for the first time is one `INSERT … ON CONFLICT DO
//! NOTHING`. A row whose `tat` has passed counts nothing: the housekeeping
//! deletes it ([`Counter::purge`]), so the table holds only counters that
//! are busy now.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::throttles;
use crate::db::{DbError, Tx, per_backend};

/// How fast a counter lets attempts through.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Attempts allowed at once.
    pub burst: i64,
    /// One more attempt is allowed after each of these (milliseconds).
    pub every_ms: i64,
}

pub struct Counter;

impl Counter {
    /// Counts one attempt on `key` at `now_ms`: `None` when it is allowed
    /// (and counted), else how many milliseconds to wait (nothing counted).
    pub fn hit(
        tx: &mut Tx<'_>,
        key: &str,
        rate: Rate,
        now_ms: i64,
    ) -> Result<Option<i64>, DbError> {
        let tolerance = rate.every_ms * rate.burst;
        // One text for both backends: SQLite numbers `$n` parameters in the
        // order they first appear, which is their numbers' order here.
        let update = || {
            diesel::sql_query(
                "UPDATE throttles SET tat = CASE WHEN tat > $1 THEN tat ELSE $1 END + $2 \
                 WHERE key = $3 AND CASE WHEN tat > $1 THEN tat ELSE $1 END + $2 - $4 <= $1",
            )
            .bind::<BigInt, _>(now_ms)
            .bind::<BigInt, _>(rate.every_ms)
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(tolerance)
        };
        if update().execute(tx.conn()?)? == 1 {
            return Ok(None);
        }
        let row = (
            throttles::key.eq(key),
            throttles::tat.eq(now_ms + rate.every_ms),
        );
        let inserted = per_backend!(tx.conn()?, |c| diesel::insert_into(throttles::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
        // Inserted: its first attempt. Not: the row exists — refused, or
        // made by another instance between the two statements (then the
        // update decides again).
        if inserted == 1 || update().execute(tx.conn()?)? == 1 {
            return Ok(None);
        }
        let tat: Option<i64> = throttles::table
            .find(key)
            .select(throttles::tat)
            .load(tx.conn()?)?
            .pop();
        let tat = tat.unwrap_or(now_ms);
        Ok(Some((tat + rate.every_ms - tolerance - now_ms).max(1)))
    }

    /// Deletes at most `limit` counters that count nothing any more (their
    /// time has passed); how many.
    pub fn purge(tx: &mut Tx<'_>, now_ms: i64, limit: i64) -> Result<usize, DbError> {
        let idle: Vec<String> = throttles::table
            .filter(throttles::tat.lt(now_ms))
            .select(throttles::key)
            .limit(limit)
            .load(tx.conn()?)?;
        Ok(
            diesel::delete(throttles::table.filter(throttles::key.eq_any(&idle)))
                .filter(throttles::tat.lt(now_ms))
                .execute(tx.conn()?)?,
        )
    }

    /// Counters held now, for tests.
    pub fn count(conn: &mut crate::db::DbConn) -> Result<i64, DbError> {
        Ok(throttles::table.count().get_result(conn)?)
    }
}
