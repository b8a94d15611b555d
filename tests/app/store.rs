//! The write transaction on both backends: all or nothing, though on
//! PostgreSQL it begins only at its first write (`db::Tx`).

use diesel::prelude::*;
use portico::db::schema::settings;
use portico::db::{self, DbConn, DbError};

use crate::helpers::*;

/// `$body` with `$c` the backend's own connection.
macro_rules! on {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

fn has(conn: &mut DbConn, key: &str) -> bool {
    let n: i64 = on!(conn, |c| settings::table
        .filter(settings::key.eq(key))
        .count()
        .get_result(c))
    .unwrap();
    n > 0
}

fn put(conn: &mut DbConn, key: &str) -> Result<usize, DbError> {
    Ok(on!(conn, |c| diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq("v")))
        .execute(c))?)
}

#[tokio::test]
async fn a_write_transaction_is_all_or_nothing_and_leaves_its_connection_clean() {
    let app = spawn_app().await;
    let mut conn = app.conn();

    // A read, two writes, then a statement that fails (the key is taken):
    // nothing of it stays.
    let failed = db::transaction(&mut conn, &(), |tx| {
        assert!(!has(tx.read(), "first"));
        put(tx.conn()?, "first")?;
        put(tx.conn()?, "second")?;
        assert!(has(tx.read(), "first"), "a read after a write sees it");
        put(tx.conn()?, "first")
    });
    assert!(failed.is_err());

    // Reads only, then a refusal: nothing to undo.
    let refused: Result<(), DbError> = db::transaction(&mut conn, &(), |tx| {
        assert!(!has(tx.read(), "first"));
        Err(DbError::Busy("refused"))
    });
    assert!(refused.is_err());

    // The same connection writes again, and another sees it at once: no
    // transaction was left open on it.
    db::transaction(&mut conn, &(), |tx| put(tx.conn()?, "third")).unwrap();
    let mut other = app.conn();
    assert!(has(&mut other, "third"));
    assert!(!has(&mut other, "first"));
    assert!(!has(&mut other, "second"));
}
