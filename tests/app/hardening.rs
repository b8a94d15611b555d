//! What an outside attacker could do, closed, through HTTP: sessions end on
//! the server (a copied cookie is worth nothing after sign-out, disabling,
//! or an admin ending that session); the secret shown by a rotation is never
//! in a cookie; the SSO event log stays bounded; lifetimes without `iat`;
//! forged forwarding headers; slow bodies; client addresses behind proxies.

use portico::db::housekeeping;
use portico::db::models::{NewSsoEvent, SsoEvent};
use serde_json::json;

use crate::admin::{admin_app, person as person_action, rotate};
use crate::helpers::*;

/// A bare client that sends `cookie` (a `name=value` pair) and nothing else.
async fn with_cookie(app: &TestApp, cookie: &str, path: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_copied_cookie_opens_nothing_after_sign_out() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    assert_eq!(
        app.sso(&acme.token("jo@acme.test", json!({})))
            .await
            .status(),
        303
    );
    let copy = app.session_cookie().unwrap();
    assert_eq!(with_cookie(&app, &copy, "/dashboard").await, 200);

    let csrf = app.csrf_from("/dashboard").await;
    let res = app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        with_cookie(&app, &copy, "/dashboard").await,
        303,
        "the copy taken before sign-out is signed out too"
    );
}

#[tokio::test]
async fn disabling_ends_sessions_for_good_and_admins_can_end_one() {
    let app = admin_app().await;
    let company = crate::admin::company_of(&app, "ada@acme.test");
    let secret = rotate(&app, "0").await;
    let token = |email: &str| {
        sign(
            &json!({"companyId": company.public_id, "email": email, "exp": now() + 300}),
            &secret,
        )
    };
    // Two browsers of one customer.
    let mut cookies = Vec::new();
    for agent in ["Browser One", "Browser Two"] {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(agent)
            .build()
            .unwrap();
        let res = client
            .get(app.url(&format!("/api/auth/sso?token={}", token("cy@acme.test"))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        let set = session_set_cookie(&res);
        cookies.push(set.split(';').next().unwrap().to_owned());
    }
    for c in &cookies {
        assert_eq!(with_cookie(&app, c, "/dashboard").await, 200);
    }
    let cy = app.find_user("cy@acme.test").unwrap();

    // The People page lists both sessions; ending one ends only that one.
    let page = app
        .get(&format!("/settings/people/{}/sessions", cy.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Browser One") && page.contains("Browser Two"),
        "{page}"
    );
    let first_end = page
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/end"))
        .unwrap()
        .to_owned();
    let csrf = app.csrf_from("/settings/people").await;
    let res = app.post_form(&first_end, &[("csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let alive: Vec<u16> = futures_statuses(&app, &cookies).await;
    assert_eq!(alive.iter().filter(|s| **s == 200).count(), 1, "{alive:?}");
    // Another company's admin cannot end it (404), nor is a session of
    // another person ended through this person's URL.
    let res = app
        .post_form(
            &format!("/settings/people/{}/sessions/1/end", cy.id + 1000),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);

    // Disabled, then enabled again: the old cookies stay dead.
    let res = person_action(&app, &csrf, cy.id, "disable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let res = person_action(&app, &csrf, cy.id, "enable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(futures_statuses(&app, &cookies).await, vec![303, 303]);
    assert_eq!(
        app.count("sessions"),
        1,
        "only the admin's own session is left"
    );
    // A fresh sign-in works again.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&format!("/api/auth/sso?token={}", token("cy@acme.test"))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
}

async fn futures_statuses(app: &TestApp, cookies: &[String]) -> Vec<u16> {
    let mut out = Vec::new();
    for c in cookies {
        out.push(with_cookie(app, c, "/dashboard").await);
    }
    out
}

#[tokio::test]
async fn a_replayed_rotation_cookie_never_shows_the_secret_again() {
    let app = admin_app().await;
    let csrf = app.csrf_from("/settings/sso").await;
    let res = app
        .post_form("/settings/sso/rotate", &[("csrf", &csrf), ("grace", "0")])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let replay = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portico_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .or_else(|| app.session_cookie())
        .unwrap();
    let page = res.text().await.unwrap();
    let secret = page
        .split("id=\"new-secret\" class=\"mono\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 43);
    for _ in 0..2 {
        let again = reqwest::Client::new()
            .get(app.url("/settings/sso"))
            .header("cookie", &replay)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 200);
        let body = again.text().await.unwrap();
        assert!(
            !body.contains(&secret),
            "the secret is shown once, in the rotation's answer"
        );
        assert!(!body.contains("new-secret"));
    }
}

#[tokio::test]
async fn refusals_are_counted_per_minute_and_never_hide_the_sign_ins() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    assert_eq!(
        app.sso(&acme.token("ok@acme.test", json!({})))
            .await
            .status(),
        303
    );
    let forged = sign(
        &json!({"companyId": acme.id(), "email": "x@acme.test", "exp": now() + 60}),
        "not-the-secret",
    );
    // 3,000 refused tokens from one address, eight connections at a time.
    let stranger = client_with(Default::default());
    let url = app.url(&format!("/api/auth/sso?token={forged}"));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url) = (stranger.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..375 {
                let res = client.get(&url).send().await.unwrap();
                assert_eq!(res.status().as_u16(), 401);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows = app.count("sso_events");
    assert!(
        rows <= 3,
        "300 refusals from one address are one row a minute: {rows} rows"
    );
    let mut conn = app.conn();
    let refusals = SsoEvent::recent(&mut conn, acme.company.id, false, 50).unwrap();
    assert_eq!(refusals.iter().map(|e| e.count).sum::<i64>(), 3_000);
    let signins = SsoEvent::recent(&mut conn, acme.company.id, true, 50).unwrap();
    assert_eq!(signins.len(), 1, "the real sign-in is still listed");
}

#[tokio::test]
async fn each_company_keeps_its_last_ten_thousand_sign_ins_and_apart_its_refusals() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let beta = app.company("Beta");
    let t = now();
    let event = |company_id, outcome: &str, subject: Option<String>, ip: String| NewSsoEvent {
        company_id,
        created_at: t,
        outcome: outcome.into(),
        subject,
        user_id: None,
        ip: Some(ip),
        iss: None,
    };
    app.outside(|tx| {
        for i in 0..10_050 {
            let mut e = event(
                acme.company.id,
                SsoEvent::OK,
                Some(format!("u{i}@acme.test")),
                "10.0.0.1".into(),
            );
            e.created_at = t - 20_000 + i;
            e.insert(tx)?;
        }
        // A flood of refusals from 10,100 addresses (one row each).
        for i in 0..10_100 {
            let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
            event(acme.company.id, "bad_signature", None, ip).insert(tx)?;
        }
        // Two addresses of one IPv6 /64: one row, counted twice.
        for ip in ["2001:db8:1:2::a", "2001:db8:1:2:ffff::b"] {
            event(beta.company.id, "bad_signature", None, ip.into()).insert(tx)?;
        }
        event(beta.company.id, SsoEvent::OK, None, "10.0.0.2".into()).insert(tx)
    });
    let trimmed = trim(&app, &mut Default::default()).await;
    assert_eq!(
        trimmed.events,
        50 + 100,
        "50 old sign-ins and 100 old refusal rows"
    );
    let mut conn = app.conn();
    let kept = SsoEvent::recent(&mut conn, acme.company.id, true, 20_000).unwrap();
    assert_eq!(
        kept.len(),
        10_000,
        "the flood of refusals deleted no sign-in"
    );
    assert_eq!(
        kept.last().unwrap().event.subject.as_deref(),
        Some("u50@acme.test")
    );
    let refusals = SsoEvent::recent(&mut conn, acme.company.id, false, 20_000).unwrap();
    assert_eq!(refusals.len(), 10_000);
    let beta_refusals = SsoEvent::recent(&mut conn, beta.company.id, false, 10).unwrap();
    assert_eq!(beta_refusals.len(), 1);
    assert_eq!(beta_refusals[0].count, 2);
    assert_eq!(
        beta_refusals[0].event.ip.as_deref(),
        Some("2001:db8:1:2::/64")
    );
    assert_eq!(
        SsoEvent::recent(&mut conn, beta.company.id, true, 10)
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn without_iat_the_lifetime_is_counted_from_nbf() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let t = now();
    // exp − nbf = 700 s over the 600 s maximum, though exp − now is 500.
    let long = sign(
        &json!({"companyId": acme.id(), "email": "n@acme.test", "nbf": t - 200, "exp": t + 500}),
        &acme.secret,
    );
    let (status, code) = error_code(app.sso_json(&long).await).await;
    assert_eq!((status, code.as_str()), (401, "lifetime_too_long"));
    let fine = sign(
        &json!({"companyId": acme.id(), "email": "n@acme.test", "nbf": t - 100, "exp": t + 400}),
        &acme.secret,
    );
    assert_eq!(app.sso(&fine).await.status().as_u16(), 303);
}

#[tokio::test]
async fn a_forged_forwarded_host_does_not_pass_the_cross_site_check() {
    let app = admin_app().await;
    let csrf = app.csrf_from("/settings/projects").await;
    for (origin, host) in [("http://evil.test", "evil.test"), ("null", "")] {
        let res = app
            .client
            .post(app.url("/settings/projects"))
            .header("origin", origin)
            .header("x-forwarded-host", host)
            .header("forwarded", format!("host={host}"))
            .form(&[("csrf", csrf.as_str()), ("name", "Evil")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{origin}");
    }
    assert_eq!(app.count("projects"), 0);
    // The portal's own origin passes.
    let res = app
        .client
        .post(app.url("/settings/projects"))
        .header("origin", app.address.clone())
        .form(&[("csrf", csrf.as_str()), ("name", "Fine")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.count("projects"), 1);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_the_connection_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|s| s.body_deadline = std::time::Duration::from_secs(1)).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    slow.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nemail=a",
    )
    .await
    .unwrap();
    // Meanwhile the server answers everyone else.
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server closed the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(app.count("users"), 0);
}

/// The IP address the company's latest event recorded.
fn last_event_ip(app: &TestApp, company: &portico::db::models::Company) -> String {
    let mut conn = app.conn();
    let mut events = SsoEvent::recent(&mut conn, company.id, true, 1).unwrap();
    events.extend(SsoEvent::recent(&mut conn, company.id, false, 1).unwrap());
    events.sort_by_key(|e| std::cmp::Reverse(e.event.created_at));
    events[0].event.ip.clone().unwrap_or_default()
}

#[tokio::test]
async fn behind_trusted_proxies_the_client_is_the_forwarded_address_and_never_otherwise() {
    let send = |app: &TestApp, token: String, xff: &'static str| {
        let url = app.url(&format!("/api/auth/sso?token={token}"));
        async move {
            client_with(Default::default())
                .get(url)
                .header("x-forwarded-for", xff)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // No trusted proxy: the header is the client's own words, ignored.
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let token = acme.token("a@acme.test", json!({}));
    assert_eq!(send(&app, token, "203.0.113.7").await, 303);
    assert_eq!(last_event_ip(&app, &acme.company), "127.0.0.1");

    // 127.0.0.1 trusted: the right-most address that is not a proxy.
    let app = spawn_app_with(|s| {
        s.trusted_proxies =
            portico::input::proxies::TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
    })
    .await;
    let acme = app.company("Acme");
    let token = acme.token("b@acme.test", json!({}));
    assert_eq!(
        send(&app, token, "6.6.6.6, 203.0.113.7, 10.1.1.1").await,
        303
    );
    assert_eq!(last_event_ip(&app, &acme.company), "203.0.113.7");
}

#[tokio::test]
async fn only_the_accounts_own_browser_is_told_that_it_is_disabled() {
    use crate::admin::{PASSWORD, login_with};
    let app = admin_app().await;
    // Ada signs in with her password once: her browser gets a device cookie.
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;
    let res = login_with(&app, &app.client, "ada@acme.test", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 303);
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;

    let ada = app.find_user("ada@acme.test").unwrap();
    app.outside(|tx| portico::db::models::User::set_disabled(tx, &ada, true));
    let generic = "The email or the password is incorrect.";
    // A stranger with the right password learns nothing.
    let stranger = client_with(Default::default());
    let res = login_with(&app, &stranger, "ada@acme.test", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 401);
    let body = res.text().await.unwrap();
    assert!(
        body.contains(generic) && !body.contains("disabled"),
        "{body}"
    );
    // Her own browser is told why.
    let res = login_with(&app, &app.client, "ada@acme.test", PASSWORD).await;
    assert_eq!(res.status().as_u16(), 401);
    let body = res.text().await.unwrap();
    assert!(body.contains("This account is disabled"), "{body}");
}

#[tokio::test]
async fn the_housekeeping_ends_expired_sessions_and_caps_a_flood_of_new_ones() {
    use portico::db::models::{LiveSession, Method, NewSession};
    let app = spawn_app().await;
    let acme = app.company("Acme");
    assert_eq!(
        app.sso(&acme.token("flood@acme.test", json!({})))
            .await
            .status(),
        303
    );
    let user = app.find_user("flood@acme.test").unwrap();
    // Signed out: the sign-in's own row is gone.
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(
        app.sso(&acme.token("busy@acme.test", json!({})))
            .await
            .status(),
        303
    );
    let busy = app.find_user("busy@acme.test").unwrap();
    let csrf = app.csrf_from("/dashboard").await;
    app.post_form("/logout", &[("csrf", &csrf)]).await;
    let t = now();
    app.outside(|tx| {
        // Two that ended long ago (sessions are made in time order, and all
        // live 12 h: the expired ones are the oldest ids), then 70 new ones
        // of one person between 55 of another (older first: created_at
        // counts up, so the oldest are told apart from the newest).
        for _ in 0..2 {
            NewSession::new(user.id, Method::Sso, t - 50_000, 43_200, None, None).insert(tx)?;
        }
        for i in 0..70 {
            NewSession::new(user.id, Method::Sso, t + i, 43_200, None, None).insert(tx)?;
            if i < 55 {
                NewSession::new(busy.id, Method::Sso, t + i, 43_200, None, None).insert(tx)?;
            }
        }
        Ok(())
    });
    let mut trimmer = housekeeping::Trimmer::default();
    let trimmed = trim(&app, &mut trimmer).await;
    assert_eq!(
        trimmed.sessions,
        2 + 20 + 5,
        "the 2 expired, 20 of the 70 new and 5 of the 55: {trimmed:?}"
    );
    let left = LiveSession::list_of(&mut app.conn(), user.id, t).unwrap();
    assert_eq!(left.len(), 50);
    assert!(
        left.iter().all(|s| s.data.created_at >= t + 20),
        "the newest 50 are kept"
    );
    let left = LiveSession::list_of(&mut app.conn(), busy.id, t).unwrap();
    assert_eq!(left.len(), 50);
    assert!(left.iter().all(|s| s.data.created_at >= t + 5));
    // 60 more: those beyond 50 started since the last round go.
    app.outside(|tx| {
        for _ in 0..60 {
            NewSession::new(user.id, Method::Sso, t + 100, 43_200, None, None).insert(tx)?;
        }
        Ok(())
    });
    assert_eq!(trim(&app, &mut trimmer).await.sessions, 10);
    // Nothing new: the next round reads nothing and ends nothing.
    assert_eq!(trim(&app, &mut trimmer).await.sessions, 0);
}

#[tokio::test]
async fn signing_in_again_ends_the_session_the_browser_held() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    assert_eq!(
        app.sso(&acme.token("first@acme.test", json!({})))
            .await
            .status(),
        303
    );
    let first = app.session_cookie().unwrap();
    assert_eq!(with_cookie(&app, &first, "/dashboard").await, 200);
    // Someone else signs in on the same browser (a shared computer).
    assert_eq!(
        app.sso(&acme.token("second@acme.test", json!({})))
            .await
            .status(),
        303
    );
    assert_eq!(
        with_cookie(&app, &first, "/dashboard").await,
        303,
        "a copy of the first person's cookie opens nothing"
    );
    let body = app.get("/dashboard").await.text().await.unwrap();
    assert!(body.contains("second@acme.test"));
}

#[tokio::test]
async fn a_byte_that_is_not_ascii_hides_nothing_a_trusted_proxy_appended() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = portico::input::proxies::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let acme = app.company("Acme");
    let token = acme.token("c@acme.test", json!({}));
    let res = client_with(Default::default())
        .get(app.url(&format!("/api/auth/sso?token={token}")))
        .header(
            "x-forwarded-for",
            reqwest::header::HeaderValue::from_bytes(b"\xe9t\xe9, 203.0.113.8").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(last_event_ip(&app, &acme.company), "203.0.113.8");
}

#[tokio::test]
async fn a_jti_is_kept_once_by_its_unique_key_whoever_asks() {
    use portico::db::models::UsedToken;
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let beta = app.company("Beta");
    // Expired ids are forgotten by the housekeeping, live ones kept.
    app.outside(|tx| {
        for (jti, expires) in [
            ("old-1", now() - 10),
            ("old-2", now() - 5),
            ("live", now() + 60),
        ] {
            UsedToken::insert(tx, acme.company.id, jti, expires)?;
        }
        Ok(())
    });
    let trimmed = trim(&app, &mut Default::default()).await;
    assert_eq!(trimmed.tokens, 2);
    assert_eq!(app.count("used_tokens"), 1);
    let (first, again, other_company) = app.outside(|tx| {
        Ok((
            UsedToken::insert(tx, acme.company.id, "j-1", now() + 60)?,
            UsedToken::insert(tx, acme.company.id, "j-1", now() + 60)?,
            UsedToken::insert(tx, beta.company.id, "j-1", now() + 60)?,
        ))
    });
    assert!(first && !again && other_company);
}

/// One round of the housekeeping, on a thread of its own as in the server
/// (its writes wait for the writer's answer, which blocks).
async fn trim(app: &TestApp, trimmer: &mut housekeeping::Trimmer) -> housekeeping::Trimmed {
    let (db, writer) = (app.state.db.clone(), app.state.writer.clone());
    let mut moved = std::mem::take(trimmer);
    let (moved, trimmed) = tokio::task::spawn_blocking(move || {
        let trimmed = moved
            .run(&db, &writer)
            .expect("a round of the housekeeping");
        (moved, trimmed)
    })
    .await
    .expect("the housekeeping's thread");
    *trimmer = moved;
    trimmed
}
