//! Support requests, the pages: the list (`GET /requests`), the new-request
//! form, a request's page with its conversation, replies and changes, and
//! its files. Who may see what is decided by the queries
//! (`db::models::Request::find_visible`), and for a request's page served
//! from the cache by the same rule in memory
//! (`db::models::Request::is_visible_to`); these handlers only carry it.

pub mod changes;
pub mod conversation;
pub mod files;
pub mod form;
pub mod new;
pub mod show;

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::models::{
    Assignee, ListFilter, Project, Request, RequestView, Status, User, Viewer,
};
use crate::db::{DbConn, DbError};
use crate::error::AppError;
use crate::requests::PER_PAGE;
use crate::routes::layout;
use crate::state::AppState;
use crate::views::{Layout, format_time, render};

/// A request as a row of a list.
pub struct RequestRow {
    pub id: i64,
    pub subject: String,
    pub status: Status,
    /// The status in the words of whoever looks.
    pub status_label: &'static str,
    pub priority: &'static str,
    pub project: String,
    pub requester: String,
    pub assignee: String,
    pub activity: String,
    pub unread: bool,
}

/// One option of a `<select>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options of a `<select>`, with `selected` marked.
pub fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// A customer's own request as a row of their dashboard: no names needed.
pub fn own_row(r: &Request, seen: Option<i64>) -> RequestRow {
    let activity = r.public_updated_at;
    RequestRow {
        id: r.id,
        status_label: r.status.customer_label(),
        status: r.status,
        priority: r.priority.label(),
        project: String::new(),
        requester: String::new(),
        assignee: String::new(),
        activity: format_time(activity / 1000),
        unread: seen.is_none_or(|s| s < activity),
        subject: r.subject.clone(),
    }
}

/// Turns requests into rows for `viewer`: names, projects, unread markers.
pub fn rows(
    conn: &mut DbConn,
    viewer: &Viewer,
    requests: Vec<Request>,
    projects: &[Project],
) -> Result<Vec<RequestRow>, DbError> {
    let ids: Vec<i64> = requests.iter().map(|r| r.id).collect();
    let seen: HashMap<i64, i64> = RequestView::seen(conn, viewer.user_id, &ids)?
        .into_iter()
        .collect();
    let mut people: Vec<i64> = requests
        .iter()
        .flat_map(|r| [Some(r.requester_id), r.assignee_id])
        .flatten()
        .collect();
    people.sort_unstable();
    people.dedup();
    let names: HashMap<i64, String> = User::names(conn, &people)?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    let name = |id: Option<i64>| {
        id.and_then(|id| names.get(&id).cloned())
            .unwrap_or_default()
    };
    Ok(requests
        .into_iter()
        .map(|r| {
            let activity = r.activity_for(viewer);
            RequestRow {
                id: r.id,
                status_label: r.status.label_for(viewer.staff),
                status: r.status,
                priority: r.priority.label(),
                project: r
                    .project_id
                    .and_then(|id| projects.iter().find(|p| p.id == id))
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                requester: name(Some(r.requester_id)),
                assignee: name(r.assignee_id),
                activity: format_time(activity / 1000),
                unread: seen.get(&r.id).is_none_or(|s| *s < activity),
                subject: r.subject,
            }
        })
        .collect())
}

/// The projects a person may file a request in, or filter by: all of the
/// company's for staff, their own for a customer.
pub fn projects_for(conn: &mut DbConn, viewer: &Viewer) -> Result<Vec<Project>, DbError> {
    if viewer.staff {
        Project::list_for_company(conn, viewer.company_id)
    } else {
        Project::list_for_member(conn, viewer.user_id)
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

/// One filter chip: a link that sets one parameter.
pub struct Chip {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "requests/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub staff: bool,
    pub rows: Vec<RequestRow>,
    pub status_chips: Vec<Chip>,
    pub assignee_chips: Vec<Chip>,
    pub projects: Vec<Project>,
    pub project: String,
    pub status: String,
    pub assignee: String,
    pub q: String,
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Any filter beyond the default is set.
    pub filtered: bool,
}

/// `/requests?…` with these parameters (empty ones left out).
fn list_href(status: &str, project: &str, assignee: &str, q: &str, page: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (k, v) in [
        ("status", status),
        ("project", project),
        ("assignee", assignee),
        ("q", q),
    ] {
        if !v.is_empty() {
            pairs.push((k, v.to_owned()));
        }
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    match serde_urlencoded::to_string(&pairs) {
        Ok(query) if !query.is_empty() => format!("/requests?{query}"),
        _ => "/requests".to_owned(),
    }
}

/// The statuses a `status` parameter asks for; `None`: every status.
fn parse_status(status: &str, staff: bool) -> Result<Option<Vec<Status>>, AppError> {
    Ok(match status {
        "" if staff => Some(Status::ACTIVE.to_vec()),
        "" | "all" => None,
        "active" => Some(Status::ACTIVE.to_vec()),
        s => Some(vec![s.parse().map_err(|_| {
            AppError::BadRequest(format!(
                "There is no status “{s}”: use new, open, pending, solved, closed, active or all."
            ))
        })?]),
    })
}

/// `GET /requests`: the requests the person may see, newest activity first,
/// 25 a page, filtered by status, project, assignee (staff) and words.
pub async fn list_get(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(&current.user);
    let query = query.into_inner();
    let statuses = parse_status(query.status.trim(), viewer.staff)?;
    let assignee = match (viewer.staff, query.assignee.trim()) {
        (false, _) | (true, "") => None,
        (true, "me") => Some(Assignee::User(viewer.user_id)),
        (true, "none") => Some(Assignee::Nobody),
        (true, id) => Some(Assignee::User(id.parse().map_err(|_| {
            AppError::BadRequest("The assignee must be me, none, or a user id.".into())
        })?)),
    };
    let q: String = query.q.trim().chars().take(200).collect();
    let page = query.page.unwrap_or(1).clamp(1, 10_000);
    let project_param = query.project.trim().to_owned();
    // SQLite's index is a file of its own: it must first hold what was
    // committed before this search began (db::search::Index).
    let ready = if q.is_empty() {
        None
    } else {
        state.db.search_ready().await?
    };
    let (rows, projects, more) = state
        .db
        .read(move |conn| {
            // One read of the company's projects: the filter's choices, the
            // filter's project, the rows' project names.
            let all_projects = Project::list_for_company(conn, viewer.company_id)?;
            let project_id = match project_param.as_str() {
                "" => None,
                p => match all_projects.iter().find(|pr| pr.public_id == p) {
                    Some(pr) => Some(pr.id),
                    None => return Ok(Err(())),
                },
            };
            let projects = if viewer.staff {
                all_projects.clone()
            } else {
                let mine = Project::ids_for_member(conn, viewer.user_id)?;
                all_projects
                    .iter()
                    .filter(|p| mine.contains(&p.id))
                    .cloned()
                    .collect()
            };
            let filter = ListFilter {
                statuses,
                project_id,
                assignee,
                words: (!q.is_empty()).then(|| q.clone()),
            };
            let mut found = Request::list(
                conn,
                ready.as_ref(),
                &viewer,
                &filter,
                (page - 1) * PER_PAGE,
                PER_PAGE,
            )?;
            let more = found.len() as i64 > PER_PAGE;
            found.truncate(PER_PAGE as usize);
            Ok::<_, DbError>(Ok((
                rows(conn, &viewer, found, &all_projects)?,
                projects,
                more,
            )))
        })
        .await?
        .map_err(|()| AppError::BadRequest("There is no such project in your company.".into()))?;

    let (status, project, assignee, q) = (
        query.status.trim().to_owned(),
        query.project.trim().to_owned(),
        query.assignee.trim().to_owned(),
        query.q.trim().to_owned(),
    );
    let mut status_options: Vec<(&'static str, &'static str)> = Vec::new();
    if viewer.staff {
        status_options.extend([("Active", ""), ("New", "new"), ("Open", "open")]);
        status_options.extend([("Pending", "pending"), ("Solved", "solved")]);
        status_options.extend([("Closed", "closed"), ("All", "all")]);
    } else {
        status_options.extend([("All", ""), ("Active", "active")]);
        status_options.extend([("Waiting on you", "pending"), ("Solved", "solved")]);
    }
    let status_chips = status_options
        .into_iter()
        .map(|(label, value)| Chip {
            label,
            href: list_href(value, &project, &assignee, &q, 1),
            current: value == status,
        })
        .collect();
    let assignee_chips = if viewer.staff {
        [
            ("Anyone", ""),
            ("Assigned to me", "me"),
            ("Unassigned", "none"),
        ]
        .into_iter()
        .map(|(label, value)| Chip {
            label,
            href: list_href(&status, &project, value, &q, 1),
            current: value == assignee,
        })
        .collect()
    } else {
        Vec::new()
    };
    let page_view = ListPage {
        layout: layout(&current)?,
        staff: viewer.staff,
        rows,
        status_chips,
        assignee_chips,
        projects,
        prev: (page > 1).then(|| list_href(&status, &project, &assignee, &q, page - 1)),
        next: more.then(|| list_href(&status, &project, &assignee, &q, page + 1)),
        filtered: !(status.is_empty() && project.is_empty() && assignee.is_empty() && q.is_empty()),
        project,
        status,
        assignee,
        q,
        page,
    };
    Ok(render(&page_view)?)
}
