//! Settings → Projects: create, rename, delete; their IDs for `projectId`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Nav;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::extract::AdminUser;
use crate::auth::session::FlashKind;
use crate::db::models::Project;
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::input::{clean_name, parse_bool};
use crate::routes::{done, layout};
use crate::state::AppState;
use crate::views::{Layout, format_time, render_with_status};

pub struct ProjectRow {
    pub public_id: String,
    pub name: String,
    pub shared: bool,
    pub members: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "settings/projects.html")]
pub struct ProjectsPage {
    pub layout: Layout,
    pub nav: Nav,
    pub projects: Vec<ProjectRow>,
    pub new_name: String,
    pub error: Option<String>,
}

const PAGE: &str = "/settings/projects";

async fn page(state: &AppState, admin: &AdminUser) -> Result<ProjectsPage, AppError> {
    let company_id = admin.company.id;
    let rows = state
        .db
        .read(move |conn| Project::list_with_member_counts(conn, company_id))
        .await?;
    Ok(ProjectsPage {
        layout: layout(admin)?,
        nav: Nav::Projects,
        projects: rows
            .into_iter()
            .map(|(p, members)| ProjectRow {
                public_id: p.public_id,
                name: p.name,
                shared: p.shared,
                members,
                created: format_time(p.created_at),
            })
            .collect(),
        new_name: String::new(),
        error: None,
    })
}

/// `GET /settings/projects`.
pub async fn projects_get(
    admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(render_with_status(
        StatusCode::OK,
        &page(&state, &admin).await?,
    )?)
}

/// The page again, with `error` and what was typed (`name`).
async fn refuse(
    state: &AppState,
    admin: &AdminUser,
    name: &str,
    error: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut p = page(state, admin).await?;
    p.new_name = name.to_owned();
    p.error = Some(error);
    Ok(render_with_status(status, &p)?)
}

#[derive(Deserialize)]
/// The create and rename forms: a project name.
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// What a project write answers: done, or the page again with why not.
async fn save(
    state: &AppState,
    admin: &AdminUser,
    typed: &str,
    written: Result<Option<String>, DbError>,
    name: &str,
) -> Result<HttpResponse, AppError> {
    match written {
        Ok(Some(text)) => Ok(done(&admin.session, PAGE, FlashKind::Ok, text)),
        Ok(None) => Err(AppError::NotFound),
        Err(e) if e.is_unique_violation() => {
            refuse(
                state,
                admin,
                typed,
                format!("A project named “{name}” already exists."),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/projects`.
pub async fn create_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    let name = match clean_name(&form.name, "project") {
        Ok(n) => n,
        Err(e) => {
            let error = format!("The {e}.");
            return refuse(&state, &admin, &form.name, error, StatusCode::BAD_REQUEST).await;
        }
    };
    let company_id = admin.company.id;
    let n = name.clone();
    let written = state
        .db
        .write(move |tx| {
            let p = Project::create(tx, company_id, &n, db::now())?;
            Ok(Some(format!(
                "Project “{}” created. Its ID is {}.",
                p.name, p.public_id
            )))
        })
        .await;
    save(&state, &admin, &name, written, &name).await
}

/// `POST /settings/projects/{id}/rename`.
pub async fn rename_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<NameForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let name = match clean_name(&form.name, "project") {
        Ok(n) => n,
        Err(e) => {
            let error = format!("The new {e}.");
            return refuse(&state, &admin, "", error, StatusCode::BAD_REQUEST).await;
        }
    };
    let company_id = admin.company.id;
    let n = name.clone();
    let written = state
        .db
        .write(move |tx| {
            let renamed = Project::rename(tx, company_id, &public_id, &n)? > 0;
            Ok(renamed.then(|| format!("Project renamed to “{n}”.")))
        })
        .await;
    save(&state, &admin, "", written, &name).await
}

/// `POST /settings/projects/{id}/delete`: the project and its memberships.
pub async fn delete_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let company_id = admin.company.id;
    let written = state
        .db
        .write(move |tx| {
            let Some(p) = Project::find_in_company(tx.read(), company_id, &public_id)? else {
                return Ok(None);
            };
            Project::delete(tx, company_id, &public_id)?;
            Ok(Some(format!(
                "Project “{}” deleted; its members were removed from it. Tokens naming {} are now refused.",
                p.name, p.public_id
            )))
        })
        .await;
    save(&state, &admin, "", written, "").await
}

#[derive(Deserialize)]
pub struct SharedForm {
    #[serde(default)]
    shared: String,
}

/// `POST /settings/projects/{id}/shared`: `shared=on` lets the project's
/// members see each other's support requests; `off` (or absent) stops it.
pub async fn shared_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<SharedForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    // An unchecked box sends nothing: off.
    let shared = match form.shared.as_str() {
        "" => false,
        v => {
            parse_bool(v).ok_or_else(|| AppError::BadRequest("shared must be on or off.".into()))?
        }
    };
    let company_id = admin.company.id;
    let written = state
        .db
        .write(move |tx| {
            let Some(p) = Project::find_in_company(tx.read(), company_id, &public_id)? else {
                return Ok(None);
            };
            Project::set_shared(tx, company_id, &public_id, shared)?;
            Ok(Some(if shared {
                format!(
                    "Members of “{}” now see each other's support requests.",
                    p.name
                )
            } else {
                format!(
                    "Members of “{}” now see only their own support requests.",
                    p.name
                )
            }))
        })
        .await;
    save(&state, &admin, "", written, "").await
}
