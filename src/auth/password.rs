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

/// Runs argon2 on its own threads: half the cores (at least one), so a
/// flood of sign-ins queues here and leaves the other cores to every other
/// request. Long-lived threads also keep memory flat: each reuses the 19 MiB
/// its allocator handed it for the previous hash, where the blocking pool's
/// many threads would each keep a block of their own.
pub struct Hasher {
    jobs: std::sync::mpsc::SyncSender<HashJob>,
}

enum HashJob {
    Verify(String, Option<String>, tokio::sync::oneshot::Sender<bool>),
    Hash(String, tokio::sync::oneshot::Sender<Result<String, String>>),
}

/// Sign-ins waiting for a hashing thread at most; more are refused.
const HASH_QUEUE: usize = 1024;

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = std::sync::mpsc::sync_channel::<HashJob>(HASH_QUEUE);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..(cores / 2).max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("portico-argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(HashJob::Verify(pw, stored, reply)) => {
                                let _ = reply.send(verify(&pw, stored.as_deref()));
                            }
                            Ok(HashJob::Hash(pw, reply)) => {
                                let _ = reply.send(hash(&pw));
                            }
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                log::error!("cannot start a hashing thread: {e}");
            }
        }
        Hasher { jobs }
    }
}

impl Hasher {
    /// [`verify`] on a hashing thread; `Err` when too many are waiting.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, &'static str> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .try_send(HashJob::Verify(password, stored, reply))
            .map_err(|_| "too many sign-ins are waiting")?;
        answer.await.map_err(|_| "the hashing thread is gone")
    }

    /// [`hash`] on a hashing thread.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .try_send(HashJob::Hash(password, reply))
            .map_err(|_| "too many passwords are being hashed; try again".to_owned())?;
        answer
            .await
            .map_err(|_| "the hashing thread is gone".to_owned())?
    }
}
