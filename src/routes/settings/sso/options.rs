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
use crate::input::company_url;
use crate::routes::done;
use crate::state::AppState;
use crate::views::render_with_status;

#[derive(Deserialize)]
pub struct OptionsForm {
    #[serde(default)]
    max_token_lifetime: String,
    #[serde(default)]
    signout_url: String,
    #[serde(default)]
    signin_url: String,
}

/// `POST /settings/sso/options`: max token lifetime, sign-out and sign-in
/// URLs.
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
    let signout = company_url(&form.signout_url, "sign-out URL");
    let signin = company_url(&form.signin_url, "sign-in URL");
    let (lifetime, signout, signin) = match (lifetime, signout, signin) {
        (Ok(l), Ok(out), Ok(into)) => (l, out, into),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            let mut p = page(&state, &admin).await?;
            p.max_token_lifetime = form
                .max_token_lifetime
                .trim()
                .parse()
                .unwrap_or(p.max_token_lifetime);
            p.signout_url = form.signout_url.clone();
            p.signin_url = form.signin_url.clone();
            p.options_error = Some(e);
            return Ok(render_with_status(StatusCode::BAD_REQUEST, &p)?);
        }
    };
    let company_id = admin.company.id;
    state
        .db
        .write(move |tx| {
            Company::update_options(
                tx,
                company_id,
                lifetime,
                signout.as_deref(),
                signin.as_deref(),
            )
        })
        .await?;
    Ok(done(
        &admin.session,
        SSO_PAGE,
        FlashKind::Ok,
        "Token rules saved.",
    ))
}
