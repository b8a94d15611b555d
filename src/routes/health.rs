//! `GET /healthz`: 200 once the database answers a query.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

pub async fn healthz_get(state: web::Data<AppState>) -> HttpResponse {
    let answered = state.db.ping().await;
    match answered {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            log::warn!("health check failed: {e}");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "message": "the database does not answer"}))
        }
    }
}
