//! Settings → SSO: the company ID, the secret (generate, rotate with a
//! grace period, revoke), the token rules, snippets, the test-link maker,
//! the token checker and the recent sign-in events.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::done;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::extract::AdminUser;
use crate::db::models::{Company, Project, SsoEvent, SsoSecret, random_alphanumeric};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::sso::mint::{self, LinkClaims};
use crate::sso::rules::{self, Context, Identity};
use crate::sso::{Failure, provision, token};
use crate::startup::AppState;
use crate::views::{Layout, format_time, format_time_seconds, render_with_status};

/// How many events the page lists.
const EVENTS_SHOWN: i64 = 50;
/// Test links live five minutes.
const TEST_LINK_TTL: i64 = 300;
/// The grace periods offered when rotating, in seconds.
const GRACE_CHOICES: [i64; 3] = [0, 3600, 86_400];
const REVEAL_KEY: &str = "reveal_secret";

pub struct SecretView {
    pub created: String,
    pub last4: String,
    pub last_used: Option<String>,
    /// For a previous secret: when it stops working.
    pub until: Option<String>,
}

impl SecretView {
    fn of(s: &SsoSecret) -> SecretView {
        SecretView {
            created: format_time(s.created_at),
            last4: s.last4().to_owned(),
            last_used: s.last_used_at.map(format_time),
            until: s.expires_at.map(format_time),
        }
    }
}

pub struct Snippet {
    pub id: &'static str,
    pub label: &'static str,
    pub code: String,
}

pub struct EventView {
    pub time: String,
    pub outcome: String,
    pub ok: bool,
    pub subject: String,
    pub ip: String,
    pub iss: String,
}

#[derive(Default)]
pub struct TestLinkView {
    pub email: String,
    pub name: String,
    pub role: String,
    pub project: String,
    pub link: Option<String>,
    pub error: Option<String>,
}

pub struct CheckView {
    pub header: Option<String>,
    pub claims: Option<String>,
    pub ok: bool,
    pub code: &'static str,
    pub status: u16,
    pub summary: String,
    pub detail: String,
    pub hint: &'static str,
}

#[derive(Template)]
#[template(path = "settings/sso.html")]
pub struct SsoSettingsPage {
    pub layout: Layout,
    pub nav: &'static str,
    pub company_id: String,
    pub base_url: String,
    pub current: Option<SecretView>,
    pub previous: Option<SecretView>,
    /// A secret just generated: shown this once.
    pub revealed: Option<String>,
    pub max_token_lifetime: i64,
    pub signout_url: String,
    pub options_error: Option<String>,
    pub snippets: Vec<Snippet>,
    pub projects: Vec<Project>,
    pub test: TestLinkView,
    pub check: Option<CheckView>,
    pub server_time: String,
    pub events: Vec<EventView>,
}

/// The snippets are the very files `scripts/interop.sh` runs against a live
/// server with each library (the .NET one excepted: no SDK here; its token
/// shape is tested instead), so what an admin pastes is what was tested.
const SNIPPETS: [(&str, &str, &str); 6] = [
    (
        "node",
        "Node.js",
        include_str!("../../../scripts/interop/node/portico-sso.js"),
    ),
    (
        "php",
        "PHP",
        include_str!("../../../scripts/interop/php/portico-sso.php"),
    ),
    (
        "python",
        "Python",
        include_str!("../../../scripts/interop/python/portico_sso.py"),
    ),
    (
        "dotnet",
        ".NET",
        include_str!("../../../scripts/interop/dotnet/PorticoSso.cs"),
    ),
    (
        "ruby",
        "Ruby",
        include_str!("../../../scripts/interop/ruby/portico_sso.rb"),
    ),
    (
        "curl",
        "curl",
        include_str!("../../../scripts/interop/shell/portico-sso.sh"),
    ),
];

/// The snippets, filled with this company's ID and this server's URL.
pub fn snippets(company_id: &str, base_url: &str) -> Vec<Snippet> {
    SNIPPETS
        .iter()
        .map(|(id, label, code)| Snippet {
            id,
            label,
            code: code
                .replace("{{COMPANY_ID}}", company_id)
                .replace("{{BASE_URL}}", base_url),
        })
        .collect()
}

/// Everything the page shows, read in one database hop.
async fn page(state: &AppState, admin: &AdminUser) -> Result<SsoSettingsPage, AppError> {
    Ok(page_and_secret(state, admin).await?.0)
}

/// The page, and the current secret it was read with (never rendered): the
/// test-link maker signs with it without reading it again.
async fn page_and_secret(
    state: &AppState,
    admin: &AdminUser,
) -> Result<(SsoSettingsPage, Option<SsoSecret>), AppError> {
    let company_id = admin.0.company.id;
    let now = db::now();
    let (company, secrets, events, projects) = db::run(&state.pool, move |conn| {
        let company = Company::find(conn, company_id)?;
        let secrets = SsoSecret::usable(conn, company_id, now)?;
        let events = SsoEvent::recent(conn, company_id, EVENTS_SHOWN)?;
        let projects = Project::list_for_company(conn, company_id)?;
        Ok::<_, DbError>((company, secrets, events, projects))
    })
    .await?;
    let company = company.ok_or(AppError::SignInRequired)?;
    let current_secret = secrets.iter().find(|s| s.is_current()).cloned();
    let current = current_secret.as_ref().map(SecretView::of);
    let previous = secrets.iter().find(|s| !s.is_current()).map(SecretView::of);
    let session = &admin.0.session;
    let revealed = session.remove_as::<String>(REVEAL_KEY).and_then(Result::ok);
    Ok((
        SsoSettingsPage {
            layout: admin.0.layout()?,
            nav: "sso",
            snippets: snippets(&company.public_id, &state.base_url),
            company_id: company.public_id,
            base_url: state.base_url.clone(),
            current,
            previous,
            revealed,
            max_token_lifetime: company.max_token_lifetime,
            signout_url: company.signout_url.unwrap_or_default(),
            options_error: None,
            projects,
            test: TestLinkView::default(),
            check: None,
            server_time: format_time_seconds(now),
            events: events
                .into_iter()
                .map(|e| EventView {
                    time: format_time(e.created_at),
                    ok: e.outcome == "ok",
                    outcome: e.outcome,
                    subject: e.subject.unwrap_or_default(),
                    ip: e.ip.unwrap_or_default(),
                    iss: e.iss.unwrap_or_default(),
                })
                .collect(),
        },
        current_secret,
    ))
}

/// `GET /settings/sso`.
pub async fn sso_get(
    admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(render_with_status(
        StatusCode::OK,
        &page(&state, &admin).await?,
    ))
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    grace: String,
}

/// `POST /settings/sso/rotate`: a new current secret, shown once.
pub async fn rotate_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RotateForm>,
) -> Result<HttpResponse, AppError> {
    let grace: i64 = form
        .grace
        .parse()
        .ok()
        .filter(|g| GRACE_CHOICES.contains(g))
        .ok_or_else(|| {
            AppError::BadRequest(
                "Choose how long the previous secret keeps working: now, 1 hour or 24 hours."
                    .into(),
            )
        })?;
    let company_id = admin.0.company.id;
    let now = db::now();
    let (had_secret, secret) = db::run(&state.pool, move |conn| {
        let had = !SsoSecret::usable(conn, company_id, now)?.is_empty();
        Ok::<_, DbError>((had, SsoSecret::rotate(conn, company_id, grace, now)?))
    })
    .await?;
    state.cache.invalidate_company(company_id);
    let session = &admin.0.session;
    session
        .insert(REVEAL_KEY, &secret.secret)
        .map_err(|e| AppError::Internal(format!("session: {e}")))?;
    let text = match (had_secret, grace) {
        (false, _) => "Secret generated. Copy it now: it will not be shown again.".to_owned(),
        (true, 0) => {
            "Secret rotated. The previous secret was revoked and no longer works.".to_owned()
        }
        (true, g) => format!(
            "Secret rotated. The previous secret keeps working until {}.",
            format_time(now + g)
        ),
    };
    Ok(done(&admin, "/settings/sso", "ok", text))
}

/// `POST /settings/sso/revoke-previous`: ends the grace period now.
pub async fn revoke_previous_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let company_id = admin.0.company.id;
    let revoked = db::run(&state.pool, move |conn| {
        SsoSecret::revoke_previous(conn, company_id)
    })
    .await?;
    Ok(if revoked > 0 {
        done(
            &admin,
            "/settings/sso",
            "ok",
            "The previous secret was revoked and no longer works.",
        )
    } else {
        done(
            &admin,
            "/settings/sso",
            "warn",
            "There was no previous secret to revoke.",
        )
    })
}

#[derive(Deserialize)]
pub struct OptionsForm {
    #[serde(default)]
    max_token_lifetime: String,
    #[serde(default)]
    signout_url: String,
}

/// Checks a sign-out URL: empty, or an absolute http(s) URL.
fn clean_signout_url(url: &str) -> Result<Option<String>, String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("The sign-out URL must start with https:// (or http://).")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(
            "The sign-out URL must be a full address such as https://app.example.com/logout."
                .into(),
        );
    }
    Ok(Some(url.to_owned()))
}

/// `POST /settings/sso/options`: max token lifetime and sign-out URL.
pub async fn options_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<OptionsForm>,
) -> Result<HttpResponse, AppError> {
    let lifetime = form
        .max_token_lifetime
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|l| (Company::MIN_TOKEN_LIFETIME..=Company::MAX_TOKEN_LIFETIME).contains(l))
        .ok_or_else(|| {
            "The max token lifetime must be a number of seconds from 60 to 86400.".to_owned()
        });
    let url = clean_signout_url(&form.signout_url);
    let (lifetime, url) = match (lifetime, url) {
        (Ok(l), Ok(u)) => (l, u),
        (Err(e), _) | (_, Err(e)) => {
            let mut p = page(&state, &admin).await?;
            p.max_token_lifetime = form
                .max_token_lifetime
                .trim()
                .parse()
                .unwrap_or(p.max_token_lifetime);
            p.signout_url = form.signout_url.clone();
            p.options_error = Some(e);
            return Ok(render_with_status(StatusCode::BAD_REQUEST, &p));
        }
    };
    let company_id = admin.0.company.id;
    db::run(&state.pool, move |conn| {
        Company::update_options(conn, company_id, lifetime, url.as_deref())
    })
    .await?;
    state.cache.invalidate_company(company_id);
    Ok(done(&admin, "/settings/sso", "ok", "Token rules saved."))
}

#[derive(Deserialize)]
pub struct TestLinkForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    project: String,
}

/// `POST /settings/sso/test-link`: a signed five-minute link to click.
pub async fn test_link_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TestLinkForm>,
) -> Result<HttpResponse, AppError> {
    let (mut p, secret) = page_and_secret(&state, &admin).await?;
    let now = db::now();
    let email = rules::normalize_email(&form.email);
    let role = form.role.trim();
    let project = form.project.trim();
    let error = if secret.is_none() {
        Some("Generate a secret first: test links are signed with it.".to_owned())
    } else if let Err(why) = &email {
        Some(format!("Enter a valid email address: {why}."))
    } else if !role.is_empty() && role != "CUSTOMER" && role != "AGENT" {
        Some("The role must be CUSTOMER or AGENT.".to_owned())
    } else if !project.is_empty() && !p.projects.iter().any(|pr| pr.public_id == project) {
        Some("Choose one of your projects.".to_owned())
    } else {
        None
    };
    p.test = TestLinkView {
        email: form.email.clone(),
        name: form.name.clone(),
        role: role.to_owned(),
        project: project.to_owned(),
        link: None,
        error,
    };
    if p.test.error.is_some() {
        return Ok(render_with_status(StatusCode::BAD_REQUEST, &p));
    }
    let (Some(secret), Ok(email)) = (secret, email) else {
        return Ok(render_with_status(StatusCode::BAD_REQUEST, &p));
    };
    let name = form.name.trim();
    let claims = LinkClaims {
        company_id: p.company_id.clone(),
        email,
        name: (!name.is_empty()).then(|| name.to_owned()),
        role: (!role.is_empty()).then(|| role.to_owned()),
        project_id: (!project.is_empty()).then(|| project.to_owned()),
        iss: "portico-test-link".into(),
        jti: random_alphanumeric(24),
        iat: now,
        exp: now + TEST_LINK_TTL.min(p.max_token_lifetime),
    };
    let token = mint::sign(&claims, &secret.secret)
        .map_err(|e| AppError::Internal(format!("cannot sign a test link: {e}")))?;
    p.test.link = Some(mint::link(&state.base_url, &token));
    Ok(render_with_status(StatusCode::OK, &p))
}

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    token: String,
}

fn pretty(map: &Map<String, Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}

/// Decodes what can be decoded of a token, for display.
fn decoded_parts(token: &str) -> (Option<String>, Option<String>) {
    let mut parts = token.trim().split('.');
    let header = parts
        .next()
        .and_then(|h| token::decode_object(h, "header").ok());
    let claims = parts
        .next()
        .and_then(|p| token::decode_object(p, "payload").ok());
    (header.as_ref().map(pretty), claims.as_ref().map(pretty))
}

/// `POST /settings/sso/check`: every check of a real sign-in, on a pasted
/// token, signing nobody in and recording nothing.
pub async fn check_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<CheckForm>,
) -> Result<HttpResponse, AppError> {
    let mut p = page(&state, &admin).await?;
    let token = form.token.trim().to_owned();
    let (header, claims) = if token.len() <= token::MAX_TOKEN_BYTES {
        decoded_parts(&token)
    } else {
        (None, None)
    };
    let own_company = admin.0.company.id;
    let base_url = state.base_url.clone();
    let now = db::now();
    let verdict = db::run(&state.pool, move |conn| {
        let ctx = Context {
            now,
            base_url: &base_url,
        };
        Ok::<_, DbError>(provision::check_only(conn, Some(&token), &ctx))
    })
    .await?;
    p.check = Some(match verdict {
        Ok((verified, _)) if verified.company.id != own_company => foreign(header, claims),
        Ok((_, admission)) => CheckView {
            header,
            claims,
            ok: true,
            code: "ok",
            status: 303,
            summary: match admission.identity {
                Identity::New { email, .. } => {
                    format!("This token would sign in {email}, creating the account.")
                }
                Identity::Existing(user) => {
                    format!(
                        "This token would sign in {} (user {}).",
                        user.email, user.id
                    )
                }
            },
            detail: String::new(),
            hint: "",
        },
        Err(Failure::Refused(r)) if r.company.as_ref().is_some_and(|c| c.id != own_company) => {
            foreign(header, claims)
        }
        Err(Failure::Refused(r)) => CheckView {
            header,
            claims,
            ok: false,
            code: r.reason.code(),
            status: r.reason.status(),
            summary: r.reason.headline().to_owned(),
            detail: r.detail,
            hint: r.reason.hint(),
        },
        Err(Failure::Store(e)) => return Err(e.into()),
    });
    Ok(render_with_status(StatusCode::OK, &p))
}

/// Tokens of other companies are not examined here.
fn foreign(header: Option<String>, claims: Option<String>) -> CheckView {
    CheckView {
        header,
        claims,
        ok: false,
        code: "unknown_company",
        status: 400,
        summary: "This token is not for your company.".into(),
        detail: "Its companyId (or sub) names another company.".into(),
        hint: "Use your company ID, shown at the top of this page.",
    }
}
