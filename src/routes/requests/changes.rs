//! `POST /requests/{id}`: the side panel's changes (status, priority,
//! assignee, project) and the requester's "mark as solved" / "reopen".

use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::models::{
    ChangeField, Priority, Project, Request, RequestChange, Role, Status, User, Viewer,
};
use crate::db::{self, DbError, Tx};
use crate::error::AppError;
use crate::requests::rules::{self, Refused};
use crate::state::AppState;
use crate::views::see_other;

#[derive(serde::Deserialize)]
pub struct ChangeForm {
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    project: Option<String>,
}

/// What the form asks to change; `None`: left as it is.
struct Wanted {
    status: Option<Status>,
    priority: Option<Priority>,
    /// `Some(None)`: nobody.
    assignee: Option<Option<i64>>,
    /// A project's public id, or "" for none.
    project: Option<String>,
}

fn parse(form: ChangeForm) -> Result<Wanted, AppError> {
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned());
    let status = match given(form.status).as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<Status>().map_err(|_| {
            AppError::BadRequest(format!(
                "There is no status “{s}”: use new, open, pending, solved or closed."
            ))
        })?),
    };
    let priority = match given(form.priority).as_deref() {
        None | Some("") => None,
        Some(p) => Some(p.parse::<Priority>().map_err(|_| {
            AppError::BadRequest(format!(
                "There is no priority “{p}”: use low, normal, high or urgent."
            ))
        })?),
    };
    let assignee = match given(form.assignee).as_deref() {
        None => None,
        Some("") => Some(None),
        Some(id) => Some(Some(id.parse::<i64>().map_err(|_| {
            AppError::BadRequest("Choose one of the company's agents or admins.".into())
        })?)),
    };
    Ok(Wanted {
        status,
        priority,
        assignee,
        project: given(form.project),
    })
}

/// Why nothing was changed.
enum NotChanged {
    NotFound,
    Refused(Refused),
    Invalid(String),
}

/// Applies `wanted` in the caller's transaction, after reading the request
/// again inside it: every check sees the state the write changes.
fn apply(
    tx: &mut Tx<'_>,
    viewer: &Viewer,
    id: i64,
    wanted: Wanted,
) -> Result<Result<(), NotChanged>, DbError> {
    let Some(visible) = Request::find_visible(tx.read(), viewer, id)? else {
        return Ok(Err(NotChanged::NotFound));
    };
    let mut r = visible.request;
    if r.status == Status::Closed {
        return Ok(Err(NotChanged::Refused(Refused::Closed)));
    }
    let staff_only =
        wanted.priority.is_some() || wanted.assignee.is_some() || wanted.project.is_some();
    if !viewer.staff && staff_only {
        return Ok(Err(NotChanged::Refused(Refused::NotAllowed(
            "Only the support team can change the priority, the assignee or the project.",
        ))));
    }
    let now = db::now();
    let actor = viewer.user_id;
    let mut public = false;
    let mut changed = false;
    if let Some(to) = wanted.status {
        let requester = r.requester_id == viewer.user_id;
        let to = match rules::change_status(r.status, to, viewer.staff, requester) {
            Ok(to) => to,
            Err(refused) => return Ok(Err(NotChanged::Refused(refused))),
        };
        if Request::move_status(tx, &mut r, to, actor, now)? {
            public = true;
            changed = true;
        }
    }
    if let Some(p) = wanted.priority.filter(|p| *p != r.priority) {
        Request::set_priority(tx, &r, p)?;
        RequestChange::record(
            tx,
            r.id,
            actor,
            ChangeField::Priority,
            Some(r.priority.label()),
            Some(p.label()),
            now,
        )?;
        changed = true;
    }
    if let Some(assignee) = wanted.assignee.filter(|a| *a != r.assignee_id) {
        let name = match assignee {
            None => String::new(),
            Some(uid) => match User::find_in_company(tx.read(), viewer.company_id, uid)? {
                Some(u) if matches!(u.role, Role::Agent | Role::Admin) && !u.disabled => u.name,
                _ => {
                    return Ok(Err(NotChanged::Invalid(
                        "Choose one of the company's agents or admins.".into(),
                    )));
                }
            },
        };
        Request::set_assignee(tx, r.id, assignee)?;
        RequestChange::record(
            tx,
            r.id,
            actor,
            ChangeField::Assignee,
            None,
            Some(&name),
            now,
        )?;
        changed = true;
    }
    if let Some(public_id) = wanted.project {
        let project = match public_id.as_str() {
            "" => None,
            p => match Project::find_in_company(tx.read(), viewer.company_id, p)? {
                Some(p) => Some(p),
                None => {
                    return Ok(Err(NotChanged::Invalid(
                        "Choose one of the company's projects.".into(),
                    )));
                }
            },
        };
        if project.as_ref().map(|p| p.id) != r.project_id {
            Request::set_project(tx, r.id, project.as_ref().map(|p| p.id))?;
            let name = project.map(|p| p.name).unwrap_or_default();
            RequestChange::record(
                tx,
                r.id,
                actor,
                ChangeField::Project,
                None,
                Some(&name),
                now,
            )?;
            changed = true;
        }
    }
    if changed {
        Request::touch(tx, &mut r, public, db::now_ms())?;
    }
    Ok(Ok(()))
}

/// `POST /requests/{id}`. A field left out stays as it was.
pub async fn update_post(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let viewer = Viewer::of(&current.user);
    let wanted = parse(form)?;
    let changed = state
        .db
        .write(move |tx| apply(tx, &viewer, id, wanted))
        .await?;
    match changed {
        Ok(()) => Ok(see_other(&format!("/requests/{id}"))),
        Err(NotChanged::NotFound) => Err(AppError::NotFound),
        Err(NotChanged::Refused(Refused::Closed)) => Err(AppError::Conflict(
            "This request is closed: it cannot be changed any more. Open a new request instead."
                .into(),
        )),
        Err(NotChanged::Refused(Refused::NotAllowed(why))) => Err(AppError::Forbidden(why.into())),
        Err(NotChanged::Invalid(why)) => Err(AppError::BadRequest(why)),
    }
}
