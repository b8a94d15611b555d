//! Settings → SSO, the developer's tools: the test-link maker and the
//! token checker.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{page, page_and_secret};
use crate::auth::csrf::CsrfForm;
use crate::auth::extract::AdminUser;
use crate::db::models::{Role, random_alphanumeric};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::input::normalize_email;
use crate::sso::mint::{self, LinkClaims};
use crate::sso::rules::{Context, Identity};
use crate::sso::{Failure, provision, token};
use crate::state::AppState;
use crate::views::render_with_status;

/// Test links live five minutes.
const TEST_LINK_TTL: i64 = 300;

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
    let email = normalize_email(&form.email);
    let role = form.role.trim();
    let project = form.project.trim();
    let error = if secret.is_none() {
        Some("Generate a secret first: test links are signed with it.".to_owned())
    } else if let Err(why) = &email {
        Some(format!("Enter a valid email address: {why}."))
    } else if !role.is_empty() && Role::parse_assignable(role).is_none() {
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
        return Ok(render_with_status(StatusCode::BAD_REQUEST, &p)?);
    }
    let (Some(secret), Ok(email)) = (secret, email) else {
        return Ok(render_with_status(StatusCode::BAD_REQUEST, &p)?);
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
    Ok(render_with_status(StatusCode::OK, &p)?)
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
    let own_company = admin.company.id;
    let base_url = state.base_url.clone();
    let now = db::now();
    let verdict = state
        .db
        .read(move |conn| {
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
        Err(Failure::NotCached) => {
            return Err(AppError::Internal(
                "the token checker's directory missed".into(),
            ));
        }
    });
    Ok(render_with_status(StatusCode::OK, &p)?)
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
