//! The route table, in one place.

pub mod assets;
pub mod dashboard;
pub mod health;
pub mod signout;
pub mod sso;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(dashboard::root_get))
        .route("/dashboard", web::get().to(dashboard::dashboard_get))
        .route("/healthz", web::get().to(health::healthz_get))
        .route("/logout", web::post().to(signout::logout_post))
        .route("/signed-out", web::get().to(signout::signed_out_get))
        .route("/static/{file}", web::get().to(assets::static_get))
        .service(
            web::resource("/api/auth/sso")
                .route(web::get().to(sso::sso_get))
                .route(web::post().to(sso::sso_post)),
        )
        .route("/login/{token:.*}", web::get().to(sso::login_token_get));
}
