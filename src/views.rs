//! Askama page structs and how they become responses. Every page shares
//! one [`Layout`]: who is signed in, the CSRF token for forms, a flash.
//! The pages of one area live with its handlers; these are the shared ones.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use askama::Template;

pub use crate::auth::session::{Flash, FlashKind};

/// What the top bar and every form need.
#[derive(Debug, Default, Clone)]
pub struct Layout {
    pub user: Option<NavUser>,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    pub flash: Option<Flash>,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub email: String,
    pub company: String,
    /// A password-signed-in admin: the only one who sees Settings.
    pub settings: bool,
}

/// Renders a page with status 200.
pub fn render(page: &impl Template) -> Result<HttpResponse, askama::Error> {
    render_with_status(StatusCode::OK, page)
}

/// Renders a page; never stored by a cache (pages carry CSRF tokens and
/// people's data).
pub fn render_with_status(
    status: StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, askama::Error> {
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.render()?))
}

/// `303 See Other` to `to`: the answer to every successful form and to a
/// sign-in.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// `2026-11-21 14:05 UTC`.
pub fn format_time(unix: i64) -> String {
    format_unix(
        unix,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"),
    )
}

/// `2026-11-21 14:05:09 UTC`, for the server clock shown to developers.
pub fn format_time_seconds(unix: i64) -> String {
    format_unix(
        unix,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"),
    )
}

fn format_unix(unix: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub layout: Layout,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "sso_error.html")]
pub struct SsoErrorPage<'a> {
    pub layout: Layout,
    pub status: u16,
    pub code: &'a str,
    pub headline: &'a str,
    pub advice: &'a str,
    pub detail: &'a str,
    pub hint: &'a str,
    pub server_time: String,
    pub server_unix: i64,
    /// The company's sign-out URL, when set: the way back to its app.
    pub back_url: Option<&'a str>,
    /// The company's sign-in URL, when set: offered as a link, never
    /// followed by itself (no loop).
    pub signin_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage {
    pub layout: Layout,
}

pub struct ProjectView {
    pub public_id: String,
    pub name: String,
    pub member: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    pub company: String,
    pub company_id: String,
    pub role: &'static str,
    pub via_sso: bool,
    /// Agents and admins see every project of the company.
    pub sees_all: bool,
    pub projects: Vec<ProjectView>,
    pub last_login: Option<String>,
    /// For agents and admins: the queue's counts.
    pub queue: Option<crate::db::models::QueueCounts>,
    /// For a customer: their requests that are not solved or closed.
    pub open_requests: Vec<crate::routes::requests::RequestRow>,
}
