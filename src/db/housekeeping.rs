//! The server's housekeeping thread: what keeps the database bounded and
//! its planner informed, off every request's path.
//!
//! - every [`EVERY`]: expired sessions and the oldest of anyone holding
//!   more than `LiveSession::MAX_PER_USER`; SSO events beyond the last
//!   10,000 of each company; used token ids whose tokens have expired;
//! - at start and every [`OPTIMIZE_EVERY`]: the planner's statistics.
//!
//! The command line never runs it: its database may be new and empty, and
//! statistics of empty tables mislead.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use super::models::{LiveSession, SsoEvent, UsedToken};
use super::{Db, DbError, now};

/// How often the bounded tables are trimmed.
pub const EVERY: Duration = Duration::from_secs(60);
/// How often the server refreshes the query planner's statistics.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(15 * 60);

/// Refreshes the planner's statistics of the tables that changed much since
/// they were last analysed (`PRAGMA optimize`, sampling at most 1,000 rows
/// an index, so it stays quick on a large file). Without statistics SQLite
/// guesses that any index narrows a search to a few rows, and would, say,
/// walk a company's whole queue rather than look up the 400 requests a
/// search found.
pub fn optimize(db: &Db) {
    let done = db.conn().map_err(|e| e.to_string()).and_then(|mut conn| {
        conn.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
            .map_err(|e| e.to_string())
    });
    if let Err(e) = done {
        log::warn!("could not refresh the query planner's statistics: {e}");
    }
}

/// Trims the bounded tables once, in one write transaction; the sessions it
/// ends are forgotten by the cache when it commits.
pub fn trim(db: &Db) -> Result<(usize, usize, usize), DbError> {
    let now = now();
    // The scan for crowded sessions reads without the write lock.
    let mut conn = db.conn()?;
    let crowded = LiveSession::crowded(&mut conn, now)?;
    db.write_blocking(|tx| {
        Ok((
            LiveSession::prune(tx, now, &crowded)?,
            SsoEvent::prune(tx)?,
            UsedToken::purge_expired(tx, now)?,
        ))
    })
}

/// Optimises now, then runs the housekeeping on a thread of its own.
pub fn spawn(db: Db) -> Result<(), String> {
    optimize(&db);
    std::thread::Builder::new()
        .name("portico-housekeeping".into())
        .spawn(move || {
            let mut optimized = Instant::now();
            loop {
                std::thread::sleep(EVERY);
                match trim(&db) {
                    Ok((sessions, events, tokens)) if sessions + events + tokens > 0 => {
                        log::info!(
                            "housekeeping: {sessions} sessions, {events} SSO events, \
                             {tokens} used token ids deleted"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => log::warn!("housekeeping failed (tried again later): {e}"),
                }
                if optimized.elapsed() >= OPTIMIZE_EVERY {
                    optimize(&db);
                    optimized = Instant::now();
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the housekeeping thread: {e}"))
}
