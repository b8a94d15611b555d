//! The route table, in one place.

pub mod assets;
pub mod dashboard;
pub mod health;
pub mod login;
pub mod settings;
pub mod signout;
pub mod sso;

use actix_web::web;

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
                    "/projects/{id}/delete",
                    web::post().to(settings::projects::delete_post),
                )
                .route("/people", web::get().to(settings::people::people_get))
                .route(
                    "/people/{id}/role",
                    web::post().to(settings::people::role_post),
                )
                .route(
                    "/people/{id}/disable",
                    web::post().to(settings::people::disable_post),
                )
                .route(
                    "/people/{id}/enable",
                    web::post().to(settings::people::enable_post),
                )
                .route(
                    "/people/{id}/sign-out",
                    web::post().to(settings::people::sign_out_post),
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
