//! The server's housekeeping thread: what keeps the database bounded and
//! its planner informed, off every request's path.
//!
//! - every [`EVERY`]: expired sessions, and the oldest of anyone who
//!   started more than `LiveSession::MAX_PER_USER` since the last round;
//!   SSO events beyond the last 10,000 of each company; used token ids
//!   whose tokens have expired — in transactions of at most [`CHUNK`] rows,
//!   so that sign-ins never wait long for the write lock;
//! - at start and every [`OPTIMIZE_EVERY`]: the planner's statistics.
//!
//! The command line never runs it: its database may be new and empty, and
//! statistics of empty tables mislead.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use super::models::{Counter, LiveSession, SsoEvent, UsedToken};
use super::writer::Writer;
use super::{Db, DbConn, DbError, now, now_ms};

/// How often the bounded tables are trimmed.
pub const EVERY: Duration = Duration::from_secs(60);
/// How often the server refreshes the query planner's statistics.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(15 * 60);

/// Refreshes the planner's statistics of the tables that changed much since
/// they were last analysed (`PRAGMA optimize`, sampling at most 1,000 rows
/// an index, so it stays quick on a large file). Without statistics SQLite
/// guesses that any index narrows a search to a few rows, and would, say,
/// walk a company's whole queue rather than look up the 400 requests a
/// search found. PostgreSQL's autovacuum keeps its own statistics: nothing
/// to do there.
pub fn optimize(db: &Db) {
    let done = db.read_blocking(|conn| match conn {
        DbConn::Sqlite(c) => {
            Ok(c.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?)
        }
        DbConn::Pg(_) => Ok(()),
    });
    if let Err(e) = done {
        log::warn!("could not refresh the query planner's statistics: {e}");
    }
}

/// Rows one housekeeping transaction deletes at most: each is a piece of a
/// batch of sign-ins, which wait for it (500 sessions: well under a
/// millisecond on SQLite).
const CHUNK: i64 = 500;

/// What one round deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    pub sessions: usize,
    pub events: usize,
    pub tokens: usize,
    /// Sign-in throttle counters that count nothing any more.
    pub counters: usize,
}

/// The housekeeping's memory between rounds: the newest session the
/// previous round saw, so that each round reads only what is new.
#[derive(Debug, Default)]
pub struct Trimmer {
    sessions_seen: i64,
}

impl Trimmer {
    /// Trims the bounded tables once, [`CHUNK`] rows a transaction, each
    /// one a piece of a batch of the writer (`writer`), so that sign-ins
    /// take their turns between them; the sessions it ends are forgotten
    /// by the cache as each one commits.
    pub fn run(&mut self, db: &Db, writer: &Writer) -> Result<Trimmed, DbError> {
        let now = now();
        let mut done = Trimmed::default();
        // The scans read without the write lock.
        let seen = self.sessions_seen;
        let (first_live, (crowded, newest), events) = db.read_blocking(|conn| {
            Ok((
                LiveSession::first_live(conn, now)?,
                LiveSession::crowded_since(conn, seen)?,
                SsoEvent::prune_bounds(conn)?,
            ))
        })?;
        done.sessions += chunked(writer, move |tx| {
            LiveSession::delete_expired(tx, now, first_live, CHUNK)
        })?;
        for ids in crowded.chunks(CHUNK as usize) {
            let ids = ids.to_vec();
            done.sessions += writer.submit_blocking(move |tx, _| LiveSession::end_ids(tx, &ids))?;
        }
        self.sessions_seen = newest;
        for (company_id, ok, oldest_kept) in events {
            done.events += chunked(writer, move |tx| {
                SsoEvent::prune_below(tx, company_id, ok, oldest_kept, CHUNK)
            })?;
        }
        done.tokens += chunked(writer, move |tx| UsedToken::purge_expired(tx, now, CHUNK))?;
        done.counters += chunked(writer, |tx| Counter::purge(tx, now_ms(), CHUNK))?;
        Ok(done)
    }
}

/// Runs `f` in transactions until one deletes fewer than [`CHUNK`] rows;
/// how many all deleted.
fn chunked<F>(writer: &Writer, f: F) -> Result<usize, DbError>
where
    F: Fn(&mut super::Tx<'_>) -> Result<usize, DbError> + Clone + Send + 'static,
{
    let mut total = 0;
    loop {
        let once = f.clone();
        let n = writer.submit_blocking(move |tx, _| once(tx))?;
        total += n;
        if (n as i64) < CHUNK {
            return Ok(total);
        }
    }
}

/// Optimises now, then runs the housekeeping on a thread of its own.
pub fn spawn(db: Db, writer: Writer) -> Result<(), String> {
    optimize(&db);
    std::thread::Builder::new()
        .name("portico-housekeeping".into())
        .spawn(move || {
            let mut optimized = Instant::now();
            let mut trimmer = Trimmer::default();
            loop {
                std::thread::sleep(EVERY);
                match trimmer.run(&db, &writer) {
                    Ok(t) if t.sessions + t.events + t.tokens > 0 => {
                        log::info!(
                            "housekeeping: {} sessions, {} SSO events, {} used token ids deleted",
                            t.sessions,
                            t.events,
                            t.tokens
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
