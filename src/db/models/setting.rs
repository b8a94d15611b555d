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

    /// The value kept under `key`, else `make()`'s, kept from now on. True
    /// when it was just made.
    pub fn get_or_insert_with(
        tx: &mut Tx<'_>,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<(String, bool), DbError> {
        let kept: Option<String> = settings::table
            .find(key)
            .select(settings::value)
            .load(&mut **tx)?
            .pop();
        if let Some(kept) = kept {
            return Ok((kept, false));
        }
        // Instances starting together may both find nothing: the first
        // insert wins, and the others read what it kept.
        let fresh = make();
        let inserted = per_backend!(&mut **tx, |c| diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(&fresh)))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 1 {
            return Ok((fresh, true));
        }
        let kept = settings::table
            .find(key)
            .select(settings::value)
            .first(&mut **tx)?;
        Ok((kept, false))
    }
}
