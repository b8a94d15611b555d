//! The write transaction on both backends: all or nothing, though on
//! PostgreSQL it begins only at its first write (`db::Tx`).

use diesel::prelude::*;
use portico::db::models::{Company, Role, SsoSecret};
use portico::db::schema::settings;
use portico::db::{self, DbConn, DbError};

use crate::helpers::*;

fn has(conn: &mut DbConn, key: &str) -> bool {
    let n: i64 = settings::table
        .filter(settings::key.eq(key))
        .count()
        .get_result(conn)
        .unwrap();
    n > 0
}

fn put(conn: &mut DbConn, key: &str) -> Result<usize, DbError> {
    Ok(diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq("v")))
        .execute(conn)?)
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

/// PostgreSQL reads a batch's secrets and users in one statement
/// (`SsoSecret::find_with_users`): each once, whatever the mix of
/// companies; the users not at all when the first secret is gone. (SQLite
/// reads them a statement each: nothing to check there.)
#[tokio::test]
async fn a_batch_reads_its_secrets_and_users_in_one_statement() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (acme, globex) = (app.company("Acme"), app.company("Globex"));
    let amy = app.user(&acme.company, "amy@acme.test", Role::Customer);
    let gus = app.user(&globex.company, "gus@globex.test", Role::Customer);
    let secret = |c: &Company| SsoSecret::usable(&mut app.conn(), c.id, now()).unwrap()[0].id;
    let (a, g) = (secret(&acme.company), secret(&globex.company));
    let mut conn = app.conn();
    let DbConn::Pg(c) = &mut **conn else {
        unreachable!("on PostgreSQL")
    };
    let emails = ["amy@acme.test".to_owned(), "nobody@acme.test".to_owned()];
    let ids_of = |secrets: &[SsoSecret]| secrets.iter().map(|s| s.id).collect::<Vec<_>>();

    let (secrets, users) = SsoSecret::find_with_users(c, &[a, g], &emails, &[gus.id]).unwrap();
    let mut secrets = ids_of(&secrets);
    secrets.sort();
    assert_eq!(secrets, [a.min(g), a.max(g)]);
    let mut users: Vec<i64> = users.unwrap().iter().map(|u| u.id).collect();
    users.sort();
    assert_eq!(users, [amy.id.min(gus.id), amy.id.max(gus.id)]);

    let gone = a.max(g) + 1000;
    let (secrets, users) = SsoSecret::find_with_users(c, &[gone, g], &emails, &[gus.id]).unwrap();
    assert_eq!(ids_of(&secrets), [g]);
    assert!(users.is_none(), "not read without the first secret");
}
