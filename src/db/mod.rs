//! The database: a pool of connections, their pragmas, the embedded
//! migrations, and [`Db`], the one way the rest of the code reaches it — on
//! actix's blocking pool, never on an async worker. Everything that depends
//! on the backend (today SQLite: the connection type, pragmas, the write
//! lock, how "busy" is reported) stays inside this module; the rest of the
//! tree names [`DbConn`] and calls [`Db::read`] and [`Db::write`].

mod change;
pub mod housekeeping;
pub mod models;
pub mod schema;
pub mod search;
mod types;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::DatabaseErrorKind;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use change::{Change, Listener, Tx};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The one connection type the code outside `db` names.
pub type DbConn = SqliteConnection;
/// The backend of [`DbConn`], for the boxed conditions of `models`.
pub type DbBackend = diesel::sqlite::Sqlite;
pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type Conn = PooledConnection<ConnectionManager<DbConn>>;

/// How long a connection waits for another writer before giving up with
/// "database is locked" (which becomes a 503, never a hang).
const BUSY_TIMEOUT_MS: u32 = 5_000;

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
}

impl From<diesel::result::Error> for DbError {
    /// diesel has no error kind for SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED`:
    /// they arrive as `Unknown` with SQLite's fixed result-code text
    /// (`sqlite3_errstr`). They are told apart here, once, so that the rest
    /// of the code asks [`DbError::is_busy`], a question of kind.
    fn from(e: diesel::result::Error) -> Self {
        match &e {
            diesel::result::Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if matches!(
                    info.message(),
                    "database is locked" | "database table is locked" | "database is busy"
                ) =>
            {
                DbError::Busy("another writer holds the database")
            }
            _ => DbError::Query(e),
        }
    }
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

    /// True when the database was busy (another writer held the lock past
    /// the busy timeout, or the pool had no free connection): worth a 503
    /// and a retry, not a 500.
    pub fn is_busy(&self) -> bool {
        matches!(self, DbError::Pool(_) | DbError::Busy(_))
    }
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
             PRAGMA synchronous = NORMAL;"
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Accepts `portico.db`, `sqlite://portico.db` and `sqlite:portico.db`.
pub fn database_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens the pool, switches the file to WAL once and runs the embedded
/// migrations. Called before the server binds and by every CLI command.
pub fn connect(database_url: &str) -> Result<DbPool, String> {
    let path = database_path(database_url);
    let manager = ConnectionManager::<DbConn>::new(path);
    let pool = Pool::builder()
        .max_size(8)
        .min_idle(Some(2))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(Pragmas))
        .build(manager)
        .map_err(|e| format!("cannot open the database {path}: {e}"))?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot open the database {path}: {e}"))?;
    conn.batch_execute("PRAGMA journal_mode = WAL;")
        .map_err(|e| format!("cannot switch {path} to WAL: {e}"))?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| format!("cannot migrate {path}: {e}"))?;
    Ok(pool)
}

/// Runs `f` inside one write transaction. On SQLite it is `BEGIN
/// IMMEDIATE`: the write lock is taken up front, so two writers serialise
/// instead of failing on upgrade.
fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConn) -> Result<T, DbError>,
{
    conn.immediate_transaction(f)
}

/// Runs `f` in a write transaction with a [`Tx`], then tells `listener` what
/// the committed transaction changed. Nothing is told of a rolled-back one.
pub fn transaction<T, F>(conn: &mut DbConn, listener: &dyn Listener, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, DbError>,
{
    let mut changes = Vec::new();
    let value = write_transaction(conn, |conn| f(&mut Tx::new(conn, &mut changes)))?;
    if !changes.is_empty() {
        listener.committed(&changes);
    }
    Ok(value)
}

/// The pool and whoever must hear of committed changes (the cache).
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    listener: Arc<dyn Listener>,
}

impl Db {
    pub fn new(pool: DbPool, listener: Arc<dyn Listener>) -> Db {
        Db { pool, listener }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. Only
    /// reads can be made with a bare connection: every write to a cached
    /// table takes a [`Tx`], which only [`Db::write`] hands out.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
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

    /// [`Db::write`] for callers that may block (the command line).
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = self.pool.get()?;
        transaction(&mut conn, &*self.listener, f)
    }

    /// Answers once the database answers a query (`/healthz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
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
    #[test]
    fn database_urls_may_carry_the_sqlite_scheme() {
        assert_eq!(super::database_path("portico.db"), "portico.db");
        assert_eq!(super::database_path("sqlite://data/p.db"), "data/p.db");
        assert_eq!(super::database_path("sqlite:p.db"), "p.db");
        assert_eq!(super::database_path("/abs/p.db"), "/abs/p.db");
    }
}
