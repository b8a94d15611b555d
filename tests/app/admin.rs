//! The admin side through HTTP: sign-up, password sign-in, throttling,
//! CSRF, and every Settings action.

use std::time::Instant;

use portico::db::models::{Role, SsoSecret};
use serde_json::json;

use crate::helpers::*;

pub const PASSWORD: &str = "correct-horse-battery";

/// Signs up a company through the form; the client is then its admin.
pub async fn sign_up(app: &TestApp, company: &str, email: &str) -> reqwest::Response {
    let csrf = app.csrf_from("/signup").await;
    app.post_form(
        "/signup",
        &[
            ("csrf", &csrf),
            ("company", company),
            ("name", "Ada Admin"),
            ("email", email),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// Signs in through SSO with `client`; the answer's status.
async fn sso_status(client: &reqwest::Client, app: &TestApp, token: &str) -> u16 {
    let url = app.url(&format!("/api/auth/sso?token={token}"));
    client.get(url).send().await.unwrap().status().as_u16()
}

/// A People-page action on a user, with the page's CSRF token.
pub async fn person(
    app: &TestApp,
    csrf: &str,
    user_id: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    app.post_form(&format!("/settings/people/{user_id}/{action}"), &form)
        .await
}

/// A password sign-in attempt by the browser `client`.
pub async fn login_with(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&page);
    client
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    let res = sign_up(&app, "Acme", "ada@acme.test").await;
    assert_eq!(res.status().as_u16(), 303);
    app
}

pub async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = app.csrf_from("/settings/sso").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    app.post_form(path, &form).await
}

pub fn company_of(app: &TestApp, email: &str) -> portico::db::models::Company {
    let user = app.find_user(email).unwrap();
    portico::db::models::Company::find(&mut app.conn(), user.company_id)
        .unwrap()
        .unwrap()
}

pub async fn rotate(app: &TestApp, grace: &str) -> String {
    let res = post(app, "/settings/sso/rotate", &[("grace", grace)]).await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "the secret is in the answer itself"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let marker = "id=\"new-secret\" class=\"mono\">";
    let start = page.find(marker).expect("the new secret is shown") + marker.len();
    page[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn sign_up_creates_the_company_and_its_admin_signed_in() {
    let app = spawn_app().await;
    let res = sign_up(&app, "Acme", "Ada@Acme.test").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/settings/sso");
    let ada = app.find_user("ada@acme.test").unwrap();
    assert_eq!(ada.role, Role::Admin);
    assert!(
        ada.password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$")
    );
    let page = app.get("/settings/sso").await;
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let body = page.text().await.unwrap();
    assert!(
        body.contains("Your company is ready"),
        "a flash after sign-up"
    );
    assert!(body.contains(&company_of(&app, "ada@acme.test").public_id));
    assert!(body.contains("Generate secret"));
}

#[tokio::test]
async fn sign_up_refuses_bad_input_and_writes_nothing() {
    let app = spawn_app().await;
    let cases = [
        ("", "a@acme.test", PASSWORD, "company name"),
        ("Acme", "not-an-email", PASSWORD, "valid email"),
        ("Acme", "a@acme.test", "short", "at least 12"),
    ];
    for (company, email, password, says) in cases {
        let csrf = app.csrf_from("/signup").await;
        let res = app
            .post_form(
                "/signup",
                &[
                    ("csrf", &csrf),
                    ("company", company),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(res.status().as_u16(), 400);
        assert!(res.text().await.unwrap().contains(says), "{says}");
    }
    assert_eq!(app.count("companies"), 0);
    assert_eq!(
        sign_up(&app, "Acme", "a@acme.test").await.status().as_u16(),
        303
    );
    let other = spawn_app().await;
    drop(other);
    let second = client_with(Default::default());
    let csrf_page = second
        .get(app.url("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&csrf_page);
    let res = second
        .post(app.url("/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("company", "Copycat"),
            ("email", "A@acme.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    assert!(res.text().await.unwrap().contains("already has an account"));
    assert_eq!(app.count("companies"), 1);
    // A 129-character passphrase is accepted whole.
    let long = "p".repeat(129);
    let csrf = app.csrf_from("/signup").await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("company", "Long"),
                ("email", "l@long.test"),
                ("password", &long),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = app
        .post_form(
            "/login",
            &[
                ("csrf", &app.csrf_from("/login").await),
                ("email", "l@long.test"),
                ("password", &long[..128]),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 401, "never truncated");
}

#[tokio::test]
async fn sign_up_can_be_turned_off() {
    let app = spawn_app_with(|s| s.allow_signup = false).await;
    assert_eq!(app.get("/signup").await.status().as_u16(), 404);
    let csrf = app.csrf_from("/login").await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("company", "A"),
                ("email", "a@a.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(app.count("companies"), 0);
    assert!(
        !app.get("/login")
            .await
            .text()
            .await
            .unwrap()
            .contains("href=\"/signup\"")
    );
}

#[tokio::test]
async fn password_sign_in_is_generic_renews_the_session_and_is_throttled() {
    let app = admin_app().await;
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;

    let attempt = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let csrf = app.csrf_from("/login").await;
            app.post_form(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await
        }
    };
    let wrong = attempt("ada@acme.test", "wrong-password-123").await;
    assert_eq!(wrong.status().as_u16(), 401);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = attempt("nobody@acme.test", "wrong-password-123").await;
    assert_eq!(unknown.status().as_u16(), 401);
    let unknown_body = unknown.text().await.unwrap();
    let message = "The email or the password is incorrect.";
    assert!(wrong_body.contains(message) && unknown_body.contains(message));

    let before = app.session_cookie();
    let ok = attempt("ADA@acme.test", PASSWORD).await;
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(ok.headers()["location"], "/settings/sso");
    assert_ne!(app.session_cookie(), before, "the session is renewed");
    assert_eq!(app.get("/settings/sso").await.status().as_u16(), 200);

    // A stranger (no device cookie) guessing from this network: the
    // account's untrusted burst is 5 attempts; the next waits, even with the
    // right password.
    let stranger = client_with(Default::default());
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let res = login_with(&app, &stranger, "ada@acme.test", "wrong-guess-1").await;
        statuses.push(res.status().as_u16());
        if let Some(v) = res.headers().get("retry-after") {
            retry_after = Some(v.to_str().unwrap().parse::<u64>().unwrap());
        }
    }
    // Two of the burst went above (before the browser had a device cookie):
    // three are left.
    assert_eq!(&statuses[..3], &[401; 3]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(retry_after.unwrap() >= 1);
    let res = login_with(&app, &stranger, "ada@acme.test", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 429);

    // The admin's own browser holds a device cookie for the account: the
    // stranger's 30 guesses do not lock it out.
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;
    let ok = attempt("ada@acme.test", PASSWORD).await;
    assert_eq!(ok.status().as_u16(), 303, "the admin's browser signs in");
    // Its own attempts are counted on their own (10 at once).
    let mut last = 0;
    for _ in 0..11 {
        last = attempt("ada@acme.test", "wrong-password-123")
            .await
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn unknown_emails_cost_as_much_as_wrong_passwords() {
    let app = admin_app().await;
    let time = |email: &'static str| {
        let app = &app;
        async move {
            let csrf = app.csrf_from("/login").await;
            let started = Instant::now();
            let res = app
                .post_form(
                    "/login",
                    &[
                        ("csrf", &csrf),
                        ("email", email),
                        ("password", "not-the-password"),
                    ],
                )
                .await;
            assert_eq!(res.status().as_u16(), 401);
            started.elapsed()
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        known.push(time("ada@acme.test").await);
        unknown.push(time("ghost@acme.test").await);
    }
    known.sort();
    unknown.sort();
    // Both verify an argon2id hash: the medians are of one order.
    assert!(
        unknown[1] * 3 >= known[1],
        "unknown {unknown:?} vs known {known:?}"
    );
    assert!(
        known[1] * 3 >= unknown[1],
        "unknown {unknown:?} vs known {known:?}"
    );
}

#[tokio::test]
async fn settings_need_a_password_admin() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/settings/sso").await.status().as_u16(),
        303,
        "visitors go to sign-in"
    );
    let acme = app.company("Acme");
    app.user(&acme.company, "boss@acme.test", Role::Admin);
    for (email, role) in [("boss@acme.test", None), ("agent@acme.test", Some("AGENT"))] {
        let extra = role.map_or(json!({}), |r| json!({"role": r}));
        assert_eq!(
            app.sso(&acme.token(email, extra)).await.status().as_u16(),
            303
        );
        for path in ["/settings/sso", "/settings/projects", "/settings/people"] {
            assert_eq!(app.get(path).await.status().as_u16(), 403, "{email} {path}");
        }
        let csrf = app.csrf_from("/dashboard").await;
        let res = app
            .post_form("/settings/sso/rotate", &[("csrf", &csrf), ("grace", "0")])
            .await;
        assert_eq!(res.status().as_u16(), 403);
    }
    let secrets = SsoSecret::usable(&mut app.conn(), acme.company.id, now()).unwrap();
    assert_eq!(secrets.len(), 1, "nothing rotated");
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_or_from_another_site_change_nothing() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let csrf = app.csrf_from("/settings/sso").await;
    for form in [
        vec![("grace", "0")],
        vec![("grace", "0"), ("csrf", "forged")],
    ] {
        let res = app.post_form("/settings/sso/rotate", &form).await;
        assert_eq!(res.status().as_u16(), 403);
    }
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
        ("origin", "null"),
    ] {
        let res = app
            .client
            .post(app.url("/settings/sso/rotate"))
            .header(name, value)
            .form(&[("csrf", csrf.as_str()), ("grace", "0")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{name}: {value}");
    }
    assert!(
        SsoSecret::usable(&mut app.conn(), company.id, now())
            .unwrap()
            .is_empty()
    );
    // Same-origin with Fetch Metadata passes.
    let res = app
        .client
        .post(app.url("/settings/sso/rotate"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.address.clone())
        .form(&[("csrf", csrf.as_str()), ("grace", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        SsoSecret::usable(&mut app.conn(), company.id, now())
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_secret_is_shown_once_and_rotation_honours_the_grace_choice() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let first = rotate(&app, "0").await;
    assert!(first.len() >= 43);
    let again = app.get("/settings/sso").await.text().await.unwrap();
    assert!(!again.contains(&first), "never shown again");
    assert!(
        again.contains(&first[first.len() - 4..]),
        "its last four characters are"
    );

    let token = |secret: &str, email: &str| {
        sign(
            &json!({"companyId": company.public_id, "email": email, "exp": now() + 300}),
            secret,
        )
    };
    let sso_client = client_with(Default::default());
    let status = |t: String| {
        let c = sso_client.clone();
        let url = app.url(&format!("/api/auth/sso?token={t}"));
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(token(&first, "u1@acme.test")).await, 303);

    let second = rotate(&app, "3600").await;
    assert!(
        app.get("/settings/sso")
            .await
            .text()
            .await
            .unwrap()
            .contains("Previous secret")
    );
    assert_eq!(
        status(token(&first, "u2@acme.test")).await,
        303,
        "the old one works for an hour"
    );
    assert_eq!(status(token(&second, "u3@acme.test")).await, 303);

    // Revoke the previous secret now.
    let res = post(&app, "/settings/sso/revoke-previous", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(status(token(&first, "u4@acme.test")).await, 401);

    let third = rotate(&app, "0").await;
    assert_eq!(
        status(token(&second, "u5@acme.test")).await,
        401,
        "revoked at once"
    );
    assert_eq!(status(token(&third, "u6@acme.test")).await, 303);

    let res = post(&app, "/settings/sso/rotate", &[("grace", "999")]).await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        status(token(&third, "u7@acme.test")).await,
        303,
        "a refused rotation changes nothing"
    );
}

#[tokio::test]
async fn token_rules_are_validated_and_applied() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    for (lifetime, url) in [
        ("59", ""),
        ("86401", ""),
        ("ten", ""),
        ("600", "javascript:alert(1)"),
        ("600", "ftp://x"),
    ] {
        let res = post(
            &app,
            "/settings/sso/options",
            &[("max_token_lifetime", lifetime), ("signout_url", url)],
        )
        .await;
        assert_eq!(res.status().as_u16(), 400, "{lifetime} {url}");
    }
    assert_eq!(company_of(&app, "ada@acme.test"), company, "nothing saved");
    let res = post(
        &app,
        "/settings/sso/options",
        &[
            ("max_token_lifetime", "3600"),
            ("signout_url", "https://app.acme.test/"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let saved = company_of(&app, "ada@acme.test");
    assert_eq!(saved.max_token_lifetime, 3600);
    assert_eq!(saved.signout_url.as_deref(), Some("https://app.acme.test/"));
    // A 50-minute token is now accepted.
    let secret = rotate(&app, "0").await;
    let t = sign(
        &json!({"companyId": saved.public_id, "email": "long@acme.test", "iat": now(), "exp": now() + 3000}),
        &secret,
    );
    let c = client_with(Default::default());
    assert_eq!(sso_status(&c, &app, &t).await, 303);
}

#[tokio::test]
async fn the_test_link_signs_someone_in() {
    let app = admin_app().await;
    let res = post(
        &app,
        "/settings/sso/test-link",
        &[("email", "tess@acme.test")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 400, "no secret yet");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Generate a secret first")
    );
    rotate(&app, "0").await;
    app.get("/settings/projects").await;
    let csrf = app.csrf_from("/settings/projects").await;
    app.post_form(
        "/settings/projects",
        &[("csrf", &csrf), ("name", "Website")],
    )
    .await;
    let project = portico::db::models::Project::list_for_company(
        &mut app.conn(),
        company_of(&app, "ada@acme.test").id,
    )
    .unwrap()
    .remove(0);
    let body = post(
        &app,
        "/settings/sso/test-link",
        &[
            ("email", "Tess@Acme.test"),
            ("name", "Tess"),
            ("role", "AGENT"),
            ("project", &project.public_id),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    let marker = "id=\"test-link-url\" class=\"mono\">";
    let link = body
        .split(marker)
        .nth(1)
        .expect("a link")
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let visitor = client_with(Default::default());
    let res = visitor.get(&link).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let tess = app.find_user("tess@acme.test").unwrap();
    assert_eq!((tess.name.as_str(), tess.role.as_str()), ("Tess", "AGENT"));
    assert_eq!(app.count("memberships"), 1);
    let events = app.get("/settings/sso").await.text().await.unwrap();
    let signins = events.split("id=\"refusals-title\"").next().unwrap();
    assert!(
        signins.contains("id=\"events-title\"") && signins.contains("tess@acme.test"),
        "the sign-in shows in the recent sign-ins"
    );
}

#[tokio::test]
async fn the_token_checker_explains_without_signing_in_or_recording() {
    let app = admin_app().await;
    let secret = rotate(&app, "0").await;
    let company = company_of(&app, "ada@acme.test");
    let good = sign(
        &json!({"companyId": company.public_id, "email": "chk@acme.test", "jti": "j1", "exp": now() + 300}),
        &secret,
    );
    let body = post(&app, "/settings/sso/check", &[("token", &good)])
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("would sign in chk@acme.test"), "{body}");
    assert!(
        body.contains(&company.public_id) && body.contains("companyId"),
        "the claims are shown"
    );
    assert!(app.find_user("chk@acme.test").is_none(), "nobody signed in");
    assert_eq!(app.count("sso_events"), 0, "nothing recorded");
    assert_eq!(app.count("used_tokens"), 0, "the jti is not consumed");

    let expired = sign(
        &json!({"companyId": company.public_id, "email": "chk@acme.test", "iat": now() - 900, "exp": now() - 600}),
        &secret,
    );
    let body = post(&app, "/settings/sso/check", &[("token", &expired)])
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("token_expired") && body.contains("Server time"));
    let body = post(&app, "/settings/sso/check", &[("token", "garbage")])
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("token_malformed"));

    let beta = app.company("Beta");
    let foreign = beta.token("x@beta.test", json!({}));
    let body = post(&app, "/settings/sso/check", &[("token", &foreign)])
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("not for your company"));
    // The real sign-in still works: the checker consumed nothing.
    let c = client_with(Default::default());
    assert_eq!(sso_status(&c, &app, &good).await, 303);
}

#[tokio::test]
async fn projects_can_be_created_renamed_and_deleted() {
    let app = admin_app().await;
    let page = app.get("/settings/projects").await.text().await.unwrap();
    assert!(page.contains("No projects yet"), "the empty state explains");
    let csrf = app.csrf_from("/settings/projects").await;
    let res = app
        .post_form(
            "/settings/projects",
            &[("csrf", &csrf), ("name", "Website")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = app
        .post_form(
            "/settings/projects",
            &[("csrf", &csrf), ("name", " Website ")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 409);
    let res = app
        .post_form("/settings/projects", &[("csrf", &csrf), ("name", "   ")])
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let company = company_of(&app, "ada@acme.test");
    let web = portico::db::models::Project::list_for_company(&mut app.conn(), company.id)
        .unwrap()
        .remove(0);
    assert!(
        app.get("/settings/projects")
            .await
            .text()
            .await
            .unwrap()
            .contains(&web.public_id)
    );

    let res = app
        .post_form(
            &format!("/settings/projects/{}/rename", web.public_id),
            &[("csrf", &csrf), ("name", "Web app")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        app.get("/settings/projects")
            .await
            .text()
            .await
            .unwrap()
            .contains("Web app")
    );

    // Another company's project is out of reach.
    let beta = app.company("Beta");
    let theirs = app.project(&beta.company, "Theirs");
    for action in ["rename", "delete"] {
        let res = app
            .post_form(
                &format!("/settings/projects/{}/{action}", theirs.public_id),
                &[("csrf", &csrf), ("name", "Mine")],
            )
            .await;
        assert_eq!(res.status().as_u16(), 404);
    }
    // Deleting removes memberships and the project's tokens are refused.
    let secret = rotate(&app, "0").await;
    let t = sign(
        &json!({"companyId": company.public_id, "email": "m@acme.test", "projectId": web.public_id, "exp": now() + 300}),
        &secret,
    );
    let c = client_with(Default::default());
    assert_eq!(sso_status(&c, &app, &t).await, 303);
    assert_eq!(app.count("memberships"), 1);
    let res = app
        .post_form(
            &format!("/settings/projects/{}/delete", web.public_id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.count("memberships"), 0);
    let t = sign(
        &json!({"companyId": company.public_id, "email": "m@acme.test", "projectId": web.public_id, "exp": now() + 300}),
        &secret,
    );
    assert_eq!(sso_status(&c, &app, &t).await, 400);
}

#[tokio::test]
async fn people_roles_disable_enable_and_sign_out_everywhere() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let secret = rotate(&app, "0").await;
    let jo_client = client_with(Default::default());
    let jo_sign_in = || {
        let t = sign(
            &json!({"companyId": company.public_id, "email": "jo@acme.test", "exp": now() + 300}),
            &secret,
        );
        let c = jo_client.clone();
        let url = app.url(&format!("/api/auth/sso?token={t}"));
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    let jo_dashboard = || {
        let c = jo_client.clone();
        let url = app.url("/dashboard");
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(jo_sign_in().await, 303);
    let jo = app.find_user("jo@acme.test").unwrap();
    let page = app.get("/settings/people").await.text().await.unwrap();
    assert!(page.contains("jo@acme.test") && page.contains("through SSO"));

    let csrf = app.csrf_from("/settings/people").await;
    let res = person(&app, &csrf, jo.id, "role", &[("role", "AGENT")]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.find_user("jo@acme.test").unwrap().role, Role::Agent);
    let res = person(&app, &csrf, jo.id, "role", &[("role", "ADMIN")]).await;
    assert_eq!(res.status().as_u16(), 400, "Settings never makes an admin");

    let res = person(&app, &csrf, jo.id, "sign-out", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(jo_dashboard().await, 303, "signed out everywhere at once");

    assert_eq!(jo_sign_in().await, 303);
    assert_eq!(jo_dashboard().await, 200);
    let res = person(&app, &csrf, jo.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(jo_dashboard().await, 303, "a disabled user's session ends");
    assert_eq!(jo_sign_in().await, 403);
    let res = person(&app, &csrf, jo.id, "enable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(jo_sign_in().await, 303);

    // Another company's user is out of reach.
    let beta = app.company("Beta");
    let bob = app.user(&beta.company, "bob@beta.test", Role::Customer);
    let res = person(&app, &csrf, bob.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 404);
    assert!(!app.find_user("bob@beta.test").unwrap().disabled);
}

#[tokio::test]
async fn the_last_admin_cannot_be_locked_out() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let ada = app.find_user("ada@acme.test").unwrap();
    let csrf = app.csrf_from("/settings/people").await;
    let res = person(&app, &csrf, ada.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        !app.find_user("ada@acme.test").unwrap().disabled,
        "not yourself"
    );
    assert!(
        app.get("/settings/people")
            .await
            .text()
            .await
            .unwrap()
            .contains("cannot disable your own account")
    );

    // With a second admin, one may disable the other, but never the last.
    let bea = app.user(&company, "bea@acme.test", Role::Admin);
    let res = person(&app, &csrf, bea.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(app.find_user("bea@acme.test").unwrap().disabled);
    // And an admin's role is not changed from the People page.
    let res = person(&app, &csrf, bea.id, "role", &[("role", "CUSTOMER")]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.find_user("bea@acme.test").unwrap().role, Role::Admin);
    // Ada, now the only active admin, still cannot disable herself.
    let res = person(&app, &csrf, ada.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!app.find_user("ada@acme.test").unwrap().disabled);
    assert_eq!(
        app.get("/settings/people").await.status().as_u16(),
        200,
        "still in"
    );
}
