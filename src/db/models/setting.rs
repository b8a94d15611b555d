use diesel::prelude::*;

use crate::db::schema::settings;
use crate::db::{DbConn, DbError, Tx, per_backend};

/// A value the server keeps for itself (the generated session key).
pub struct Setting;

impl Setting {
    /// The value kept under `key`, if any.
    pub fn get(conn: &mut DbConn, key: &str) -> Result<Option<String>, DbError> {
        Ok(settings::table
            .find(key)
            .select(settings::value)
            .load(conn)?
            .pop())
    }

    /// The value kept under `key`, else `fresh`, kept from now on. True
    /// when `fresh` was kept. Instances starting together may both find
    /// nothing: the first insert wins, and the others read what it kept.
    pub fn get_or_insert(
        tx: &mut Tx<'_>,
        key: &str,
        fresh: String,
    ) -> Result<(String, bool), DbError> {
        let inserted = per_backend!(tx.conn()?, |c| diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(&fresh)))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 1 {
            return Ok((fresh, true));
        }
        let kept = Setting::get(tx.read(), key)?
            .ok_or(DbError::Busy("a setting was deleted while it was read"))?;
        Ok((kept, false))
    }
}
