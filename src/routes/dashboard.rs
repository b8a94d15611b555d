//! The landing page of every signed-in user, and `/`.

use std::sync::Arc;

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{layout, requests};
use crate::auth::CurrentUser;
use crate::auth::extract::sign_in_required;
use crate::auth::session::{self, Method};
use crate::cache::Fill;
use crate::db::models::{Project, Request, Viewer};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{DashboardPage, ProjectView, format_time, render, see_other};

/// `GET /`: signed-in users to their dashboard, others to the sign-in page
/// (the company's, when the browser's company has one).
pub async fn root_get(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if session::auth(&session, db::now()).is_some() {
        return Ok(see_other("/dashboard"));
    }
    Err(sign_in_required(&req, &state).await)
}

/// The company's projects and the ids of those the user belongs to, from
/// the cache or else from the database (filling the cache).
async fn projects_of(
    state: &web::Data<AppState>,
    company_id: i64,
    user_id: i64,
) -> Result<(Arc<Vec<Project>>, Arc<Vec<i64>>), AppError> {
    if let (Some(projects), Some(member_of)) = (
        state.cache.projects(company_id),
        state.cache.memberships(user_id),
    ) {
        return Ok((projects, member_of));
    }
    let cache = state.cache.clone();
    Ok(state
        .db
        .read(move |conn| {
            let generation = cache.generation();
            let projects = Arc::new(Project::list_for_company(conn, company_id)?);
            let member_of = Arc::new(Project::ids_for_member(conn, user_id)?);
            cache.fill(generation, Fill::Projects(company_id, projects.clone()));
            cache.fill(generation, Fill::Memberships(user_id, member_of.clone()));
            Ok::<_, DbError>((projects, member_of))
        })
        .await?)
}

/// A customer's dashboard lists at most this many of their open requests.
const DASHBOARD_REQUESTS: i64 = 10;

/// `GET /dashboard`.
pub async fn dashboard_get(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let sees_all = current.role().sees_all_projects();
    let (projects, member_of) = projects_of(&state, current.company.id, current.user.id).await?;
    let projects_view = projects
        .iter()
        .filter(|p| sees_all || member_of.contains(&p.id))
        .map(|p| ProjectView {
            member: member_of.contains(&p.id),
            public_id: p.public_id.clone(),
            name: p.name.clone(),
        })
        .collect();
    let viewer = Viewer::of(&current.user);
    // Staff see the queue's counts instead: they change with every request
    // of the company, and are read each time.
    let cached = (!viewer.staff)
        .then(|| state.cache.open_requests(viewer.user_id))
        .flatten();
    let (queue, open) = match cached {
        Some(open) => (None, open),
        None => {
            let cache = state.cache.clone();
            state
                .db
                .read(move |conn| {
                    if viewer.staff {
                        let counts = Request::queue_counts(conn, &viewer)?;
                        return Ok::<_, DbError>((Some(counts), Arc::default()));
                    }
                    let generation = cache.generation();
                    let open = Arc::new(Request::open_of_requester(
                        conn,
                        viewer.user_id,
                        DASHBOARD_REQUESTS,
                    )?);
                    cache.fill(generation, Fill::OpenRequests(viewer.user_id, open.clone()));
                    Ok((None, open))
                })
                .await?
        }
    };
    let open_requests = open
        .iter()
        .map(|(r, seen)| requests::own_row(r, *seen))
        .collect();
    let page = DashboardPage {
        layout: layout(&current)?,
        name: current.user.name.clone(),
        email: current.user.email.clone(),
        company: current.company.name.clone(),
        company_id: current.company.public_id.clone(),
        role: current.role().as_str(),
        via_sso: current.method == Method::Sso,
        sees_all,
        projects: projects_view,
        last_login: current.user.last_login_at.map(format_time),
        queue,
        open_requests,
    };
    Ok(render(&page)?)
}
