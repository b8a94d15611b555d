//! Two instances on one PostgreSQL database behave as one portal: a session
//! made by one is accepted by the other, a change made through one holds on
//! the other at once for sign-in and within a second for pages (its
//! notification, not the cache's TTL), and a `jti` is single-use across
//! both. On SQLite (one process by design) there is nothing to test: the
//! test says so and passes; `scripts/test.sh` runs it on PostgreSQL too.

use std::time::{Duration, Instant};

use portico::cache::SHARED_TTL;
use portico::db::Change;
use portico::db::models::{LiveSession, Method, NewSession, SsoSecret, User};
use serde_json::json;

use crate::helpers::*;

/// Two instances on one fresh PostgreSQL database, with a company; `None`
/// on SQLite (said on stderr).
async fn two_instances() -> Option<(TestApp, TestApp, TestCompany)> {
    if !on_postgres() {
        eprintln!("skipped on SQLite: set {PG_VAR} to run it on PostgreSQL");
        return None;
    }
    let a = spawn_app().await;
    let url = a.database_url.clone();
    let b = spawn_app_with(|s| s.database_url = url).await;
    let acme = a.company("Acme");
    Some((a, b, acme))
}

/// Waits until `done` holds, at most `within`; how long it took.
async fn until(within: Duration, mut done: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if done().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test]
async fn a_session_and_a_disabled_user_hold_on_every_instance() {
    let Some((a, b, acme)) = two_instances().await else {
        return;
    };
    let res = a.sso(&acme.token("pat@acme.test", json!({}))).await;
    assert_eq!(res.status().as_u16(), 303);

    // The browser takes its cookie to the other instance (one host, as
    // behind a load balancer): the same session.
    let browser = client_with(a.jar.clone());
    let dashboard = || async { browser.get(b.url("/dashboard")).send().await.unwrap() };
    assert_eq!(dashboard().await.status().as_u16(), 200);
    let user = a.find_user("pat@acme.test").unwrap();
    // A fill that raced the sign-in's own change, heard from a, is
    // dropped: a next dashboard fills it.
    until(SHARED_TTL, async || {
        dashboard().await;
        b.state.cache.holds(Change::User(user.id))
    })
    .await
    .expect("b caches the user");

    // Disabled through a: b forgets its copy when a's commit is announced,
    // well before its TTL would have dropped it.
    a.state
        .db
        .write(move |tx| User::set_disabled(tx, &user, true))
        .await
        .unwrap();
    let took = until(SHARED_TTL, async || {
        dashboard().await.status().as_u16() == 303
    })
    .await
    .expect("b ends the session within a second");
    assert!(
        took < SHARED_TTL / 2,
        "by the notification ({took:?}), not the TTL"
    );
}

#[tokio::test]
async fn a_rotation_and_a_used_jti_hold_on_every_instance_at_once() {
    let Some((a, b, acme)) = two_instances().await else {
        return;
    };

    // A jti used on a is refused on b.
    let once = acme.token("one@acme.test", json!({"jti": "once"}));
    assert_eq!(a.sso(&once).await.status().as_u16(), 303);
    let (status, code) = error_code(b.sso_json(&once).await).await;
    assert_eq!((status, code.as_str()), (401, "token_replayed"));

    // b has the company and its secret cached by a sign-in...
    let before = acme.token("two@acme.test", json!({}));
    assert_eq!(b.sso(&before).await.status().as_u16(), 303);
    assert!(b.state.cache.holds(Change::Company(acme.company.id)));
    // ...and a rotates with "revoke now": the old secret's tokens are
    // refused on b at once, without waiting for anything.
    let id = acme.company.id;
    let fresh = a
        .state
        .db
        .write(move |tx| SsoSecret::rotate(tx, id, 0, now()))
        .await
        .unwrap();
    let old = acme.token("three@acme.test", json!({}));
    let (status, code) = error_code(b.sso_json(&old).await).await;
    assert_eq!((status, code.as_str()), (401, "bad_signature"));
    let new = sign(
        &json!({"companyId": acme.id(), "email": "three@acme.test", "exp": now() + 300}),
        &fresh.secret,
    );
    assert_eq!(b.sso(&new).await.status().as_u16(), 303);
}

#[tokio::test]
async fn an_answer_given_through_one_instance_shows_on_the_others_dashboard() {
    use crate::requests::{Person, person};
    let Some((a, b, acme)) = two_instances().await else {
        return;
    };
    let jane = person(&a, &acme, "jane@acme.test", json!({})).await;
    let sam = person(&a, &acme, "sam@acme.test", json!({"role": "AGENT"})).await;
    let id = jane.open("Printer on fire", "b", &[]).await;
    // Jane's browser, sent to the other instance by the load balancer.
    let jane_on_b = Person {
        client: jane.client.clone(),
        base: b.address.clone(),
        email: jane.email.clone(),
    };
    let (status, dash) = jane_on_b.page("/dashboard").await;
    assert_eq!(status, 200);
    assert!(dash.contains("Printer on fire") && !dash.contains("class=\"unread\""));
    // A fill that raced a change heard from a (the request's own creation)
    // is dropped: the next dashboard fills it.
    let jane_id = a.find_user("jane@acme.test").unwrap().id;
    until(SHARED_TTL, async || {
        jane_on_b.page("/dashboard").await;
        b.state.cache.holds(Change::OpenRequests(jane_id))
    })
    .await
    .expect("b caches them");

    assert_eq!(sam.reply(id, &[("body", "On my way.")]).await, 303);
    let took = until(SHARED_TTL, async || {
        jane_on_b
            .page("/dashboard")
            .await
            .1
            .contains("class=\"unread\"")
    })
    .await
    .expect("b shows the answer within a second");
    assert!(
        took < SHARED_TTL / 2,
        "by the notification ({took:?}), not the TTL"
    );

    // The request's page, cached by b, shows the next answer given through
    // a as soon.
    let path = format!("/requests/{id}");
    until(SHARED_TTL, async || {
        jane_on_b.page(&path).await;
        b.state.cache.holds(Change::Request(id))
    })
    .await
    .expect("b caches the request's page");
    assert_eq!(sam.reply(id, &[("body", "Found the toner.")]).await, 303);
    let took = until(SHARED_TTL, async || {
        jane_on_b.page(&path).await.1.contains("Found the toner.")
    })
    .await
    .expect("b shows the answer on the page within a second");
    assert!(
        took < SHARED_TTL / 2,
        "by the notification ({took:?}), not the TTL"
    );
}

#[tokio::test]
async fn thousands_of_sessions_ended_in_one_commit_are_told_by_id() {
    let Some((a, b, acme)) = two_instances().await else {
        return;
    };
    let res = a.sso(&acme.token("pat@acme.test", json!({}))).await;
    assert_eq!(res.status().as_u16(), 303);
    let browser = client_with(a.jar.clone());
    let dashboard = || async { browser.get(b.url("/dashboard")).send().await.unwrap() };
    let user = a.find_user("pat@acme.test").unwrap();
    let pat = LiveSession::list_of(&mut a.conn(), user.id, now()).unwrap()[0].id;
    until(SHARED_TTL, async || {
        dashboard().await;
        b.state.cache.holds(Change::Session(pat))
    })
    .await
    .expect("b caches pat's session");

    // A flood of 3,000 sessions of someone else, and pat's, ended in one
    // commit (as the housekeeping does, 2,000 at a time): a list far longer
    // than one notification holds.
    let t = now();
    let mut ids = a.outside(|tx| {
        (0..3_000)
            .map(|_| {
                Ok(NewSession::new(user.id, Method::Sso, t, 60, None, None)
                    .insert(tx)?
                    .id)
            })
            .collect::<Result<Vec<i64>, _>>()
    });
    ids.push(pat);
    // b holds the company, just read by a sign-in through it.
    let other = b.sso(&acme.token("sam@acme.test", json!({}))).await;
    assert_eq!(other.status().as_u16(), 303);
    let filled = Instant::now();
    assert!(b.state.cache.holds(Change::Company(acme.company.id)));
    a.state
        .db
        .write(move |tx| LiveSession::end_ids(tx, &ids))
        .await
        .unwrap();
    let took = until(SHARED_TTL, async || {
        !b.state.cache.holds(Change::Session(pat))
    })
    .await
    .expect("b forgets pat's session within a second");
    assert!(
        took < SHARED_TTL / 2,
        "by the notification ({took:?}), not the TTL"
    );
    // Told which sessions ended, b forgot those and nothing else (a list
    // sent as "everything" would have emptied its cache). Asked before any
    // other request could fill it again, and only while the company's entry
    // cannot have expired by itself.
    if filled.elapsed() < SHARED_TTL {
        assert!(
            b.state.cache.holds(Change::Company(acme.company.id)),
            "b kept what did not change"
        );
    }
    assert_eq!(dashboard().await.status().as_u16(), 303);
}
