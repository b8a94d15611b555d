//! Spawns the real application on port 0 with its own temporary database,
//! and talks to it over HTTP with a cookie-keeping, non-redirecting client.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use portico::config::Settings;
use portico::db::models::{Company, NewUser, Project, Role, SsoSecret, User};
use portico::db::{self, DbError, DbPool, Tx};
use portico::startup::Application;
use portico::state::AppState;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    /// Its database: the SQLite file or the PostgreSQL URL.
    pub database_url: String,
    pub pool: DbPool,
    /// The running app's state: its cache, for tests that look at it.
    pub state: actix_web::web::Data<AppState>,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    _dir: tempfile::TempDir,
}

/// A company ready for SSO: its row and its current secret.
pub struct TestCompany {
    pub company: Company,
    pub secret: String,
}

pub fn now() -> i64 {
    db::now()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The variable naming a PostgreSQL server (any database on it the tests
/// may connect to as a user who may create databases): when it is set,
/// every test runs on PostgreSQL, on a database of its own.
pub const PG_VAR: &str = "PORTICO_TEST_DATABASE_URL";

/// True when the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var_os(PG_VAR).is_some()
}

/// A new, empty database for one test: an SQLite file in `dir`, or a fresh
/// database on the server [`PG_VAR`] names.
pub fn fresh_database(dir: &std::path::Path) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let Ok(server) = std::env::var(PG_VAR) else {
        return dir.join("portico.db").to_string_lossy().into_owned();
    };
    let name = format!(
        "portico_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = PgConnection::establish(&server).expect("the test PostgreSQL server answers");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create the test database");
    // The server's URL with its database replaced: .../postgres?x → .../name?x
    let (base, query) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: fresh_database(dir.path()),
        workers: Some(2),
        ..Settings::default()
    };
    configure(&mut settings);
    let database_url = settings.database_url.clone();
    let app = Application::build(settings).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let pool = db::connect(&database_url).expect("pool");
    let jar = Arc::new(Jar::default());
    TestApp {
        client: client_with(jar.clone()),
        jar,
        address,
        database_url,
        pool,
        state,
        _dir: dir,
    }
}

pub fn client_with(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn conn(&self) -> db::Conn {
        self.pool.get().expect("connection")
    }

    /// Writes in a transaction of its own, as another process would (the
    /// CLI): the app's cache hears nothing of it.
    pub fn outside<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, DbError>) -> T {
        db::transaction(&mut self.conn(), &(), f).expect("write")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// The session cookie the client holds, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let url = self.address.parse().expect("url");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .filter(|c| c.contains("portico_session="))
    }

    /// Signs in through the Issuely entry point; returns the response.
    pub async fn sso(&self, token: &str) -> reqwest::Response {
        let url = format!("{}/api/auth/sso?token={token}", self.address);
        self.client.get(url).send().await.expect("request")
    }

    pub async fn sso_json(&self, token: &str) -> reqwest::Response {
        let url = format!("{}/api/auth/sso?token={token}", self.address);
        self.client
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("request")
    }

    /// A company with a current secret.
    pub fn company(&self, name: &str) -> TestCompany {
        let (company, secret) = self.outside(|tx| {
            let company = Company::create(tx, name, now())?;
            let secret = SsoSecret::rotate(tx, company.id, 0, now())?;
            Ok((company, secret))
        });
        TestCompany {
            company,
            secret: secret.secret,
        }
    }

    pub fn company_without_secret(&self, name: &str) -> Company {
        self.outside(|tx| Company::create(tx, name, now()))
    }

    pub fn project(&self, company: &Company, name: &str) -> Project {
        self.outside(|tx| Project::create(tx, company.id, name, now()))
    }

    pub fn user(&self, company: &Company, email: &str, role: Role) -> User {
        let new = NewUser {
            company_id: company.id,
            email,
            name: "Seeded",
            role,
            password_hash: None,
            signed_in_by: None,
        };
        self.outside(|tx| User::create(tx, new, now()))
    }

    pub fn find_user(&self, email: &str) -> Option<User> {
        User::find_by_email(&mut self.conn(), email).expect("query")
    }

    pub fn count(&self, table: &str) -> i64 {
        count_in(&mut self.conn(), table)
    }

    /// The outcomes of the company's SSO events, newest first, a refusal
    /// counted into its minute's row once for each time it happened.
    pub fn outcomes(&self, company: &Company) -> Vec<String> {
        let mut conn = self.conn();
        let mut rows = Vec::new();
        for ok in [true, false] {
            rows.extend(
                portico::db::models::SsoEvent::recent(&mut conn, company.id, ok, 100)
                    .expect("events"),
            );
        }
        rows.sort_by_key(|e| std::cmp::Reverse((e.event.created_at, e.id)));
        rows.into_iter()
            .flat_map(|e| std::iter::repeat_n(e.event.outcome, e.count as usize))
            .collect()
    }

    /// The page's CSRF token, from its hidden form field.
    pub async fn csrf_from(&self, path: &str) -> String {
        csrf_in(&self.get(path).await.text().await.expect("body"))
    }
}

impl TestCompany {
    pub fn id(&self) -> &str {
        &self.company.public_id
    }

    /// A valid Issuely-style token for `email`, with extra claims merged in.
    pub fn token(&self, email: &str, extra: Value) -> String {
        let mut claims = json!({
            "companyId": self.company.public_id,
            "email": email,
            "iat": now(),
            "exp": now() + 300,
        });
        merge(&mut claims, extra);
        sign(&claims, &self.secret)
    }
}

/// `SELECT COUNT(*) FROM {rows}`: `rows` is a table, maybe with a `WHERE`
/// (no parameters: literal values only).
pub fn count_in(conn: &mut db::DbConn, rows: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {rows}"))
        .get_result::<Count>(conn)
        .expect("count")
        .n
}

/// Merges `extra` into `claims`; a `null` in `extra` removes the claim.
pub fn merge(claims: &mut Value, extra: Value) {
    if let (Some(map), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        for (k, v) in extra {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
}

/// HS256 over `claims` with the secret's UTF-8 bytes, as integrators do.
pub fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// A token with any header, signed with HMAC-SHA256 over whatever is given.
pub fn sign_raw(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("sign");
    format!("{input}.{sig}")
}

pub fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// The CSRF token of a page's first form (its hidden `csrf` field).
pub fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..].split('"').next().expect("value").to_owned()
}

/// The `error` code of a JSON refusal.
pub async fn error_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("json body");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The `portico_session` cookie an answer sets (beside `portico_company`).
pub fn session_set_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portico_session="))
        .expect("a session cookie")
        .to_owned()
}
