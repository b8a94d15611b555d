//! Settings → People: the company's users with role, sign-in method and
//! last sign-in; change CUSTOMER ↔ AGENT, disable / enable, sign out
//! everywhere, and each person's live sessions, which can be ended one by
//! one. The last active admin can never be locked out.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Nav;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::extract::AdminUser;
use crate::auth::session::FlashKind;
use crate::db::models::{LiveSession, Method, Role, User};
use crate::db::{DbError, Tx};
use crate::error::AppError;
use crate::routes::{done, layout};
use crate::state::AppState;
use crate::views::{Layout, format_time, render_with_status};

const PER_PAGE: i64 = 50;
const PAGE: &str = "/settings/people";

pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub is_self: bool,
    pub disabled: bool,
    pub method: &'static str,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "settings/people.html")]
pub struct PeoplePage {
    pub layout: Layout,
    pub nav: Nav,
    pub people: Vec<PersonRow>,
    pub q: String,
    pub page: i64,
    pub total: i64,
    pub pages: i64,
}

#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

/// `GET /settings/people?q=&page=`.
pub async fn people_get(
    admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.trim().chars().take(100).collect::<String>();
    let page = query.page.unwrap_or(1).max(1);
    let company_id = admin.company.id;
    let search = (!q.is_empty()).then(|| q.clone());
    let (users, total) = state
        .db
        .read(move |conn| {
            User::list_for_company(
                conn,
                company_id,
                search.as_deref(),
                PER_PAGE,
                (page - 1) * PER_PAGE,
            )
        })
        .await?;
    let me = admin.user.id;
    let people = users
        .into_iter()
        .map(|u| PersonRow {
            role: u.role().as_str(),
            is_admin: u.role() == Role::Admin,
            is_self: u.id == me,
            id: u.id,
            name: u.name,
            email: u.email,
            disabled: u.disabled,
            method: match u.last_login_method {
                Some(Method::Sso) => "through SSO",
                Some(Method::Password) => "with a password",
                None => "",
            },
            last_login: u
                .last_login_at
                .map(format_time)
                .unwrap_or_else(|| "Never".into()),
        })
        .collect();
    Ok(render_with_status(
        StatusCode::OK,
        &PeoplePage {
            layout: layout(&admin)?,
            nav: Nav::People,
            people,
            q,
            page,
            total,
            pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        },
    )?)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

enum Change {
    Done(String),
    Refused(String),
}

/// Applies `f` to a user of the admin's company, in one transaction. The
/// model functions `f` calls tell the cache what changed.
async fn change(
    state: &AppState,
    admin: &AdminUser,
    user_id: i64,
    f: impl FnOnce(&mut Tx<'_>, &User) -> Result<Change, DbError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let company_id = admin.company.id;
    let outcome = state
        .db
        .write(
            move |tx| match User::find_in_company(tx.read(), company_id, user_id)? {
                Some(user) => f(tx, &user).map(Some),
                None => Ok(None),
            },
        )
        .await?;
    match outcome {
        Some(Change::Done(text)) => Ok(done(&admin.session, PAGE, FlashKind::Ok, text)),
        Some(Change::Refused(text)) => Ok(done(&admin.session, PAGE, FlashKind::Error, text)),
        None => Err(AppError::NotFound),
    }
}

/// `POST /settings/people/{id}/role`: CUSTOMER ↔ AGENT.
pub async fn role_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse_assignable(&form.role)
        .ok_or_else(|| AppError::BadRequest("The role must be CUSTOMER or AGENT.".into()))?;
    change(&state, &admin, path.into_inner(), move |tx, user| {
        if user.role() == Role::Admin {
            return Ok(Change::Refused(format!(
                "{} is an admin; an admin's role is not changed here.",
                user.email
            )));
        }
        User::set_role(tx, user, role)?;
        Ok(Change::Done(format!(
            "{} is now {}.",
            user.email,
            role.as_str()
        )))
    })
    .await
}

/// The buttons of a person's row that need no other field.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Disable,
    Enable,
    /// Bumps the session epoch, so every existing cookie of that user stops
    /// working at once.
    SignOut,
}

/// `POST /settings/people/{id}/{disable|enable|sign-out}`.
pub async fn action_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, Action)>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (user_id, action) = path.into_inner();
    let me = admin.user.id;
    change(&state, &admin, user_id, move |tx, user| match action {
        Action::Disable => {
            if user.id == me {
                return Ok(Change::Refused(
                    "You cannot disable your own account.".into(),
                ));
            }
            if user.role() == Role::Admin
                && !user.disabled
                && User::count_active_admins(tx.read(), user.company_id)? <= 1
            {
                return Ok(Change::Refused(
                    "The last active admin cannot be disabled.".into(),
                ));
            }
            User::set_disabled(tx, user, true)?;
            Ok(Change::Done(format!(
                "{} is disabled: their sessions ended and sign-ins are refused.",
                user.email
            )))
        }
        Action::Enable => {
            User::set_disabled(tx, user, false)?;
            Ok(Change::Done(format!("{} is enabled again.", user.email)))
        }
        Action::SignOut => {
            User::bump_session_epoch(tx, user.id)?;
            Ok(Change::Done(format!(
                "{} was signed out everywhere.",
                user.email
            )))
        }
    })
    .await
}

pub struct SessionRow {
    pub id: i64,
    pub started: String,
    pub method: &'static str,
    pub ip: String,
    pub browser: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "settings/sessions.html")]
pub struct SessionsPage {
    pub layout: Layout,
    pub nav: Nav,
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub sessions: Vec<SessionRow>,
}

/// `GET /settings/people/{id}/sessions`: a person's live sessions (when
/// and how each started, from which address and browser), each with an
/// *End* button.
pub async fn sessions_get(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (company_id, user_id) = (admin.company.id, path.into_inner());
    let found = state
        .db
        .read(move |conn| {
            let Some(user) = User::find_in_company(conn, company_id, user_id)? else {
                return Ok::<_, DbError>(None);
            };
            let sessions = LiveSession::list_of(conn, user.id, crate::db::now())?;
            Ok(Some((user, sessions)))
        })
        .await?;
    let Some((user, sessions)) = found else {
        return Err(AppError::NotFound);
    };
    let sessions = sessions
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == admin.sid,
            id: s.id,
            started: format_time(s.data.created_at),
            method: match s.data.method {
                Method::Sso => "SSO",
                Method::Password => "Password",
            },
            ip: s.data.ip.unwrap_or_default(),
            browser: s.data.user_agent.unwrap_or_default(),
        })
        .collect();
    Ok(render_with_status(
        StatusCode::OK,
        &SessionsPage {
            layout: layout(&admin)?,
            nav: Nav::People,
            person_id: user.id,
            name: user.name,
            email: user.email,
            sessions,
        },
    )?)
}

/// `POST /settings/people/{id}/sessions/{sid}/end`: ends one session of a
/// person of the admin's company; its cookie opens nothing afterwards.
pub async fn session_end_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (user_id, sid) = path.into_inner();
    let company_id = admin.company.id;
    let ended = state
        .db
        .write(move |tx| {
            if User::find_in_company(tx.read(), company_id, user_id)?.is_none() {
                return Ok(None);
            }
            LiveSession::end(tx, sid, user_id).map(Some)
        })
        .await?;
    let back = format!("{PAGE}/{user_id}/sessions");
    match ended {
        None => Err(AppError::NotFound),
        Some(true) => Ok(done(
            &admin.session,
            &back,
            FlashKind::Ok,
            "The session ended.",
        )),
        Some(false) => Ok(done(
            &admin.session,
            &back,
            FlashKind::Warn,
            "That session had already ended.",
        )),
    }
}
