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
//!   message in `search_staged`, in the order committed (`seq`), with what
//!   the index holds for it from then on (migrations/sqlite/…_search_apart).
//! - The thread indexes the logged rows after its mark and moves its mark in
//!   the same transaction of the index's file, so the mark says exactly what
//!   the index holds. A round applies each key's last logged version
//!   (`INSERT OR REPLACE`, or a delete), so applying a row twice changes
//!   nothing. It looks every [`PACE`] while rows come, every [`IDLE`]
//!   otherwise, and at once when a search waits.
//! - A search first reads the last `seq` committed in the database, then
//!   waits (asynchronously, holding no connection, at most [`WAIT`]) for the
//!   mark to pass it ([`Index::ready_for`]): a subject or message is found
//!   from the commit that wrote it, as when the index was in the same file.
//! - The writer deletes what was indexed from the log (through its queue, in
//!   turn with every other write; never the row at the mark) and notes the
//!   last `seq` it deleted (`search_origin.pruned`).
//! - The index is rebuilt from `requests` and `messages` — in the
//!   background, searches answered "busy" meanwhile — when its file is
//!   missing or unreadable, of another database (`search_origin.origin`), of
//!   another layout ([`VERSION`]), behind what the log lost (older than
//!   `pruned`), ahead of the log, or of another history: the database's row at the index's
//!   mark is missing or has another `nonce` (a backup restored, commits lost
//!   by a power cut). So a backup is the database's file alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, OptionalExtension, RunQueryDsl};
use tokio::sync::watch;

use super::super::writer::Writer;
use super::super::{BUSY_TIMEOUT_MS, DbConn, DbError};

/// The layout of the index's file (2: FTS5 merging 8 segments at a time);
/// a file of another one is rebuilt.
const VERSION: i64 = 2;
/// How soon the thread looks again after a round that found rows (a search
/// that waits does not wait for it: it asks for a round at once).
const PACE: Duration = Duration::from_millis(50);
/// How soon it looks again after a round that found none.
const IDLE: Duration = Duration::from_millis(250);
/// How long a search waits for the index to take in what was committed
/// before it; then it is answered "busy" (a 503 that says to try again).
const WAIT: Duration = Duration::from_secs(5);
/// Logged rows one round indexes at most (a backlog takes several rounds),
/// and rows a rebuild copies in one statement.
const CHUNK: i64 = 10_000;
/// Rounds failed in a row after which the index is rebuilt.
const FAILED_ROUNDS: u32 = 3;

/// The index's file for the database at `main`.
fn file_of(main: &str) -> String {
    format!("{main}-search")
}

/// The index of one SQLite database: what it holds so far, and connections
/// that read it.
pub struct Index {
    main: String,
    file: String,
    /// The last logged row the index holds; `None` while it is (re)built.
    indexed: watch::Sender<Option<i64>>,
    /// The index cannot be opened (the log says why).
    unopenable: AtomicBool,
    /// A search waits: the thread runs a round at once.
    wanted: Mutex<bool>,
    asked: Condvar,
    readers: Pool<ConnectionManager<SqliteConnection>>,
    /// The first opening's keeper, for the thread.
    opened: Mutex<Option<Keeper>>,
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

/// The index has taken in what was committed before a search began:
/// [`super::Matcher`] reads it.
pub struct Ready(Arc<Index>);

impl Ready {
    /// A connection that reads the index.
    pub(super) fn reader(
        &self,
    ) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, DbError> {
        Ok(self.0.readers.get()?)
    }
}

impl Index {
    /// Opens the index of the database at `main` (its file beside it) and
    /// checks that it follows the database, before the server answers; a
    /// rebuild, when needed, is left to [`Index::keep`]'s thread.
    pub fn open(main: &str) -> Result<Arc<Index>, String> {
        let file = file_of(main);
        let readers = Pool::builder()
            .max_size(8)
            .min_idle(Some(0))
            .connection_timeout(WAIT)
            .test_on_check_out(false)
            .connection_customizer(Box::new(Reader))
            .build_unchecked(ConnectionManager::new(file.clone()));
        let index = Arc::new(Index {
            main: main.to_owned(),
            file,
            indexed: watch::Sender::new(None),
            unopenable: AtomicBool::new(false),
            wanted: Mutex::new(false),
            asked: Condvar::new(),
            readers,
            opened: Mutex::default(),
        });
        let keeper = Keeper::open(&index, true)
            .map_err(|e| format!("cannot open the search index {}: {e}", index.file))?;
        if let Some(indexed) = keeper.indexed {
            index.indexed.send_replace(Some(indexed));
        }
        *lock(&index.opened) = Some(keeper);
        Ok(index)
    }

    /// Starts the thread that keeps the index (and first rebuilds it, when
    /// [`Index::open`] found it does not follow the database); it ends once
    /// `alive` is gone (a test's server stopped). The writer takes the
    /// log's deletions.
    pub fn keep<T: Send + Sync + 'static>(
        self: &Arc<Index>,
        writer: Writer,
        alive: Weak<T>,
    ) -> Result<(), String> {
        let index = self.clone();
        std::thread::Builder::new()
            .name("portico-search".into())
            .spawn(move || run(&index, &writer, &alive))
            .map(|_| ())
            .map_err(|e| format!("cannot start the search index's thread: {e}"))
    }

    /// Waits until the index holds everything the database at `conn`
    /// committed so far; `logged` is the last `seq` of its log, read by
    /// the caller in a short read of its own ([`logged`]). Holds no
    /// connection and no thread while it waits, at most [`WAIT`] (the read
    /// before and the reader's checkout after come on top).
    pub async fn ready_for(self: &Arc<Index>, logged: i64) -> Result<Ready, DbError> {
        let mut indexed = self.indexed.subscribe();
        if !indexed.borrow().is_some_and(|i| i >= logged) {
            *lock(&self.wanted) = true;
            self.asked.notify_one();
            let caught_up = indexed.wait_for(|i| i.is_some_and(|i| i >= logged));
            match actix_web::rt::time::timeout(WAIT, caught_up).await {
                Ok(Ok(_)) => {}
                _ if self.unopenable.load(Ordering::Relaxed) => {
                    return Err(DbError::Busy(
                        "the search index cannot be opened (the server's log says why)",
                    ));
                }
                _ if self.indexed.borrow().is_none() => {
                    return Err(DbError::Busy("the search index is being rebuilt"));
                }
                _ => return Err(DbError::Busy("the search index is catching up")),
            }
        }
        Ok(Ready(self.clone()))
    }

    /// Sleeps until `pause` has passed or a search asks for a round.
    fn rest(&self, pause: Duration) {
        let wanted = lock(&self.wanted);
        let (mut wanted, _) = self
            .asked
            .wait_timeout_while(wanted, pause, |w| !*w)
            .unwrap_or_else(|e| e.into_inner());
        *wanted = false;
    }

    fn unopenable(&self, now: bool) {
        self.unopenable.store(now, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The last `seq` the database's log was given: what a search must find
/// indexed.
pub fn logged(conn: &mut DbConn) -> Result<i64, DbError> {
    let DbConn::Sqlite(c) = conn else {
        return Ok(0);
    };
    let last: Num =
        diesel::sql_query("SELECT coalesce(max(seq), 0) AS n FROM search_staged").get_result(c)?;
    Ok(last.n)
}

/// The thread: rebuilds the index if it must, then indexes what is logged,
/// until `alive` is gone. A failed round opens the index again a second
/// later (after [`FAILED_ROUNDS`] in a row, rebuilt); searches wait
/// meanwhile, at most [`WAIT`].
fn run<T>(index: &Arc<Index>, writer: &Writer, alive: &Weak<T>) {
    let mut keeper = lock(&index.opened).take();
    let (mut failed_rounds, mut must_rebuild) = (0, false);
    while alive.strong_count() > 0 {
        let pause = match keeper.as_mut() {
            None => match Keeper::open(index, false) {
                Ok(mut k) => {
                    if std::mem::take(&mut must_rebuild) {
                        k.indexed = None;
                    }
                    keeper = Some(k);
                    index.unopenable(false);
                    Duration::ZERO
                }
                Err(e) => {
                    log::error!(
                        "the search index {} cannot be opened: {e} (if the index's file is \
                         damaged: stop the server, remove the file, start again — it is rebuilt)",
                        index.file
                    );
                    index.unopenable(true);
                    Duration::from_secs(1)
                }
            },
            Some(k) if k.indexed.is_none() => match k.rebuild(index) {
                Ok(()) => {
                    index.indexed.send_replace(k.indexed);
                    index.unopenable(false);
                    Duration::ZERO
                }
                Err(e) => {
                    log::error!("the search index {} was not rebuilt: {e}", index.file);
                    index.unopenable(true);
                    must_rebuild = true;
                    keeper = None;
                    Duration::from_secs(1)
                }
            },
            Some(k) => match k.round() {
                Ok(rows) => {
                    failed_rounds = 0;
                    index.indexed.send_replace(k.indexed);
                    k.prune(writer);
                    match rows {
                        0 => IDLE,
                        // A backlog: the next round at once.
                        n if n as i64 >= CHUNK => Duration::ZERO,
                        _ => PACE,
                    }
                }
                Err(e) => {
                    failed_rounds += 1;
                    log::warn!("the search index {}: {e}; opened again", index.file);
                    keeper = None;
                    if failed_rounds >= FAILED_ROUNDS {
                        log::error!(
                            "the search index {} failed {failed_rounds} rounds in a row: it is rebuilt",
                            index.file
                        );
                        failed_rounds = 0;
                        must_rebuild = true;
                    }
                    Duration::from_secs(1)
                }
            },
        };
        // After a failure the pause is kept whatever a search asks.
        if pause >= Duration::from_secs(1) {
            std::thread::sleep(pause);
        } else {
            index.rest(pause);
        }
    }
}

/// The thread's connection: the index's file, with the database attached
/// as `portico` to read its log. It never writes the database (a
/// `BEGIN IMMEDIATE` here would lock both files: every transaction of this
/// connection is deferred and writes the index's file or temporary tables
/// only), and each of its reads of the database is one statement, so that
/// no read is held across its indexing (which would keep the database's
/// log from being checkpointed).
struct Keeper {
    conn: SqliteConnection,
    /// The last logged row the index holds; `None`: to be rebuilt.
    indexed: Option<i64>,
    /// The last row of the log the writer deleted (or was asked to).
    pruned: i64,
}

#[derive(diesel::QueryableByName)]
struct Num {
    #[diesel(sql_type = BigInt)]
    n: i64,
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
    #[diesel(sql_type = Nullable<BigInt>)]
    nonce: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Nonce {
    #[diesel(sql_type = Nullable<BigInt>)]
    nonce: Option<i64>,
}

/// The database's origin, its last deleted and last given `seq`.
const ORIGIN: &str = "SELECT origin, pruned, coalesce((SELECT seq FROM portico.sqlite_sequence \
     WHERE name = 'search_staged'), 0) AS logged FROM portico.search_origin";
/// The nonce of the database's log row `?` (none once deleted, or never).
const NONCE_AT: &str = "SELECT (SELECT nonce FROM portico.search_staged WHERE seq = ?) AS nonce";

/// The index's rows, spelled as the triggers log them
/// (migrations/sqlite/…_search_apart): subjects of the requests with ids in
/// `[?, ?)`, and messages with ids in `[?, ?)`.
const SUBJECTS: &str = "\
    INSERT OR REPLACE INTO main.request_search (rowid, text, scope, request_id) \
    SELECT -4503599627370496 - id, subject, 'c' || company_id || ' r' || id || ' pub', id \
    FROM portico.requests WHERE id >= ? AND id < ? ORDER BY id DESC";
const MESSAGES: &str = "\
    INSERT OR REPLACE INTO main.request_search (rowid, text, scope, request_id) \
    SELECT -m.id, m.body, \
           'c' || r.company_id || ' r' || r.id || \
           CASE WHEN m.internal THEN ' int' ELSE ' pub' END, \
           m.request_id \
    FROM portico.messages m JOIN portico.requests r ON r.id = m.request_id \
    WHERE m.id >= ? AND m.id < ? ORDER BY m.id DESC";

impl Keeper {
    /// Opens the index's file and finds whether it follows the database
    /// (`indexed` is `None` when it must be rebuilt). At the first opening
    /// (no reader has the file open yet), a file that is not a database or
    /// is damaged is removed and made anew.
    fn open(index: &Index, first: bool) -> Result<Keeper, DbError> {
        match Keeper::open_once(index) {
            Err(DbError::Query(e)) if first && unreadable(&e.to_string()) => {
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
             PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
             CREATE TEMP TABLE IF NOT EXISTS batch ( \
                 seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, \
                 text TEXT, scope TEXT, request_id INTEGER, nonce INTEGER NOT NULL);"
        ))?;
        diesel::sql_query("ATTACH DATABASE ? AS portico")
            .bind::<Text, _>(&index.main)
            .execute(&mut conn)?;
        let origin: Origin = diesel::sql_query(ORIGIN).get_result(&mut conn)?;
        let marked: Num = diesel::sql_query(
            "SELECT count(*) AS n FROM main.sqlite_master WHERE name = 'indexed'",
        )
        .get_result(&mut conn)?;
        let kept: Option<Kept> = if marked.n > 0 {
            diesel::sql_query("SELECT version, origin, seq, nonce FROM main.indexed")
                .get_result(&mut conn)
                .optional()?
        } else {
            None
        };
        let at_mark: Option<i64> = match &kept {
            Some(k) => {
                diesel::sql_query(NONCE_AT)
                    .bind::<BigInt, _>(k.seq)
                    .get_result::<Nonce>(&mut conn)?
                    .nonce
            }
            None => None,
        };
        let why = match &kept {
            None => Some("new"),
            Some(k) if k.version != VERSION => Some("of another version"),
            Some(k) if k.origin != origin.origin => Some("of another database"),
            Some(k) if k.seq < origin.pruned => Some("behind what the database's log deleted"),
            Some(k) if k.seq > origin.logged => Some("ahead of the database (a backup restored?)"),
            // The row at the mark is never deleted; without it (an index
            // rebuilt on an empty log), the counts above are the check.
            Some(k) if k.nonce.is_some() && k.nonce != at_mark => {
                Some("of another history of the database (a backup restored?)")
            }
            Some(_) => None,
        };
        match why {
            Some("new") => log::info!(
                "the search index {} is new: it is built in the background",
                index.file
            ),
            Some(why) => log::info!(
                "the search index {} is {why}: it is rebuilt in the background",
                index.file
            ),
            None => {}
        }
        Ok(Keeper {
            conn,
            indexed: kept.filter(|_| why.is_none()).map(|k| k.seq),
            pruned: origin.pruned,
        })
    }

    /// Rebuilds the index from the database: notes the log's last `seq`,
    /// makes the index anew, copies every subject and message in statements
    /// of [`CHUNK`] rows (each a short read of the database), then marks
    /// that `seq` as indexed; the rounds that follow apply what was logged
    /// meanwhile (applied twice, a row changes nothing). The index has pages
    /// of ~1,000 bytes (…_search_pages) and FTS5 merges 8 segments of a
    /// level at a time rather than 4: each page is rewritten fewer times,
    /// ~6 % less of the server's CPU a new request, and its occasional long
    /// merges only delay this thread, never the writer (docs/PERFORMANCE.md,
    /// "New requests").
    fn rebuild(&mut self, index: &Index) -> Result<(), DbError> {
        let started = Instant::now();
        index.indexed.send_replace(None);
        let origin: Origin = diesel::sql_query(ORIGIN).get_result(&mut self.conn)?;
        let nonce: Nonce = diesel::sql_query(NONCE_AT)
            .bind::<BigInt, _>(origin.logged)
            .get_result(&mut self.conn)?;
        self.conn.batch_execute(
            "BEGIN; \
             DROP TABLE IF EXISTS main.indexed; \
             DROP TABLE IF EXISTS main.request_search; \
             CREATE VIRTUAL TABLE main.request_search USING fts5( \
                 text, scope, request_id UNINDEXED, \
                 tokenize = 'unicode61 remove_diacritics 2', columnsize = 0); \
             INSERT INTO main.request_search (request_search, rank) VALUES ('pgsz', 1000); \
             INSERT INTO main.request_search (request_search, rank) VALUES ('automerge', 8); \
             COMMIT;",
        )?;
        let mut rows = 0;
        for (table, insert) in [("requests", SUBJECTS), ("messages", MESSAGES)] {
            // Newest first, so that the index's keys come in ascending order.
            let mut below = i64::MAX;
            loop {
                let from: Option<Num> = diesel::sql_query(format!(
                    "SELECT id AS n FROM portico.{table} WHERE id < ? \
                     ORDER BY id DESC LIMIT 1 OFFSET ?"
                ))
                .bind::<BigInt, _>(below)
                .bind::<BigInt, _>(CHUNK - 1)
                .get_result(&mut self.conn)
                .optional()?;
                let from = from.map_or(i64::MIN, |f| f.n);
                rows += diesel::sql_query(insert)
                    .bind::<BigInt, _>(from)
                    .bind::<BigInt, _>(below)
                    .execute(&mut self.conn)?;
                if from == i64::MIN {
                    break;
                }
                below = from;
            }
        }
        self.conn.batch_execute(&format!(
            "BEGIN; \
             INSERT INTO main.request_search (request_search) VALUES ('optimize'); \
             CREATE TABLE main.indexed ( \
                 id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, \
                 origin INTEGER NOT NULL, seq INTEGER NOT NULL, nonce INTEGER); \
             INSERT INTO main.indexed (id, version, origin, seq, nonce) \
             VALUES (1, {VERSION}, {}, {}, {}); \
             COMMIT; \
             PRAGMA main.wal_checkpoint(TRUNCATE);",
            origin.origin,
            origin.logged,
            nonce.nonce.map_or("NULL".to_owned(), |n| n.to_string()),
        ))?;
        self.indexed = Some(origin.logged);
        log::info!(
            "the search index {} was rebuilt: {rows} subjects and messages in {} ms",
            index.file,
            started.elapsed().as_millis()
        );
        Ok(())
    }

    /// Indexes the rows logged after the mark, at most [`CHUNK`]: one
    /// statement copies them from the database into a temporary table, then
    /// one transaction of the index's file deletes the keys whose last
    /// version is a deletion, writes the others' last version, and moves
    /// the mark (with the nonce of its row). The rows indexed.
    fn round(&mut self) -> Result<usize, DbError> {
        let Some(indexed) = self.indexed else {
            return Ok(0);
        };
        self.conn.batch_execute("DELETE FROM temp.batch")?;
        let rows = diesel::sql_query(
            "INSERT INTO temp.batch (seq, key, text, scope, request_id, nonce) \
             SELECT seq, key, text, scope, request_id, nonce FROM portico.search_staged \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind::<BigInt, _>(indexed)
        .bind::<BigInt, _>(CHUNK)
        .execute(&mut self.conn)?;
        if rows == 0 {
            return Ok(0);
        }
        let last: Num =
            diesel::sql_query("SELECT max(seq) AS n FROM temp.batch").get_result(&mut self.conn)?;
        // The mark moves first, from where this keeper left it: a second
        // keeper on the same file (two servers on one database) finds it
        // moved, and opens the index again rather than write over it.
        let mut apply = || -> Result<bool, DbError> {
            self.conn.batch_execute("BEGIN")?;
            let marked = diesel::sql_query(
                "UPDATE main.indexed SET (seq, nonce) = \
                     (SELECT seq, nonce FROM temp.batch ORDER BY seq DESC LIMIT 1) \
                 WHERE seq = ?",
            )
            .bind::<BigInt, _>(indexed)
            .execute(&mut self.conn)?;
            if marked != 1 {
                return Ok(false);
            }
            self.conn.batch_execute(
                "DELETE FROM main.request_search WHERE rowid IN ( \
                     SELECT key FROM temp.batch WHERE text IS NULL \
                       AND seq IN (SELECT max(seq) FROM temp.batch GROUP BY key)); \
                 INSERT OR REPLACE INTO main.request_search (rowid, text, scope, request_id) \
                 SELECT key, text, scope, request_id FROM temp.batch \
                 WHERE text IS NOT NULL \
                   AND seq IN (SELECT max(seq) FROM temp.batch GROUP BY key) \
                 ORDER BY key; \
                 COMMIT;",
            )?;
            Ok(true)
        };
        match apply() {
            Ok(true) => {}
            Ok(false) => {
                let _ = self.conn.batch_execute("ROLLBACK");
                return Err(DbError::Busy(
                    "another server moved the search index's mark",
                ));
            }
            Err(e) => {
                let _ = self.conn.batch_execute("ROLLBACK");
                return Err(e);
            }
        }
        self.indexed = Some(last.n);
        Ok(rows)
    }

    /// Asks the writer to delete the indexed rows from the log but the one
    /// at the mark, [`CHUNK`] rows at most at a time; a full queue is tried
    /// again after the next round.
    fn prune(&mut self, writer: &Writer) {
        let Some(indexed) = self.indexed else {
            return;
        };
        let upto = indexed - 1;
        if upto <= self.pruned {
            return;
        }
        let done = writer.submit_blocking(move |tx, _| {
            let DbConn::Sqlite(c) = tx.conn()? else {
                return Ok(upto);
            };
            // The CHUNK-th row still logged, when more are.
            let bound: Option<Num> = diesel::sql_query(
                "SELECT seq AS n FROM search_staged WHERE seq <= ? \
                 ORDER BY seq LIMIT 1 OFFSET ?",
            )
            .bind::<BigInt, _>(upto)
            .bind::<BigInt, _>(CHUNK - 1)
            .get_result(c)
            .optional()?;
            let upto = bound.map_or(upto, |b| b.n);
            diesel::sql_query("DELETE FROM search_staged WHERE seq <= ?")
                .bind::<BigInt, _>(upto)
                .execute(c)?;
            diesel::sql_query("UPDATE search_origin SET pruned = ? WHERE pruned < ?")
                .bind::<BigInt, _>(upto)
                .bind::<BigInt, _>(upto)
                .execute(c)?;
            Ok(upto)
        });
        match done {
            Ok(upto) => self.pruned = upto,
            Err(e) if e.is_busy() => log::debug!("the search log was not pruned this time: {e}"),
            Err(e) => log::warn!("the search log was not pruned (tried again): {e}"),
        }
    }
}

/// SQLite's texts for a file that is not a database or is damaged.
fn unreadable(message: &str) -> bool {
    message.contains("file is not a database") || message.contains("malformed")
}
