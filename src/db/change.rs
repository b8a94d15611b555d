//! What a write changed, told to whoever keeps copies of the data (the
//! cache) once the write is committed.
//!
//! The functions of `models` that change cached data take a [`Tx`] and
//! record their own [`Change`]; a `Tx` exists only inside
//! [`super::Db::write`] (or the writer thread), which hands the changes to
//! the [`Listener`] after the commit. A handler therefore cannot write a
//! cached row without the cache hearing of it: there is nothing to forget.

use std::ops::Deref;

use diesel::Connection;

use super::{DbConn, DbError, notify};

/// A piece of cached data that a committed write made stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// A company's row or its secrets (rotation, revocation, token rules).
    Company(i64),
    /// A user's row (role, disabled flag, session epoch, last sign-in).
    User(i64),
    /// The list of a company's projects.
    Projects(i64),
    /// The projects one user belongs to.
    Memberships(i64),
    /// Every user's memberships (a project was deleted).
    AllMemberships,
    /// A session ended (signed out, ended by an admin, pruned).
    Session(i64),
    /// What one customer's dashboard lists of their own open requests: a
    /// request of theirs created, its status, priority or public activity
    /// changed, or a request seen by them (its unread marker).
    OpenRequests(i64),
    /// A request's page: the request's row, its messages, files and change
    /// lines, or who has seen it up to when.
    Request(i64),
    /// A company's agents and admins (who may be assigned a request): one
    /// created, deleted, disabled or enabled, or a role changed.
    Staff(i64),
}

/// Hears of committed changes.
pub trait Listener: Send + Sync {
    fn committed(&self, changes: &[Change]);
    /// Changes may have been made that this listener did not hear of (the
    /// connection that hears other instances' changes was down).
    fn missed(&self) {}
    /// A name for this listener, unique in the world (random), or 0 for
    /// none: changes it publishes carry it, so that it can skip what it has
    /// already heard of itself when other instances' changes come back
    /// ([`super::notify`]).
    fn origin(&self) -> u64 {
        0
    }
}

/// Nobody listens: the command line, a process of its own.
impl Listener for () {
    fn committed(&self, _: &[Change]) {}
}

/// What a write transaction recorded, for its commit.
#[derive(Default)]
pub(super) struct Journal {
    pub changes: Vec<Change>,
    /// How many of `changes` were already published to the other instances
    /// (by a statement that carried them: `writer::Batch`).
    pub published: usize,
}

/// How far a [`Tx`] is with its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Begun {
    /// Not yet (PostgreSQL, before the first write).
    No,
    /// Begun; committed or rolled back at the end.
    Yes,
    /// None was begun: one statement wrote alone, as a transaction of its
    /// own ([`Tx::last`]). Nothing more may be written.
    Alone,
}

/// A connection inside a write transaction, collecting what it changes.
///
/// On SQLite the transaction is `BEGIN IMMEDIATE`, taken before anything
/// runs: the write lock up front, so that two writers serialise instead of
/// failing on upgrade, and every read sees what the writes will rest on. On
/// PostgreSQL it is a plain (read committed) transaction, begun at the first
/// statement that writes ([`Tx::conn`]): there a statement sees what is
/// committed when it starts and takes no lock, inside a transaction or not,
/// so the reads made before the first write ([`Tx::read`]) read the same
/// outside one — and each statement is a round trip, `BEGIN` and `COMMIT`
/// included. A transaction whose only write is one statement is that
/// statement alone ([`Tx::last`]): a batch of returning sign-ins is two
/// round trips, a read and a write, instead of five (docs/PERFORMANCE.md,
/// "What costs more on PostgreSQL").
pub struct Tx<'a> {
    conn: &'a mut DbConn,
    journal: &'a mut Journal,
    begun: Begun,
}

type Manager = <DbConn as Connection>::TransactionManager;

impl<'a> Tx<'a> {
    /// A write transaction on `conn`: begun now on SQLite, at its first
    /// write on PostgreSQL.
    pub(super) fn begin(conn: &'a mut DbConn, journal: &'a mut Journal) -> Result<Tx<'a>, DbError> {
        use diesel::connection::AnsiTransactionManager;
        let begun = match conn {
            DbConn::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
                Begun::Yes
            }
            DbConn::Pg(_) => Begun::No,
        };
        Ok(Tx {
            conn,
            journal,
            begun,
        })
    }

    /// The connection, for a statement that writes (or reads after a
    /// write): the transaction is begun first if it is not yet.
    pub fn conn(&mut self) -> Result<&mut DbConn, DbError> {
        use diesel::connection::TransactionManager;
        match self.begun {
            Begun::Yes => {}
            Begun::No => {
                Manager::begin_transaction(self.conn)?;
                self.begun = Begun::Yes;
            }
            Begun::Alone => {
                debug_assert!(false, "a write after a transaction's last statement");
                // Not "busy": nothing here is worth retrying.
                return Err(DbError::Query(diesel::result::Error::QueryBuilderError(
                    "a write came after the transaction's last statement".into(),
                )));
            }
        }
        Ok(self.conn)
    }

    /// The connection, for a statement that only reads (or takes values
    /// of a sequence, which no transaction holds): it begins nothing. Inside
    /// the transaction once one is begun, so a read sees the writes before
    /// it.
    pub fn read(&mut self) -> &mut DbConn {
        self.conn
    }

    /// The connection, for the transaction's last write. When nothing was
    /// written before it (PostgreSQL), it runs alone — one statement is a
    /// transaction of its own — and the `BEGIN` and `COMMIT` round trips are
    /// saved; then nothing more may be written.
    pub(super) fn last(&mut self) -> &mut DbConn {
        if self.begun == Begun::No {
            self.begun = Begun::Alone;
        }
        self.conn
    }

    /// Ends the transaction with `outcome`: commits it if it succeeded,
    /// rolls it back otherwise (what ran alone is committed or not by
    /// itself).
    pub(super) fn end<T>(self, outcome: Result<T, DbError>) -> Result<T, DbError> {
        use diesel::connection::TransactionManager;
        if self.begun != Begun::Yes {
            return outcome;
        }
        match outcome {
            Ok(value) => match Manager::commit_transaction(self.conn) {
                Ok(()) => Ok(value),
                Err(e) => {
                    // A failed COMMIT may leave the transaction open: end
                    // it, so the connection goes back to the pool clean (or
                    // broken).
                    let _ = Manager::rollback_transaction(self.conn);
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = Manager::rollback_transaction(self.conn);
                Err(e)
            }
        }
    }

    /// Publishes to the other instances what was recorded and not yet
    /// published ([`notify::publish`]; nothing on SQLite).
    pub(super) fn publish_rest(&mut self, origin: u64) -> Result<(), DbError> {
        let from = self.journal.published;
        if from == self.journal.changes.len() {
            return Ok(());
        }
        self.conn()?;
        notify::publish(self.conn, origin, &self.journal.changes[from..])?;
        self.journal.published = self.journal.changes.len();
        Ok(())
    }

    /// Recorded by the model functions that write cached data.
    pub(super) fn changed(&mut self, change: Change) {
        self.journal.changes.push(change);
    }

    /// The changes recorded so far: for a statement that publishes them
    /// itself, which then calls [`Tx::published_all`].
    pub(super) fn changes(&self) -> &[Change] {
        &self.journal.changes
    }

    /// Every change recorded so far was published: the commit publishes
    /// only what is recorded after.
    pub(super) fn published_all(&mut self) {
        self.journal.published = self.journal.changes.len();
    }
}

/// Which backend, for code that differs by it (no statement can be run
/// through it).
impl Deref for Tx<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        self.conn
    }
}
