//! What a request's page shows, read and assembled: the conversation with
//! its status lines, the facts, the side panel's choices.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use strum::IntoEnumIterator;

use super::{Opt, opts};
use crate::auth::CurrentUser;
use crate::db::models::{
    Attachment, ChangeField, Message, Priority, Project, Request, RequestChange, RequestView, Role,
    Shown, Status, User, Viewer, VisibleRequest,
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

pub struct MessageView {
    pub author: String,
    /// The author's role badge, for agents and admins.
    pub badge: Option<&'static str>,
    pub time: String,
    pub html: String,
    pub internal: bool,
    pub files: Vec<FileView>,
}

pub struct ChangeView {
    pub text: String,
    pub time: String,
}

/// One entry of the conversation.
pub enum Item {
    Message(MessageView),
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
pub struct ShowPage {
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
    pub items: Vec<Item>,
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

/// Everything the page shows, read at once; `None` when the viewer may not
/// see the request (or it does not exist).
/// `projects` are the company's (from the cache, `show::page`).
pub fn load(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: i64,
    projects: Arc<Vec<Project>>,
) -> Result<Option<(VisibleRequest, Loaded)>, DbError> {
    let Some(visible) = Request::find_visible(conn, viewer, id)? else {
        return Ok(None);
    };
    let messages = Message::list(conn, &visible)?;
    let files = Attachment::list(conn, &visible)?;
    let changes = RequestChange::list(conn, &visible)?;
    let r = &visible.request;
    let mut people: Vec<i64> = messages.iter().map(|m| m.author_id).collect();
    people.extend(changes.iter().filter_map(|c| c.actor_id));
    people.push(r.requester_id);
    people.extend(r.assignee_id);
    people.sort_unstable();
    people.dedup();
    let names = User::names(conn, &people)?;
    let requester_email = if viewer.staff {
        User::email_of(conn, r.requester_id)?.unwrap_or_default()
    } else {
        String::new()
    };
    let staff = if viewer.staff {
        User::staff_of_company(conn, viewer.company_id)?
    } else {
        Vec::new()
    };
    // The request's project's name, and the side panel's choices (staff).
    let seen = RequestView::seen(conn, viewer.user_id, &[id])?
        .first()
        .map(|(_, s)| *s);
    Ok(Some((
        visible,
        Loaded {
            messages,
            files,
            changes,
            names,
            requester_email,
            staff,
            projects,
            seen,
        },
    )))
}

pub struct Loaded {
    messages: Vec<Shown>,
    files: Vec<Attachment>,
    changes: Vec<RequestChange>,
    names: Vec<(i64, String, Role)>,
    requester_email: String,
    staff: Vec<(i64, String)>,
    projects: Arc<Vec<Project>>,
    pub seen: Option<i64>,
}

pub fn build(
    current: &CurrentUser,
    visible: &VisibleRequest,
    l: Loaded,
    draft: Draft,
) -> Result<ShowPage, AppError> {
    let viewer = visible.viewer;
    let r = &visible.request;
    let names: HashMap<i64, (String, Role)> = l
        .names
        .into_iter()
        .map(|(id, n, role)| (id, (n, role)))
        .collect();
    let name = |id: Option<i64>| {
        id.and_then(|id| names.get(&id).map(|(n, _)| n.clone()))
            .unwrap_or_else(|| "Someone".to_owned())
    };
    let mut timeline: Vec<(i64, u8, i64, Item)> = Vec::new();
    for m in l.messages {
        let badge = names.get(&m.author_id).and_then(|(_, role)| match role {
            Role::Agent => Some("Support"),
            Role::Admin => Some("Admin"),
            Role::Customer => None,
        });
        let files = l
            .files
            .iter()
            .filter(|f| f.message_id == m.id)
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
                html: m.html,
                internal: m.internal,
                files,
            }),
        ));
    }
    for c in l.changes {
        let new = c.new_value.clone().unwrap_or_default();
        let text = match c.field {
            ChangeField::Status => {
                let label = new
                    .parse::<Status>()
                    .map_or(new.as_str(), |s| s.label_for(viewer.staff));
                format!("{} set the status to {label}", name(c.actor_id))
            }
            ChangeField::Priority => format!("{} set the priority to {new}", name(c.actor_id)),
            ChangeField::Assignee if new.is_empty() => {
                format!("{} unassigned it", name(c.actor_id))
            }
            ChangeField::Assignee => format!("{} assigned it to {new}", name(c.actor_id)),
            ChangeField::Project if new.is_empty() => {
                format!("{} took it out of its project", name(c.actor_id))
            }
            ChangeField::Project => format!("{} moved it to {new}", name(c.actor_id)),
        };
        let time = format_time(c.created_at);
        timeline.push((
            c.created_at,
            1,
            c.id,
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
        requester_email: l.requester_email,
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
