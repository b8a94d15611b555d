//! The cache itself, looked at after each kind of change made through the
//! pages and through sign-in: what a change touches is gone from it once the
//! change has answered, so the next request reads it fresh.

use portico::db::Change;
use serde_json::json;

use crate::admin::{admin_app, company_of, person, post, rotate};
use crate::helpers::*;

/// Opens the admin's dashboard: fills the admin's user and company, the
/// company's projects and the admin's memberships.
async fn warm(app: &TestApp) {
    let res = app.get("/dashboard").await;
    let status = res.status().as_u16();
    assert_eq!(status, 200, "{:?}", res.headers().get("location"));
}

#[tokio::test]
async fn secret_and_token_rule_changes_drop_the_company() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let cached = || app.state.cache.holds(Change::Company(company.id));
    let first = rotate(&app, "0").await;
    warm(&app).await;
    assert!(cached(), "the dashboard filled the company");

    let res = post(&app, "/settings/sso/rotate", &[("grace", "3600")]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(!cached(), "a rotation drops the company");

    warm(&app).await;
    assert!(cached());
    let res = post(&app, "/settings/sso/revoke-previous", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "revoking the previous secret drops the company");
    let token = sign(
        &json!({"companyId": company.public_id, "email": "x@acme.test", "exp": now() + 300}),
        &first,
    );
    let stranger = client_with(Default::default());
    let res = stranger
        .get(app.url(&format!("/api/auth/sso?token={token}")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(res).await;
    assert_eq!((status, code.as_str()), (401, "bad_signature"));

    warm(&app).await;
    assert!(cached());
    let res = post(
        &app,
        "/settings/sso/options",
        &[("max_token_lifetime", "900"), ("signout_url", "")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "new token rules drop the company");
}

#[tokio::test]
async fn people_changes_and_sign_ins_drop_the_user() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let secret = rotate(&app, "0").await;
    let jo_client = client_with(Default::default());
    let jo_sign_in = |extra: serde_json::Value| {
        let mut claims =
            json!({"companyId": company.public_id, "email": "jo@acme.test", "exp": now() + 300});
        merge(&mut claims, extra);
        let url = app.url(&format!("/api/auth/sso?token={}", sign(&claims, &secret)));
        let c = jo_client.clone();
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    let jo_dashboard = || {
        let c = jo_client.clone();
        let url = app.url("/dashboard");
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(jo_sign_in(json!({})).await, 303);
    let jo = app.find_user("jo@acme.test").unwrap();
    let cached = || app.state.cache.holds(Change::User(jo.id));
    let csrf = app.csrf_from("/settings/people").await;

    for (action, fields) in [
        ("role", &[("role", "AGENT")][..]),
        ("sign-out", &[][..]),
        ("disable", &[][..]),
    ] {
        if action == "disable" {
            assert_eq!(jo_sign_in(json!({})).await, 303);
        }
        assert_eq!(jo_dashboard().await, 200);
        assert!(cached(), "jo's dashboard filled jo");
        let res = person(&app, &csrf, jo.id, action, fields).await;
        assert_eq!(res.status().as_u16(), 303, "{action}");
        assert!(!cached(), "{action} drops the user");
    }
    let res = person(&app, &csrf, jo.id, "enable", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "enable drops the user");

    // A sign-in that changes the role, or only records the sign-in.
    assert_eq!(jo_sign_in(json!({"role": "CUSTOMER"})).await, 303);
    assert_eq!(jo_dashboard().await, 200);
    assert!(cached());
    assert_eq!(jo_sign_in(json!({"role": "AGENT"})).await, 303);
    assert!(!cached(), "a role given by SSO drops the user");

    // A sign-in that joins a project drops the memberships.
    let project = app.project(&company, "Web");
    assert_eq!(jo_dashboard().await, 200);
    assert!(app.state.cache.holds(Change::Memberships(jo.id)));
    let res = jo_sign_in(json!({"projectId": project.public_id})).await;
    assert_eq!(res, 303);
    assert!(
        !app.state.cache.holds(Change::Memberships(jo.id)),
        "joining a project drops the memberships"
    );
}

#[tokio::test]
async fn project_changes_drop_the_projects_and_a_deletion_every_membership() {
    let app = admin_app().await;
    let company = company_of(&app, "ada@acme.test");
    let cached = || app.state.cache.holds(Change::Projects(company.id));
    let csrf = app.csrf_from("/settings/projects").await;

    warm(&app).await;
    assert!(cached());
    let res = app
        .post_form("/settings/projects", &[("csrf", &csrf), ("name", "Web")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "a new project drops the list");

    let web = portico::db::models::Project::list_for_company(&mut app.conn(), company.id)
        .unwrap()
        .remove(0);
    warm(&app).await;
    assert!(cached());
    let res = app
        .post_form(
            &format!("/settings/projects/{}/rename", web.public_id),
            &[("csrf", &csrf), ("name", "Website")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "a rename drops the list");

    warm(&app).await;
    assert!(cached() && app.state.cache.holds(Change::AllMemberships));
    let res = app
        .post_form(
            &format!("/settings/projects/{}/delete", web.public_id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "a deletion drops the list");
    assert!(
        !app.state.cache.holds(Change::AllMemberships),
        "a deletion drops every membership"
    );
}

/// A customer's dashboard lists their open requests from the cache; every
/// change that shows there drops the list at once, and the next dashboard
/// shows it — an internal note, which the customer must not notice, leaves
/// it alone.
#[tokio::test]
async fn a_customers_open_requests_follow_every_change_they_can_see() {
    use crate::requests::person;
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = person(&app, &acme, "sam@acme.test", json!({"role": "AGENT"})).await;
    let jane_id = app.find_user("jane@acme.test").unwrap().id;
    let cached = || app.state.cache.holds(Change::OpenRequests(jane_id));
    let dashboard = || async { jane.page("/dashboard").await.1 };

    let id = jane.open("Printer on fire", "b", &[]).await;
    let dash = dashboard().await;
    assert!(dash.contains("Printer on fire") && !dash.contains("class=\"unread\""));
    assert!(cached(), "the dashboard filled jane's open requests");

    assert_eq!(sam.reply(id, &[("body", "On my way.")]).await, 303);
    assert!(!cached(), "an agent's answer drops them");
    assert!(
        dashboard().await.contains("class=\"unread\""),
        "unread at once"
    );
    assert!(cached());

    assert_eq!(jane.page(&format!("/requests/{id}")).await.0, 200);
    assert!(!cached(), "jane reading her request drops them");
    assert!(
        !dashboard().await.contains("class=\"unread\""),
        "read at once"
    );

    assert_eq!(
        sam.reply(id, &[("body", "Smells of toner."), ("internal", "on")])
            .await,
        303
    );
    assert!(cached(), "an internal note is nothing jane can see");
    assert!(!dashboard().await.contains("class=\"unread\""));

    let res = sam
        .post(&format!("/requests/{id}"), &[("priority", "urgent")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "a priority change drops them");
    dashboard().await;

    let res = sam
        .post(&format!("/requests/{id}"), &[("status", "solved")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(!cached(), "a status change drops them");
    assert!(
        !dashboard().await.contains("Printer on fire"),
        "solved: gone at once"
    );

    jane.open("Paper jam", "b", &[]).await;
    assert!(!cached(), "a new request drops them");
    assert!(dashboard().await.contains("Paper jam"), "listed at once");
}
