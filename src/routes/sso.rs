//! The three SSO entry points. They only carry the token from the request
//! to [`crate::sso::provision::sign_in`] and turn the outcome into a 303
//! with a fresh session, or a refusal page (JSON when preferred).

use std::sync::Arc;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, Accept};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};

use crate::auth::extract::COMPANY_COOKIE;
use crate::auth::session::{self, Method};
use crate::db;
use crate::db::models::NewSession;
use crate::error::AppError;
use crate::sso::provision::{self, CachedDirectory, LoadingDirectory};
use crate::sso::rules::{self, Verified};
use crate::sso::{Context, Failure, Reason, Refusal};
use crate::state::AppState;
use crate::views::{SsoErrorPage, format_time_seconds, render_with_status, see_other};

/// The token and return path, wherever they came from.
#[derive(Default)]
struct Params {
    token: Option<String>,
    return_to: Option<String>,
}

impl Params {
    /// Reads url-encoded pairs; the first `token` and `return_to` win.
    /// Unreadable input yields no token rather than an error page of actix's.
    fn from_urlencoded(input: &[u8]) -> Params {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(input).unwrap_or_default();
        let mut params = Params::default();
        for (key, value) in pairs {
            match key.as_str() {
                "token" if params.token.is_none() => params.token = Some(value),
                "return_to" if params.return_to.is_none() => params.return_to = Some(value),
                _ => {}
            }
        }
        params
    }
}

/// `GET /api/auth/sso?token=…&return_to=…` — the Issuely form.
pub async fn sso_get(req: HttpRequest, session: Session) -> HttpResponse {
    let params = Params::from_urlencoded(req.query_string().as_bytes());
    sign_in(&req, &session, params).await
}

/// `POST /api/auth/sso` with form fields `token` and `return_to`. No CSRF
/// check: the signed token is the proof. A token over 8 KiB is refused by
/// the rules (`token_malformed`); a body over actix's 256 KiB limit, with 413.
pub async fn sso_post(req: HttpRequest, session: Session, body: web::Bytes) -> HttpResponse {
    sign_in(&req, &session, Params::from_urlencoded(&body)).await
}

/// `GET /login/{token}` — the Invoiced form (`?return_to=` accepted too).
pub async fn login_token_get(req: HttpRequest, session: Session) -> HttpResponse {
    let mut params = Params::from_urlencoded(req.query_string().as_bytes());
    params.token = Some(req.match_info().query("token").to_owned());
    sign_in(&req, &session, params).await
}

async fn sign_in(req: &HttpRequest, session: &Session, params: Params) -> HttpResponse {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return HttpResponse::InternalServerError().finish();
    };
    let ip = state.client_ip(req).map(|ip| ip.to_string());
    let now = db::now();
    let outcome = match verify(&state, params.token, now).await {
        Ok(verified) => {
            // What the write phase reads is made here and shared with it,
            // and what it answers for an admitted sign-in is plain numbers,
            // so that each thread frees only what it allocated. (A value allocated by one
            // thread and freed by another takes glibc's lock of the first
            // thread's arena while that thread allocates in it: see
            // docs/PERFORMANCE.md, "The ceiling of a sign-in".)
            let input = Arc::new(SignInInput {
                // The row of the session to start (its user is known once
                // admitted), in place of the one this browser held.
                row: state.session_row(req, 0, Method::Sso, now),
                ip: ip.clone(),
                verified,
            });
            let previous = session::auth(session, now).map(|a| a.row());
            let shared = input.clone();
            state
                .writer
                .submit_for(provision::wanted(&input.verified), move |tx, batch| {
                    let input = &*shared;
                    let admitted = provision::admit_and_apply(
                        tx,
                        batch,
                        &input.verified,
                        now,
                        input.ip.as_deref(),
                    )?;
                    let user = match admitted {
                        Ok(user) => user,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                    // The session's row is written with the sign-in.
                    let row = NewSession {
                        user_id: user.id,
                        ..input.row.clone()
                    };
                    let session_id = batch.new_session(tx, row, previous)?;
                    Ok(Ok(Started {
                        user_id: user.id,
                        epoch: user.session_epoch,
                        session_id,
                    }))
                })
                .await
                .map_err(Failure::Store)
                .and_then(|admitted| admitted.map_err(Failure::Refused))
                .map(|started| (started, input))
        }
        Err(Failure::Refused(refusal)) => {
            // Checks 1–9 refused it: only the audit event is written.
            if let Some(event) = provision::refusal_event(&refusal, now, ip.as_deref()) {
                let recorded = state.writer.submit(move |tx, _| event.insert(tx)).await;
                if let Err(e) = recorded {
                    log::warn!("could not record an SSO event: {e}");
                }
            }
            Err(Failure::Refused(refusal))
        }
        Err(store) => Err(store),
    };

    // A refusal leaves the session the browser held as it was: a bad link
    // signs nobody out.
    let response = match outcome {
        Ok((started, input)) => {
            // Not put in the cache here: a sign-in is often not followed by
            // a page on this connection soon, and an insert into the cache
            // per sign-in cost ~10 % of the sign-in's throughput; the first
            // page reads the session once.
            match session::begin(
                session,
                started.user_id,
                started.epoch,
                Method::Sso,
                now,
                started.session_id,
            ) {
                Ok(()) => {
                    let mut res = see_other(
                        safe_return_to(params.return_to.as_deref()).unwrap_or("/dashboard"),
                    );
                    let cookie = company_cookie(&input.verified.company.public_id, &state.base_url);
                    if let Err(e) = res.add_cookie(&cookie) {
                        log::warn!("could not set the company cookie: {e}");
                    }
                    res
                }
                Err(e) => actix_web::ResponseError::error_response(&AppError::from(e)),
            }
        }
        Err(Failure::Refused(refusal)) => refused(req, &refusal, now),
        Err(Failure::Store(e)) => actix_web::ResponseError::error_response(&AppError::Db(e)),
        // Only the cache's directory misses, and its miss is retried.
        Err(Failure::NotCached) => actix_web::ResponseError::error_response(&AppError::Internal(
            "the sign-in directory did not answer".into(),
        )),
    };
    with_sso_headers(response)
}

/// What the write phase of a sign-in reads: made by the HTTP worker, which
/// also drops it last.
struct SignInInput {
    verified: Verified,
    ip: Option<String>,
    row: NewSession,
}

/// What the write phase of a sign-in answers: the session it started.
struct Started {
    user_id: i64,
    epoch: i64,
    session_id: i64,
}

/// Checks 1–9: from the cache on this worker when it holds the company, else
/// from the database on the blocking pool. A signature that matches none of
/// the cached secrets is tried again against the database's: the company
/// may have a new secret, made by another process.
async fn verify(
    state: &web::Data<AppState>,
    token: Option<String>,
    now: i64,
) -> Result<Verified, Failure> {
    let ctx = Context {
        now,
        base_url: &state.base_url,
    };
    match rules::verify(token.as_deref(), &ctx, &mut CachedDirectory(&state.cache)) {
        Err(Failure::NotCached) => {}
        Err(Failure::Refused(r)) if r.reason == Reason::BadSignature => {}
        fast => return fast,
    }
    let (cache, base_url) = (state.cache.clone(), state.base_url.clone());
    state
        .db
        .read(move |conn| {
            let ctx = Context {
                now,
                base_url: &base_url,
            };
            let mut directory = LoadingDirectory::new(&cache, conn);
            Ok(rules::verify(token.as_deref(), &ctx, &mut directory))
        })
        .await
        .unwrap_or_else(|e| Err(Failure::Store(e)))
}

/// `portico_company`: the company's public id (not secret), one year,
/// HttpOnly, SameSite=Lax, Secure when the portal is served over https.
pub fn company_cookie<'a>(public_id: &'a str, base_url: &str) -> Cookie<'a> {
    Cookie::build(COMPANY_COOKIE, public_id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(base_url.starts_with("https://"))
        .max_age(CookieDuration::days(365))
        .finish()
}

fn with_sso_headers(mut res: HttpResponse) -> HttpResponse {
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

/// A same-site path to land on: one leading `/`, no scheme, no `//`, no
/// backslash, no control characters.
pub fn safe_return_to(path: Option<&str>) -> Option<&str> {
    let path = path?;
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains("://")
        && path.len() <= 2048
        && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    safe.then_some(path)
}

#[derive(Serialize)]
struct RefusalJson<'a> {
    error: &'a str,
    message: String,
}

/// True when the request prefers `application/json` to HTML.
fn prefers_json(req: &HttpRequest) -> bool {
    let Ok(accept) = <web::Header<Accept> as actix_web::FromRequest>::extract(req).into_inner()
    else {
        return false;
    };
    let preferred = accept.preference();
    preferred.type_() == "application" && preferred.subtype() == "json"
}

fn refused(req: &HttpRequest, refusal: &Refusal, now: i64) -> HttpResponse {
    let reason = refusal.reason;
    let status = StatusCode::from_u16(reason.status()).unwrap_or(StatusCode::BAD_REQUEST);
    if prefers_json(req) {
        return HttpResponse::build(status).json(RefusalJson {
            error: reason.code(),
            message: format!("{} {}", reason.headline(), refusal.detail),
        });
    }
    let page = SsoErrorPage {
        layout: Default::default(),
        status: status.as_u16(),
        code: reason.code(),
        headline: reason.headline(),
        advice: reason.advice(),
        detail: &refusal.detail,
        hint: reason.hint(),
        server_time: format_time_seconds(now),
        server_unix: now,
        back_url: refusal
            .company
            .as_ref()
            .and_then(|c| c.signout_url.as_deref()),
        signin_url: refusal
            .company
            .as_ref()
            .and_then(|c| c.signin_url.as_deref()),
    };
    render_with_status(status, &page)
        .unwrap_or_else(|e| actix_web::ResponseError::error_response(&AppError::from(e)))
}
