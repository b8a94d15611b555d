//! Settings → SSO, the secret: generate or rotate it with a grace period,
//! revoke the previous one.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{GRACE_CHOICES, SSO_PAGE, page};
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::extract::AdminUser;
use crate::auth::session::{Flash, FlashKind};
use crate::db::models::SsoSecret;
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::routes::done;
use crate::state::AppState;
use crate::views::{format_time, render};

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    grace: String,
}

/// `POST /settings/sso/rotate`: a new current secret, shown once, in the
/// answer itself (`no-store`).
pub async fn rotate_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RotateForm>,
) -> Result<HttpResponse, AppError> {
    let grace: i64 = form
        .grace
        .parse()
        .ok()
        .filter(|g| GRACE_CHOICES.iter().any(|c| c.seconds == *g))
        .ok_or_else(|| {
            AppError::BadRequest(
                "Choose how long the previous secret keeps working: now, 1 hour or 24 hours."
                    .into(),
            )
        })?;
    let company_id = admin.company.id;
    let now = db::now();
    let (had_secret, secret) = state
        .db
        .write(move |tx| {
            let had = !SsoSecret::usable(tx.read(), company_id, now)?.is_empty();
            Ok::<_, DbError>((had, SsoSecret::rotate(tx, company_id, grace, now)?))
        })
        .await?;
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
    // The secret is shown in this very answer, never kept in the session
    // cookie (a replayed cookie must not show it again) nor cached by the
    // browser; reloading the page does not show it again.
    let mut page = page(&state, &admin).await?;
    page.revealed = Some(secret.secret);
    page.layout.flash = Some(Flash {
        kind: FlashKind::Ok,
        text,
    });
    let mut res = render(&page)?;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `POST /settings/sso/revoke-previous`: ends the grace period now.
pub async fn revoke_previous_post(
    admin: AdminUser,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let company_id = admin.company.id;
    let revoked = state
        .db
        .write(move |tx| SsoSecret::revoke_previous(tx, company_id))
        .await?;
    Ok(if revoked > 0 {
        done(
            &admin.session,
            SSO_PAGE,
            FlashKind::Ok,
            "The previous secret was revoked and no longer works.",
        )
    } else {
        done(
            &admin.session,
            SSO_PAGE,
            FlashKind::Warn,
            "There was no previous secret to revoke.",
        )
    })
}
