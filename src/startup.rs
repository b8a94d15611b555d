//! Building the server: database and migrations first, then the session
//! key, the middleware stack and the routes, then binding (port 0 in tests,
//! which then read the real port from [`Application::port`]).

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServiceRequest};
use actix_web::middleware::{Condition, DefaultHeaders, Logger, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::password::Hasher;
use crate::auth::session::{COOKIE_NAME, LIFETIME_SECS};
use crate::auth::throttle::Throttle;
use crate::cache::Cache;
use crate::config::{self, Settings};
use crate::db::models::Setting;
use crate::db::writer::Writer;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::limits;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// The Content-Security-Policy of every page: no inline script or style.
pub const CSP: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       object-src 'none'; form-action 'self'";

impl Application {
    pub fn build(settings: Settings) -> Result<Application, String> {
        let pool = db::connect(&settings.database_url)?;
        let backend = db::Backend::of(&settings.database_url);
        let cache = Arc::new(match backend {
            db::Backend::Sqlite => Cache::default(),
            db::Backend::Postgres => Cache::with_ttl(crate::cache::SHARED_TTL),
        });
        if backend == db::Backend::Postgres {
            let listener: Arc<dyn db::Listener> = cache.clone();
            db::notify::spawn(
                db::pg_url(&settings.database_url),
                Arc::downgrade(&listener),
            )?;
        }
        let mut db = Db::new(pool.clone(), cache.clone());
        let key = session_key(&db, &settings)?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?
            .port();
        let writers = match backend {
            db::Backend::Sqlite => 1,
            db::Backend::Postgres => crate::db::writer::PG_THREADS,
        };
        let writer = Writer::spawn(pool, cache.clone(), writers)?;
        // SQLite's search index is a file of its own, kept by a thread of its
        // own (db::search::Index), started with the server's state below.
        let search_index = match backend {
            db::Backend::Sqlite => {
                let index = db::search::Index::open(db::database_path(&settings.database_url))?;
                db = db.with_search_index(index.clone());
                Some(index)
            }
            db::Backend::Postgres => None,
        };
        db::housekeeping::spawn(db.clone(), writer.clone())?;
        let hasher = Hasher::start()?;
        hasher.take_dummy(dummy_hash(&db, &hasher)?)?;
        let state = web::Data::new(AppState {
            cache,
            writer,
            hasher,
            db,
            base_url: settings.base_url_for(port),
            allow_signup: settings.allow_signup,
            throttle: Throttle::new(settings.login_throttle),
            cookie_key: key.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
        });
        if let Some(index) = search_index {
            index.keep(
                state.writer.clone(),
                Arc::downgrade(&state.clone().into_inner()),
            )?;
        }
        // SQLite's WAL is copied back off the writer's thread.
        if backend == db::Backend::Sqlite {
            db::checkpoint::spawn(
                state.db.clone(),
                db::database_path(&settings.database_url),
                Arc::downgrade(&state.clone().into_inner()),
            )?;
        }
        log::info!(
            "Portico listens on {} (base URL {})",
            settings.bind,
            state.base_url
        );
        let secure = state.base_url.starts_with("https://");
        let access_log =
            log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);

        let app_state = state.clone();
        let body_deadline = settings.body_deadline;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(move |req, next| {
                    limits::body_deadline(body_deadline, req, next)
                }))
                .wrap(security_headers())
                .wrap(session_middleware(key.clone(), secure))
                // The access log renders every request line, whether or
                // not it is printed: installed only when it is printed.
                .wrap(Condition::new(
                    access_log,
                    Logger::new(r#"%a "%{r}xi" %s %b %Dms"#)
                        .custom_request_replace("r", redacted_request_line),
                ))
                .configure(crate::routes::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                }))
        })
        .listen(listener)
        .map_err(|e| format!("cannot listen: {e}"))?;
        // Blocking work is database work: no more threads than connections.
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let max_connections = limits::max_connections_per_worker(workers);
        log::info!("{workers} workers, at most {max_connections} connections each");
        let server = server
            .worker_max_blocking_threads(8)
            .workers(workers)
            .max_connections(max_connections)
            .client_request_timeout(limits::HEAD_TIMEOUT)
            .client_disconnect_timeout(std::time::Duration::from_secs(1))
            .keep_alive(limits::KEEP_ALIVE)
            .run();
        Ok(Application {
            port,
            server,
            state: app_state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state the handlers share, for tests that look at the cache.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, finishing in-flight requests first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The headers of every answer.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
}

/// The session cookie: sealed (encrypted and authenticated) with `key`.
pub fn session_middleware(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(COOKIE_NAME.to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(secure)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::seconds(LIFETIME_SECS)),
        )
        .build()
}

/// The request line for the access log, with sign-in tokens cut out: the
/// rest of a `/login/…` path, the value of any query parameter whose name
/// says token, and anything shaped like a JWT wherever it stands. Names and
/// paths are compared percent-decoded, as the router and the form parser see
/// them (`/%6Cogin/…` and `tok%65n=` are caught too).
pub fn redacted_request_line(req: &ServiceRequest) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let path = req.path();
    let path = if decode(path).to_ascii_lowercase().starts_with("/login/") {
        "/login/[redacted]".to_owned()
    } else {
        path.split('/')
            .map(|segment| {
                if looks_like_jwt(segment) {
                    "[redacted]"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let query = req.query_string();
    let query = if query.is_empty() {
        String::new()
    } else {
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v))
                    if decode(&k.replace('+', " "))
                        .to_ascii_lowercase()
                        .contains("token")
                        || looks_like_jwt(v) =>
                {
                    format!("{k}=[redacted]")
                }
                _ if looks_like_jwt(pair) => "[redacted]".to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        format!("?{}", redacted.join("&"))
    };
    format!("{} {path}{query} {:?}", req.method(), req.version())
}

/// Three dot-separated parts and long enough to be a signed token.
fn looks_like_jwt(s: &str) -> bool {
    s.len() >= 24 && s.matches('.').count() >= 2
}

const SESSION_KEY_SETTING: &str = "session_key";

/// The dummy password hash all instances share, made by the first (on a
/// hashing thread, see [`Hasher::make_dummy`]; argon2 runs only when the
/// database has none, outside the write transaction).
fn dummy_hash(db: &Db, hasher: &Hasher) -> Result<String, String> {
    use crate::auth::password::DUMMY_SETTING;
    let err = |e: &dyn std::fmt::Display| format!("the login's dummy hash: {e}");
    if let Some(kept) = db
        .read_blocking(|conn| Setting::get(conn, DUMMY_SETTING))
        .map_err(|e| err(&e))?
    {
        return Ok(kept);
    }
    let made = hasher.make_dummy().map_err(|e| err(&e))?;
    db.write_blocking(|tx| Setting::get_or_insert(tx, DUMMY_SETTING, made))
        .map(|(kept, _)| kept)
        .map_err(|e| err(&e))
}

/// The session key: from `PORTICO_SESSION_KEY`, else generated once and kept
/// in the database so a restart keeps everyone signed in (and every instance
/// seals cookies with the same key).
fn session_key(db: &Db, settings: &Settings) -> Result<Key, String> {
    if settings.session_key.is_none()
        && settings
            .base_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    {
        log::warn!(
            "PORTICO_SESSION_KEY is not set on an https portal: the session key is the one kept \
             in the database, so anyone with a copy of the database can seal an admin's session \
             cookie. Set PORTICO_SESSION_KEY (base64 of 64 random bytes) in production."
        );
    }
    if let Some(bytes) = &settings.session_key {
        return Key::try_from(bytes.as_slice()).map_err(|e| format!("PORTICO_SESSION_KEY: {e}"));
    }
    let (kept, made) = db
        .write_blocking(|tx| {
            Setting::get_or_insert(
                tx,
                SESSION_KEY_SETTING,
                config::encode_session_key(Key::generate().master()),
            )
        })
        .map_err(|e| format!("session key: {e}"))?;
    if made {
        log::warn!(
            "PORTICO_SESSION_KEY is not set: generated a session key and kept it in the database"
        );
    }
    let bytes = config::decode_session_key(&kept)
        .map_err(|e| format!("session key kept in the database: {e}"))?;
    Key::try_from(bytes.as_slice()).map_err(|e| format!("session key: {e}"))
}
