//! Settings → Projects: create, rename, delete; their IDs for `projectId`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::done;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::extract::AdminUser;
use crate::cli::clean_name;
use crate::db::models::Project;
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::{Layout, format_time, render_with_status};

pub struct ProjectRow {
    pub public_id: String,
    pub name: String,
    pub members: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "settings/projects.html")]
pub struct ProjectsPage {
    pub layout: Layout,
    pub nav: &'static str,
    pub projects: Vec<ProjectRow>,
    pub new_name: String,
    pub error: Option<String>,
}

const PAGE: &str = "/settings/projects";

async fn page(state: &AppState, admin: &AdminUser) -> Result<ProjectsPage, AppError> {
    let company_id = admin.0.company.id;
    let rows = db::run(&state.pool, move |conn| {
        Project::list_with_member_counts(conn, company_id)
    })
    .await?;
    Ok(ProjectsPage {
        layout: admin.0.layout()?,
        nav: "projects",
        projects: rows
            .into_iter()
            .map(|(p, members)| ProjectRow {
                public_id: p.public_id,
                name: p.name,
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
    ))
}

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
    Ok(render_with_status(status, &p))
}

#[derive(Deserialize)]
/// The create and rename forms: a project name.
pub struct NameForm {
    #[serde(default)]
    name: String,
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
            return refuse(
                &state,
                &admin,
                &form.name,
                format!("The {e}."),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let company_id = admin.0.company.id;
    let n = name.clone();
    match db::run(&state.pool, move |conn| {
        Project::create(conn, company_id, &n, db::now())
    })
    .await
    {
        Ok(p) => {
            state.cache.invalidate_projects(company_id);
            Ok(done(
                &admin,
                PAGE,
                "ok",
                format!("Project “{}” created. Its ID is {}.", p.name, p.public_id),
            ))
        }
        Err(e) if e.is_unique_violation() => {
            refuse(
                &state,
                &admin,
                &name,
                format!("A project named “{name}” already exists."),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
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
            return refuse(
                &state,
                &admin,
                "",
                format!("The new {e}."),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let company_id = admin.0.company.id;
    let n = name.clone();
    match db::run(&state.pool, move |conn| {
        Project::rename(conn, company_id, &public_id, &n)
    })
    .await
    {
        Ok(0) => Err(AppError::NotFound),
        Ok(_) => {
            state.cache.invalidate_projects(company_id);
            Ok(done(
                &admin,
                PAGE,
                "ok",
                format!("Project renamed to “{name}”."),
            ))
        }
        Err(e) if e.is_unique_violation() => {
            refuse(
                &state,
                &admin,
                "",
                format!("A project named “{name}” already exists."),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/projects/{id}/delete`: the project and its memberships.
pub async fn delete_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let company_id = admin.0.company.id;
    let deleted = db::run(&state.pool, move |conn| {
        let project = Project::find_in_company(conn, company_id, &public_id)?;
        if project.is_some() {
            Project::delete(conn, company_id, &public_id)?;
        }
        Ok::<_, DbError>(project)
    })
    .await?;
    state.cache.invalidate_projects(company_id);
    state.cache.invalidate_all_memberships();
    match deleted {
        Some(p) => Ok(done(
            &admin,
            PAGE,
            "ok",
            format!(
                "Project “{}” deleted; its members were removed from it. Tokens naming {} are now refused.",
                p.name, p.public_id
            ),
        )),
        None => Err(AppError::NotFound),
    }
}
