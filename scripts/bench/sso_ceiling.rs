//! The ceiling of a returning SSO sign-in: what `GET /api/auth/sso` could
//! serve if its write phase cost nothing. The same HTTP stack as the server
//! (`startup::security_headers`, `startup::session_middleware`), checks 1–9
//! from the same cache (`CachedDirectory`), a new sealed session cookie
//! (`session::begin`), the company cookie and the 303 — and no database and
//! no writer at request time: the company, its secrets and its users are read
//! once at start. `scripts/bench.sh` runs it on the seeded file and divides
//! the real returning sign-in by it (docs/PERFORMANCE.md).
//!
//! Usage: `sso_ceiling DATABASE COMPANY_PUBLIC_ID PORT`

use std::collections::HashMap;
use std::sync::Arc;

use actix_session::Session;
use actix_web::cookie::Key;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use portico::auth::session;
use portico::cache::{Cache, CompanyEntry, Fill};
use portico::db::models::{Company, Method, SsoSecret, User};
use portico::input::normalize_email;
use portico::routes::sso::company_cookie;
use portico::sso::provision::CachedDirectory;
use portico::sso::rules::{self, Context, Failure};
use portico::views::see_other;
use portico::{db, startup};

struct Ceiling {
    cache: Cache,
    company: CompanyEntry,
    users: HashMap<String, User>,
    base_url: String,
}

#[derive(serde::Deserialize)]
struct Query {
    token: Option<String>,
}

async fn sign_in(req: HttpRequest, session: Session, state: web::Data<Ceiling>) -> HttpResponse {
    let token = web::Query::<Query>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token);
    let now = db::now();
    let ctx = Context {
        now,
        base_url: &state.base_url,
    };
    let mut verified = rules::verify(token.as_deref(), &ctx, &mut CachedDirectory(&state.cache));
    if let Err(Failure::NotCached) = verified {
        // The entry outlived the cache's TTL: put it back from memory.
        let entry = CompanyEntry {
            company: state.company.company.clone(),
            secrets: state.company.secrets.clone(),
        };
        state
            .cache
            .fill(state.cache.generation(), Fill::Company(entry));
        verified = rules::verify(token.as_deref(), &ctx, &mut CachedDirectory(&state.cache));
    }
    let Ok(verified) = verified else {
        return HttpResponse::Unauthorized().finish();
    };
    let user = verified
        .claims
        .email
        .as_deref()
        .and_then(|email| normalize_email(email).ok())
        .and_then(|email| state.users.get(&email));
    let Some(user) = user else {
        return HttpResponse::Unauthorized().finish();
    };
    if session::begin(&session, user.id, user.session_epoch, Method::Sso, now, 0).is_err() {
        return HttpResponse::InternalServerError().finish();
    }
    let mut res = see_other("/dashboard");
    let _ = res.add_cookie(&company_cookie(
        &state.company.company.public_id,
        &state.base_url,
    ));
    res
}

fn load(database: &str, company: &str) -> Result<(CompanyEntry, HashMap<String, User>), String> {
    let pool = db::connect(database)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let company = Company::find_by_public_id(&mut conn, company)
        .map_err(|e| e.to_string())?
        .ok_or("no such company")?;
    let secrets = SsoSecret::usable(&mut conn, company.id, db::now()).map_err(|e| e.to_string())?;
    let (users, _) = User::list_for_company(&mut conn, company.id, None, 1_000_000, 0)
        .map_err(|e| e.to_string())?;
    let users = users.into_iter().map(|u| (u.email.clone(), u)).collect();
    let entry = CompanyEntry {
        company: Arc::new(company),
        secrets,
    };
    Ok((entry, users))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, database, company, port] = &args[..] else {
        eprintln!("usage: sso_ceiling DATABASE COMPANY_PUBLIC_ID PORT");
        std::process::exit(2);
    };
    let (company, users) = load(database, company).unwrap_or_else(|e| {
        eprintln!("sso_ceiling: {e}");
        std::process::exit(1);
    });
    let state = web::Data::new(Ceiling {
        cache: Cache::default(),
        company,
        users,
        base_url: format!("http://127.0.0.1:{port}"),
    });
    let key = Key::generate();
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(startup::security_headers())
            .wrap(startup::session_middleware(key.clone(), false))
            .route("/api/auth/sso", web::get().to(sign_in))
            .route("/healthz", web::get().to(HttpResponse::Ok))
    })
    .bind(("127.0.0.1", port.parse().unwrap_or(0)))?
    .run()
    .await
}
