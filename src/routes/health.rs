//! `GET /healthz`: 200 once the database answers a query.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use serde_json::json;

use crate::db::{self, DbError};
use crate::startup::AppState;

pub async fn healthz_get(state: web::Data<AppState>) -> HttpResponse {
    let answered = db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok::<_, DbError>(())
    })
    .await;
    match answered {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            log::warn!("health check failed: {e}");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "message": "the database does not answer"}))
        }
    }
}
