//! Extractors that make "who may call this" part of a handler's signature.
//! Each checks, on every request, that the session's row still exists (it
//! was not signed out or ended), and that its user still exists, is not
//! disabled and still has the session's epoch.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::session::{self, Method};
use crate::cache::{CompanyEntry, Fill, SessionEntry};
use crate::db::models::{Company, LiveSession, Role, SsoSecret, User};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::state::AppState;

/// A signed-in user of any role, however they signed in.
pub struct CurrentUser {
    pub user: Arc<User>,
    pub company: Arc<Company>,
    pub method: Method,
    /// The session's row on the server.
    pub sid: i64,
    pub session: Session,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// Settings need an admin who signed in with a password; an SSO
    /// session never opens them, whatever its role.
    pub fn may_open_settings(&self) -> bool {
        self.role() == Role::Admin && self.method == Method::Password
    }
}

/// The user and their company when the session `auth` names is live (its
/// row exists and has not expired, for this user), from the cache or else
/// from the database in one read (filling the cache). Invalidations keep
/// the cache exact for what this process changes: see `crate::cache`.
async fn resolve(
    state: &web::Data<AppState>,
    auth: &session::Auth,
    now: i64,
) -> Result<Option<(Arc<User>, Arc<Company>)>, AppError> {
    let (uid, sid) = (auth.uid, auth.sid);
    let cached_user = state.cache.user(uid);
    let cached_company = cached_user
        .as_ref()
        .and_then(|u| state.cache.company(u.company_id));
    let cached_session = state.cache.session(sid);
    if let (Some(user), Some(entry), Some(live)) = (&cached_user, cached_company, cached_session) {
        let live = live.user_id == uid && live.expires_at > now;
        return Ok(live.then(|| (user.clone(), entry.company.clone())));
    }
    let cache = state.cache.clone();
    Ok(state
        .db
        .read(move |conn| {
            let generation = cache.generation();
            let Some(live) = LiveSession::find(conn, sid, uid, now)? else {
                return Ok::<_, DbError>(None);
            };
            let Some(user) = User::find(conn, uid)? else {
                return Ok(None);
            };
            let Some(company) = Company::find(conn, user.company_id)? else {
                return Ok(None);
            };
            let secrets = SsoSecret::usable(conn, company.id, db::now())?;
            let company = Arc::new(company);
            cache.fill(
                generation,
                Fill::Session(
                    SessionEntry {
                        user_id: live.data.user_id,
                        expires_at: live.data.expires_at,
                    },
                    live.id,
                ),
            );
            cache.fill(generation, Fill::User(user.clone()));
            cache.fill(
                generation,
                Fill::Company(CompanyEntry {
                    company: company.clone(),
                    secrets,
                }),
            );
            Ok(Some((Arc::new(user), company)))
        })
        .await?)
}

/// The cookie that remembers a browser's company (its public id) for the
/// sign-in redirect: set at every SSO sign-in; not secret.
pub const COMPANY_COOKIE: &str = "portico_company";

/// Where a visitor without a session goes: the company's sign-in URL with
/// `return_to` = the path asked for, when the company is known (the
/// `company` query parameter, else the `portico_company` cookie) and has
/// one; else Portico's `/login`.
pub async fn sign_in_required(req: &HttpRequest, state: &AppState) -> AppError {
    let from_query = web::Query::<CompanyParam>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().company);
    let public_id = from_query.or_else(|| req.cookie(COMPANY_COOKIE).map(|c| c.value().to_owned()));
    let Some(public_id) = public_id.filter(|id| id.starts_with("cmp_") && id.len() <= 64) else {
        return AppError::SignInRequired;
    };
    let signin_url = match state.cache.company_by_public_id(&public_id) {
        Some(entry) => entry.company.signin_url.clone(),
        None => state
            .db
            .read(move |conn| Company::find_by_public_id(conn, &public_id))
            .await
            .ok()
            .flatten()
            .and_then(|c| c.signin_url),
    };
    let Some(url) = signin_url else {
        return AppError::SignInRequired;
    };
    let asked = match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => req.path().to_owned(),
    };
    let joiner = if url.contains('?') { '&' } else { '?' };
    let return_to =
        percent_encoding::utf8_percent_encode(&asked, percent_encoding::NON_ALPHANUMERIC);
    AppError::SignInAt(format!("{url}{joiner}return_to={return_to}"))
}

#[derive(serde::Deserialize)]
struct CompanyParam {
    company: Option<String>,
}

async fn load(req: HttpRequest) -> Result<CurrentUser, AppError> {
    let session = req.get_session();
    let now = db::now();
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal("application state missing".into()))?;
    let Some(auth) = session::auth(&session, now) else {
        return Err(sign_in_required(&req, state).await);
    };
    match resolve(state, &auth, now).await? {
        Some((user, company)) if !user.disabled && user.session_epoch == auth.epoch => {
            Ok(CurrentUser {
                user,
                company,
                method: auth.method,
                sid: auth.sid,
                session,
            })
        }
        _ => {
            session::end(&session);
            Err(sign_in_required(&req, state).await)
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}

/// A company admin who signed in with a password: the only one who may
/// open Settings. Everything of [`CurrentUser`] is reachable through it.
pub struct AdminUser(CurrentUser);

impl std::ops::Deref for AdminUser {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let current = load(req).await?;
            if !current.may_open_settings() {
                let why = if current.role() == Role::Admin {
                    "Settings need a password sign-in. Sign out, then sign in with your email and password."
                } else {
                    "Only company admins can open Settings."
                };
                return Err(AppError::Forbidden(why.into()));
            }
            Ok(AdminUser(current))
        })
    }
}
