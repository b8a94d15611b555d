//! The write path of sign-ins: one thread that owns the writing, takes the
//! work queued by all HTTP workers and runs it in batches, each batch one
//! `BEGIN IMMEDIATE` transaction with a savepoint per piece of work. A
//! waiter is answered only after its batch committed, so nothing answered
//! is lost; the cost of a transaction (the lock, the WAL append) is shared
//! by up to [`MAX_BATCH`] sign-ins instead of paid by each, and writers never
//! queue on SQLite's lock against each other.
//!
//! Work that waited longer than [`MAX_WAIT`] (another process holding the
//! database's write lock, say) is answered "busy" without running, and a
//! full queue refuses at once: the server degrades to clean 503s, never to
//! a hang, and recovers by itself.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::sqlite::SqliteConnection;
use tokio::sync::oneshot;

use super::{DbError, DbPool};
use crate::cache::Cache;

/// The most pieces of work one transaction carries.
pub const MAX_BATCH: usize = 256;
/// Work queued longer than this is answered "busy" without running.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// Work waiting at once; more is refused at once with "busy".
const QUEUE: usize = 16_384;

/// One piece of work, as the writer thread sees it.
trait Task: Send {
    /// Runs inside the batch's transaction, in a savepoint of its own.
    fn run(&mut self, conn: &mut SqliteConnection) -> Result<(), DbError>;
    /// Answers the waiter once the batch committed (`Ok`) or failed.
    fn finish(self: Box<Self>, committed: Result<(), &'static str>, cache: &Cache);
    fn queued_at(&self) -> Instant;
}

struct Job<T, F> {
    work: Option<F>,
    result: Option<Result<T, DbError>>,
    /// Cache invalidations to make once the work is committed.
    after_commit: fn(&T, &Cache),
    reply: oneshot::Sender<Result<T, DbError>>,
    queued_at: Instant,
}

impl<T, F> Task for Job<T, F>
where
    T: Send,
    F: FnOnce(&mut SqliteConnection) -> Result<T, DbError> + Send,
{
    fn run(&mut self, conn: &mut SqliteConnection) -> Result<(), DbError> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        match conn.transaction(work) {
            Ok(value) => {
                self.result = Some(Ok(value));
                Ok(())
            }
            Err(e) => {
                let busy = e.is_busy();
                self.result = Some(Err(e));
                // Its own savepoint was rolled back; the batch goes on,
                // unless the database itself refuses to.
                if busy {
                    Err(DbError::Busy("locked"))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), &'static str>, cache: &Cache) {
        let answer = match (committed, self.result) {
            (Ok(()), Some(Ok(value))) => {
                (self.after_commit)(&value, cache);
                Ok(value)
            }
            (Ok(()), Some(Err(e))) => Err(e),
            (Ok(()), None) => Err(DbError::Busy("not run")),
            (Err(why), _) => Err(DbError::Busy(why)),
        };
        // The waiter may have given up (timed out): nothing to do then.
        let _ = self.reply.send(answer);
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }
}

/// The handle HTTP workers queue work on.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Box<dyn Task>>,
}

impl Writer {
    /// Starts the writer thread; it stops when every handle is dropped.
    pub fn spawn(pool: DbPool, cache: Arc<Cache>) -> Result<Writer, String> {
        let (queue, work) = sync_channel::<Box<dyn Task>>(QUEUE);
        std::thread::Builder::new()
            .name("portico-writer".into())
            .spawn(move || run(work, pool, cache))
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Writer { queue })
    }

    /// Runs `work` in the next batch; resolves once it is committed.
    /// `after_commit` makes the cache invalidations the work calls for.
    pub async fn submit<T, F>(&self, work: F, after_commit: fn(&T, &Cache)) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Job {
            work: Some(work),
            result: None,
            after_commit,
            reply,
            queued_at: Instant::now(),
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(DbError::Busy("the write queue is full")),
            Err(TrySendError::Disconnected(_)) => return Err(DbError::Canceled),
        }
        // The writer answers every job; the bound is only a safety net.
        match actix_web::rt::time::timeout(MAX_WAIT * 2, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(DbError::Canceled),
            Err(_) => Err(DbError::Busy("no answer in time")),
        }
    }
}

fn run(work: Receiver<Box<dyn Task>>, pool: DbPool, cache: Arc<Cache>) {
    while let Ok(first) = work.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match work.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (mut live, stale): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|job| job.queued_at().elapsed() < MAX_WAIT);
        for job in stale {
            job.finish(Err("waited too long for the database"), &cache);
        }
        if live.is_empty() {
            continue;
        }
        let committed = match pool.get() {
            Ok(mut conn) => conn
                .immediate_transaction::<_, DbError, _>(|conn| {
                    for job in live.iter_mut() {
                        job.run(conn)?;
                    }
                    Ok(())
                })
                .map_err(|e| {
                    log::warn!("a batch of {} sign-in writes failed: {e}", live.len());
                    if e.is_busy() {
                        "the database is locked"
                    } else {
                        "the write failed"
                    }
                }),
            Err(e) => {
                log::warn!("the writer has no database connection: {e}");
                Err("no database connection")
            }
        };
        for job in live {
            job.finish(committed, &cache);
        }
    }
}
