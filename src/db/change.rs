//! What a write changed, told to whoever keeps copies of the data (the
//! cache) once the write is committed.
//!
//! The functions of `models` that change cached data take a [`Tx`] and
//! record their own [`Change`]; a `Tx` exists only inside
//! [`super::Db::write`] (or the writer thread), which hands the changes to
//! the [`Listener`] after the commit. A handler therefore cannot write a
//! cached row without the cache hearing of it: there is nothing to forget.

use std::ops::{Deref, DerefMut};

use super::DbConn;

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
    /// Rows were staged for the search index (SQLite: `super::search`).
    pub staged_search: bool,
}

/// A connection inside a write transaction, collecting what it changes.
pub struct Tx<'a> {
    conn: &'a mut DbConn,
    journal: &'a mut Journal,
}

impl<'a> Tx<'a> {
    pub(super) fn new(conn: &'a mut DbConn, journal: &'a mut Journal) -> Tx<'a> {
        Tx { conn, journal }
    }

    /// Recorded by the model functions that write cached data.
    pub(super) fn changed(&mut self, change: Change) {
        self.journal.changes.push(change);
    }

    /// Recorded by the model functions whose rows the search index stages
    /// (new requests and messages): the commit indexes them.
    pub(super) fn staged_search(&mut self) {
        self.journal.staged_search = true;
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

impl Deref for Tx<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}
