//! `GET /requests/new` and `POST /requests`: a new request, by a customer
//! for themselves, or by an agent or admin (for themselves or on behalf of a
//! customer of the company).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use strum::IntoEnumIterator;

use super::form::{self, Posted, Unread, Upload};
use super::{Opt, opts, projects_for};
use crate::auth::CurrentUser;
use crate::db::models::{
    Message, NewFile, NewRequest, Priority, Project, Request, RequestView, Role, User, Viewer,
};
use crate::db::{self, DbError, Tx};
use crate::error::AppError;
use crate::input::normalize_email;
use crate::requests::{clean_body, clean_subject, markdown};
use crate::routes::layout;
use crate::state::AppState;
use crate::views::{Layout, render_with_status, see_other};

/// What each field of the form says is wrong.
#[derive(Default)]
pub struct NewErrors {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub project: Option<String>,
    pub priority: Option<String>,
    pub requester: Option<String>,
    pub files: Option<String>,
}

impl NewErrors {
    pub fn any(&self) -> bool {
        self.subject.is_some()
            || self.body.is_some()
            || self.project.is_some()
            || self.priority.is_some()
            || self.requester.is_some()
            || self.files.is_some()
    }
}

#[derive(Template)]
#[template(path = "requests/new.html")]
pub struct NewPage {
    pub layout: Layout,
    pub staff: bool,
    pub subject: String,
    pub body: String,
    pub requester: String,
    pub projects: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub errors: NewErrors,
}

/// The form, with what was typed and what is wrong.
async fn form_page(
    state: &AppState,
    current: &CurrentUser,
    typed: &Posted,
    errors: NewErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(&current.user);
    let projects = state
        .db
        .read(move |conn| projects_for(conn, &viewer))
        .await?;
    let priority = match typed.get("priority") {
        "" => "normal",
        p => p,
    };
    let page = NewPage {
        layout: layout(current)?,
        staff: viewer.staff,
        subject: typed.get("subject").to_owned(),
        body: typed.get("body").to_owned(),
        requester: typed.get("requester").to_owned(),
        projects: opts(
            std::iter::once((String::new(), "No project".to_owned()))
                .chain(projects.into_iter().map(|p| (p.public_id, p.name))),
            typed.get("project"),
        ),
        priorities: opts(
            Priority::iter().map(|p| (p.as_str().to_owned(), p.label().to_owned())),
            priority,
        ),
        errors,
    };
    Ok(render_with_status(status, &page)?)
}

/// `GET /requests/new` (`?project=proj_…` preselects a project).
pub async fn new_get(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let preselected: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut typed = Posted::default();
    if let Some((_, p)) = preselected.into_iter().find(|(k, _)| k == "project") {
        typed = Posted::with_field("project", p);
    }
    form_page(
        &state,
        &current,
        &typed,
        NewErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// A new request, checked as far as it can be without the database.
struct Draft {
    viewer: Viewer,
    requester_email: Option<String>,
    project: String,
    subject: String,
    body: String,
    html: String,
    files: Vec<NewFile>,
    priority: Priority,
}

/// What the checks inside the transaction refuse.
enum Refusal {
    Project(String),
    Requester(String),
}

/// `POST /requests`: `subject`, `body`, `project`; for agents and admins
/// also `priority` and `requester`; files when multipart. `303` to the new
/// request.
pub async fn create_post(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(&current.user);
    let mut posted = match form::read(&req, payload).await {
        Ok(posted) => posted,
        Err(Unread::Refused(e)) => return Err(e),
        Err(Unread::TooLarge(partial, why)) => {
            form::check_partial(&req, &partial)?;
            let errors = NewErrors {
                files: Some(why),
                ..NewErrors::default()
            };
            return form_page(
                &state,
                &current,
                &partial,
                errors,
                StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await;
        }
    };
    let mut errors = NewErrors::default();
    let subject = clean_subject(posted.get("subject"))
        .map_err(|e| errors.subject = Some(e))
        .ok();
    let body = clean_body(posted.get("body"))
        .map_err(|e| errors.body = Some(e))
        .ok();
    let priority = match (viewer.staff, posted.get("priority").trim()) {
        (false, _) | (true, "") => Priority::Normal,
        (true, p) => p.parse().unwrap_or_else(|_| {
            errors.priority = Some("Choose a priority: low, normal, high or urgent.".into());
            Priority::Normal
        }),
    };
    let requester_email = match (viewer.staff, posted.get("requester").trim()) {
        (false, _) | (true, "") => None,
        (true, e) => normalize_email(e)
            .map_err(|why| {
                errors.requester = Some(format!("Enter the customer's email address: {why}."))
            })
            .ok(),
    };
    let (Some(subject), Some(body), false) = (subject, body, errors.any()) else {
        return form_page(&state, &current, &posted, errors, StatusCode::BAD_REQUEST).await;
    };
    let project = posted.get("project").trim().to_owned();
    let html = markdown::render(&body);
    let files: Vec<NewFile> = std::mem::take(&mut posted.files)
        .into_iter()
        .map(Upload::into_file)
        .collect();
    let draft = Draft {
        viewer,
        requester_email,
        project,
        subject,
        body,
        html,
        files,
        priority,
    };
    // Without files, a new request joins the writer's next batch (one
    // transaction for many); with files, it takes a transaction of its own,
    // so that its megabytes never hold the sign-ins of a batch.
    let written = if draft.files.is_empty() {
        state
            .writer
            .submit(move |tx, _| write_new(tx, &draft))
            .await?
    } else {
        state.db.write(move |tx| write_new(tx, &draft)).await?
    };
    match written {
        Ok(id) => Ok(see_other(&format!("/requests/{id}"))),
        Err(refusal) => {
            let mut errors = NewErrors::default();
            match refusal {
                Refusal::Project(e) => errors.project = Some(e),
                Refusal::Requester(e) => errors.requester = Some(e),
            }
            form_page(&state, &current, &posted, errors, StatusCode::BAD_REQUEST).await
        }
    }
}

/// What a new request writes, in the caller's transaction: the checks that
/// need the database, the request, its first message and files, the
/// author's view. It may run twice (the writer retries a failed batch
/// piece by piece), so it only reads what it is given.
fn write_new(tx: &mut Tx<'_>, draft: &Draft) -> Result<Result<i64, Refusal>, DbError> {
    let (viewer, author) = (draft.viewer, draft.viewer.user_id);
    let requester_id = match &draft.requester_email {
        None => author,
        Some(email) => match User::find_by_email(tx.read(), email)? {
            Some(u) if u.company_id == viewer.company_id && u.role == Role::Customer => u.id,
            _ => {
                return Ok(Err(Refusal::Requester(format!(
                    "{email} is not a customer of your company. A customer appears once they have signed in through your app."
                ))));
            }
        },
    };
    let project_id = match draft.project.as_str() {
        "" => None,
        p => {
            let mine = if viewer.staff {
                Project::find_in_company(tx.read(), viewer.company_id, p)?
            } else {
                Project::list_for_member(tx.read(), requester_id)?
                    .into_iter()
                    .find(|pr| pr.public_id == p)
            };
            match mine {
                Some(pr) => Some(pr.id),
                None => {
                    return Ok(Err(Refusal::Project(
                        "Choose one of your projects, or none.".into(),
                    )));
                }
            }
        }
    };
    let now = db::now_ms();
    let new = NewRequest {
        company_id: viewer.company_id,
        project_id,
        requester_id,
        subject: &draft.subject,
        priority: draft.priority,
    };
    let request = Request::create(tx, new, now)?;
    Message::create(
        tx,
        &request,
        author,
        &draft.body,
        &draft.html,
        false,
        &draft.files,
        db::now(),
    )?;
    RequestView::mark_seen(tx, author, request.id, now)?;
    Ok::<_, DbError>(Ok(request.id))
}
