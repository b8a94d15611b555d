//! The database: a pool of connections on SQLite or PostgreSQL, the
//! embedded migrations of each, and [`Db`], the one way the rest of the code
//! reaches it — on actix's blocking pool, never on an async worker.
//!
//! One codebase, two backends: [`DbConn`] is a `diesel::MultiConnection`
//! enum, so the query builder's code is written once and runs on either.
//! What differs — the connection's settings, the write transaction, the
//! migrations, the upserts and the full-text search — is written per backend
//! in this module only (here, [`search`], and the few statements that
//! [`per_backend!`] spells for each). Which backend a URL names is decided by
//! its scheme ([`Backend::of`]), never by trying one and then the other.

mod change;
pub mod checkpoint;
pub mod housekeeping;
pub mod models;
pub mod notify;
pub mod schema;
pub mod search;
mod types;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::result::DatabaseErrorKind;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use change::Journal;
pub use change::{Change, Listener, Tx};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The one connection type the code outside `db` names: SQLite or
/// PostgreSQL, chosen by the database URL.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// The backend of [`DbConn`], for the boxed conditions of `models`.
pub type DbBackend = MultiBackend;
pub type DbPool = Pool<Manager>;
pub type Conn = PooledConnection<Manager>;

/// A pooled connection and whether it was found dead: a query on it failed
/// because the connection was lost ([`DbError::is_lost`]). The pool drops
/// such a connection when it comes back ([`Manager::has_broken`]) instead
/// of testing every connection with a query at every checkout — a round trip
/// on each request, on PostgreSQL.
pub struct Pooled {
    conn: DbConn,
    lost: bool,
}

impl Pooled {
    /// Passes `result` through, noting whether it says the connection is
    /// gone.
    pub fn check<T>(&mut self, result: Result<T, DbError>) -> Result<T, DbError> {
        if result.as_ref().err().is_some_and(DbError::is_lost) {
            self.lost = true;
        }
        result
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// Runs the same query-builder code on the inner connection of each
/// backend, for what the common subset of [`DbConn`] lacks (`ON CONFLICT`):
/// `per_backend!(conn, |c| query.execute(c))`, the body compiled once per
/// backend.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use per_backend;

diesel::define_sql_function! {
    /// SQLite's id of the row its connection inserted last.
    fn last_insert_rowid() -> BigInt;
}

/// Inserts one row into `$table` and gives its id (`$id`), as a
/// `QueryResult<i64>`: `RETURNING` on PostgreSQL; on SQLite the connection's
/// last row id, since SQLite runs `RETURNING` through a temporary table it
/// opens and closes at every insert (the function is a call; both
/// statements are kept prepared).
macro_rules! insert_id {
    ($conn:expr, $table:path, $values:expr, $id:path) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table)
                .values($values)
                .execute(c)
                .and_then(|_| diesel::select($crate::db::last_insert_rowid()).get_result::<i64>(c)),
            $crate::db::DbConn::Pg(c) => diesel::insert_into($table)
                .values($values)
                .returning($id)
                .get_result::<i64>(c),
        }
    };
}
pub(crate) use insert_id;

/// `rows` as the JSON array that SQLite's statements over a batch read with
/// `json_each`/`jsonb_each`: one bound text, so that the statement's SQL is
/// the same whatever the number of rows and stays prepared.
pub(crate) fn json_array<T: serde::Serialize + ?Sized>(rows: &T) -> Result<String, DbError> {
    serde_json::to_string(rows).map_err(|_| DbError::Busy("rows could not be written as JSON"))
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; anything else is
    /// the path of an SQLite file.
    pub fn of(url: &str) -> Backend {
        let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// How long a connection waits for another writer before giving up with
/// "database is locked" (which becomes a 503, never a hang).
pub(crate) const BUSY_TIMEOUT_MS: u32 = 5_000;
/// How long a PostgreSQL statement may run before the server cancels it
/// (a 503, never a hang), and how long opening a connection may take.
const PG_STATEMENT_TIMEOUT_MS: u32 = 10_000;
const PG_CONNECT_TIMEOUT_S: u32 = 3;
/// The advisory lock the migrations of PostgreSQL run under (any constant
/// of our own: "portico" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_6f72_7469_636f;

/// Errors from the storage layer. None of them carries user input.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("the blocking pool is gone")]
    Canceled,
    /// The database was too busy to take the work in time.
    #[error("the database is busy: {0}")]
    Busy(&'static str),
    /// The connection to the database is gone (PostgreSQL restarted or
    /// unreachable): this connection is dropped, a new one is made.
    #[error("the database connection was lost")]
    Lost,
    /// A concurrent transaction wrote the same rows first (PostgreSQL: a
    /// deadlock or a serialization failure): worth running again.
    #[error("a concurrent write conflicted")]
    Conflict,
}

impl From<diesel::result::Error> for DbError {
    /// What is worth a 503 and a retry is told apart here, once, so that
    /// the rest of the code asks [`DbError::is_busy`], a question of kind:
    /// SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED` (diesel has no kind for them:
    /// they arrive as `Unknown` with SQLite's fixed result-code text), and
    /// on PostgreSQL a lost connection, a cancelled statement (the statement
    /// timeout), a deadlock or a serialization failure, told by SQLSTATE
    /// class in diesel's kinds or by libpq's fixed texts.
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error::DatabaseError;
        match &e {
            DatabaseError(DatabaseErrorKind::Unknown, info)
                if matches!(
                    info.message(),
                    "database is locked" | "database table is locked" | "database is busy"
                ) =>
            {
                DbError::Busy("another writer holds the database")
            }
            DatabaseError(DatabaseErrorKind::ClosedConnection, _) => DbError::Lost,
            DatabaseError(DatabaseErrorKind::SerializationFailure, _) => DbError::Conflict,
            DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("deadlock detected") =>
            {
                DbError::Conflict
            }
            DatabaseError(DatabaseErrorKind::Unknown, info) if pg_lost(info.message()) => {
                DbError::Lost
            }
            DatabaseError(DatabaseErrorKind::Unknown, info) if pg_unavailable(info.message()) => {
                DbError::Busy("the database does not answer in time")
            }
            _ => DbError::Query(e),
        }
    }
}

/// libpq's and the server's texts for a connection that is gone: no
/// SQLSTATE reaches diesel for them.
fn pg_lost(message: &str) -> bool {
    [
        "server closed the connection",
        "no connection to the server",
        "terminating connection",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is",
    ]
    .iter()
    .any(|text| message.contains(text))
}

/// The server's texts for a statement it gave up on (the statement or lock
/// timeout): diesel maps no kind for them.
fn pg_unavailable(message: &str) -> bool {
    [
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
    ]
    .iter()
    .any(|text| message.contains(text))
}

impl DbError {
    /// True when a UNIQUE constraint refused the write (a name taken, …).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// True when the database was busy or away (another writer held the
    /// lock past the busy timeout, the pool had no connection, PostgreSQL
    /// did not answer): worth a 503 and a retry, not a 500.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            DbError::Pool(_) | DbError::Busy(_) | DbError::Lost | DbError::Conflict
        )
    }

    /// True when the work lost a race with a concurrent transaction (a
    /// unique row written first, a deadlock): run again, it decides
    /// differently (it finds the row).
    pub fn is_conflict(&self) -> bool {
        matches!(self, DbError::Conflict) || self.is_unique_violation()
    }

    /// True when the connection the error came from is gone.
    pub fn is_lost(&self) -> bool {
        matches!(self, DbError::Lost)
    }
}

/// Opens connections of one backend, as r2d2 asks: the URL decides which,
/// and each new connection gets its settings here.
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        self.open().map(|conn| Pooled { conn, lost: false })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        conn.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.lost || std::thread::panicking() || conn.conn.is_broken()
    }
}

impl Manager {
    fn open(&self) -> Result<DbConn, diesel::r2d2::Error> {
        use diesel::r2d2::Error;
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(database_path(&self.url))
                    .map_err(Error::ConnectionError)?;
                // `temp_store = MEMORY`: the journal SQLite keeps for each
                // statement that may fail halfway inside a transaction (an
                // insert that fires a trigger, a multi-row insert) went to a
                // temporary file past 64 KiB, and a batch's statements pass
                // that: writing it was ~9 % of the writer's time under new
                // requests (docs/PERFORMANCE.md, "New requests"). Portico's
                // other temporary structures (sorts, `IN` lists) are small:
                // its queries follow indexes.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
                     PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {}; \
                     PRAGMA temp_store = MEMORY;",
                    checkpoint::WRITER_PAGES
                ))
                .map_err(Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = establish_pg(&self.url).map_err(Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = {PG_STATEMENT_TIMEOUT_MS}; \
                     SET lock_timeout = {BUSY_TIMEOUT_MS}; SET TIME ZONE 'UTC';"
                ))
                .map_err(Error::QueryError)?;
                Ok(DbConn::Pg(conn))
            }
        }
    }
}

/// Accepts `portico.db`, `sqlite://portico.db` and `sqlite:portico.db`.
pub fn database_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// A PostgreSQL URL with libpq's connect timeout added when it sets none,
/// so that a database that does not answer is a quick error, not a hang.
pub fn pg_url(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_S}")
}

/// What the log may show of a database URL: never its password (given
/// before the host or as a `password=` parameter).
pub fn redacted(url: &str) -> String {
    let shown = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => database_path(url).to_owned(),
    };
    match shown.split_once('?') {
        Some((base, query)) if query.contains("password=") => {
            let kept: Vec<&str> = query
                .split('&')
                .map(|kv| {
                    if kv.starts_with("password=") {
                        "password=…"
                    } else {
                        kv
                    }
                })
                .collect();
            format!("{base}?{}", kept.join("&"))
        }
        _ => shown,
    }
}

/// The password a PostgreSQL URL carries, if any (before the host, or as
/// a `password=` parameter), percent-encoded as written.
fn password_of(url: &str) -> Option<&str> {
    let in_userinfo = url.split_once("://").and_then(|(_, rest)| {
        let userinfo = &rest[..rest.rfind('@')?];
        userinfo.split_once(':').map(|(_, pw)| pw)
    });
    let in_query = url
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("password=")));
    in_userinfo.or(in_query).filter(|pw| !pw.is_empty())
}

/// `message` with the password of `url` blanked out: libpq quotes the
/// whole URL in some of its errors (one it cannot parse, say).
pub fn scrubbed(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(pw) => message.replace(pw, "…"),
        None => message.to_owned(),
    }
}

/// Opens one PostgreSQL connection; its error never holds the password.
pub fn establish_pg(url: &str) -> Result<PgConnection, diesel::ConnectionError> {
    use diesel::ConnectionError::{BadConnection, InvalidConnectionUrl};
    PgConnection::establish(url).map_err(|e| match e {
        BadConnection(m) => BadConnection(scrubbed(&m, url)),
        InvalidConnectionUrl(m) => InvalidConnectionUrl(scrubbed(&m, url)),
        other => other,
    })
}

/// Opens the pool and runs the embedded migrations of its backend (on
/// SQLite after switching the file to WAL once; on PostgreSQL under an
/// advisory lock, so that instances starting together migrate once and the
/// others wait for it). Called before the server binds.
pub fn connect(database_url: &str) -> Result<DbPool, String> {
    connect_keeping(database_url, 2)
}

/// [`connect`] for one command of the CLI: no idle connection is kept.
/// With some kept, the pool replaced the one a command took on a thread
/// of its own, and a process that exited while that thread was opening a
/// PostgreSQL connection could abort in libpq's Kerberos set-up
/// (`k5_mutex_lock: Received error 22`: its mutex already destroyed by
/// the exit).
pub fn connect_for_command(database_url: &str) -> Result<DbPool, String> {
    connect_keeping(database_url, 0)
}

fn connect_keeping(database_url: &str, idle: u32) -> Result<DbPool, String> {
    let backend = Backend::of(database_url);
    let shown = redacted(database_url);
    let url = match backend {
        Backend::Sqlite => database_url.to_owned(),
        Backend::Postgres => pg_url(database_url),
    };
    let pool = Pool::builder()
        .max_size(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        })
        .min_idle(Some(idle))
        .connection_timeout(match backend {
            Backend::Sqlite => Duration::from_secs(10),
            Backend::Postgres => Duration::from_secs(3),
        })
        // No query at every checkout: a connection found dead by a query is
        // dropped when it comes back (`Pooled`).
        .test_on_check_out(false)
        .build({
            // One connection first: a database that cannot be reached is
            // one clear error now, not the pool's retries for seconds.
            let manager = Manager { url, backend };
            manager
                .open()
                .map_err(|e| format!("cannot open the database {shown}: {e}"))?;
            manager
        })
        .map_err(|e| format!("cannot open the database {shown}: {e}"))?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot open the database {shown}: {e}"))?;
    migrate(&mut conn).map_err(|e| format!("cannot migrate {shown}: {e}"))?;
    Ok(pool)
}

fn migrate(conn: &mut DbConn) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|e| format!("cannot switch to WAL: {e}"))?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| err(&e))?;
        }
        DbConn::Pg(c) => {
            // A session lock, held across the migrations' own transactions;
            // released below, or by the server when this connection ends.
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| err(&e))?;
            let migrated = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| err(&e));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| err(&e))?;
            migrated?;
        }
    }
    Ok(())
}

/// Runs `f` in a write transaction with a [`Tx`] (see there: on SQLite
/// `BEGIN IMMEDIATE`, on PostgreSQL begun at the first write), then tells
/// `listener` what the committed transaction changed. Nothing is told of a
/// rolled-back one. On PostgreSQL the changes are also published to the
/// other instances ([`notify`]) inside the transaction: the server delivers
/// them at its commit, and never for a rolled-back one.
pub fn transaction<T, F>(conn: &mut DbConn, listener: &dyn Listener, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, DbError>,
{
    let mut journal = Journal::default();
    let mut tx = Tx::begin(conn, &mut journal)?;
    let outcome = f(&mut tx).and_then(|value| {
        tx.publish_rest(listener.origin())?;
        Ok(value)
    });
    let value = tx.end(outcome)?;
    if !journal.changes.is_empty() {
        listener.committed(&journal.changes);
    }
    Ok(value)
}

/// The pool, whoever must hear of committed changes (the cache), and on
/// SQLite the search index's file, once its thread runs (the server's).
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    listener: Arc<dyn Listener>,
    search: Option<Arc<search::Index>>,
}

impl Db {
    pub fn new(pool: DbPool, listener: Arc<dyn Listener>) -> Db {
        Db {
            pool,
            listener,
            search: None,
        }
    }

    /// This database's search index kept by `index` (SQLite).
    pub fn with_search_index(self, index: Arc<search::Index>) -> Db {
        Db {
            search: Some(index),
            ..self
        }
    }

    /// For a search: on SQLite, once its index holds what was committed so
    /// far (waiting for it asynchronously, a bounded time); `None` on
    /// PostgreSQL, whose index is in the database.
    pub async fn search_ready(&self) -> Result<Option<search::Ready>, DbError> {
        let Some(index) = self.search.clone() else {
            return Ok(None);
        };
        let logged = self.read(search::logged).await?;
        index.ready_for(logged).await.map(Some)
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. Only
    /// reads can be made with a bare connection: every write to a cached
    /// table takes a [`Tx`], which only [`Db::write`] hands out.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.read_blocking(f))
            .await
            .map_err(|_| DbError::Canceled)?
    }

    /// Runs `f` in one write transaction on the blocking thread pool; once
    /// it is committed, the listener forgets what `f` changed, before this
    /// resolves.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let listener = self.listener.clone();
        self.read(move |conn| transaction(conn, &*listener, f))
            .await
    }

    /// [`Db::read`] for callers that may block (the housekeeping, the
    /// start-up).
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = self.pool.get()?;
        let result = f(&mut conn);
        conn.check(result)
    }

    /// [`Db::write`] for callers that may block (the command line).
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = self.pool.get()?;
        let result = transaction(&mut conn, &*self.listener, f);
        conn.check(result)
    }

    /// Answers once the database answers a query (`/healthz`).
    /// A connection found dead (the database restarted) is dropped and the
    /// ping tried again on the pool's other idle ones, without waiting for a
    /// new one: the answer is about the database, not about one stale
    /// connection, and it is quick either way.
    pub async fn ping(&self) -> Result<(), DbError> {
        fn select_1(conn: &mut DbConn) -> Result<(), DbError> {
            Ok(conn.batch_execute("SELECT 1")?)
        }
        let first = self.read(select_1).await;
        if !first.as_ref().err().is_some_and(DbError::is_lost) {
            return first;
        }
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut last = first;
            while let Some(mut conn) = pool.try_get() {
                let result = select_1(&mut conn);
                last = conn.check(result);
                if !last.as_ref().err().is_some_and(DbError::is_lost) {
                    break;
                }
            }
            last
        })
        .await
        .map_err(|_| DbError::Canceled)?
    }

    /// A connection for callers that may block (the command line).
    pub fn conn(&self) -> Result<Conn, DbError> {
        Ok(self.pool.get()?)
    }
}

/// The current Unix time in milliseconds: request activity times.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{Backend, redacted, scrubbed};

    #[test]
    fn the_scheme_picks_the_backend_and_the_log_never_shows_a_password() {
        assert_eq!(Backend::of("postgres://u:pw@db/p"), Backend::Postgres);
        assert_eq!(Backend::of("PostgreSQL://db/p"), Backend::Postgres);
        assert_eq!(Backend::of("portico.db"), Backend::Sqlite);
        assert_eq!(Backend::of("sqlite://postgres.db"), Backend::Sqlite);
        assert_eq!(Backend::of("./postgres://x"), Backend::Sqlite);
        assert_eq!(
            redacted("postgres://u:s3cret@db:5432/p?sslmode=require"),
            "postgres://…@db:5432/p?sslmode=require"
        );
        assert!(!redacted("postgresql://u:s3cret@db/p").contains("s3cret"));
        assert_eq!(redacted("sqlite://data/p.db"), "data/p.db");
        assert_eq!(
            redacted("postgres://db/p?user=u&password=s3cret"),
            "postgres://db/p?user=u&password=…"
        );
        let url = "postgres://app:s3cret@[bad";
        assert_eq!(
            scrubbed(&format!("cannot parse \"{url}\""), url),
            "cannot parse \"postgres://app:…@[bad\""
        );
        assert_eq!(
            scrubbed("x s3cret", "postgres://db/p?password=s3cret"),
            "x …"
        );
        assert_eq!(scrubbed("no secret", "postgres://app@db/p"), "no secret");
    }

    #[test]
    fn database_urls_may_carry_the_sqlite_scheme() {
        assert_eq!(super::database_path("portico.db"), "portico.db");
        assert_eq!(super::database_path("sqlite://data/p.db"), "data/p.db");
        assert_eq!(super::database_path("sqlite:p.db"), "p.db");
        assert_eq!(super::database_path("/abs/p.db"), "/abs/p.db");
    }
}
