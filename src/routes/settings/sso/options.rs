//! Settings → SSO, the token rules: the max token lifetime and the
//! sign-out URL.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{LIFETIME, SSO_PAGE, page};
use crate::auth::csrf::CsrfForm;
use crate::auth::extract::AdminUser;
use crate::auth::session::FlashKind;
use crate::db::models::Company;
use crate::error::AppError;
use crate::routes::done;
use crate::state::AppState;
use crate::views::render_with_status;

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
        .filter(|l| (LIFETIME.min..=LIFETIME.max).contains(l))
        .ok_or_else(|| {
            format!(
                "The max token lifetime must be a number of seconds from {} to {}.",
                LIFETIME.min, LIFETIME.max
            )
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
            return Ok(render_with_status(StatusCode::BAD_REQUEST, &p)?);
        }
    };
    let company_id = admin.company.id;
    state
        .db
        .write(move |tx| Company::update_options(tx, company_id, lifetime, url.as_deref()))
        .await?;
    Ok(done(
        &admin.session,
        SSO_PAGE,
        FlashKind::Ok,
        "Token rules saved.",
    ))
}
