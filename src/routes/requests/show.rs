//! A request's page: the conversation with its status lines, the reply box
//! and, for agents and admins, the side panel of changes.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use strum::IntoEnumIterator;

use super::form::{self, Unread};
use super::{Opt, opts};
use crate::auth::CurrentUser;
use crate::db::models::{
    Attachment, ChangeField, Message, NewFile, Priority, Project, Request, RequestChange,
    RequestView, Role, Status, User, Viewer, VisibleRequest,
};
use crate::db::{self, DbConn, DbError};
use crate::error::AppError;
use crate::requests::files::{content_type, human_size};
use crate::requests::rules::{self, Refused};
use crate::requests::{clean_body, markdown, now_ms};
use crate::routes::layout;
use crate::state::AppState;
use crate::views::{Layout, format_time, render_with_status, see_other};

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
fn load(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: i64,
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
        User::find(conn, r.requester_id)?
            .map(|u| u.email)
            .unwrap_or_default()
    } else {
        String::new()
    };
    let staff = if viewer.staff {
        User::staff_of_company(conn, viewer.company_id)?
    } else {
        Vec::new()
    };
    let projects = if viewer.staff {
        Project::list_for_company(conn, viewer.company_id)?
    } else {
        r.project_id
            .map(|_| Project::list_for_company(conn, viewer.company_id))
            .transpose()?
            .unwrap_or_default()
            .into_iter()
            .filter(|p| Some(p.id) == r.project_id)
            .collect()
    };
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

struct Loaded {
    messages: Vec<Message>,
    files: Vec<Attachment>,
    changes: Vec<RequestChange>,
    names: Vec<(i64, String, Role)>,
    requester_email: String,
    staff: Vec<User>,
    projects: Vec<Project>,
    seen: Option<i64>,
}

fn status_label(status: Status, staff: bool) -> &'static str {
    if staff {
        status.label()
    } else {
        status.customer_label()
    }
}

fn build(
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
                    .map_or(new.as_str(), |s| status_label(s, viewer.staff));
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
        status_label: status_label(r.status, viewer.staff),
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
            std::iter::once((String::new(), "Nobody".to_owned()))
                .chain(l.staff.iter().map(|u| (u.id.to_string(), u.name.clone()))),
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

/// The page for `current`, with `draft` in the reply box.
async fn page(
    state: &AppState,
    current: &CurrentUser,
    id: i64,
    draft: Draft,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(&current.user);
    let Some((visible, loaded)) = state.db.read(move |conn| load(conn, &viewer, id)).await? else {
        return Err(AppError::NotFound);
    };
    let seen = loaded.seen;
    let activity = visible.activity();
    let page = build(current, &visible, loaded, draft)?;
    let response = render_with_status(status, &page)?;
    // Seen up to what was shown: written with the next batch of sign-ins.
    if seen.is_none_or(|s| s < activity) {
        let user_id = viewer.user_id;
        let marked = state
            .writer
            .submit(move |tx, _| RequestView::mark_seen(tx, user_id, id, activity))
            .await;
        if let Err(e) = marked {
            log::warn!("could not record a view of a request: {e}");
        }
    }
    Ok(response)
}

/// `GET /requests/{id}`.
pub async fn show_get(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &current,
        path.into_inner(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// Why a reply was not written.
enum NotWritten {
    NotFound,
    Refused(Refused),
}

fn refused_status(r: &Refused) -> StatusCode {
    match r {
        Refused::Closed => StatusCode::CONFLICT,
        Refused::NotAllowed(_) => StatusCode::FORBIDDEN,
    }
}

/// `POST /requests/{id}/messages`: a reply (or an internal note), with its
/// files and, for agents, the status to set in the same step.
pub async fn message_post(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let viewer = Viewer::of(&current.user);
    let posted = match form::read(&req, payload).await {
        Ok(posted) => posted,
        Err(Unread::Refused(e)) => return Err(e),
        Err(Unread::TooLarge(partial, why)) => {
            form::check_partial(&req, &partial)?;
            let draft = Draft {
                body: partial.get("body").to_owned(),
                internal: viewer.staff && partial.get("internal") == "on",
                error: Some(why),
            };
            return page(&state, &current, id, draft, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
    };
    let internal = viewer.staff && posted.get("internal") == "on";
    let mut draft = Draft {
        body: posted.get("body").to_owned(),
        internal,
        error: None,
    };
    let body = match clean_body(posted.get("body")) {
        Ok(body) => body,
        Err(e) => {
            draft.error = Some(e);
            return page(&state, &current, id, draft, StatusCode::BAD_REQUEST).await;
        }
    };
    let set = match (viewer.staff, posted.get("status")) {
        (false, _) | (true, "") => None,
        (true, s) => match s.parse::<Status>() {
            Ok(s) => Some(s),
            Err(_) => {
                draft.error = Some(format!("There is no status “{s}”."));
                return page(&state, &current, id, draft, StatusCode::BAD_REQUEST).await;
            }
        },
    };
    let html = markdown::render(&body);
    let files: Vec<NewFile> = posted
        .files
        .into_iter()
        .map(|u| NewFile {
            content_type: content_type(&u.data),
            filename: u.filename,
            data: u.data,
        })
        .collect();
    let actor = viewer.user_id;
    let written = state
        .db
        .write(move |tx| {
            let Some(visible) = Request::find_visible(tx, &viewer, id)? else {
                return Ok(Err(NotWritten::NotFound));
            };
            let mut r = visible.request;
            let next = match rules::after_message(r.status, viewer.staff, internal, set) {
                Ok(next) => next,
                Err(refused) => return Ok(Err(NotWritten::Refused(refused))),
            };
            let now = db::now();
            Message::create(tx, &r, actor, &body, &html, internal, &files, now)?;
            let status_moves = next != r.status;
            Request::touch(tx, &mut r, !internal || status_moves, now_ms())?;
            if status_moves {
                let old = r.status;
                if Request::set_status(tx, &mut r, next)? {
                    RequestChange::record(
                        tx,
                        r.id,
                        actor,
                        ChangeField::Status,
                        Some(old.as_str()),
                        Some(next.as_str()),
                        now,
                    )?;
                }
            }
            RequestView::mark_seen(tx, actor, r.id, r.activity_for(&viewer))?;
            Ok(Ok(()))
        })
        .await?;
    match written {
        Ok(()) => Ok(see_other(&format!("/requests/{id}"))),
        Err(NotWritten::NotFound) => Err(AppError::NotFound),
        Err(NotWritten::Refused(refused)) => {
            draft.error = Some(match &refused {
                Refused::Closed => {
                    "This request is closed and takes no more messages. Open a new request instead."
                        .to_owned()
                }
                Refused::NotAllowed(why) => (*why).to_owned(),
            });
            page(&state, &current, id, draft, refused_status(&refused)).await
        }
    }
}
