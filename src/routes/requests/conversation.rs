//! What a request's page shows, read and assembled: the conversation with
//! its status lines, the facts, the side panel's choices.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use strum::IntoEnumIterator;

use super::{Opt, opts};
use crate::auth::CurrentUser;
use crate::cache::{Cache, Fill, Staff};
use crate::db::models::{
    ChangeField, Conversation, Priority, Project, Request, Role, Status, User, Viewer,
};
use crate::db::{DbConn, DbError};
use crate::error::AppError;
use crate::requests::files::human_size;
use crate::routes::layout;
use crate::views::{Layout, format_time};

pub struct FileView {
    pub href: String,
    pub name: String,
    pub size: String,
}

pub struct MessageView<'a> {
    pub author: String,
    /// The author's role badge, for agents and admins.
    pub badge: Option<&'static str>,
    pub time: String,
    pub html: &'a str,
    pub internal: bool,
    pub files: Vec<FileView>,
}

pub struct ChangeView {
    pub text: String,
    pub time: String,
}

/// One entry of the conversation.
pub enum Item<'a> {
    Message(MessageView<'a>),
    Change(ChangeView),
}

/// What the reply box holds when the page is shown again.
#[derive(Default)]
pub struct Draft {
    pub body: String,
    pub internal: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "requests/show.html")]
pub struct ShowPage<'a> {
    pub layout: Layout,
    pub staff: bool,
    pub id: i64,
    pub subject: String,
    pub status: Status,
    pub status_label: &'static str,
    pub priority: &'static str,
    pub project: String,
    pub requester: String,
    pub requester_email: String,
    pub assignee: String,
    pub created: String,
    pub items: Vec<Item<'a>>,
    pub closed: bool,
    pub can_solve: bool,
    pub can_reopen: bool,
    pub draft: Draft,
    pub statuses: Vec<Opt>,
    pub reply_statuses: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub assignees: Vec<Opt>,
    pub projects: Vec<Opt>,
}

/// What a request's page is made of: the conversation (every viewer's,
/// narrowed in [`build`]), the people it names, the company's staff (the
/// assignee choices, for agents and admins) and projects.
pub struct Loaded {
    pub conversation: Arc<Conversation>,
    people: HashMap<i64, Arc<User>>,
    staff: Arc<Staff>,
    projects: Arc<Vec<Project>>,
}

/// The people `viewer`'s page names: the authors and actors of what they
/// may read, the requester, the assignee.
fn people_named(c: &Conversation, viewer: &Viewer) -> Vec<i64> {
    let r = &c.request;
    let mut people: Vec<i64> = c.messages_for(viewer).map(|m| m.author_id).collect();
    people.extend(c.changes_for(viewer).filter_map(|ch| ch.actor_id));
    people.push(r.requester_id);
    people.extend(r.assignee_id);
    people.sort_unstable();
    people.dedup();
    people
}

/// Those of `ids` the cache holds.
fn cached_users(cache: &Cache, ids: &[i64]) -> HashMap<i64, Arc<User>> {
    ids.iter()
        .filter_map(|&id| Some((id, cache.user(id)?)))
        .collect()
}

/// What [`from_cache`] found.
pub enum Cached {
    /// The whole page.
    Page(Loaded),
    /// The viewer may not see the request.
    Hidden,
    /// Parts of it: [`load`] reads the rest.
    Partly(Partial),
}

/// The parts of a page the cache gave. What it withheld is either absent or
/// an entry this very request was chosen to reload before it expires
/// (`cache::TtlMap::get`): [`load`] reads exactly those, and fills them.
#[derive(Default)]
pub struct Partial {
    conversation: Option<Arc<Conversation>>,
    projects: Option<Arc<Vec<Project>>>,
    member_of: Option<Arc<Vec<i64>>>,
    staff: Option<Arc<Staff>>,
    /// The people the cache gave, once it was asked for them: those it did
    /// not give are read from the database.
    people: Option<HashMap<i64, Arc<User>>>,
}

/// The page from the cache, as far as it holds it. Who may see it is
/// [`Request::is_visible_to`], as in [`load`].
pub fn from_cache(cache: &Cache, viewer: &Viewer, id: i64) -> Cached {
    let company_id = viewer.company_id;
    let mut p = Partial {
        conversation: cache.conversation(id),
        projects: cache.projects(company_id),
        member_of: match viewer.staff {
            true => Some(Arc::default()),
            false => cache.memberships(viewer.user_id),
        },
        staff: match viewer.staff {
            true => cache.staff(company_id),
            false => Some(Arc::default()),
        },
        people: None,
    };
    let (Some(c), Some(projects), Some(member_of)) = (&p.conversation, &p.projects, &p.member_of)
    else {
        return Cached::Partly(p);
    };
    if !c.request.is_visible_to(viewer, member_of, projects) {
        return Cached::Hidden;
    }
    let named = people_named(c, viewer);
    let people = cached_users(cache, &named);
    let whole = people.len() == named.len();
    p.people = Some(people);
    match p {
        Partial {
            conversation: Some(conversation),
            projects: Some(projects),
            staff: Some(staff),
            people: Some(people),
            ..
        } if whole => Cached::Page(Loaded {
            conversation,
            people,
            staff,
            projects,
        }),
        p => Cached::Partly(p),
    }
}

/// The page: what `cached` lacks read from the database (filling the
/// cache); `None` when the viewer may not see the request (or it does not
/// exist).
pub fn load(
    conn: &mut DbConn,
    cache: &Cache,
    viewer: &Viewer,
    id: i64,
    cached: Partial,
) -> Result<Option<Loaded>, DbError> {
    let generation = cache.generation();
    let conversation = match cached.conversation {
        Some(c) => c,
        None => {
            // Nothing of a request the viewer may not see is read, nor
            // cached: a customer trying ids fills no memory with other
            // people's words.
            if Request::find_visible(conn, viewer, id)?.is_none() {
                return Ok(None);
            }
            let Some(c) = Conversation::load(conn, id)? else {
                return Ok(None);
            };
            let c = Arc::new(c);
            cache.fill(generation, Fill::Conversation(c.clone()));
            c
        }
    };
    let company_id = viewer.company_id;
    let projects = match cached.projects {
        Some(p) => p,
        None => {
            let p = Arc::new(Project::list_for_company(conn, company_id)?);
            cache.fill(generation, Fill::Projects(company_id, p.clone()));
            p
        }
    };
    let member_of = match cached.member_of {
        Some(m) => m,
        None => {
            let m = Arc::new(Project::ids_for_member(conn, viewer.user_id)?);
            cache.fill(generation, Fill::Memberships(viewer.user_id, m.clone()));
            m
        }
    };
    if !conversation
        .request
        .is_visible_to(viewer, &member_of, &projects)
    {
        return Ok(None);
    }
    let staff = match cached.staff {
        Some(s) => s,
        None => {
            let s = Arc::new(User::staff_of_company(conn, company_id)?);
            cache.fill(generation, Fill::Staff(company_id, s.clone()));
            s
        }
    };
    let named = people_named(&conversation, viewer);
    let mut people = cached.people.unwrap_or_else(|| cached_users(cache, &named));
    let missing: Vec<i64> = named
        .into_iter()
        .filter(|id| !people.contains_key(id))
        .collect();
    if !missing.is_empty() {
        for user in User::find_many(conn, &[], &missing)? {
            cache.fill(generation, Fill::User(user.clone()));
            people.insert(user.id, Arc::new(user));
        }
    }
    Ok(Some(Loaded {
        conversation,
        people,
        staff,
        projects,
    }))
}

pub fn build<'a>(
    current: &CurrentUser,
    viewer: &Viewer,
    l: &'a Loaded,
    draft: Draft,
) -> Result<ShowPage<'a>, AppError> {
    let viewer = *viewer;
    let c = &*l.conversation;
    let r = &c.request;
    let name = |id: Option<i64>| {
        id.and_then(|id| l.people.get(&id).map(|u| u.name.clone()))
            .unwrap_or_else(|| "Someone".to_owned())
    };
    let mut timeline: Vec<(i64, u8, i64, Item)> = Vec::new();
    for m in c.messages_for(&viewer) {
        let badge = l.people.get(&m.author_id).and_then(|u| match u.role() {
            Role::Agent => Some("Support"),
            Role::Admin => Some("Admin"),
            Role::Customer => None,
        });
        let files = c
            .files_of(m)
            .map(|f| FileView {
                href: format!("/requests/{}/attachments/{}", r.id, f.id),
                name: f.filename.clone(),
                size: human_size(f.size),
            })
            .collect();
        timeline.push((
            m.created_at,
            0,
            m.id,
            Item::Message(MessageView {
                author: name(Some(m.author_id)),
                badge,
                time: format_time(m.created_at),
                html: &m.html,
                internal: m.internal,
                files,
            }),
        ));
    }
    for ch in c.changes_for(&viewer) {
        let new = ch.new_value.clone().unwrap_or_default();
        let text = match ch.field {
            ChangeField::Status => {
                let label = new
                    .parse::<Status>()
                    .map_or(new.as_str(), |s| s.label_for(viewer.staff));
                format!("{} set the status to {label}", name(ch.actor_id))
            }
            ChangeField::Priority => format!("{} set the priority to {new}", name(ch.actor_id)),
            ChangeField::Assignee if new.is_empty() => {
                format!("{} unassigned it", name(ch.actor_id))
            }
            ChangeField::Assignee => format!("{} assigned it to {new}", name(ch.actor_id)),
            ChangeField::Project if new.is_empty() => {
                format!("{} took it out of its project", name(ch.actor_id))
            }
            ChangeField::Project => format!("{} moved it to {new}", name(ch.actor_id)),
        };
        let time = format_time(ch.created_at);
        timeline.push((
            ch.created_at,
            1,
            ch.id,
            Item::Change(ChangeView { text, time }),
        ));
    }
    timeline.sort_by_key(|(t, kind, id, _)| (*t, *kind, *id));
    let requester = r.requester_id == viewer.user_id;
    let project = l
        .projects
        .iter()
        .find(|p| Some(p.id) == r.project_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let closed = r.status == Status::Closed;
    Ok(ShowPage {
        layout: layout(current)?,
        staff: viewer.staff,
        id: r.id,
        subject: r.subject.clone(),
        status: r.status,
        status_label: r.status.label_for(viewer.staff),
        priority: r.priority.label(),
        project,
        requester: name(Some(r.requester_id)),
        // The requester's email, for agents and admins.
        requester_email: match viewer.staff {
            true => l
                .people
                .get(&r.requester_id)
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            false => String::new(),
        },
        assignee: r.assignee_id.map(|id| name(Some(id))).unwrap_or_default(),
        created: format_time(r.created_at),
        items: timeline.into_iter().map(|(_, _, _, item)| item).collect(),
        closed,
        can_solve: requester && !closed && r.status != Status::Solved,
        can_reopen: requester && r.status == Status::Solved,
        draft,
        statuses: opts(
            Status::iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())),
            r.status.as_str(),
        ),
        reply_statuses: opts(
            std::iter::once((String::new(), "Keep the status".to_owned())).chain(
                [Status::Open, Status::Pending, Status::Solved].map(|s| {
                    (
                        s.as_str().to_owned(),
                        format!("Reply and set {}", s.label().to_lowercase()),
                    )
                }),
            ),
            "",
        ),
        priorities: opts(
            Priority::iter().map(|p| (p.as_str().to_owned(), p.label().to_owned())),
            r.priority.as_str(),
        ),
        assignees: opts(
            std::iter::once((String::new(), "Nobody".to_owned())).chain(
                l.staff
                    .iter()
                    .map(|(id, name)| (id.to_string(), name.clone())),
            ),
            &r.assignee_id.map(|id| id.to_string()).unwrap_or_default(),
        ),
        projects: opts(
            std::iter::once((String::new(), "No project".to_owned())).chain(
                l.projects
                    .iter()
                    .map(|p| (p.public_id.clone(), p.name.clone())),
            ),
            &l.projects
                .iter()
                .find(|p| Some(p.id) == r.project_id)
                .map(|p| p.public_id.clone())
                .unwrap_or_default(),
        ),
    })
}
