//! Password sign-in (`/login`) and company sign-up (`/signup`) for admins.
//! argon2id runs on the hashing threads; sign-in is throttled with device
//! cookies (`crate::auth::throttle`), sign-up per client network; an
//! unknown email, a wrong password and a disabled account get the same
//! words and the same work (a dummy hash is verified), except in the
//! account's own browser.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{anonymous_layout, done};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{self, FlashKind, Method};
use crate::auth::{device, password};
use crate::db;
use crate::db::models::{Company, NewAdmin, NewSession, Role, User};
use crate::error::AppError;
use crate::input::{clean_name, display_name, normalize_email};
use crate::state::AppState;
use crate::views::{Layout, render, render_with_status, see_other};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub email: String,
    pub error: Option<String>,
    pub allow_signup: bool,
}

#[derive(Default)]
pub struct SignupErrors {
    pub company: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

impl SignupErrors {
    fn any(&self) -> bool {
        self.company.is_some()
            || self.name.is_some()
            || self.email.is_some()
            || self.password.is_some()
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub layout: Layout,
    pub company: String,
    pub name: String,
    pub email: String,
    pub errors: SignupErrors,
}

fn too_many(retry_after: u64) -> AppError {
    AppError::TooManyRequests { retry_after }
}

/// `GET /login`.
pub async fn login_get(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(render(&LoginPage {
        layout: anonymous_layout(&session)?,
        email: String::new(),
        error: None,
        allow_signup: state.allow_signup,
    })?)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

enum Outcome {
    SignedIn(User, i64),
    Refused,
    Disabled,
}

/// `POST /login`.
pub async fn login_post(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let email = form.email.trim().to_ascii_lowercase();
    // Only an address that could be an account is counted (and kept as a
    // throttle key): anything else is refused like a wrong password, after
    // the network's allowance, without hashing.
    let plausible = normalize_email(&email).is_ok();
    // The browser's own device cookie for this account, if it holds one:
    // its attempts are counted apart from everyone else's.
    let device = plausible
        .then(|| device::nonce_for(&req, &state.cookie_key, &email, db::now()))
        .flatten();
    state
        .throttle
        .check_login(
            &state.db,
            plausible.then_some(email.as_str()),
            state.client_ip(&req),
            device.as_deref(),
        )
        .await?
        .map_err(too_many)?;
    let password = form.password;
    let lookup = email.clone();
    let user = if plausible {
        state
            .db
            .read(move |conn| User::find_by_email(conn, &lookup))
            .await?
    } else {
        None
    };
    // Over-long input is refused after the same work as a wrong password;
    // an unknown email is checked against a dummy hash, for the same time.
    let candidate = if password.chars().count() > password::MAX_LEN {
        String::new()
    } else {
        password
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = state
        .hasher
        .verify(candidate, stored, device.is_some())
        .await?;
    let outcome = match user {
        // "Disabled" is said only to the browser that signed in to this
        // account before (its device cookie): to anyone else it would
        // confirm the password.
        Some(user) if matches && user.disabled && device.is_some() => Outcome::Disabled,
        Some(user) if user.disabled => Outcome::Refused,
        Some(user) if matches => {
            let row = state.session_row(&req, user.id, Method::Password, db::now());
            let previous = session::auth(&session, db::now()).map(|a| a.row());
            let live = state
                .db
                .write(move |tx| {
                    User::record_login(tx, row.user_id, Method::Password, row.created_at)?;
                    row.insert_replacing(tx, previous)
                })
                .await?;
            state.cache.started(&live);
            Outcome::SignedIn(user, live.id)
        }
        _ => Outcome::Refused,
    };
    let error = match outcome {
        Outcome::SignedIn(user, sid) => {
            session::begin(
                &session,
                user.id,
                user.session_epoch,
                Method::Password,
                db::now(),
                sid,
            )?;
            let to = if user.role() == Role::Admin {
                "/settings/sso"
            } else {
                "/dashboard"
            };
            let mut res = see_other(to);
            let secure = state.base_url.starts_with("https://");
            let cookie = device::issue(&state.cookie_key, &user.email, db::now(), secure);
            if let Err(e) = res.add_cookie(&cookie) {
                log::warn!("could not set the device cookie: {e}");
            }
            return Ok(res);
        }
        Outcome::Refused => "The email or the password is incorrect.",
        Outcome::Disabled => {
            "This account is disabled. Ask another admin of your company to enable it."
        }
    };
    Ok(render_with_status(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            layout: anonymous_layout(&session)?,
            email,
            error: Some(error.to_owned()),
            allow_signup: state.allow_signup,
        },
    )?)
}

fn signup_off() -> AppError {
    AppError::NotFoundWith(
        "Sign-up is turned off on this portal. Ask its operator for an account.".into(),
    )
}

/// `GET /signup`.
pub async fn signup_get(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if !state.allow_signup {
        return Err(signup_off());
    }
    Ok(render(&SignupPage {
        layout: anonymous_layout(&session)?,
        company: String::new(),
        name: String::new(),
        email: String::new(),
        errors: SignupErrors::default(),
    })?)
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    company: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /signup`: a company and its first admin, signed in.
pub async fn signup_post(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<HttpResponse, AppError> {
    if !state.allow_signup {
        return Err(signup_off());
    }
    state
        .throttle
        .check_signup(&state.db, state.client_ip(&req))
        .await?
        .map_err(too_many)?;
    let mut errors = SignupErrors::default();
    let company = clean_name(&form.company, "company")
        .map_err(|e| errors.company = Some(capitalise(&e)))
        .ok();
    let email = normalize_email(&form.email)
        .map_err(|why| errors.email = Some(format!("Enter a valid email address: {why}.")))
        .ok();
    let name = form.name.trim();
    if name.chars().count() > 100 {
        errors.name = Some("Your name must be at most 100 characters.".into());
    }
    if let Err(e) = password::check_policy(&form.password) {
        errors.password = Some(e);
    }
    let retry = |errors: SignupErrors, status: StatusCode| -> Result<HttpResponse, AppError> {
        Ok(render_with_status(
            status,
            &SignupPage {
                layout: anonymous_layout(&session)?,
                company: form.company.clone(),
                name: form.name.clone(),
                email: form.email.clone(),
                errors,
            },
        )?)
    };
    let (Some(company), Some(email), false) = (company, email, errors.any()) else {
        return retry(errors, StatusCode::BAD_REQUEST);
    };
    let admin_name = display_name(Some(name), &email);
    let hash = state.hasher.hash(form.password.clone()).await?;
    let row = state.session_row(&req, 0, Method::Password, db::now());
    let previous = session::auth(&session, db::now()).map(|a| a.row());
    let created = state
        .db
        .write(move |tx| {
            let admin = NewAdmin {
                email: &email,
                name: &admin_name,
                password_hash: Some(&hash),
                signed_in_by: Some(Method::Password),
            };
            let Some((_, admin)) = Company::create_with_admin(tx, &company, admin, db::now())?
            else {
                return Ok(None);
            };
            let row = NewSession {
                user_id: admin.id,
                ..row
            };
            Ok(Some((admin, row.insert_replacing(tx, previous)?)))
        })
        .await?;
    let Some((admin, live)) = created else {
        errors.email = Some("This email already has an account. Sign in instead.".into());
        return retry(errors, StatusCode::CONFLICT);
    };
    state.cache.started(&live);
    session::begin(
        &session,
        admin.id,
        admin.session_epoch,
        Method::Password,
        db::now(),
        live.id,
    )?;
    Ok(done(
        &session,
        "/settings/sso",
        FlashKind::Ok,
        "Your company is ready. Generate its SSO secret to connect your app.",
    ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}
