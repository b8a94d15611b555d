use diesel::prelude::*;

use crate::db::schema::settings;
use crate::db::{DbError, Tx};

/// A value the server keeps for itself (the generated session key).
pub struct Setting;

impl Setting {
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
        let fresh = make();
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(&fresh)))
            .execute(&mut **tx)?;
        Ok((fresh, true))
    }
}
