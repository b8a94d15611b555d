//! Support requests and who may see them.
//!
//! Visibility is decided here, once, inside the queries: a request is read
//! through [`Request::find_visible`], which takes the [`Viewer`] and answers
//! `None` both for an id that does not exist and for one the viewer may not
//! see; what belongs to a request (messages, changes, files) is read through
//! the [`VisibleRequest`] it returns, which carries the viewer, so internal
//! notes never reach a customer by any path.

use diesel::prelude::*;

use super::{ChangeField, Priority, Project, RequestChange, Role, Status, User};
use crate::db::schema::{memberships, projects, request_views, requests};
use crate::db::search;
use crate::db::{Change, DbBackend, DbConn, DbError, Tx, insert_id, per_backend};

/// Who is looking: what [`Request::find_visible`] and the list filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    pub company_id: i64,
    /// Agents and admins: every request of the company, internal notes too.
    pub staff: bool,
}

impl Viewer {
    pub fn of(user: &User) -> Viewer {
        Viewer {
            user_id: user.id,
            company_id: user.company_id,
            staff: matches!(user.role, Role::Agent | Role::Admin),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct Request {
    pub id: i64,
    pub company_id: i64,
    pub project_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub created_at: i64,
    /// Any activity, internal notes too (milliseconds).
    pub updated_at: i64,
    /// What a customer may see happen (milliseconds).
    pub public_updated_at: i64,
}

/// A request the viewer may see, and that viewer: the only way to its
/// messages, changes and files.
#[derive(Debug, Clone)]
pub struct VisibleRequest {
    pub request: Request,
    pub viewer: Viewer,
}

impl VisibleRequest {
    /// The last activity this viewer may know of.
    pub fn activity(&self) -> i64 {
        self.request.activity_for(&self.viewer)
    }
}

/// The list's filters; every one narrows the viewer's visible requests.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Any of these statuses; `None`: all.
    pub statuses: Option<Vec<Status>>,
    pub project_id: Option<i64>,
    pub assignee: Option<Assignee>,
    /// Words to find in subjects and the messages the viewer may read.
    pub words: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Nobody,
    User(i64),
}

/// The counts of the agents' dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub new: i64,
    pub open: i64,
    pub pending: i64,
    /// Active requests assigned to the viewer.
    pub mine: i64,
}

pub struct NewRequest<'a> {
    pub company_id: i64,
    pub project_id: Option<i64>,
    pub requester_id: i64,
    pub subject: &'a str,
    pub priority: Priority,
}

/// Index rows a search reads at a time at most. The first read asks for
/// twice the rows the page still needs (most matches pass the filters, and
/// each read costs the look-up of every request it names), later ones twice
/// the one before.
const MAX_CHUNK: i64 = 600;
/// Index rows a search reads at most.
pub const MAX_SCANNED: i64 = 20_000;
/// A customer who sees at most this many requests is searched within them.
const MAX_SCOPED: i64 = 300;

type Scope =
    Box<dyn BoxableExpression<requests::table, DbBackend, SqlType = diesel::sql_types::Bool>>;

/// The viewer's visibility as a condition on `requests`: staff see their
/// company's requests; a customer the ones they opened and those of the
/// shared projects they belong to.
fn visible_to(v: &Viewer) -> Scope {
    let company = requests::company_id.eq(v.company_id);
    if v.staff {
        return Box::new(company);
    }
    let shared = memberships::table
        .inner_join(projects::table)
        .filter(memberships::user_id.eq(v.user_id))
        .filter(projects::shared.eq(true))
        .select(memberships::project_id);
    Box::new(
        company.and(
            requests::requester_id
                .eq(v.user_id)
                .or(requests::project_id.assume_not_null().eq_any(shared)),
        ),
    )
}

impl Request {
    /// [`visible_to`] in memory, for a request from the cache: the same
    /// rule on what the cache holds of the viewer — `member_of`, the ids of
    /// the projects they belong to, and `projects`, their company's (which
    /// says which are shared). `tests/app/cache.rs` holds the two to one
    /// answer.
    pub fn is_visible_to(&self, v: &Viewer, member_of: &[i64], projects: &[Project]) -> bool {
        if self.company_id != v.company_id {
            return false;
        }
        if v.staff || self.requester_id == v.user_id {
            return true;
        }
        self.project_id.is_some_and(|id| {
            member_of.contains(&id) && projects.iter().any(|p| p.id == id && p.shared)
        })
    }

    /// The last activity `viewer` may know of: internal notes move only the
    /// staff's clock.
    pub fn activity_for(&self, viewer: &Viewer) -> i64 {
        if viewer.staff {
            self.updated_at
        } else {
            self.public_updated_at
        }
    }

    /// The request, if it exists and `viewer` may see it.
    pub fn find_visible(
        conn: &mut DbConn,
        viewer: &Viewer,
        id: i64,
    ) -> Result<Option<VisibleRequest>, DbError> {
        Ok(requests::table
            .filter(requests::id.eq(id))
            .filter(visible_to(viewer))
            .select(Request::as_select())
            .load(conn)?
            .pop()
            .map(|request| VisibleRequest {
                request,
                viewer: *viewer,
            }))
    }

    /// The viewer's requests narrowed by the filter's status, project and
    /// assignee (not its words).
    fn filtered(viewer: &Viewer, filter: &ListFilter) -> requests::BoxedQuery<'static, DbBackend> {
        let mut q = requests::table.filter(visible_to(viewer)).into_boxed();
        if let Some(statuses) = &filter.statuses {
            q = q.filter(requests::status.eq_any(statuses.clone()));
        }
        if let Some(project) = filter.project_id {
            q = q.filter(requests::project_id.eq(project));
        }
        match filter.assignee {
            Some(Assignee::Nobody) => q = q.filter(requests::assignee_id.is_null()),
            Some(Assignee::User(id)) => q = q.filter(requests::assignee_id.eq(id)),
            None => {}
        }
        q
    }

    /// One page of the viewer's requests, newest activity first (with
    /// words: matching subjects, then messages, newest first); one more than `limit` is
    /// asked for, so the caller knows whether a next page exists.
    pub fn list(
        conn: &mut DbConn,
        ready: Option<&search::Ready>,
        viewer: &Viewer,
        filter: &ListFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Request>, DbError> {
        if let Some(words) = &filter.words {
            return Self::search(conn, ready, viewer, filter, words, offset, limit);
        }
        let q = Self::filtered(viewer, filter);
        let q = if viewer.staff {
            q.order((requests::updated_at.desc(), requests::id.desc()))
        } else {
            q.order((requests::public_updated_at.desc(), requests::id.desc()))
        };
        Ok(q.select(Request::as_select())
            .offset(offset)
            .limit(limit + 1)
            .load(conn)?)
    }

    /// The search: matches come from the index in the order shown (subjects,
    /// then messages, newest first: [`search`]), within the
    /// viewer's scope (the company for staff; a customer's own few requests,
    /// or their company when they see many, then checked here), and are kept
    /// when the filters hold. The walk stops once the page is full, or after
    /// [`MAX_SCANNED`] matches (the oldest beyond are not offered).
    fn search(
        conn: &mut DbConn,
        ready: Option<&search::Ready>,
        viewer: &Viewer,
        filter: &ListFilter,
        typed: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Request>, DbError> {
        let Some(words) = search::Words::of(typed) else {
            return Ok(Vec::new());
        };
        let own: Vec<i64> = if viewer.staff {
            Vec::new()
        } else {
            requests::table
                .filter(visible_to(viewer))
                .select(requests::id)
                .limit(MAX_SCOPED + 1)
                .load(conn)?
        };
        let scope = if viewer.staff || own.len() as i64 > MAX_SCOPED {
            search::Scope::Company(viewer.company_id)
        } else if own.is_empty() {
            return Ok(Vec::new());
        } else {
            search::Scope::Requests(&own)
        };
        let query = search::Query {
            words: &words,
            scope,
            internal_too: viewer.staff,
        };
        let mut matcher = search::Matcher::open(conn, ready)?;
        let wanted = (offset + limit + 1) as usize;
        let mut seen = std::collections::HashSet::new();
        let mut found: Vec<Request> = Vec::new();
        let (mut after, mut scanned) = (search::START, 0);
        let mut chunk = (2 * wanted as i64).min(MAX_CHUNK);
        while found.len() < wanted && scanned < MAX_SCANNED {
            let hits = matcher.matches(conn, &query, after, chunk)?;
            scanned += hits.len() as i64;
            let Some(&(last, _)) = hits.last() else {
                break;
            };
            after = last;
            let fresh: Vec<i64> = hits
                .iter()
                .map(|(_, id)| *id)
                .filter(|id| seen.insert(*id))
                .collect();
            let mut rows: std::collections::HashMap<i64, Request> = Self::filtered(viewer, filter)
                .filter(requests::id.eq_any(&fresh))
                .select(Request::as_select())
                .load(conn)?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            // In the index's order.
            found.extend(fresh.iter().filter_map(|id| rows.remove(id)));
            if (hits.len() as i64) < chunk {
                break;
            }
            chunk = (2 * chunk).min(MAX_CHUNK);
        }
        Ok(found
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize + 1)
            .collect())
    }

    /// The counts of the staff's dashboard, for `viewer`'s company.
    pub fn queue_counts(conn: &mut DbConn, viewer: &Viewer) -> Result<QueueCounts, DbError> {
        let by_status: Vec<(Status, i64)> = requests::table
            .filter(requests::company_id.eq(viewer.company_id))
            .filter(requests::status.eq_any(Status::ACTIVE))
            .group_by(requests::status)
            .select((requests::status, diesel::dsl::count_star()))
            .load(conn)?;
        let count = |s: Status| {
            by_status
                .iter()
                .find(|(status, _)| *status == s)
                .map_or(0, |(_, n)| *n)
        };
        // An assignee is always of the request's company: the assignee index
        // alone answers.
        let mine = requests::table
            .filter(requests::assignee_id.eq(viewer.user_id))
            .filter(requests::status.eq_any(Status::ACTIVE))
            .count()
            .get_result(conn)?;
        Ok(QueueCounts {
            new: count(Status::New),
            open: count(Status::Open),
            pending: count(Status::Pending),
            mine,
        })
    }

    /// The requests a customer opened that are not solved or closed, newest
    /// activity first, each with what they saw of it: their dashboard, in one
    /// statement.
    pub fn open_of_requester(
        conn: &mut DbConn,
        requester_id: i64,
        limit: i64,
    ) -> Result<Vec<(Request, Option<i64>)>, DbError> {
        Ok(requests::table
            .left_join(
                request_views::table.on(request_views::request_id
                    .eq(requests::id)
                    .and(request_views::user_id.eq(requester_id))),
            )
            .filter(requests::requester_id.eq(requester_id))
            .filter(requests::status.ne(Status::Solved))
            .filter(requests::status.ne(Status::Closed))
            .order((requests::public_updated_at.desc(), requests::id.desc()))
            .limit(limit)
            .select((Request::as_select(), request_views::seen_at.nullable()))
            .load(conn)?)
    }

    pub fn create(tx: &mut Tx<'_>, new: NewRequest<'_>, now_ms: i64) -> Result<Request, DbError> {
        let created_at = now_ms / 1000;
        let values = (
            requests::company_id.eq(new.company_id),
            requests::project_id.eq(new.project_id),
            requests::requester_id.eq(new.requester_id),
            requests::subject.eq(new.subject),
            requests::status.eq(Status::New),
            requests::priority.eq(new.priority),
            requests::created_at.eq(created_at),
            requests::updated_at.eq(now_ms),
            requests::public_updated_at.eq(now_ms),
        );
        let id = insert_id!(tx.conn()?, requests::table, values, requests::id)?;
        let request = Request {
            id,
            company_id: new.company_id,
            project_id: new.project_id,
            requester_id: new.requester_id,
            assignee_id: None,
            subject: new.subject.to_owned(),
            status: Status::New,
            priority: new.priority,
            created_at,
            updated_at: now_ms,
            public_updated_at: now_ms,
        };
        tx.changed(Change::OpenRequests(request.requester_id));
        Ok(request)
    }

    /// Records activity at `now_ms` (public: the customer sees it too).
    /// Activity times only grow, by at least 1 ms, so "seen up to" compares
    /// exactly; `request` holds the new ones.
    pub fn touch(
        tx: &mut Tx<'_>,
        request: &mut Request,
        public: bool,
        now_ms: i64,
    ) -> Result<(), DbError> {
        request.updated_at = now_ms.max(request.updated_at + 1);
        if public {
            request.public_updated_at = now_ms.max(request.public_updated_at + 1);
        }
        diesel::update(requests::table.find(request.id))
            .set((
                requests::updated_at.eq(request.updated_at),
                requests::public_updated_at.eq(request.public_updated_at),
            ))
            .execute(tx.conn()?)?;
        tx.changed(Change::Request(request.id));
        if public {
            tx.changed(Change::OpenRequests(request.requester_id));
        }
        Ok(())
    }

    /// Moves the status from what `request` holds to `to`; `false` when the
    /// row no longer holds that status (a concurrent change won), so a
    /// status never goes back by a race.
    fn set_status(tx: &mut Tx<'_>, request: &mut Request, to: Status) -> Result<bool, DbError> {
        let changed = diesel::update(
            requests::table
                .find(request.id)
                .filter(requests::status.eq(request.status)),
        )
        .set(requests::status.eq(to))
        .execute(tx.conn()?)?;
        if changed == 1 {
            request.status = to;
            tx.changed(Change::OpenRequests(request.requester_id));
            tx.changed(Change::Request(request.id));
        }
        Ok(changed == 1)
    }

    /// Moves the status to `to` and writes its change line, by `actor`;
    /// `false` when a concurrent change won (see [`Request::set_status`]).
    pub fn move_status(
        tx: &mut Tx<'_>,
        request: &mut Request,
        to: Status,
        actor: i64,
        now: i64,
    ) -> Result<bool, DbError> {
        let old = request.status;
        if to == old || !Self::set_status(tx, request, to)? {
            return Ok(false);
        }
        RequestChange::record(
            tx,
            request.id,
            actor,
            ChangeField::Status,
            Some(old.as_str()),
            Some(to.as_str()),
            now,
        )?;
        Ok(true)
    }

    pub fn set_priority(
        tx: &mut Tx<'_>,
        request: &Request,
        priority: Priority,
    ) -> Result<(), DbError> {
        diesel::update(requests::table.find(request.id))
            .set(requests::priority.eq(priority))
            .execute(tx.conn()?)?;
        tx.changed(Change::OpenRequests(request.requester_id));
        tx.changed(Change::Request(request.id));
        Ok(())
    }

    pub fn set_assignee(tx: &mut Tx<'_>, id: i64, assignee: Option<i64>) -> Result<(), DbError> {
        diesel::update(requests::table.find(id))
            .set(requests::assignee_id.eq(assignee))
            .execute(tx.conn()?)?;
        tx.changed(Change::Request(id));
        Ok(())
    }

    pub fn set_project(tx: &mut Tx<'_>, id: i64, project: Option<i64>) -> Result<(), DbError> {
        diesel::update(requests::table.find(id))
            .set(requests::project_id.eq(project))
            .execute(tx.conn()?)?;
        tx.changed(Change::Request(id));
        Ok(())
    }
}

/// Each person's last view of a request: the activity time they saw.
pub struct RequestView;

impl RequestView {
    /// What `user_id` saw of each of `ids`, as `(request id, seen up to)`.
    pub fn seen(conn: &mut DbConn, user_id: i64, ids: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
        Ok(request_views::table
            .filter(request_views::user_id.eq(user_id))
            .filter(request_views::request_id.eq_any(ids))
            .select((request_views::request_id, request_views::seen_at))
            .load(conn)?)
    }

    /// Records that `user_id` saw `request_id` up to `activity`; an older
    /// view never replaces a newer one.
    pub fn mark_seen(
        tx: &mut Tx<'_>,
        user_id: i64,
        request_id: i64,
        activity: i64,
    ) -> Result<(), DbError> {
        let upsert = MarkSeen {
            user_id,
            request_id,
            seen_at: activity,
        };
        per_backend!(tx.conn()?, |c| upsert.execute(c))?;
        // The unread marker of their own request, on their dashboard; who
        // has seen it, on its page.
        tx.changed(Change::OpenRequests(user_id));
        tx.changed(Change::Request(request_id));
        Ok(())
    }
}

/// The upsert of [`RequestView::mark_seen`], keeping the later of a stored
/// view and the new one (a `CASE` both backends read alike). A statement
/// type of its own so that it stays prepared: diesel prepares every
/// `ON CONFLICT … DO UPDATE` of its own builder again at each call (a
/// changeset might be empty), which was ~6 % of the writer's time under new
/// requests (docs/PERFORMANCE.md, "New requests").
#[derive(diesel::query_builder::QueryId)]
struct MarkSeen {
    user_id: i64,
    request_id: i64,
    seen_at: i64,
}

impl<DB> diesel::query_builder::QueryFragment<DB> for MarkSeen
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        use diesel::sql_types::BigInt;
        out.push_sql("INSERT INTO request_views (user_id, request_id, seen_at) VALUES (");
        out.push_bind_param::<BigInt, _>(&self.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.request_id)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.seen_at)?;
        out.push_sql(
            ") ON CONFLICT (user_id, request_id) DO UPDATE SET seen_at = \
             CASE WHEN excluded.seen_at > request_views.seen_at \
             THEN excluded.seen_at ELSE request_views.seen_at END",
        );
        Ok(())
    }
}

impl<C: Connection> RunQueryDsl<C> for MarkSeen {}
