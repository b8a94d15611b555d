//! What a request needs to read most, kept in memory: companies with their
//! usable secrets, users and live sessions (for the per-request session
//! check), each company's projects, each user's memberships, each
//! customer's open requests as their dashboard lists them, each company's
//! staff and each request's conversation (its page, for every viewer).
//!
//! Freshness rules (see docs/PERFORMANCE.md):
//! - every change this process makes invalidates the entries it touches
//!   right after its transaction commits, so a rotation, a disabled user or
//!   a bumped session epoch is seen by the very next request. There is one
//!   way in: the cache is the database's [`Listener`], told the
//!   [`Change`]s that the model functions themselves record;
//! - an entry filled from a read that raced such a change is dropped (the
//!   generation check in [`Cache::fill`]), so an invalidation is never undone;
//! - entries live at most [`TTL`], so changes made by another process (the
//!   CLI) show within that time — and what must never be stale does not
//!   depend on the cache: a sign-in re-reads its secret and its user inside
//!   its write transaction.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::db::models::{Company, Conversation, LiveSession, Project, Request, SsoSecret, User};
use crate::db::{Change, Listener};

/// The longest an entry is trusted without a reload.
pub const TTL: Duration = Duration::from_secs(2);
/// The same bound when several instances share a PostgreSQL database: the
/// one second within which a change made through another instance shows on
/// pages even if its notification was lost (docs/PERFORMANCE.md).
pub const SHARED_TTL: Duration = Duration::from_secs(1);
/// The most entries a map keeps; past it, moka evicts the least useful
/// (TinyLFU admission, LRU eviction) rather than everything at once.
const MAX_ENTRIES: u64 = 200_000;
/// The most bytes the cached conversations hold (their text, about).
const MAX_CONVERSATION_BYTES: u64 = 64 << 20;

/// A company and the secrets a token may be signed with.
pub struct CompanyEntry {
    pub company: Arc<Company>,
    /// Current first, then a previous one; each with its grace end, if any.
    pub secrets: Vec<SsoSecret>,
}

/// One kind of entry: a bounded map whose entries live [`TTL`] (`moka`).
///
/// A hot entry is reloaded *before* it expires, by one request: the first
/// to ask for it late in its life is told it is missing (and reloads it
/// from the database), while the others are still given it — it is within
/// its TTL. Without this, every request in flight misses it at the same
/// moment when it expires, and all of them read the database at once (at 64
/// connections, the tail of the latency, docs/PERFORMANCE.md).
/// A caller given `None` reads the database and fills what it read; one
/// that does not fill (a rare path) only lets the entry expire as before.
///
/// "Late" is drawn for each entry between half and three quarters of the
/// TTL: entries loaded together (a person's user, session and company, or
/// every entry after the cache was emptied) come due at different moments,
/// not all in one. Come due together, on PostgreSQL under load, their
/// reloads queued for the two cores with everything else and took up to
/// 0.3 s, every second (docs/PERFORMANCE.md, "Caches across instances").
struct TtlMap<K, V> {
    map: moka::sync::Cache<K, Slot<V>>,
    /// The TTL: an entry is reloaded by the first who asks once it is
    /// between half and three quarters of it old ([`Slot::due`]).
    ttl: Duration,
}

#[derive(Clone)]
struct Slot<V> {
    value: V,
    /// When it is reloaded by the first who asks.
    due: Instant,
    /// A request has been sent to reload it.
    claimed: Arc<AtomicBool>,
}

impl<K, V> TtlMap<K, V>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(ttl: Duration) -> Self {
        Self::built(moka::sync::Cache::builder().max_capacity(MAX_ENTRIES), ttl)
    }

    /// A map bounded by the sum of its values' `weight`s rather than by
    /// their number.
    fn weighed(ttl: Duration, max_weight: u64, weight: fn(&V) -> u32) -> Self {
        Self::built(
            moka::sync::Cache::builder()
                .max_capacity(max_weight)
                .weigher(move |_, slot: &Slot<V>| weight(&slot.value)),
            ttl,
        )
    }

    fn built(
        builder: moka::sync::CacheBuilder<K, Slot<V>, moka::sync::Cache<K, Slot<V>>>,
        ttl: Duration,
    ) -> Self {
        TtlMap {
            map: builder.time_to_live(ttl).build(),
            ttl,
        }
    }

    /// The entry; `None` when there is none, or when it is old and this
    /// caller is the one to reload it.
    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.map.get(key)?;
        if Instant::now() >= slot.due && !slot.claimed.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some(slot.value)
    }

    /// Whether an entry is there, without claiming its reload.
    fn has<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }

    fn insert(&self, key: K, value: V) {
        self.insert_born(key, value, Instant::now());
    }

    /// [`TtlMap::insert`] of a value loaded at `born`.
    fn insert_born(&self, key: K, value: V, born: Instant) {
        let late = self.ttl / 2 + self.ttl.mul_f64(rand::random::<f64>() / 4.0);
        let slot = Slot {
            value,
            due: born + late,
            claimed: Arc::default(),
        };
        self.map.insert(key, slot);
    }

    fn remove(&self, key: &K) {
        self.map.invalidate(key);
    }

    fn clear(&self) {
        self.map.invalidate_all();
    }

    fn is_empty(&self) -> bool {
        self.map.iter().next().is_none()
    }
}

pub struct Cache {
    /// This cache's name in the notifications it causes (never 0).
    origin: u64,
    generation: AtomicU64,
    companies: TtlMap<i64, Arc<CompanyEntry>>,
    company_ids: TtlMap<String, i64>,
    users: TtlMap<i64, Arc<User>>,
    projects: TtlMap<i64, Arc<Vec<Project>>>,
    memberships: TtlMap<i64, Arc<Vec<i64>>>,
    sessions: TtlMap<i64, SessionEntry>,
    open_requests: TtlMap<i64, Arc<OpenRequests>>,
    staff: TtlMap<i64, Arc<Staff>>,
    conversations: TtlMap<i64, Arc<Conversation>>,
}

/// A company's agents and admins who may be assigned a request, as
/// `(id, name)`, by name.
pub type Staff = Vec<(i64, String)>;

/// A customer's open requests, newest activity first, each with what they
/// have seen of it (`None`: never opened).
pub type OpenRequests = Vec<(Request, Option<i64>)>;

/// What the session check needs of a live session.
#[derive(Debug, Clone, Copy)]
pub struct SessionEntry {
    pub user_id: i64,
    pub expires_at: i64,
}

impl Default for Cache {
    fn default() -> Self {
        Cache::with_ttl(TTL)
    }
}

impl Cache {
    /// A cache whose entries live at most `ttl`: [`TTL`] on SQLite (one
    /// process: only the command line writes behind its back),
    /// [`SHARED_TTL`] on PostgreSQL (other instances write too, and their
    /// notifications are the first line, not the only one).
    pub fn with_ttl(ttl: Duration) -> Self {
        Cache {
            origin: rand::random::<u64>().max(1),
            generation: AtomicU64::new(0),
            companies: TtlMap::new(ttl),
            company_ids: TtlMap::new(ttl),
            users: TtlMap::new(ttl),
            projects: TtlMap::new(ttl),
            memberships: TtlMap::new(ttl),
            sessions: TtlMap::new(ttl),
            open_requests: TtlMap::new(ttl),
            staff: TtlMap::new(ttl),
            conversations: TtlMap::weighed(ttl, MAX_CONVERSATION_BYTES, |c| c.weight()),
        }
    }
}

/// A value read from the database, to put in the cache.
pub enum Fill {
    Company(CompanyEntry),
    User(User),
    Projects(i64, Arc<Vec<Project>>),
    Memberships(i64, Arc<Vec<i64>>),
    Session(SessionEntry, i64),
    OpenRequests(i64, Arc<OpenRequests>),
    Staff(i64, Arc<Staff>),
    Conversation(Arc<Conversation>),
}

impl Cache {
    /// Read before loading from the database; pass to [`Cache::fill`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches what was loaded, unless an invalidation happened since
    /// `generation` was read (the load may predate the change).
    pub fn fill(&self, generation: u64, fill: Fill) {
        let undo: Box<dyn Fn(&Cache)> = match fill {
            Fill::Company(entry) => {
                let (id, public_id) = (entry.company.id, entry.company.public_id.clone());
                self.companies.insert(id, Arc::new(entry));
                self.company_ids.insert(public_id, id);
                Box::new(move |c| c.companies.remove(&id))
            }
            Fill::User(user) => {
                let id = user.id;
                self.users.insert(id, Arc::new(user));
                Box::new(move |c| c.users.remove(&id))
            }
            Fill::Projects(company_id, projects) => {
                self.projects.insert(company_id, projects);
                Box::new(move |c| c.projects.remove(&company_id))
            }
            Fill::Memberships(user_id, ids) => {
                self.memberships.insert(user_id, ids);
                Box::new(move |c| c.memberships.remove(&user_id))
            }
            Fill::Session(entry, id) => {
                self.sessions.insert(id, entry);
                Box::new(move |c| c.sessions.remove(&id))
            }
            Fill::OpenRequests(user_id, rows) => {
                self.open_requests.insert(user_id, rows);
                Box::new(move |c| c.open_requests.remove(&user_id))
            }
            Fill::Staff(company_id, staff) => {
                self.staff.insert(company_id, staff);
                Box::new(move |c| c.staff.remove(&company_id))
            }
            Fill::Conversation(conversation) => {
                let id = conversation.request.id;
                self.conversations.insert(id, conversation);
                Box::new(move |c| c.conversations.remove(&id))
            }
        };
        // An invalidation that ran between the load and the insert is
        // honoured here; one that runs after the insert removes it itself.
        if self.generation() != generation {
            undo(self);
        }
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn company(&self, id: i64) -> Option<Arc<CompanyEntry>> {
        self.companies.get(&id)
    }

    pub fn company_by_public_id(&self, public_id: &str) -> Option<Arc<CompanyEntry>> {
        let id = self.company_ids.get(public_id)?;
        self.companies.get(&id)
    }

    pub fn user(&self, id: i64) -> Option<Arc<User>> {
        self.users.get(&id)
    }

    pub fn projects(&self, company_id: i64) -> Option<Arc<Vec<Project>>> {
        self.projects.get(&company_id)
    }

    pub fn memberships(&self, user_id: i64) -> Option<Arc<Vec<i64>>> {
        self.memberships.get(&user_id)
    }

    pub fn session(&self, id: i64) -> Option<SessionEntry> {
        self.sessions.get(&id)
    }

    pub fn open_requests(&self, user_id: i64) -> Option<Arc<OpenRequests>> {
        self.open_requests.get(&user_id)
    }

    pub fn staff(&self, company_id: i64) -> Option<Arc<Staff>> {
        self.staff.get(&company_id)
    }

    pub fn conversation(&self, request_id: i64) -> Option<Arc<Conversation>> {
        self.conversations.get(&request_id)
    }

    /// A session just stored by this process: known live, so the first
    /// page after a sign-in needs no database read for it.
    pub fn started(&self, session: &LiveSession) {
        self.sessions.insert(
            session.id,
            SessionEntry {
                user_id: session.data.user_id,
                expires_at: session.data.expires_at,
            },
        );
    }

    /// What the cache holds for `change`, for tests: true when an entry
    /// that this change would invalidate is present.
    pub fn holds(&self, change: Change) -> bool {
        match change {
            Change::Company(id) => self.companies.has(&id),
            Change::User(id) => self.users.has(&id),
            Change::Projects(id) => self.projects.has(&id),
            Change::Memberships(id) => self.memberships.has(&id),
            Change::AllMemberships => !self.memberships.is_empty(),
            Change::Session(id) => self.sessions.has(&id),
            Change::OpenRequests(id) => self.open_requests.has(&id),
            Change::Request(id) => self.conversations.has(&id),
            Change::Staff(id) => self.staff.has(&id),
        }
    }
}

impl Listener for Cache {
    /// Forgets what a committed write changed. The generation moves first,
    /// so that a fill that read before this commit is dropped too.
    fn committed(&self, changes: &[Change]) {
        self.bump();
        for change in changes {
            match *change {
                Change::Company(id) => self.companies.remove(&id),
                Change::User(id) => self.users.remove(&id),
                Change::Projects(company_id) => self.projects.remove(&company_id),
                Change::Memberships(user_id) => self.memberships.remove(&user_id),
                Change::AllMemberships => self.memberships.clear(),
                Change::Session(id) => self.sessions.remove(&id),
                Change::OpenRequests(user_id) => self.open_requests.remove(&user_id),
                Change::Request(id) => self.conversations.remove(&id),
                Change::Staff(company_id) => self.staff.remove(&company_id),
            }
        }
    }

    fn origin(&self) -> u64 {
        self.origin
    }

    /// Forgets everything: what another instance changed while this one
    /// was not listening is not known.
    fn missed(&self) {
        self.bump();
        self.companies.clear();
        self.company_ids.clear();
        self.users.clear();
        self.projects.clear();
        self.memberships.clear();
        self.sessions.clear();
        self.open_requests.clear();
        self.staff.clear();
        self.conversations.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_caller_reloads_an_old_entry_while_the_others_still_get_it() {
        let ttl = Duration::from_secs(60);
        let map: TtlMap<i64, &str> = TtlMap::new(ttl);
        map.insert(1, "fresh");
        assert_eq!(map.get(&1), Some("fresh"));
        assert_eq!(map.get(&1), Some("fresh"), "young: nobody reloads it");
        // Loaded just under half its TTL ago: not due yet, whatever was drawn.
        map.insert_born(1, "young", Instant::now() - ttl * 49 / 100);
        assert_eq!(map.get(&1), Some("young"));
        // Loaded 80 % of its TTL ago (moka's own clock still gives it 60 s).
        let old = Instant::now() - ttl * 4 / 5;
        map.insert_born(1, "old", old);
        assert_eq!(
            map.get(&1),
            None,
            "old: the first caller is sent to reload it"
        );
        assert_eq!(map.get(&1), Some("old"), "the others still get it");
        assert_eq!(map.get(&1), Some("old"));
        assert!(map.has(&1));
        map.insert(1, "reloaded");
        assert_eq!(map.get(&1), Some("reloaded"));
        assert_eq!(map.get(&1), Some("reloaded"));
        // Past its TTL, moka drops it for everyone.
        let short: TtlMap<i64, &str> = TtlMap::new(Duration::from_millis(50));
        short.insert(1, "soon gone");
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(short.get(&1), None);
        assert!(!short.has(&1));
    }

    #[test]
    fn entries_loaded_together_come_due_at_different_moments() {
        let ttl = Duration::from_secs(60);
        let map: TtlMap<i64, i64> = TtlMap::new(ttl);
        // 200 entries loaded at one moment, looked at when 5/8 of the TTL
        // old: the middle of the window in which each comes due.
        let born = Instant::now() - ttl * 5 / 8;
        for k in 0..200 {
            map.insert_born(k, k, born);
        }
        let due = (0..200).filter(|k| map.get(k).is_none()).count();
        assert!(
            (40..=160).contains(&due),
            "about half are due, not all or none: {due}"
        );
    }
}
