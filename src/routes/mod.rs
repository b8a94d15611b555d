//! The route table, in one place, and what every page handler shares: the
//! layout of a page for the person asking, and the redirect with a flash.

pub mod assets;
pub mod dashboard;
pub mod health;
pub mod login;
pub mod requests;
pub mod settings;
pub mod signout;
pub mod sso;

use actix_session::Session;
use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::auth::session::{self, FlashKind};
use crate::error::AppError;
use crate::views::{Layout, NavUser, see_other};

/// The layout of a page for a signed-in user, taking the pending flash.
pub fn layout(current: &CurrentUser) -> Result<Layout, AppError> {
    Ok(Layout {
        user: Some(NavUser {
            name: current.user.name.clone(),
            email: current.user.email.clone(),
            company: current.company.name.clone(),
            settings: current.may_open_settings(),
        }),
        csrf: session::csrf_token(&current.session)?,
        flash: session::take_flash(&current.session),
    })
}

/// The layout of a page for a visitor without a session.
pub fn anonymous_layout(session: &Session) -> Result<Layout, AppError> {
    Ok(Layout {
        user: None,
        csrf: session::csrf_token(session)?,
        flash: session::take_flash(session),
    })
}

/// Redirects to `to` with a flash message for the next page
/// (post/redirect/get).
pub fn done(session: &Session, to: &str, kind: FlashKind, text: impl Into<String>) -> HttpResponse {
    session::flash(session, kind, text);
    see_other(to)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(dashboard::root_get))
        .route("/dashboard", web::get().to(dashboard::dashboard_get))
        .route("/healthz", web::get().to(health::healthz_get))
        .service(
            web::resource("/login")
                .route(web::get().to(login::login_get))
                .route(web::post().to(login::login_post)),
        )
        .service(
            web::resource("/signup")
                .route(web::get().to(login::signup_get))
                .route(web::post().to(login::signup_post)),
        )
        .route("/logout", web::post().to(signout::logout_post))
        .service(
            web::scope("/settings")
                .route("", web::get().to(settings::settings_get))
                .route("/sso", web::get().to(settings::sso::sso_get))
                .route("/sso/rotate", web::post().to(settings::sso::rotate_post))
                .route(
                    "/sso/revoke-previous",
                    web::post().to(settings::sso::revoke_previous_post),
                )
                .route("/sso/options", web::post().to(settings::sso::options_post))
                .route(
                    "/sso/test-link",
                    web::post().to(settings::sso::test_link_post),
                )
                .route("/sso/check", web::post().to(settings::sso::check_post))
                .route("/projects", web::get().to(settings::projects::projects_get))
                .route("/projects", web::post().to(settings::projects::create_post))
                .route(
                    "/projects/{id}/rename",
                    web::post().to(settings::projects::rename_post),
                )
                .route(
                    "/projects/{id}/shared",
                    web::post().to(settings::projects::shared_post),
                )
                .route(
                    "/projects/{id}/delete",
                    web::post().to(settings::projects::delete_post),
                )
                .route("/people", web::get().to(settings::people::people_get))
                .route(
                    "/people/{id}/role",
                    web::post().to(settings::people::role_post),
                )
                .route(
                    "/people/{id}/sessions",
                    web::get().to(settings::people::sessions_get),
                )
                .route(
                    "/people/{id}/sessions/{sid}/end",
                    web::post().to(settings::people::session_end_post),
                )
                .route(
                    "/people/{id}/{action:disable|enable|sign-out}",
                    web::post().to(settings::people::action_post),
                ),
        )
        .service(
            web::scope("/requests")
                .service(
                    web::resource("")
                        .route(web::get().to(requests::list_get))
                        .route(web::post().to(requests::new::create_post)),
                )
                .route("/new", web::get().to(requests::new::new_get))
                .service(
                    web::resource("/{id}")
                        .route(web::get().to(requests::show::show_get))
                        .route(web::post().to(requests::changes::update_post)),
                )
                .route(
                    "/{id}/messages",
                    web::post().to(requests::show::message_post),
                )
                .route(
                    "/{id}/attachments/{attachment_id}",
                    web::get().to(requests::files::attachment_get),
                ),
        )
        .route("/signed-out", web::get().to(signout::signed_out_get))
        .route("/static/{file}", web::get().to(assets::static_get))
        .service(
            web::resource("/api/auth/sso")
                .route(web::get().to(sso::sso_get))
                .route(web::post().to(sso::sso_post)),
        )
        .route("/login/{token:.*}", web::get().to(sso::login_token_get));
}
