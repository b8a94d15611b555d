//! Settings, for admins who signed in with a password ([`AdminUser`]):
//! SSO, projects and people. Every form is CSRF-checked by
//! [`crate::auth::csrf::CsrfForm`]; every action answers with a redirect
//! and a flash message (post/redirect/get), or re-renders with an error.

pub mod people;
pub mod projects;
pub mod sso;

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::auth::extract::AdminUser;
use crate::auth::session;

/// `GET /settings`.
pub async fn settings_get(_admin: AdminUser) -> HttpResponse {
    see_other("/settings/sso")
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Redirects to `to` with a flash message for the next page.
pub fn done(admin: &AdminUser, to: &str, kind: &str, text: impl Into<String>) -> HttpResponse {
    session::flash(&admin.0.session, kind, text);
    see_other(to)
}
