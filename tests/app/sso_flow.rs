//! Successful sign-ins: provisioning, the three entry points, return_to,
//! session renewal, rotation, the race, and the headers.

use portico::db::models::{Method, Role, SsoEvent, SsoSecret};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn first_visit_creates_the_account_and_lands_on_the_dashboard() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token(
        "  Jane.Doe@Example.COM ",
        json!({"name": "Jane Doe", "iss": "acme-app"}),
    );

    let res = app.sso(&token).await;

    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/dashboard");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let cookie = session_set_cookie(&res);
    assert!(cookie.starts_with("portico_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "not Secure on an http base URL");
    let user = app
        .find_user("jane.doe@example.com")
        .expect("the user exists");
    assert_eq!(
        (user.name.as_str(), user.role.as_str()),
        ("Jane Doe", "CUSTOMER")
    );
    assert_eq!(user.company_id, acme.company.id);
    assert!(user.last_login_at.is_some());
    assert_eq!(app.outcomes(&acme.company), vec!["ok"]);
    let event = SsoEvent::recent(&mut app.conn(), acme.company.id, true, 1)
        .unwrap()
        .remove(0)
        .event;
    assert_eq!(
        (
            event.subject.as_deref(),
            event.user_id,
            event.iss.as_deref(),
            event.ip.as_deref()
        ),
        (
            // The subject as the token named it, for the integrator.
            Some("  Jane.Doe@Example.COM "),
            Some(user.id),
            Some("acme-app"),
            Some("127.0.0.1")
        ),
        "the sign-in's event, field by field"
    );

    let dash = app.get("/dashboard").await;
    assert_eq!(dash.status().as_u16(), 200);
    assert_eq!(dash.headers()["cache-control"], "no-store");
    let body = dash.text().await.unwrap();
    assert!(body.contains("Hello, Jane Doe"));
    assert!(body.contains("jane.doe@example.com"));
    assert!(body.contains("Acme"));
    assert!(body.contains("CUSTOMER"));
}

#[tokio::test]
async fn name_defaults_to_the_local_part_and_later_visits_update_only_the_role() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let res = app.sso(&acme.token("sam@acme.test", json!({}))).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.find_user("sam@acme.test").unwrap().name, "sam");

    let token = acme.token("sam@acme.test", json!({"name": "Samuel", "role": "AGENT"}));
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    let sam = app.find_user("sam@acme.test").unwrap();
    assert_eq!((sam.name.as_str(), sam.role.as_str()), ("sam", "AGENT"));

    // Without a role claim the role stays.
    assert_eq!(
        app.sso(&acme.token("sam@acme.test", json!({})))
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(app.find_user("sam@acme.test").unwrap().role, Role::Agent);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn sso_never_changes_an_admin_and_never_opens_settings() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    app.user(&acme.company, "boss@acme.test", Role::Admin);
    let token = acme.token("boss@acme.test", json!({"role": "CUSTOMER"}));
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    assert_eq!(app.find_user("boss@acme.test").unwrap().role, Role::Admin);
    let dash = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        !dash.contains("href=\"/settings/sso\""),
        "no Settings link for an SSO session"
    );
    let settings = app.get("/settings/sso").await;
    assert!(
        [303, 403, 404].contains(&settings.status().as_u16()),
        "an SSO session never opens Settings"
    );
}

#[tokio::test]
async fn invoiced_style_login_path_with_integer_or_string_sub() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let kim = app.user(&acme.company, "kim@acme.test", Role::Customer);
    for sub in [json!(kim.id), json!(kim.id.to_string())] {
        let token = sign(
            &json!({"sub": sub, "iat": now(), "exp": now() + 300}),
            &acme.secret,
        );
        let res = app.get(&format!("/login/{token}")).await;
        assert_eq!(res.status().as_u16(), 303, "sub {sub}");
        assert_eq!(res.headers()["location"], "/dashboard");
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        let body = app.get("/dashboard").await.text().await.unwrap();
        assert!(body.contains("kim@acme.test"));
    }
    let kim = app.find_user("kim@acme.test").unwrap();
    assert!(
        kim.last_login_at.is_some(),
        "a returning sign-in is recorded"
    );
    assert_eq!(kim.last_login_method, Some(Method::Sso));
    // With companyId too, and return_to.
    let token = sign(
        &json!({"companyId": acme.id(), "sub": kim.id, "exp": now() + 300}),
        &acme.secret,
    );
    let res = app
        .get(&format!("/login/{token}?return_to=/dashboard%3Ftab%3D2"))
        .await;
    assert_eq!(res.headers()["location"], "/dashboard?tab=2");
}

#[tokio::test]
async fn post_form_entry_point() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token("pat@acme.test", json!({}));
    let res = app
        .post_form(
            "/api/auth/sso",
            &[("token", &token), ("return_to", "/dashboard")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(app.find_user("pat@acme.test").is_some());
    assert_eq!(app.get("/dashboard").await.status().as_u16(), 200);
}

#[tokio::test]
async fn project_membership_is_added_once() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let web = app.project(&acme.company, "Website");
    app.project(&acme.company, "Mobile");
    for _ in 0..2 {
        let token = acme.token("lee@acme.test", json!({"projectId": web.public_id}));
        assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    }
    assert_eq!(app.count("memberships"), 1);
    let body = app.get("/dashboard").await.text().await.unwrap();
    assert!(body.contains("Website"));
    assert!(
        !body.contains("Mobile"),
        "a customer sees only their projects"
    );

    // An agent sees every project of the company.
    let token = acme.token("ann@acme.test", json!({"role": "AGENT"}));
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    let body = app.get("/dashboard").await.text().await.unwrap();
    assert!(body.contains("Website") && body.contains("Mobile"));
}

#[tokio::test]
async fn return_to_only_to_same_site_paths() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let cases = [
        ("/dashboard?x=1", "/dashboard?x=1"),
        ("/projects/7", "/projects/7"),
        ("//evil.example", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("\\\\evil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("dashboard", "/dashboard"),
        ("/ok\r\nSet-Cookie: x=1", "/dashboard"),
        ("/\t/evil.example", "/dashboard"),
        ("", "/dashboard"),
    ];
    for (i, (return_to, expected)) in cases.iter().enumerate() {
        let token = acme.token(&format!("r{i}@acme.test"), json!({}));
        let res = app
            .post_form(
                "/api/auth/sso",
                &[("token", &token), ("return_to", return_to)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
        assert_eq!(
            res.headers()["location"],
            *expected,
            "return_to {return_to:?}"
        );
    }
}

#[tokio::test]
async fn sign_in_renews_the_session_and_carries_nothing_over() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    assert_eq!(
        app.sso(&acme.token("one@acme.test", json!({})))
            .await
            .status()
            .as_u16(),
        303
    );
    let first = app.session_cookie().unwrap();
    assert_eq!(
        app.sso(&acme.token("two@acme.test", json!({})))
            .await
            .status()
            .as_u16(),
        303
    );
    let second = app.session_cookie().unwrap();
    assert_ne!(first, second, "a new cookie on every sign-in");
    let body = app.get("/dashboard").await.text().await.unwrap();
    assert!(body.contains("two@acme.test") && !body.contains("one@acme.test"));

    // A refused token leaves the session in hand as it was: a bad link signs
    // nobody out, and sets no cookie.
    let bad = sign(
        &json!({"companyId": acme.id(), "email": "x@acme.test", "exp": now() + 60}),
        "nope",
    );
    let refused = app.sso(&bad).await;
    assert_eq!(refused.status().as_u16(), 401);
    assert!(refused.headers().get("set-cookie").is_none());
    let body = app.get("/dashboard").await.text().await.unwrap();
    assert!(body.contains("two@acme.test"), "still signed in as before");
}

/// A session's id is never given twice, not even the id of the newest
/// session once it ended (ids are reserved by the batch that writes the
/// sessions): a copy of an ended session's cookie can never name another.
#[tokio::test]
async fn a_session_id_is_never_given_again() {
    use portico::db::models::LiveSession;
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let sign_in = || async {
        let res = app.sso(&acme.token("one@acme.test", json!({}))).await;
        assert_eq!(res.status().as_u16(), 303);
    };
    sign_in().await;
    let ended_cookie = app.session_cookie().unwrap();
    let user = app.find_user("one@acme.test").unwrap();
    let first = LiveSession::list_of(&mut app.conn(), user.id, now()).unwrap();
    assert_eq!(first.len(), 1);
    // Signing in again from the same browser ends that session, the newest
    // of the table, and starts another.
    sign_in().await;
    let second = LiveSession::list_of(&mut app.conn(), user.id, now()).unwrap();
    assert_eq!(second.len(), 1, "the first session ended");
    assert!(
        second[0].id > first[0].id,
        "a new id: {} after {}",
        second[0].id,
        first[0].id
    );
    // The first cookie names the ended session: it signs nobody in.
    let res = client_with(std::sync::Arc::new(reqwest::cookie::Jar::default()))
        .get(app.url("/dashboard"))
        .header("Cookie", ended_cookie)
        .send()
        .await
        .unwrap();
    assert_ne!(res.status().as_u16(), 200);
    assert!(!res.text().await.unwrap().contains("one@acme.test"));
}

#[tokio::test]
async fn simultaneous_first_sign_ins_create_one_user_and_all_succeed() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let web = app.project(&acme.company, "Website");
    let mut tasks = Vec::new();
    for i in 0..24 {
        let token = acme.token(
            "race@acme.test",
            json!({"jti": format!("race-{i}"), "projectId": web.public_id}),
        );
        let url = app.url(&format!("/api/auth/sso?token={token}"));
        let client = client_with(Default::default());
        tasks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 303);
    }
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("memberships"), 1);
    assert_eq!(app.outcomes(&acme.company).len(), 24);
}

#[tokio::test]
async fn the_same_jti_raced_is_accepted_once() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token("jti@acme.test", json!({"jti": "only-once"}));
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let url = app.url(&format!("/api/auth/sso?token={token}"));
        let client = client_with(Default::default());
        tasks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn rotation_keeps_the_previous_secret_only_for_its_grace_period() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let old = acme.secret.clone();
    let claims = |email: &str| json!({"companyId": acme.id(), "email": email, "exp": now() + 300});

    let new = app.outside(|tx| SsoSecret::rotate(tx, acme.company.id, 3600, now()));
    assert_eq!(
        app.sso(&sign(&claims("a@acme.test"), &old))
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        app.sso(&sign(&claims("b@acme.test"), &new.secret))
            .await
            .status()
            .as_u16(),
        303
    );

    let newest = app.outside(|tx| SsoSecret::rotate(tx, acme.company.id, 0, now()));
    for secret in [&old, &new.secret] {
        let (status, code) =
            error_code(app.sso_json(&sign(&claims("c@acme.test"), secret)).await).await;
        assert_eq!((status, code.as_str()), (401, "bad_signature"));
    }
    assert_eq!(
        app.sso(&sign(&claims("d@acme.test"), &newest.secret))
            .await
            .status()
            .as_u16(),
        303
    );
}

#[tokio::test]
async fn dotnet_shape_without_iat_and_float_times_are_accepted() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let t = now() as f64;
    let token = sign(
        &json!({"companyId": acme.id(), "email": "net@acme.test", "nbf": t, "exp": t + 300.0,
                "unique_name": "net", "aud": null}),
        &acme.secret,
    );
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    let token = sign(
        &json!({"companyId": acme.id(), "email": "py@acme.test", "iat": t + 0.25, "exp": t + 300.5}),
        &acme.secret,
    );
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
}

#[tokio::test]
async fn an_https_base_url_makes_the_session_cookie_secure() {
    let app = spawn_app_with(|s| s.base_url = Some("https://portal.example.test".into())).await;
    let acme = app.company("Acme");
    let res = app.sso(&acme.token("sec@acme.test", json!({}))).await;
    assert_eq!(res.status().as_u16(), 303);
    let cookie = session_set_cookie(&res);
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The https base URL is also an accepted audience.
    let token = acme.token(
        "aud@acme.test",
        json!({"aud": "https://portal.example.test"}),
    );
    assert_eq!(app.sso(&token).await.status().as_u16(), 303);
}

/// Sign-ins that arrive together are written in one batch (on PostgreSQL the
/// batch reads their users in one statement and writes their sessions in
/// one): each person still gets their own session and only their own.
#[tokio::test]
async fn sign_ins_batched_together_each_get_their_own_session() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let globex = app.company("Globex");
    let outsider = app.user(&globex.company, "out@globex.test", Role::Customer);
    let mut cases = Vec::new();
    for i in 0..6 {
        let email = format!("old-{i}@acme.test");
        app.user(&acme.company, &email, Role::Customer);
        // Two of them become agents through the token's role claim.
        let extra = if i < 2 {
            json!({"role": "AGENT"})
        } else {
            json!({})
        };
        cases.push((
            format!("/api/auth/sso?token={}", acme.token(&email, extra)),
            email,
        ));
    }
    for i in 0..4 {
        let email = format!("by-sub-{i}@acme.test");
        let user = app.user(&acme.company, &email, Role::Customer);
        let token = sign(
            &json!({"sub": user.id, "iat": now(), "exp": now() + 300}),
            &acme.secret,
        );
        cases.push((format!("/login/{token}"), email));
    }
    for i in 0..6 {
        let email = format!("new-{i}@acme.test");
        cases.push((
            format!("/api/auth/sso?token={}", acme.token(&email, json!({}))),
            email,
        ));
    }
    let emails: Vec<String> = cases.iter().map(|(_, email)| email.clone()).collect();
    let mut tasks = Vec::new();
    for (path, email) in cases {
        let (sign_in, dashboard) = (app.url(&path), app.url("/dashboard"));
        tasks.push(tokio::spawn(async move {
            let client = client_with(Default::default());
            let status = client.get(sign_in).send().await.unwrap().status().as_u16();
            let page = client.get(dashboard).send().await.unwrap();
            (email, status, page.text().await.unwrap())
        }));
    }
    // Another company's user id as sub: refused, whatever the batch read.
    let foreign = sign(
        &json!({"sub": outsider.id, "iat": now(), "exp": now() + 300}),
        &acme.secret,
    );
    let refused = app.get(&format!("/login/{foreign}")).await;
    assert_eq!(refused.status().as_u16(), 401);
    for task in tasks {
        let (email, status, page) = task.await.unwrap();
        assert_eq!(status, 303, "{email}");
        assert!(page.contains(&email), "{email}'s dashboard is theirs");
        for other in emails.iter().filter(|other| **other != email) {
            assert!(
                !page.contains(other.as_str()),
                "{email}'s dashboard names {other}"
            );
        }
    }
    assert_eq!(app.count("sessions"), 16);
    assert_eq!(app.count("users"), 1 + 10 + 6);
    for i in 0..6 {
        let user = app.find_user(&format!("old-{i}@acme.test")).unwrap();
        let role = if i < 2 { Role::Agent } else { Role::Customer };
        assert_eq!(user.role, role, "old-{i}");
        assert_eq!(user.last_login_method, Some(Method::Sso));
    }
}

/// SQLite: what sign-ins commit is copied from the write-ahead log into the
/// database file by the checkpoint thread soon after, long before the log
/// reaches the writer's own checkpoint (`db::checkpoint`): the pages the
/// file itself holds in use grow while the log is far below `WRITER_PAGES`.
#[tokio::test]
async fn sign_ins_reach_the_database_file_without_the_writers_checkpoint() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: no write-ahead log file of its own");
        return;
    }
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let file = std::path::PathBuf::from(&app.database_url);
    // The pages in use according to the file's own header (its size in
    // pages less its free pages): what checkpoints copied, not what the log
    // holds. (The file's length would not do: the migrations leave free
    // pages that new rows take first.)
    let used = || {
        let bytes = std::fs::read(&file).unwrap();
        let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        word(28) - word(36)
    };
    // Let the start-up's writes settle into the file first.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = used();

    // ~9 pages a sign-in, each its own commit: ~900 pages of log, far
    // below the writer's checkpoint (4,000).
    for i in 0..100 {
        let name = format!("{i:03} {}", "x".repeat(400));
        let token = acme.token(&format!("user-{i}@acme.test"), json!({ "name": name }));
        assert_eq!(app.sso(&token).await.status().as_u16(), 303);
    }

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        // 100 names of 400 bytes: ten pages of 4 KiB at least.
        let now = used();
        if now >= before + 10 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file holds {now} pages in use (was {before}): nothing was checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
