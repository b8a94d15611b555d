//! The dashboard, `/`, sessions and sign-out.

use diesel::prelude::*;
use portico::db::schema::users;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn root_sends_visitors_to_login_and_members_to_the_dashboard() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    let res = app.get("/dashboard").await;
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    let acme = app.company("Acme");
    app.sso(&acme.token("amy@acme.test", json!({}))).await;
    let res = app.get("/").await;
    assert_eq!(res.headers()["location"], "/dashboard");
}

/// Changes made by another process (here: straight into the database) are
/// seen once the cache entry's time is up; changes made through the app are
/// seen at once (see the People tests in admin.rs).
#[tokio::test]
async fn changes_behind_the_apps_back_end_sessions_within_the_cache_ttl() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    app.sso(&acme.token("amy@acme.test", json!({}))).await;
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 200);
    let amy = app.find_user("amy@acme.test").unwrap();
    let wait = portico::cache::TTL + std::time::Duration::from_millis(200);
    diesel::update(users::table.find(amy.id))
        .set(users::session_epoch.eq(amy.session_epoch + 1))
        .execute(&mut **app.conn())
        .unwrap();
    tokio::time::sleep(wait).await;
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 303);

    app.sso(&acme.token("amy@acme.test", json!({}))).await;
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 200);
    diesel::update(users::table.find(amy.id))
        .set(users::disabled.eq(true))
        .execute(&mut **app.conn())
        .unwrap();
    // A disabled user's next sign-in is refused at once: it reads the database.
    let (status, code) =
        error_code(app.sso_json(&acme.token("amy@acme.test", json!({}))).await).await;
    assert_eq!((status, code.as_str()), (403, "user_disabled"));
    tokio::time::sleep(wait).await;
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 303);
}

#[tokio::test]
async fn a_forged_or_foreign_cookie_is_no_session() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    app.sso(&acme.token("amy@acme.test", json!({}))).await;
    let cookie = app.session_cookie().unwrap();
    // The same cookie against another instance (another key) is nothing.
    let other = spawn_app().await;
    let res = other
        .client
        .get(other.url("/dashboard"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let tampered = cookie.replacen("portico_session=", "portico_session=AAAA", 1);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/dashboard"))
        .header("cookie", tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token_and_goes_to_the_company_url() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    app.sso(&acme.token("amy@acme.test", json!({}))).await;

    let res = app.post_form("/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 403);
    let res = app.post_form("/logout", &[("csrf", "wrong")]).await;
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(
        app.get("/dashboard").await.status().as_u16(),
        200,
        "still signed in"
    );

    let csrf = app.csrf_from("/dashboard").await;
    let res = app
        .client
        .post(app.url("/logout"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "cross-site posts are refused");

    let res = app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/signed-out");
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 303);
    assert_eq!(app.get("/signed-out").await.status().as_u16(), 200);

    use portico::db::schema::companies;
    diesel::update(companies::table.find(acme.company.id))
        .set(companies::signout_url.eq("https://app.acme.test/bye"))
        .execute(&mut **app.conn())
        .unwrap();
    app.sso(&acme.token("amy@acme.test", json!({}))).await;
    let csrf = app.csrf_from("/dashboard").await;
    let res = app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "https://app.acme.test/bye");
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/signed-out", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
    }
    assert_eq!(app.get("/nope").await.status().as_u16(), 404);
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn healthz_answers_once_the_database_does() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}
