//! SQLite's search index, in a database file of its own beside the
//! database's (`portico.db` → `portico.db-search`), kept by a thread of its
//! own.
//!
//! Why apart: indexed inside the writer's commits, FTS5's merges made the
//! slowest ~2 % of them (~15 ms each) and so the tail of new requests;
//! SQLite has one writer a file, so an index in the same file is written in
//! turn with everything else (docs/PERFORMANCE.md, "New requests").
//!
//! How it stays exact:
//! - The database's triggers log every new, changed or deleted subject and
//!   message in `search_staged`, in the order committed (`seq`;
//!   migrations/sqlite/…_search_apart). Nothing else writes the log.
//! - This thread indexes the logged rows after its mark, and moves its mark
//!   in the same transaction of the index's file: the mark says exactly what
//!   the index holds. It looks every [`PACE`] while rows come, every
//!   [`IDLE`] otherwise, and at once when a search waits.
//! - A search first reads the last `seq` committed in the database, then
//!   waits for the mark to pass it ([`Index::caught_up`], at most [`WAIT`]):
//!   a subject or message is found from the commit that wrote it, as when
//!   the index was in the same file.
//! - The writer deletes what was indexed from the log (through the write
//!   queue, in turn with every other write) and notes up to where
//!   (`search_origin.pruned`).
//! - The index is rebuilt from `requests` and `messages` — in the
//!   background, searches waiting or answered "busy" meanwhile — when its
//!   file is missing, of another database (`search_origin.origin`), of
//!   another layout ([`VERSION`]), behind what the log lost (older than
//!   `pruned`), or ahead of the log (the database restored from a backup).
//!   So a backup is the database's file alone.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, OptionalExtension, RunQueryDsl};

use super::super::writer::Writer;
use super::super::{BUSY_TIMEOUT_MS, DbConn, DbError};

/// The layout of the index's file; a file of another one is rebuilt.
const VERSION: i64 = 1;
/// How soon the thread looks again after a round that found rows.
pub const PACE: Duration = Duration::from_millis(20);
/// How soon it looks again after a round that found none.
const IDLE: Duration = Duration::from_millis(250);
/// How long a search waits for the index to take in what was committed
/// before it; then it is answered "busy" (a 503 that says to try again).
pub const WAIT: Duration = Duration::from_secs(5);
/// Logged rows one round indexes at most (a backlog takes several rounds).
const ROUND_ROWS: i64 = 10_000;

/// The index's file for the database at `main`.
pub fn file_of(main: &str) -> String {
    format!("{main}-search")
}

/// The index of one SQLite database: what it holds so far, and connections
/// that read it.
pub struct Index {
    main: String,
    file: String,
    state: Mutex<State>,
    /// The mark moved (searches wait on it).
    moved: Condvar,
    /// A search waits (the thread waits on it between rounds).
    asked: Condvar,
    readers: Pool<ConnectionManager<SqliteConnection>>,
}

#[derive(Default)]
struct State {
    /// The last logged row the index holds; `None` until the thread has
    /// opened (or rebuilt) the index.
    indexed: Option<i64>,
    /// A search waits for a round.
    wanted: bool,
}

/// The settings of a connection that reads the index.
#[derive(Debug)]
struct Reader;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Reader {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA query_only = ON;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Index {
    /// The index of the database at `main` (its file beside it), kept by a
    /// thread started here; the thread ends once the index is dropped. The
    /// writer takes the log's deletions.
    pub fn spawn(main: &str, writer: Writer) -> Result<Arc<Index>, String> {
        let file = file_of(main);
        let readers = Pool::builder()
            .max_size(4)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .test_on_check_out(false)
            .connection_customizer(Box::new(Reader))
            .build_unchecked(ConnectionManager::new(file.clone()));
        let index = Arc::new(Index {
            main: main.to_owned(),
            file,
            state: Mutex::default(),
            moved: Condvar::new(),
            asked: Condvar::new(),
            readers,
        });
        let weak = Arc::downgrade(&index);
        std::thread::Builder::new()
            .name("portico-search".into())
            .spawn(move || keep(weak, writer))
            .map_err(|e| format!("cannot start the search index's thread: {e}"))?;
        Ok(index)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last logged row the index holds, once it is open.
    pub fn indexed(&self) -> Option<i64> {
        self.state().indexed
    }

    /// Waits until the index holds every row logged up to `seq` (and is
    /// open), asking the thread for a round at once; at most [`WAIT`].
    pub fn caught_up(&self, seq: i64) -> Result<(), DbError> {
        let deadline = Instant::now() + WAIT;
        let mut state = self.state();
        loop {
            if state.indexed.is_some_and(|i| i >= seq) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DbError::Busy(if state.indexed.is_none() {
                    "the search index is being built"
                } else {
                    "the search index is catching up"
                }));
            }
            state.wanted = true;
            self.asked.notify_one();
            state = self
                .moved
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A connection that reads the index (once [`Index::caught_up`]).
    pub fn reader(&self) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, DbError> {
        Ok(self.readers.get()?)
    }

    fn publish(&self, indexed: i64) {
        self.state().indexed = Some(indexed);
        self.moved.notify_all();
    }

    /// Sleeps until `pause` has passed or a search asks for a round.
    fn rest(&self, pause: Duration) {
        let state = self.state();
        let (mut state, _) = self
            .asked
            .wait_timeout_while(state, pause, |s| !s.wanted)
            .unwrap_or_else(|e| e.into_inner());
        state.wanted = false;
    }
}

/// The last `seq` the database's log was given: what a search must find
/// indexed.
pub fn logged(conn: &mut SqliteConnection) -> Result<i64, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        seq: i64,
    }
    let last: Last = diesel::sql_query("SELECT coalesce(max(seq), 0) AS seq FROM search_staged")
        .get_result(conn)?;
    Ok(last.seq)
}

/// The thread: opens (or rebuilds) the index, then indexes what is logged,
/// until the index is dropped. An error is logged and the index opened
/// again a second later; searches wait meanwhile (at most [`WAIT`]).
fn keep(index: Weak<Index>, writer: Writer) {
    let mut keeper: Option<Keeper> = None;
    let mut first = true;
    loop {
        let Some(index) = index.upgrade() else {
            return;
        };
        let pause = match keeper.as_mut() {
            None => match Keeper::open(&index, std::mem::take(&mut first)) {
                Ok(k) => {
                    index.publish(k.indexed);
                    keeper = Some(k);
                    Duration::ZERO
                }
                Err(e) => {
                    log::error!("the search index {} cannot be opened: {e}", index.file);
                    Duration::from_secs(1)
                }
            },
            Some(k) => match k.round() {
                Ok(rows) => {
                    index.publish(k.indexed);
                    k.prune(&writer, rows == 0);
                    if rows == 0 { IDLE } else { PACE }
                }
                Err(e) => {
                    log::warn!("the search index {}: {e}; opened again", index.file);
                    keeper = None;
                    Duration::from_secs(1)
                }
            },
        };
        index.rest(pause);
    }
}

/// The thread's connection: the index's file, with the database attached
/// as `portico` to read its log. It never writes the database (a
/// `BEGIN IMMEDIATE` here would lock both files: every transaction of this
/// connection is deferred and writes the index's file only), and it never
/// holds a read of the database across its indexing, which would keep the
/// database's WAL from being checkpointed.
struct Keeper {
    conn: SqliteConnection,
    /// The last logged row the index holds.
    indexed: i64,
    /// Up to where the writer was asked to delete the log.
    pruned: i64,
}

#[derive(diesel::QueryableByName)]
struct Origin {
    #[diesel(sql_type = BigInt)]
    origin: i64,
    #[diesel(sql_type = BigInt)]
    pruned: i64,
    #[diesel(sql_type = BigInt)]
    logged: i64,
}

#[derive(diesel::QueryableByName)]
struct Kept {
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    origin: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The index's rows, rebuilt from the database: each spelled as its
/// trigger logs it (migrations/sqlite/…_search_apart), in the index's
/// order, in one transaction that also notes the log's last `seq` of the
/// same snapshot.
const REBUILD: &str = "\
    DROP TABLE IF EXISTS main.indexed; \
    DROP TABLE IF EXISTS main.request_search; \
    CREATE TABLE main.indexed ( \
        id INTEGER PRIMARY KEY CHECK (id = 1), \
        version INTEGER NOT NULL, \
        origin INTEGER NOT NULL, \
        seq INTEGER NOT NULL \
    ); \
    CREATE VIRTUAL TABLE main.request_search USING fts5( \
        text, scope, request_id UNINDEXED, \
        tokenize = 'unicode61 remove_diacritics 2', columnsize = 0 \
    ); \
    INSERT INTO main.request_search (request_search, rank) VALUES ('pgsz', 1000); \
    INSERT INTO main.indexed (id, version, origin, seq) \
    SELECT 1, {VERSION}, origin, coalesce( \
        (SELECT seq FROM portico.sqlite_sequence WHERE name = 'search_staged'), 0) \
    FROM portico.search_origin; \
    INSERT INTO main.request_search (rowid, text, scope, request_id) \
    SELECT -4503599627370496 - id, subject, 'c' || company_id || ' r' || id || ' pub', id \
    FROM portico.requests \
    UNION ALL \
    SELECT -m.id, m.body, \
           'c' || r.company_id || ' r' || r.id || \
           CASE WHEN m.internal THEN ' int' ELSE ' pub' END, \
           m.request_id \
    FROM portico.messages m JOIN portico.requests r ON r.id = m.request_id \
    ORDER BY 1; \
    INSERT INTO main.request_search (request_search) VALUES ('optimize');";

impl Keeper {
    /// Opens the index, rebuilt when it does not follow the database. At
    /// the thread's first opening, a file that cannot be read at all is
    /// removed and made anew (no reader has it open yet).
    fn open(index: &Index, first: bool) -> Result<Keeper, DbError> {
        match Keeper::open_once(index) {
            Err(e) if first && !matches!(e, DbError::Busy(_)) => {
                log::warn!(
                    "the search index {} cannot be read ({e}): made anew",
                    index.file
                );
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", index.file));
                }
                Keeper::open_once(index)
            }
            other => other,
        }
    }

    fn open_once(index: &Index) -> Result<Keeper, DbError> {
        let mut conn = SqliteConnection::establish(&index.file).map_err(|e| {
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new(e.to_string()),
            ))
        })?;
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
        ))?;
        diesel::sql_query("ATTACH DATABASE ? AS portico")
            .bind::<Text, _>(&index.main)
            .execute(&mut conn)?;
        let origin: Origin = diesel::sql_query(
            "SELECT origin, pruned, coalesce((SELECT seq FROM portico.sqlite_sequence \
             WHERE name = 'search_staged'), 0) AS logged FROM portico.search_origin",
        )
        .get_result(&mut conn)?;
        let has_mark: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM main.sqlite_master WHERE name = 'indexed'",
        )
        .get_result(&mut conn)?;
        let kept: Option<Kept> = if has_mark.n > 0 {
            diesel::sql_query("SELECT version, origin, seq FROM main.indexed")
                .get_result(&mut conn)
                .optional()?
        } else {
            None
        };
        let why = match &kept {
            None => Some("new"),
            Some(k) if k.version != VERSION => Some("of another version"),
            Some(k) if k.origin != origin.origin => Some("of another database"),
            Some(k) if k.seq < origin.pruned => Some("behind the database's log"),
            Some(k) if k.seq > origin.logged => {
                Some("ahead of the database (restored from a backup?)")
            }
            Some(_) => None,
        };
        let indexed = match (why, kept) {
            (None, Some(k)) => k.seq,
            (why, _) => {
                let started = Instant::now();
                log::info!(
                    "the search index {} is {}: rebuilding it",
                    index.file,
                    why.unwrap_or("new")
                );
                let rebuild = REBUILD.replace("{VERSION}", &VERSION.to_string());
                conn.transaction::<_, DbError, _>(|c| Ok(c.batch_execute(&rebuild)?))?;
                let kept: Kept = diesel::sql_query("SELECT version, origin, seq FROM main.indexed")
                    .get_result(&mut conn)?;
                // The rebuild went through the index's log: give its space
                // back now rather than keep a log file the index's size.
                conn.batch_execute("PRAGMA main.wal_checkpoint(TRUNCATE);")?;
                log::info!(
                    "the search index {} was rebuilt in {} ms",
                    index.file,
                    started.elapsed().as_millis()
                );
                kept.seq
            }
        };
        conn.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS batch ( \
                 seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, \
                 text TEXT, scope TEXT, request_id INTEGER);",
        )?;
        Ok(Keeper {
            conn,
            indexed,
            pruned: origin.pruned,
        })
    }

    /// Indexes the rows logged after the mark, at most [`ROUND_ROWS`]: a
    /// short read of the database copies them into a temporary table, then
    /// one transaction of the index's file deletes what was deleted or
    /// changed, inserts each key's last version in the index's order, and
    /// moves the mark. The rows indexed.
    fn round(&mut self) -> Result<usize, DbError> {
        self.conn.batch_execute("DELETE FROM temp.batch")?;
        let rows = diesel::sql_query(
            "INSERT INTO temp.batch (seq, key, text, scope, request_id) \
             SELECT seq, key, text, scope, request_id FROM portico.search_staged \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind::<BigInt, _>(self.indexed)
        .bind::<BigInt, _>(ROUND_ROWS)
        .execute(&mut self.conn)?;
        if rows == 0 {
            return Ok(0);
        }
        let last: Count =
            diesel::sql_query("SELECT max(seq) AS n FROM temp.batch").get_result(&mut self.conn)?;
        self.conn.transaction::<_, DbError, _>(|c| {
            c.batch_execute(
                "DELETE FROM main.request_search WHERE rowid IN \
                     (SELECT key FROM temp.batch WHERE text IS NULL); \
                 INSERT INTO main.request_search (rowid, text, scope, request_id) \
                 SELECT key, text, scope, request_id FROM temp.batch \
                 WHERE text IS NOT NULL \
                   AND seq IN (SELECT max(seq) FROM temp.batch GROUP BY key) \
                 ORDER BY key;",
            )?;
            diesel::sql_query("UPDATE main.indexed SET seq = ?")
                .bind::<BigInt, _>(last.n)
                .execute(c)?;
            Ok(())
        })?;
        self.indexed = last.n;
        Ok(rows)
    }

    /// Asks the writer to delete the indexed rows from the log, once there
    /// are many or the log is quiet; a full queue is tried again later.
    fn prune(&mut self, writer: &Writer, quiet: bool) {
        const MANY: i64 = 2_000;
        let upto = self.indexed;
        if upto <= self.pruned || (!quiet && upto - self.pruned < MANY) {
            return;
        }
        let done = writer.submit_blocking(move |tx, _| {
            if let DbConn::Sqlite(c) = tx.conn()? {
                diesel::sql_query("DELETE FROM search_staged WHERE seq <= ?")
                    .bind::<BigInt, _>(upto)
                    .execute(c)?;
                diesel::sql_query("UPDATE search_origin SET pruned = ? WHERE pruned < ?")
                    .bind::<BigInt, _>(upto)
                    .bind::<BigInt, _>(upto)
                    .execute(c)?;
            }
            Ok(())
        });
        match done {
            Ok(()) => self.pruned = upto,
            Err(e) => log::debug!("the search log was not pruned this time: {e}"),
        }
    }
}
