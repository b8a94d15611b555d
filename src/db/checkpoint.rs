//! SQLite's WAL checkpoints, mostly off the writer's thread.
//!
//! In WAL mode every commit appends the pages it changed to the log, and a
//! checkpoint copies them back into the database file and syncs it. By
//! default SQLite runs one at the commit that takes the log past 1,000
//! pages — on the writer thread, inside a batch of sign-ins, every one of
//! which waits for it (two `fsync`s and ~4 MB copied): under sign-in load
//! that was ~15 checkpoints a second and most of the tail of the sign-ins'
//! latency (docs/PERFORMANCE.md, "The tail of SQLite's sign-ins").
//!
//! So a thread of its own copies the log back every [`EVERY`] with a
//! `PASSIVE` checkpoint, which never blocks the writer nor readers. That
//! alone cannot bound the log: a passive checkpoint copies what was
//! committed when it started, the writer keeps appending meanwhile, and
//! the log starts over only once a checkpoint found nothing left to copy
//! (measured: 1 GB in 10 s without the writer's own). The writer's
//! automatic checkpoint therefore stays, at [`WRITER_PAGES`]: when it comes
//! due, this thread has already copied and synced all but the last few
//! milliseconds of the log, so the writer's share is small, and the log
//! restarts there. Without load (the writer idle) this thread's checkpoint
//! completes and the log restarts by itself.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::sql_types::Integer;

use super::{Db, DbConn, DbError};

/// How often the thread copies the log back.
pub const EVERY: Duration = Duration::from_millis(20);
/// Rounds after which an unchanged-looking log is looked at anyway (1 s).
const LOOK_ANYWAY: u32 = 50;
/// The log's size in pages at which the writer checkpoints itself (SQLite's
/// `wal_autocheckpoint`): the bound of the log, ~16 MB of 4 KiB pages.
pub const WRITER_PAGES: i32 = 4_000;

#[derive(diesel::QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Integer)]
    log: i32,
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

/// One passive checkpoint; the pages still in the log and not copied back.
fn checkpoint(db: &Db) -> Result<i32, DbError> {
    db.read_blocking(|conn| match conn {
        DbConn::Sqlite(c) => {
            let outcome: Outcome =
                diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(c)?;
            Ok(outcome.log.saturating_sub(outcome.checkpointed))
        }
        DbConn::Pg(_) => Ok(0),
    })
}

/// Starts the checkpoint thread of the SQLite database at `path`, which ends
/// once `alive` is gone (a test's server stopped). A log that did not change
/// since the last round is not looked at again.
pub fn spawn<T: Send + Sync + 'static>(
    db: Db,
    path: &str,
    alive: std::sync::Weak<T>,
) -> Result<(), String> {
    let log = std::path::PathBuf::from(format!("{path}-wal"));
    std::thread::Builder::new()
        .name("portico-checkpoint".into())
        .spawn(move || {
            let (mut seen, mut failing, mut skipped) = (None, false, 0);
            while alive.strong_count() > 0 {
                std::thread::sleep(EVERY);
                let stamp = std::fs::metadata(&log)
                    .and_then(|m| Ok((m.len(), m.modified()?)))
                    .ok();
                // A file's time may not tell two writes of one tick apart:
                // at least once a second the log is looked at anyway.
                if stamp.is_none() || (stamp == seen && skipped < LOOK_ANYWAY) {
                    skipped += 1;
                    continue;
                }
                skipped = 0;
                match checkpoint(&db) {
                    Ok(left) => {
                        // Not all copied (a reader held old pages, or the
                        // writer appended meanwhile): again next round.
                        seen = if left == 0 { stamp } else { None };
                        failing = false;
                    }
                    Err(e) if !failing => {
                        // The writer's own checkpoints still bound the log.
                        log::warn!("a WAL checkpoint failed (tried again): {e}");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the checkpoint thread: {e}"))
}
