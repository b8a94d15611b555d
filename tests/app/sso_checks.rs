//! Every check of the README's table, through the real HTTP stack: its reason
//! code and status, no session, no account change, and an audit event when
//! the company is known.

use portico::db::models::Role;
use serde_json::json;

use crate::helpers::*;

/// Sends `token` asking for JSON and asserts the refusal: status and code,
/// no cookie set, the session as it was, no new or changed user.
async fn assert_refused(app: &TestApp, token: &str, status: u16, code: &str) {
    let users_before = app.count("users");
    let memberships_before = app.count("memberships");
    let before = app.get("/dashboard").await.status().as_u16();
    let res = app.sso_json(token).await;
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "refusals are never cached"
    );
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert!(
        res.headers().get("set-cookie").is_none(),
        "a refusal sets no cookie ({code})"
    );
    assert_eq!(
        error_code(res).await,
        (status, code.to_owned()),
        "for {code}"
    );
    assert_eq!(
        app.count("users"),
        users_before,
        "no account created ({code})"
    );
    assert_eq!(app.count("memberships"), memberships_before);
    let dash = app.get("/dashboard").await;
    assert_eq!(
        dash.status().as_u16(),
        before,
        "a refusal leaves the session as it was ({code})"
    );
}

#[tokio::test]
async fn token_missing() {
    let app = spawn_app().await;
    let (status, code) = error_code(app.get_json("/api/auth/sso").await).await;
    assert_eq!((status, code.as_str()), (400, "token_missing"));
    let (status, code) = error_code(app.get_json("/api/auth/sso?token=").await).await;
    assert_eq!((status, code.as_str()), (400, "token_missing"));
    let (status, code) = error_code(app.get_json("/login/").await).await;
    assert_eq!((status, code.as_str()), (400, "token_missing"));
    let res = app
        .client
        .post(app.url("/api/auth/sso"))
        .header("Accept", "application/json")
        .form(&[("return_to", "/dashboard")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "token_missing".into()));
}

#[tokio::test]
async fn token_malformed() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let good = acme.token("jane@acme.test", json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let cases = vec![
        "abc".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("!!!.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", b64("not json"), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], b64("[1,2,3]"), parts[2]),
        format!("{}.{}.{}", parts[0], b64("{\"exp\":"), parts[2]),
        // standard base64, not base64url
        format!("{}+/.{}.{}", parts[0], parts[1], parts[2]),
        // over 8 KiB
        acme.token("jane@acme.test", json!({"name": "x".repeat(9000)})),
        // a string exp is refused, never skipped (CVE-2026-25537)
        acme.token("jane@acme.test", json!({"exp": (now() + 300).to_string()})),
        acme.token("jane@acme.test", json!({"iat": "yesterday"})),
        acme.token("jane@acme.test", json!({"companyId": 42})),
        acme.token("jane@acme.test", json!({"aud": [1, 2]})),
    ];
    for token in cases {
        assert_refused(&app, &token, 400, "token_malformed").await;
    }
    assert!(
        app.outcomes(&acme.company).is_empty(),
        "no event before the company is known"
    );
}

#[tokio::test]
async fn unsupported_algorithm() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let claims = json!({"companyId": acme.id(), "email": "jane@acme.test", "exp": now() + 300});
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&claims.to_string())
    );
    assert_refused(&app, &none, 400, "unsupported_algorithm").await;
    for alg in ["HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "None"] {
        let token = sign_raw(&json!({"alg": alg, "typ": "JWT"}), &claims, &acme.secret);
        assert_refused(&app, &token, 400, "unsupported_algorithm").await;
    }
    let no_alg = sign_raw(&json!({"typ": "JWT"}), &claims, &acme.secret);
    assert_refused(&app, &no_alg, 400, "unsupported_algorithm").await;
    // A genuine HS512 token, as a library makes it.
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(acme.secret.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, &hs512, 400, "unsupported_algorithm").await;
}

#[tokio::test]
async fn company_checks() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    // no companyId and no sub
    let token = sign(
        &json!({"email": "jane@acme.test", "exp": now() + 300}),
        &acme.secret,
    );
    assert_refused(&app, &token, 400, "missing_claim").await;
    // unknown companyId
    let token = acme.token("jane@acme.test", json!({"companyId": "cmp_nope"}));
    assert_refused(&app, &token, 400, "unknown_company").await;
    // sub of nobody, no companyId
    let token = sign(&json!({"sub": 424242, "exp": now() + 300}), &acme.secret);
    assert_refused(&app, &token, 400, "unknown_company").await;
    // a company without a secret
    let bare = app.company_without_secret("Bare");
    let token = sign(
        &json!({"companyId": bare.public_id, "email": "a@bare.test", "exp": now() + 300}),
        "anything",
    );
    assert_refused(&app, &token, 400, "sso_not_configured").await;
    assert_eq!(app.outcomes(&bare), vec!["sso_not_configured"]);
}

#[tokio::test]
async fn bad_signature_is_recorded_for_the_company() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = sign(
        &json!({"companyId": acme.id(), "email": "jane@acme.test", "exp": now() + 300}),
        "not-the-secret",
    );
    assert_refused(&app, &token, 401, "bad_signature").await;
    // A tampered payload under a good signature.
    let good = acme.token("jane@acme.test", json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let forged_claims =
        json!({"companyId": acme.id(), "email": "boss@acme.test", "exp": now() + 300});
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&forged_claims.to_string()),
        parts[2]
    );
    assert_refused(&app, &forged, 401, "bad_signature").await;
    assert_eq!(
        app.outcomes(&acme.company),
        vec!["bad_signature", "bad_signature"]
    );
}

#[tokio::test]
async fn time_checks() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let t = now();
    let cases = [
        (json!({"exp": null}), 401, "missing_claim"),
        (
            json!({"iat": t - 400, "exp": t - 120}),
            401,
            "token_expired",
        ),
        (
            json!({"nbf": t + 300, "exp": t + 400}),
            401,
            "token_not_yet_valid",
        ),
        (
            json!({"iat": t + 300, "exp": t + 400}),
            401,
            "token_not_yet_valid",
        ),
        (
            json!({"aud": "https://elsewhere.example"}),
            401,
            "invalid_audience",
        ),
        (json!({"aud": ["a", "b"]}), 401, "invalid_audience"),
        (json!({"iat": t, "exp": t + 3600}), 401, "lifetime_too_long"),
        // no iat: exp − now counts
        (
            json!({"iat": null, "exp": t + 900}),
            401,
            "lifetime_too_long",
        ),
    ];
    for (extra, status, code) in cases {
        let token = acme.token("jane@acme.test", extra.clone());
        assert_refused(&app, &token, status, code).await;
    }
    // Within the 60 s leeway, and both accepted audiences.
    for extra in [
        json!({"iat": t - 250, "exp": t - 30}),
        json!({"nbf": t + 30}),
        json!({"aud": acme.id()}),
        json!({"aud": [app.address.clone(), "other"]}),
        json!({"aud": format!("{}/", app.address)}),
    ] {
        let token = acme.token("jane@acme.test", extra.clone());
        let res = app.sso(&token).await;
        assert_eq!(res.status().as_u16(), 303, "accepted: {extra}");
    }
}

#[tokio::test]
async fn replayed_jti_is_refused_and_not_consumed_by_a_refusal() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token("jane@acme.test", json!({"jti": "once"}));
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    assert_refused(&app, &token, 401, "token_replayed").await;
    // The same jti at another company is that company's own.
    let beta = app.company("Beta");
    let other = beta.token("jo@beta.test", json!({"jti": "once"}));
    assert_eq!(app.sso(&other).await.status().as_u16(), 303);
    // A token refused by a later check does not burn its jti.
    let refused = acme.token(
        "jane@acme.test",
        json!({"jti": "later", "projectId": "proj_nope"}),
    );
    assert_refused(&app, &refused, 400, "unknown_project").await;
    assert_refused(&app, &refused, 400, "unknown_project").await;
}

#[tokio::test]
async fn identity_checks() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let cases = [
        (json!({"email": "not-an-email"}), "invalid_email"),
        (json!({"email": "jöhn@acme.test"}), "invalid_email"),
        (json!({"email": "john@acmé.test"}), "invalid_email"),
        (
            json!({"email": format!("{}@acme.test", "a".repeat(250))}),
            "invalid_email",
        ),
        (json!({"email": "two@@acme.test"}), "invalid_email"),
        (json!({"email": "   "}), "invalid_email"),
        (json!({"email": null, "sub": 999_999}), "unknown_user"),
        (json!({"email": null, "sub": "user-abc"}), "unknown_user"),
        (json!({"email": null}), "missing_claim"),
        (json!({"role": "ADMIN"}), "invalid_role"),
        (json!({"role": "superuser"}), "invalid_role"),
        (json!({"role": "agent"}), "invalid_role"),
        (json!({"projectId": "proj_nope"}), "unknown_project"),
    ];
    for (extra, code) in cases {
        let token = acme.token("jane@acme.test", extra.clone());
        assert_refused(&app, &token, 400, code).await;
    }
    // Another company's project is unknown here.
    let beta = app.company("Beta");
    let beta_project = app.project(&beta.company, "Beta web");
    let token = acme.token(
        "jane@acme.test",
        json!({"projectId": beta_project.public_id}),
    );
    assert_refused(&app, &token, 400, "unknown_project").await;
    // A sub naming a user of another company.
    let bob = app.user(&beta.company, "bob@beta.test", Role::Customer);
    let token = acme.token("x", json!({"email": null, "sub": bob.id}));
    assert_refused(&app, &token, 400, "unknown_user").await;
}

#[tokio::test]
async fn email_of_another_company_is_taken() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let beta = app.company("Beta");
    app.user(&acme.company, "jane@acme.test", Role::Customer);
    let token = beta.token("Jane@Acme.test", json!({}));
    assert_refused(&app, &token, 403, "email_taken").await;
    let user = app.find_user("jane@acme.test").unwrap();
    assert_eq!(
        user.company_id, acme.company.id,
        "the owner keeps the account"
    );
    assert_eq!(app.outcomes(&beta.company), vec!["email_taken"]);
}

#[tokio::test]
async fn disabled_user_is_refused() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = app.user(&acme.company, "jane@acme.test", Role::Customer);
    use diesel::prelude::*;
    use portico::db::schema::users;
    diesel::update(users::table.find(jane.id))
        .set(users::disabled.eq(true))
        .execute(&mut **app.conn())
        .unwrap();
    assert_refused(
        &app,
        &acme.token("jane@acme.test", json!({})),
        403,
        "user_disabled",
    )
    .await;
    let by_sub = sign(&json!({"sub": jane.id, "exp": now() + 300}), &acme.secret);
    assert_refused(&app, &by_sub, 403, "user_disabled").await;
    assert_eq!(
        app.outcomes(&acme.company),
        vec!["user_disabled", "user_disabled"]
    );
}

#[tokio::test]
async fn checks_run_in_the_table_order() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let t = now();
    // Expired, from the future, replayable, bad email and bad role all at
    // once: the earliest check (the signature) decides.
    let claims = json!({"companyId": acme.id(), "email": "bad", "role": "ROOT",
                        "exp": t - 500, "nbf": t + 500});
    assert_refused(&app, &sign(&claims, "wrong"), 401, "bad_signature").await;
    assert_refused(&app, &sign(&claims, &acme.secret), 401, "token_expired").await;
    let claims = json!({"companyId": acme.id(), "email": "bad", "role": "ROOT", "exp": t + 300});
    assert_refused(&app, &sign(&claims, &acme.secret), 400, "invalid_email").await;
    let claims = json!({"companyId": acme.id(), "email": "ok@acme.test", "role": "ROOT",
                        "projectId": "proj_x", "exp": t + 300});
    assert_refused(&app, &sign(&claims, &acme.secret), 400, "invalid_role").await;
}

#[tokio::test]
async fn refusal_page_speaks_to_both_audiences_and_never_shows_the_token() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token(
        "jane@acme.test",
        json!({"iat": now() - 900, "exp": now() - 600}),
    );
    let res = app.sso(&token).await;
    assert_eq!(res.status().as_u16(), 401);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("This sign-in link has expired"));
    assert!(body.contains("token_expired"));
    assert!(body.contains("Server time"));
    assert!(!body.contains(&token), "the token is never echoed");
    assert!(
        !body.contains(token.split('.').nth(2).unwrap()),
        "nor its signature"
    );
    assert!(!body.contains(&acme.secret), "nor the secret");
}

#[tokio::test]
async fn hostile_inputs_never_get_a_5xx() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let long = "A".repeat(20_000);
    let paths = [
        "/api/auth/sso?token=%ff%fe".to_owned(),
        "/api/auth/sso?token=%00".to_owned(),
        "/api/auth/sso?token=a&token=b".to_owned(),
        "/api/auth/sso?token[]=x".to_owned(),
        format!("/api/auth/sso?token={long}"),
        "/login/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/login/a/b/c".to_owned(),
        "/login/%E2%80%AE".to_owned(),
        format!("/login/{}.{}.", b64("{\"alg\":\"none\"}"), b64("{}")),
        format!(
            "/login/{}.{}.x",
            b64("{\"alg\":\"HS256\"}"),
            b64("{\"sub\":1e400}")
        ),
        format!(
            "/login/{}.{}.x",
            b64("{\"alg\":\"HS256\"}"),
            b64("{\"exp\":-1e308}")
        ),
        format!(
            "/api/auth/sso?token={}.{}.x",
            b64(&"[".repeat(5000)),
            b64("{}")
        ),
    ];
    for path in &paths {
        let res = app.get(path).await;
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "{path} → {status}");
    }
    let posts: Vec<Vec<u8>> = vec![
        b"token=%zz".to_vec(),
        vec![0xff, 0xfe, 0x00],
        format!("token={}", "B".repeat(100_000)).into_bytes(),
    ];
    for body in posts {
        let res = app
            .client
            .post(app.url("/api/auth/sso"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "POST → {status}");
    }
    let extreme = acme.token("jane@acme.test", json!({"exp": 1e300, "iat": -1e300}));
    let (status, _) = error_code(app.sso_json(&extreme).await).await;
    assert_eq!(status, 401);
    assert_eq!(app.count("users"), 0);
}
