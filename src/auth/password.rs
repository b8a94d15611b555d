//! Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane),
//! hashed and verified on the hashing threads of [`Hasher`], never on an
//! async worker nor on the blocking pool.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub const MIN_LEN: usize = 12;
/// Long passphrases are welcome and never truncated; this only bounds work.
pub const MAX_LEN: usize = 1024;

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

/// argon2's working memory (19 MiB), allocated by a hashing thread's first
/// hash and reused by every later one: memory stays flat under any load.
#[derive(Default)]
pub struct Scratch(Vec<Block>);

impl Scratch {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            // A hash made with more memory than ours: grow once.
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

fn params() -> Result<Params, String> {
    Params::new(19 * 1024, 2, 1, None).map_err(|e| format!("argon2 parameters: {e}"))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
pub fn hash(password: &str, scratch: &mut Scratch) -> Result<String, String> {
    let params = params()?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            scratch.blocks(params.block_count()),
        )
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against `stored`; with no stored hash it verifies
/// against a dummy one and fails, so an unknown account costs the same time.
pub fn verify(password: &str, stored: Option<&str>, scratch: &mut Scratch) -> bool {
    let Ok(dummy) = dummy_hash(scratch) else {
        return false;
    };
    let phc = stored.unwrap_or(dummy);
    let matches = matches_phc(password, phc, scratch).unwrap_or(false);
    matches && stored.is_some()
}

fn matches_phc(password: &str, phc: &str, scratch: &mut Scratch) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            scratch.blocks(params.block_count()),
        )
        .ok()?;
    // `Output`'s equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
}

/// The hash an unknown account is checked against. The server takes the
/// one kept in the database ([`Hasher::take_dummy`] with [`DUMMY_SETTING`]'s
/// value, made once by the first instance with [`Hasher::make_dummy`]), so
/// that every instance checks an unknown account against the same hash, at
/// the same cost; without a server (unit tests), one is made on first use.
static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The setting the dummy hash is kept under.
pub const DUMMY_SETTING: &str = "login_dummy_hash";

fn dummy_hash(scratch: &mut Scratch) -> Result<&'static str, String> {
    if let Some(d) = DUMMY.get() {
        return Ok(d);
    }
    let made = hash("portico-dummy-password", scratch)?;
    Ok(DUMMY.get_or_init(|| made))
}

/// Why a password was not checked or hashed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The queue is full: worth a 503 and a retry.
    #[error("too many passwords are waiting to be checked")]
    Busy,
    #[error("{0}")]
    Failed(String),
}

impl From<HashError> for crate::error::AppError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => {
                crate::error::AppError::Db(crate::db::DbError::Busy("the password queue is full"))
            }
            HashError::Failed(why) => crate::error::AppError::Internal(why),
        }
    }
}

/// Runs argon2 on its own threads: half the cores (at least one), so a
/// flood of sign-ins queues here and leaves the other cores to every other
/// request. Long-lived threads also keep memory flat: each reuses the 19 MiB
/// its allocator handed it for the previous hash, where the blocking pool's
/// many threads would each keep a block of their own.
pub struct Hasher {
    jobs: std::sync::mpsc::SyncSender<HashJob>,
    /// Jobs queued and not yet taken by a thread.
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Past this many waiting, only trusted checks (a device cookie's) are
    /// queued: the places beyond are theirs, so strangers filling the queue
    /// cannot keep the account's own browser out.
    untrusted_cap: usize,
}

enum HashJob {
    Verify(String, Option<String>, tokio::sync::oneshot::Sender<bool>),
    Hash(String, tokio::sync::oneshot::Sender<Result<String, String>>),
    /// With a hash: takes it as the dummy hash, at start, and checks a
    /// password against it once (so a kept hash that does not parse stops
    /// the server there). Without: answers a dummy hash to keep, the one
    /// this process already uses, if any, else a new one.
    Dummy(
        Option<String>,
        std::sync::mpsc::Sender<Result<String, String>>,
    ),
}

/// Untrusted sign-ins waiting for each hashing thread at most (about two
/// seconds of work); more are answered 503 with `Retry-After` at once,
/// rather than queued for longer than anyone waits.
const HASH_QUEUE_PER_THREAD: usize = 64;
/// Places of each thread's queue beyond those, kept for sign-ins with the
/// account's device cookie.
const TRUSTED_PLACES_PER_THREAD: usize = 16;

impl Hasher {
    /// Starts the hashing threads; an error says why the server cannot
    /// check passwords, and stops it at start. The server then gives them
    /// the dummy hash ([`Hasher::take_dummy`]), made by one of them if the
    /// database keeps none yet ([`Hasher::make_dummy`]).
    pub fn start() -> Result<Hasher, String> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::with(cores / 2, HASH_QUEUE_PER_THREAD, TRUSTED_PLACES_PER_THREAD)
    }

    /// [`Hasher::start`] with `threads` hashing threads (at least one),
    /// `per_thread` places in the queue for each and `trusted_per_thread`
    /// more for device-cookie attempts.
    fn with(
        threads: usize,
        per_thread: usize,
        trusted_per_thread: usize,
    ) -> Result<Hasher, String> {
        let threads = threads.max(1);
        let (jobs, queue) =
            std::sync::mpsc::sync_channel::<HashJob>((per_thread + trusted_per_thread) * threads);
        let waiting = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("portico-argon2-{n}"))
                .spawn(move || {
                    let mut scratch = Scratch::default();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        match job {
                            // The asker is gone (its request was dropped): no
                            // work for nobody.
                            Ok(HashJob::Verify(_, _, reply)) if reply.is_closed() => {}
                            Ok(HashJob::Verify(pw, stored, reply)) => {
                                let _ = reply.send(verify(&pw, stored.as_deref(), &mut scratch));
                            }
                            Ok(HashJob::Hash(pw, reply)) => {
                                let _ = reply.send(hash(&pw, &mut scratch));
                            }
                            Ok(HashJob::Dummy(None, reply)) => {
                                let made = match DUMMY.get() {
                                    Some(d) => Ok(d.clone()),
                                    None => hash("portico-dummy-password", &mut scratch),
                                };
                                let _ = reply.send(made);
                            }
                            // This process checks against it already.
                            Ok(HashJob::Dummy(Some(phc), reply)) if DUMMY.get() == Some(&phc) => {
                                let _ = reply.send(Ok(phc));
                            }
                            Ok(HashJob::Dummy(Some(phc), reply)) => {
                                let checked = match matches_phc("", &phc, &mut scratch) {
                                    Some(_) => {
                                        let _ = DUMMY.set(phc.clone());
                                        Ok(phc)
                                    }
                                    None => Err("it is not an argon2 hash".to_owned()),
                                };
                                let _ = reply.send(checked);
                            }
                            Err(_) => return,
                        }
                    }
                });
            spawned.map_err(|e| format!("cannot start a hashing thread: {e}"))?;
        }
        Ok(Hasher {
            jobs,
            waiting,
            untrusted_cap: (per_thread * threads).max(1),
        })
    }

    /// A dummy hash (of a password nobody has) for the database to keep:
    /// the one this process already uses, else one made on a hashing
    /// thread. Made there, its 19 MiB are the thread's, kept for its later
    /// hashes: made and freed elsewhere, a block that size would raise
    /// glibc's mmap threshold for the rest of the process, and every later
    /// 10 MiB upload would stay resident in the heap (eight uploads' peak
    /// RSS: ~140 MB against ~220 MB, docs/PERFORMANCE.md).
    pub fn make_dummy(&self) -> Result<String, String> {
        self.dummy_job(None)
    }

    /// Takes `phc` as the dummy hash of this process, once checked.
    pub fn take_dummy(&self, phc: String) -> Result<(), String> {
        self.dummy_job(Some(phc)).map(drop)
    }

    /// Runs a [`HashJob::Dummy`] and waits for it (at start, off the
    /// runtime).
    fn dummy_job(&self, phc: Option<String>) -> Result<String, String> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.jobs
            .try_send(HashJob::Dummy(phc, reply))
            .map_err(|_| "the hashing threads did not start".to_owned())?;
        answer
            .recv()
            .map_err(|_| "the hashing thread stopped".to_owned())?
            .map_err(|e| format!("the dummy password hash: {e}"))
    }

    /// Queues `job`, unless the queue is full (or, for an untrusted check,
    /// past its share of it).
    fn submit(&self, job: HashJob, trusted: bool) -> Result<(), ()> {
        use std::sync::atomic::Ordering;
        let before = self.waiting.fetch_add(1, Ordering::SeqCst);
        if (!trusted && before >= self.untrusted_cap) || self.jobs.try_send(job).is_err() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(());
        }
        Ok(())
    }

    /// [`verify`] on a hashing thread; `Err` when too many are waiting or
    /// the thread is gone.
    /// `trusted`: the attempt comes with the account's device cookie, and
    /// may take the places kept for such attempts.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
        trusted: bool,
    ) -> Result<bool, HashError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(HashJob::Verify(password, stored, reply), trusted)
            .map_err(|()| HashError::Busy)?;
        answer
            .await
            .map_err(|_| HashError::Failed("the hashing thread is gone".into()))
    }

    /// [`hash`] on a hashing thread.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(HashJob::Hash(password, reply), false)
            .map_err(|()| HashError::Busy)?;
        answer
            .await
            .map_err(|_| HashError::Failed("the hashing thread is gone".into()))?
            .map_err(HashError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// A hasher as the server has it: with a dummy hash made on its thread.
    fn started(threads: usize, per_thread: usize, trusted: usize) -> Hasher {
        let hasher = Hasher::with(threads, per_thread, trusted).unwrap();
        hasher.take_dummy(hasher.make_dummy().unwrap()).unwrap();
        hasher
    }

    #[test]
    fn a_kept_dummy_hash_that_is_not_argon2_is_refused_at_start() {
        let hasher = Hasher::with(1, 2, 0).unwrap();
        let why = hasher.take_dummy("not a phc string".into()).unwrap_err();
        assert_eq!(why, "the dummy password hash: it is not an argon2 hash");
        let made = hasher.make_dummy().unwrap();
        assert!(made.starts_with("$argon2id$"), "{made}");
    }

    #[tokio::test]
    async fn past_the_queue_a_check_is_refused_at_once_not_queued() {
        let hasher = started(1, 2, 0);
        let stored = Some(hash("correct horse battery", &mut Scratch::default()).unwrap());
        let checks =
            (0..12).map(|_| hasher.verify("wrong password!".into(), stored.clone(), false));
        let started = std::time::Instant::now();
        let answers = futures_util::future::join_all(checks).await;
        let refused = answers.iter().filter(|a| a.is_err()).count();
        assert!(
            refused >= 8,
            "at most the thread's one and the queue's two run: {answers:?}"
        );
        assert!(answers.iter().all(|a| matches!(a, Ok(false) | Err(_))));
        // Only the accepted ones were hashed.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[tokio::test]
    async fn the_last_places_of_the_queue_are_for_the_accounts_own_browser() {
        use futures_util::FutureExt;
        let hasher = started(1, 6, 2);
        let stored = Some(hash("correct horse battery", &mut Scratch::default()).unwrap());
        let mut held = Vec::new();
        // Strangers queue until they are refused (their share: 6 of 8).
        let refused = loop {
            let mut check = Box::pin(hasher.verify("guess".into(), stored.clone(), false));
            match (&mut check).now_or_never() {
                Some(Err(why)) => break why,
                _ => held.push(check),
            }
            assert!(held.len() < 100, "never refused");
        };
        assert!(matches!(refused, HashError::Busy));
        // The account's own browser still gets a place.
        let mut own = Box::pin(hasher.verify("correct horse battery".into(), stored, true));
        assert!(!matches!((&mut own).now_or_never(), Some(Err(_))));
        drop(held);
        assert_eq!(own.await, Ok(true));
    }

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let mut scratch = Scratch::default();
        let ours = hash("correct horse battery", &mut scratch).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        // The argon2 crate's own verifier accepts ours…
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // …and ours accepts the crate's, even with other parameters.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"another passphrase", &salt)
        .unwrap()
        .to_string();
        assert!(verify("another passphrase", Some(&theirs), &mut scratch));
        assert!(!verify("another passphrase!", Some(&theirs), &mut scratch));
        assert!(verify("correct horse battery", Some(&ours), &mut scratch));
        assert!(!verify("correct horse batter", Some(&ours), &mut scratch));
        assert!(
            !verify("portico-dummy-password", None, &mut scratch),
            "no hash, no match"
        );
        assert!(!verify("x", Some("not a phc string"), &mut scratch));
    }

    #[test]
    fn the_policy_counts_characters_and_never_truncates() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"é".repeat(12)).is_ok());
        assert!(check_policy(&"p".repeat(MAX_LEN)).is_ok());
        assert!(check_policy(&"p".repeat(MAX_LEN + 1)).is_err());
    }
}
