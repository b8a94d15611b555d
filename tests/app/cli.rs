//! The binary itself: the CLI commands, and the server process (its access
//! log, its session key kept across restarts, its shutdown).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use diesel::RunQueryDsl;

use crate::helpers::{count_in, session_set_cookie};

const BIN: &str = env!("CARGO_BIN_EXE_portico");

fn portico(db: &str, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--database")
        .arg(db)
        .env("PORTICO_ADMIN_PASSWORD", "correct-horse-battery")
        .env_remove("DATABASE_URL")
        .env_remove("PORTICO_BASE_URL")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server process; its log lines are collected.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(db: &str) -> Server {
        Server::start_with(db, &[])
    }

    fn start_with(db: &str, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .env_remove("PORTICO_BASE_URL")
            .envs(env.iter().copied())
            .arg("serve")
            .arg("--database")
            .arg(db)
            .env("PORTICO_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env_remove("PORTICO_SESSION_KEY")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("(base URL ").nth(1) {
                    let _ = tx.send(rest.trim_end_matches(')').to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the server says where it listens");
        Server { child, base, log }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("exits")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn cli_commands_print_json_and_make_a_working_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(dir.path());

    let (ok, company, _) = portico(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "Boss@Acme.test",
        ],
    );
    assert!(ok);
    let company_id = company["companyId"].as_str().unwrap().to_owned();
    assert!(company_id.starts_with("cmp_"));
    assert!(company["adminUserId"].as_i64().unwrap() > 0);

    // --database before the subcommand works too.
    let out = Command::new(BIN)
        .args(["--database", &db, "sso", "rotate", "--company", &company_id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rotated["companyId"], company_id.as_str());
    assert!(
        rotated["secret"].as_str().unwrap().len() >= 43,
        "at least 256 bits"
    );

    let (ok, project, _) = portico(
        &db,
        &[
            "project",
            "create",
            "--company",
            &company_id,
            "--name",
            "Website",
        ],
    );
    assert!(ok);
    let project_id = project["projectId"].as_str().unwrap().to_owned();
    assert!(project_id.starts_with("proj_"));

    let server = Server::start(&db);
    let out = Command::new(BIN)
        .args([
            "sso",
            "link",
            "--company",
            &company_id,
            "--email",
            "jo@acme.test",
            "--name",
            "Jo",
        ])
        .args([
            "--role",
            "AGENT",
            "--project",
            &project_id,
            "--database",
            &db,
        ])
        .env("PORTICO_BASE_URL", &server.base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link: Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/api/auth/sso?token=", server.base)));
    let res = client().get(url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/dashboard");
    // A link is single-use.
    assert_eq!(
        client().get(url).send().await.unwrap().status().as_u16(),
        401
    );
    assert!(server.stop().success(), "SIGTERM exits 0");
}

#[tokio::test]
async fn cli_errors_go_to_stderr_with_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(dir.path());
    let cases: Vec<Vec<&str>> = vec![
        vec!["sso", "rotate", "--company", "cmp_nope"],
        vec!["project", "create", "--company", "cmp_nope", "--name", "X"],
        vec![
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "not-an-email",
        ],
        vec![
            "company",
            "create",
            "--name",
            "  ",
            "--admin-email",
            "a@b.test",
        ],
        vec![
            "sso",
            "link",
            "--company",
            "cmp_nope",
            "--email",
            "a@b.test",
        ],
        vec!["sso", "frobnicate"],
    ];
    for args in cases {
        let (ok, json, stderr) = portico(&db, &args);
        assert!(!ok, "{args:?} fails");
        assert_eq!(json, Value::Null, "{args:?} prints nothing on stdout");
        assert!(!stderr.trim().is_empty(), "{args:?} says why");
    }
    let (ok, company, _) = portico(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.test",
        ],
    );
    assert!(ok);
    let id = company["companyId"].as_str().unwrap();
    let (ok, _, stderr) = portico(
        &db,
        &["sso", "link", "--company", id, "--email", "x@acme.test"],
    );
    assert!(
        !ok && stderr.contains("sso rotate"),
        "a link needs a secret first: {stderr}"
    );
    let (ok, _, stderr) = portico(
        &db,
        &[
            "company",
            "create",
            "--name",
            "B",
            "--admin-email",
            "A@acme.test",
        ],
    );
    assert!(!ok && stderr.contains("already registered"), "{stderr}");
}

#[tokio::test]
async fn the_access_log_never_shows_a_token_and_the_session_key_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(dir.path());
    let (_, company, _) = portico(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.test",
        ],
    );
    let id = company["companyId"].as_str().unwrap().to_owned();
    let (_, rotated, _) = portico(&db, &["sso", "rotate", "--company", &id]);
    let secret = rotated["secret"].as_str().unwrap().to_owned();

    let server = Server::start(&db);
    let claims = serde_json::json!({"companyId": id, "email": "log@acme.test",
                                    "exp": portico::db::now() + 300});
    let token = crate::helpers::sign(&claims, &secret);
    let c = client();
    let res = c
        .get(format!(
            "{}/api/auth/sso?token={token}&return_to=/dashboard",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = session_set_cookie(&res)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let bad = crate::helpers::sign(&claims, "wrong-secret");
    c.get(format!("{}/login/{bad}", server.base))
        .send()
        .await
        .unwrap();
    // Spellings the router and the form parser decode: still redacted.
    for path in [
        format!("/%6Cogin/{bad}"),
        format!("/api/auth/sso?tok%65n={bad}"),
        format!("/api/auth/sso?Token={bad}"),
        format!("/no/such/page/{bad}"),
        format!("/dashboard?next={bad}"),
    ] {
        let res = c
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error() || res.status().is_redirection(),
            "{path}"
        );
    }
    c.get(format!("{}/api/auth/sso?x=1&token={bad}", server.base))
        .send()
        .await
        .unwrap();
    c.post(format!("{}/api/auth/sso", server.base))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();

    let log = server.log_text();
    assert!(
        log.contains("/api/auth/sso?token=[redacted]&return_to=/dashboard"),
        "{log}"
    );
    assert!(log.contains("/login/[redacted]"));
    for needle in [&token, &bad, &secret] {
        let signature = needle.rsplit('.').next().unwrap();
        assert!(
            !log.contains(signature),
            "a token or secret leaked into the log"
        );
    }
    assert!(server.stop().success());

    // Restart on the same database: the kept session key still opens the cookie.
    let server = Server::start(&db);
    let res = c
        .get(format!("{}/dashboard", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "still signed in after a restart"
    );
    server.stop();
}

#[tokio::test]
async fn user_delete_releases_an_email_claimed_by_the_wrong_company() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(dir.path());
    let mut companies = Vec::new();
    for (name, admin) in [("Wrong", "boss@wrong.test"), ("Right", "boss@right.test")] {
        let (ok, company, _) = portico(
            &db,
            &["company", "create", "--name", name, "--admin-email", admin],
        );
        assert!(ok);
        let id = company["companyId"].as_str().unwrap().to_owned();
        let (_, rotated, _) = portico(&db, &["sso", "rotate", "--company", &id]);
        companies.push((id, rotated["secret"].as_str().unwrap().to_owned()));
    }
    let server = Server::start(&db);
    let sign_in = |(id, secret): &(String, String)| {
        let claims = serde_json::json!({"companyId": id, "email": "pat@shared.test",
                                        "exp": portico::db::now() + 300});
        let url = format!(
            "{}/api/auth/sso?token={}",
            server.base,
            crate::helpers::sign(&claims, secret)
        );
        async move { client().get(url).send().await.unwrap().status().as_u16() }
    };
    // The wrong company claimed the address first; the right one is refused.
    assert_eq!(sign_in(&companies[0]).await, 303);
    assert_eq!(sign_in(&companies[1]).await, 403);

    // The last admin of a company is never deleted.
    let (ok, _, err) = portico(&db, &["user", "delete", "--email", "Boss@Wrong.test"]);
    assert!(!ok && err.contains("last active admin"), "{err}");
    let (ok, _, err) = portico(&db, &["user", "delete", "--email", "nobody@shared.test"]);
    assert!(!ok && err.contains("no user"), "{err}");

    let pool = portico::db::connect(&db).unwrap();
    let mut conn = pool.get().unwrap();
    let pat = portico::db::models::User::find_by_email(&mut conn, "pat@shared.test")
        .unwrap()
        .unwrap();
    let mine = format!("sso_events WHERE user_id = {}", pat.id);
    assert_eq!(count_in(&mut conn, &mine), 1, "the sign-in's ok event");
    let sessions = format!("sessions WHERE user_id = {}", pat.id);
    assert_eq!(count_in(&mut conn, &sessions), 1);

    let (ok, out, err) = portico(&db, &["user", "delete", "--email", "PAT@shared.test"]);
    assert!(ok, "{err}");
    assert_eq!(out["deleted"]["email"], "pat@shared.test");
    assert_eq!(out["deleted"]["companyId"], companies[0].0.as_str());
    assert_eq!(out["requestsDeleted"], 0);
    // Their sessions ended with them; their events stay, without them.
    assert_eq!(count_in(&mut conn, &sessions), 0);
    assert_eq!(count_in(&mut conn, &mine), 0);
    let kept =
        "sso_events WHERE subject = 'pat@shared.test' AND outcome = 'ok' AND user_id IS NULL";
    assert_eq!(count_in(&mut conn, kept), 1);
    // Released: the right company's token now creates the account there.
    assert_eq!(sign_in(&companies[1]).await, 303);
    server.stop();

    // A company's events go with it (there is no command for it: the
    // database's own rule, a key's on SQLite, a trigger on PostgreSQL).
    let wrong = format!(
        "(SELECT id FROM companies WHERE public_id = '{}')",
        companies[0].0
    );
    let events = format!("sso_events WHERE company_id = {wrong}");
    assert!(count_in(&mut conn, &events) > 0);
    diesel::sql_query(format!("DELETE FROM companies WHERE id = {wrong}"))
        .execute(&mut **conn)
        .unwrap();
    assert_eq!(
        count_in(
            &mut conn,
            "sso_events WHERE company_id NOT IN (SELECT id FROM companies)"
        ),
        0
    );
}

#[tokio::test]
async fn an_https_portal_without_its_own_session_key_warns_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(dir.path());
    let server = Server::start_with(&db, &[("PORTICO_BASE_URL", "https://portal.example.test")]);
    let log = server.log_text();
    server.stop();
    assert!(
        log.contains("PORTICO_SESSION_KEY is not set on an https portal"),
        "{log}"
    );
    let server = Server::start_with(&db, &[("PORTICO_BASE_URL", "http://127.0.0.1:1")]);
    let log = server.log_text();
    server.stop();
    assert!(!log.contains("on an https portal"), "{log}");
}
