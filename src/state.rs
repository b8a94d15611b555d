//! What every handler can reach: built once by [`crate::startup`], shared
//! by all workers.

use std::sync::Arc;

use crate::auth::password::Hasher;
use crate::auth::throttle::Throttle;
use crate::cache::Cache;
use crate::db::Db;
use crate::db::writer::Writer;

pub struct AppState {
    /// Reads and writes; every committed write invalidates [`Self::cache`].
    pub db: Db,
    /// This portal's base URL, without a trailing slash.
    pub base_url: String,
    pub allow_signup: bool,
    pub throttle: Throttle,
    pub cache: Arc<Cache>,
    /// argon2 on its own threads, half the cores.
    pub hasher: Hasher,
    /// The one thread that writes sign-ins, in batches.
    pub writer: Writer,
    /// The session key, which also seals device cookies.
    pub cookie_key: actix_web::cookie::Key,
}
