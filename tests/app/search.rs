//! The search index follows every change, made by the app or by another
//! process; on SQLite, where it is a file of its own kept by a thread of its
//! own, it is rebuilt when that file is lost, unreadable or does not follow
//! the database (a restored backup).

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl};
use serde_json::json;

use crate::helpers::*;
use crate::requests::{listed, person};

#[tokio::test]
async fn the_search_follows_subjects_changed_and_requests_deleted_outside_the_app() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let a = jane.open("Quokka export", "It fails", &[]).await;
    let b = jane.open("Wombat import", "Also quokka", &[]).await;
    // Subjects first, then messages.
    assert_eq!(listed(&jane.page("/requests?q=quokka").await.1), vec![a, b]);
    app.outside(|tx| {
        tx.conn()?.batch_execute(&format!(
            "UPDATE requests SET subject = 'Zebra export' WHERE id = {a}; \
             DELETE FROM requests WHERE id = {b};"
        ))?;
        Ok(())
    });
    let none: Vec<i64> = Vec::new();
    assert_eq!(listed(&jane.page("/requests?q=zebra").await.1), vec![a]);
    assert_eq!(listed(&jane.page("/requests?q=quokka").await.1), none);
    assert_eq!(listed(&jane.page("/requests?q=wombat").await.1), none);
    let c = jane.open("Zebra again", "Quokka too", &[]).await;
    assert_eq!(listed(&jane.page("/requests?q=zebra").await.1), vec![c, a]);
}

/// A consistent copy of the SQLite file `from` (with what its log holds).
fn copy(from: &str, to: &Path) {
    let mut conn = diesel::sqlite::SqliteConnection::establish(from).unwrap();
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(to.to_str().unwrap())
        .execute(&mut conn)
        .unwrap();
}

#[tokio::test]
async fn a_lost_unreadable_or_stale_search_index_is_rebuilt_from_the_database() {
    if on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let quokka = jane.open("Quokka export", "It fails", &[]).await;
    let keep = tempfile::tempdir().unwrap();
    let backup = keep.path().join("backup.db");
    copy(&app.database_url, &backup);
    let narwhal = jane.open("Narwhal sighting", "Far north", &[]).await;
    assert_eq!(
        listed(&jane.page("/requests?q=narwhal").await.1),
        vec![narwhal]
    );

    // The backup restored beside the newer index: the index is ahead of the
    // database, whose next request takes the narwhal's id again.
    let restored = keep.path().join("restored.db");
    std::fs::copy(&backup, &restored).unwrap();
    copy(
        &format!("{}-search", app.database_url),
        Path::new(&format!("{}-search", restored.display())),
    );
    let url = restored.to_string_lossy().into_owned();
    let other = spawn_app_with(|s| s.database_url = url).await;
    let jane = person(&other, &acme, "jane@acme.test", json!({})).await;
    let ocelot = jane.open("Ocelot", "Spotted", &[]).await;
    assert_eq!(ocelot, narwhal, "the restored database gives the id again");
    let none: Vec<i64> = Vec::new();
    assert_eq!(listed(&jane.page("/requests?q=narwhal").await.1), none);
    assert_eq!(
        listed(&jane.page("/requests?q=ocelot").await.1),
        vec![ocelot]
    );
    assert_eq!(
        listed(&jane.page("/requests?q=quokka").await.1),
        vec![quokka]
    );

    // The backup restored again beside the newer index, and written to
    // before the server starts (the command line, say) until its log is as
    // long as the index's: the counts agree, the histories do not.
    let rewritten = keep.path().join("rewritten.db");
    std::fs::copy(&backup, &rewritten).unwrap();
    copy(
        &format!("{}-search", app.database_url),
        Path::new(&format!("{}-search", rewritten.display())),
    );
    {
        let mut conn =
            diesel::sqlite::SqliteConnection::establish(&rewritten.to_string_lossy()).unwrap();
        for _ in 0..4 {
            conn.batch_execute(
                "INSERT INTO requests (company_id, project_id, requester_id, subject, status, \
                 priority, created_at, updated_at, public_updated_at) \
                 SELECT company_id, project_id, requester_id, 'Ocelot', status, priority, \
                 created_at, updated_at + 1, public_updated_at + 1 FROM requests LIMIT 1",
            )
            .unwrap();
        }
    }
    let url = rewritten.to_string_lossy().into_owned();
    let other = spawn_app_with(|s| s.database_url = url).await;
    let jane = person(&other, &acme, "jane@acme.test", json!({})).await;
    assert_eq!(listed(&jane.page("/requests?q=narwhal").await.1), none);
    let ocelots = listed(&jane.page("/requests?q=ocelot").await.1);
    assert_eq!(ocelots.len(), 4, "{ocelots:?}");
    assert!(
        ocelots.contains(&narwhal),
        "the first took the narwhal's id"
    );

    // No index at all, and an index's file that is not a database.
    for (name, index) in [("lost.db", None), ("garbled.db", Some("not a database"))] {
        let path = keep.path().join(name);
        std::fs::copy(&backup, &path).unwrap();
        if let Some(bytes) = index {
            std::fs::write(format!("{}-search", path.display()), bytes.repeat(500)).unwrap();
        }
        let url = path.to_string_lossy().into_owned();
        let other = spawn_app_with(|s| s.database_url = url).await;
        let jane = person(&other, &acme, "jane@acme.test", json!({})).await;
        assert_eq!(
            listed(&jane.page("/requests?q=quokka").await.1),
            vec![quokka],
            "{name}"
        );
    }
}
