//! The landing page of every signed-in user, and `/`.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::auth::session::{self, Method};
use crate::db::models::Project;
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::startup::AppState;
use crate::views::{DashboardPage, ProjectView, format_time, render};

/// `GET /`: signed-in users to their dashboard, others to the sign-in page.
pub async fn root_get(session: Session) -> HttpResponse {
    let to = if session::auth(&session, db::now()).is_some() {
        "/dashboard"
    } else {
        "/login"
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// `GET /dashboard`.
pub async fn dashboard_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let sees_all = current.role().sees_all_projects();
    let (user_id, company_id) = (current.user.id, current.company.id);
    let (member_of, all) = db::run(&state.pool, move |conn| {
        let member_of = Project::list_for_member(conn, user_id)?;
        let all = if sees_all {
            Project::list_for_company(conn, company_id)?
        } else {
            Vec::new()
        };
        Ok::<_, DbError>((member_of, all))
    })
    .await?;
    let member_ids: Vec<i64> = member_of.iter().map(|p| p.id).collect();
    let shown = if sees_all { all } else { member_of };
    let projects = shown
        .into_iter()
        .map(|p| ProjectView {
            member: member_ids.contains(&p.id),
            public_id: p.public_id,
            name: p.name,
        })
        .collect();
    let page = DashboardPage {
        layout: current.layout()?,
        name: current.user.name.clone(),
        email: current.user.email.clone(),
        company: current.company.name.clone(),
        company_id: current.company.public_id.clone(),
        role: current.role().as_str(),
        via_sso: current.method == Method::Sso,
        sees_all,
        projects,
        last_login: current.user.last_login_at.map(format_time),
    };
    Ok(render(&page))
}
