//! Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane),
//! hashed and verified on the blocking pool, never on an async worker.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LEN: usize = 12;
/// Long passphrases are welcome and never truncated; this only bounds work.
pub const MAX_LEN: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a new password is refused, in plain words.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(format!(
            "The password must have at least {MIN_LEN} characters."
        ));
    }
    if chars > MAX_LEN {
        return Err(format!(
            "The password must have at most {MAX_LEN} characters."
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Checks `password` against `stored`; with no stored hash it verifies
/// against a dummy one and fails, so an unknown account costs the same time.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let dummy = dummy_hash();
    let hash = stored.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && stored.is_some()
}

fn dummy_hash() -> &'static str {
    use std::sync::OnceLock;
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("portico-dummy-password").unwrap_or_default())
}

/// Runs argon2 on the blocking pool, at most one computation per core at a
/// time: each takes 19 MiB and ~20 ms of a core, so a flood of sign-ins
/// queues here instead of starving every other request of CPU and memory.
pub struct Hasher {
    permits: tokio::sync::Semaphore,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher {
            permits: tokio::sync::Semaphore::new(cores),
        }
    }
}

impl Hasher {
    /// [`verify`], bounded. A closed pool counts as a failed check.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        actix_web::web::block(move || verify(&password, stored.as_deref()))
            .await
            .unwrap_or(false)
    }

    /// [`hash`], bounded.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the hasher is closed".to_owned())?;
        actix_web::web::block(move || hash(&password))
            .await
            .map_err(|_| "the blocking pool is gone".to_owned())?
    }
}
