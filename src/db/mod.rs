//! The database: an r2d2 pool of SQLite connections, their pragmas, the
//! embedded migrations, and [`run`], the one way handlers reach the database
//! (on actix's blocking pool, never on an async worker).

pub mod models;
pub mod schema;
pub mod writer;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type Conn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// How long a connection waits for another writer before giving up with
/// "database is locked" (which becomes a 503, never a hang).
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Errors from the storage layer. None of them carries user input.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("the blocking pool is gone")]
    Canceled,
    /// The database was too busy to take the work in time.
    #[error("the database is busy: {0}")]
    Busy(&'static str),
    /// Not an error of the database: the cache did not hold what was asked,
    /// and the caller should load it (see `crate::cache`).
    #[error("not in the cache")]
    NotCached,
}

impl DbError {
    /// True when a UNIQUE constraint refused the write (a name taken, …).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// True when the database was busy (another writer held the lock past
    /// the busy timeout, or the pool had no free connection): worth a 503
    /// and a retry, not a 500.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Pool(_) | DbError::Busy(_) => true,
            DbError::Query(diesel::result::Error::DatabaseError(_, info)) => {
                let m = info.message();
                m.contains("locked") || m.contains("busy")
            }
            _ => false,
        }
    }
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
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
    let manager = ConnectionManager::<SqliteConnection>::new(path);
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

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|_| DbError::Canceled)?
}

/// Runs `f` inside one `BEGIN IMMEDIATE` transaction: the write lock is
/// taken up front, so two writers serialise instead of failing on upgrade.
pub fn immediate<T, F>(conn: &mut SqliteConnection, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, DbError>,
{
    conn.immediate_transaction(f)
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
