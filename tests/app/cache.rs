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

#[tokio::test]
async fn a_request_page_follows_every_change_to_it_and_who_may_see_it() {
    use crate::requests::{Cast, cast, person};
    use portico::db::models::{Conversation, Project, Request, Viewer};
    let app = spawn_app().await;
    let Cast {
        acme,
        web,
        jane,
        joe,
        sam,
        bob,
        gus,
    } = cast(&app).await;
    let id = jane
        .open(
            "Printer on fire",
            "Smoke everywhere.",
            &[("project", &web.public_id)],
        )
        .await;
    let cached = || app.state.cache.holds(Change::Request(id));
    async fn look(id: i64, who: &crate::requests::Person) -> (u16, String) {
        who.page(&format!("/requests/{id}")).await
    }

    // Filled by the first look, then served from the cache to everyone
    // who may see it, narrowed to what each may read.
    // A look by someone who may not see it reads nothing of it and caches
    // nothing.
    assert_eq!(look(id, &bob).await.0, 404);
    assert!(!cached(), "a refused look fills nothing");

    // (A first look records that sam has seen it — a change to it — and
    // the second fills the cache.)
    for _ in 0..2 {
        assert_eq!(look(id, &sam).await.0, 200);
    }
    assert!(cached(), "the page filled its conversation");
    let company_id = acme.company.id;
    assert!(
        app.state.cache.holds(Change::Staff(company_id)),
        "and the company's staff"
    );
    for (who, status) in [
        (&jane, 200),
        (&joe, 404),
        (&bob, 404),
        (&gus, 404),
        (&sam, 200),
    ] {
        // Twice: once maybe through the database, once from the cache.
        for _ in 0..2 {
            assert_eq!(look(id, who).await.0, status, "{}", who.email);
        }
    }

    assert_eq!(sam.reply(id, &[("body", "On my way.")]).await, 303);
    assert!(
        look(id, &jane).await.1.contains("On my way."),
        "an answer shows at once"
    );
    assert_eq!(
        sam.reply(id, &[("body", "Smells of toner."), ("internal", "on")])
            .await,
        303
    );
    assert!(look(id, &sam).await.1.contains("Smells of toner."));
    assert!(cached());
    let (_, janes) = look(id, &jane).await;
    assert!(
        janes.contains("On my way.") && !janes.contains("Smells of toner."),
        "an internal note never reaches the customer, cached or not"
    );

    let post = |fields: &'static [(&'static str, &'static str)]| {
        let sam = &sam;
        async move {
            let res = sam.post(&format!("/requests/{id}"), fields).await;
            assert_eq!(res.status().as_u16(), 303, "{fields:?}");
        }
    };
    look(id, &sam).await;
    post(&[("priority", "urgent")]).await;
    assert!(!cached(), "a priority change drops it");
    assert!(
        look(id, &sam)
            .await
            .1
            .contains("set the priority to Urgent")
    );
    let sam_user = app.find_user("sam@acme.test").unwrap();
    let sam_id = sam_user.id.to_string();
    let res = sam
        .post(&format!("/requests/{id}"), &[("assignee", &sam_id)])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        look(id, &sam)
            .await
            .1
            .contains(&format!("assigned it to {}", sam_user.name))
    );
    post(&[("status", "pending")]).await;
    assert!(
        look(id, &jane).await.1.contains("set the status to"),
        "a status line shows at once"
    );

    // The staff list (the assignee choices) follows role changes.
    let ann = person(&app, &acme, "ann@acme.test", json!({})).await;
    let ann_user = app.find_user("ann@acme.test").unwrap();
    let option = format!("<option value=\"{}\"", ann_user.id);
    assert!(
        !look(id, &sam).await.1.contains(&option),
        "a customer is not staff"
    );
    drop(ann);
    person(&app, &acme, "ann@acme.test", json!({"role": "AGENT"})).await;
    assert!(
        look(id, &sam).await.1.contains(&option),
        "made an agent: listed at once"
    );

    // Sharing the project opens it to joe at once, and closing it shuts
    // him out at once, though the conversation stays cached.
    let share = |shared: bool| {
        let public_id = web.public_id.clone();
        app.state
            .db
            .write(move |tx| Project::set_shared(tx, company_id, &public_id, shared))
    };
    share(true).await.unwrap();
    assert_eq!(look(id, &joe).await.0, 200, "shared: joe sees it");
    assert!(!look(id, &joe).await.1.contains("Smells of toner."));
    share(false).await.unwrap();
    assert!(cached());
    assert_eq!(
        look(id, &joe).await.0,
        404,
        "no longer shared: joe does not"
    );

    // The rule in memory is the rule of the queries, for every viewer, in
    // both states of the project.
    let request = Conversation::load(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .request;
    for shared in [false, true] {
        share(shared).await.unwrap();
        for email in [
            "jane@acme.test",
            "joe@acme.test",
            "sam@acme.test",
            "bob@globex.test",
            "gus@globex.test",
        ] {
            let user = app.find_user(email).unwrap();
            let viewer = Viewer::of(&user);
            let mut conn = app.conn();
            let by_query = Request::find_visible(&mut conn, &viewer, id)
                .unwrap()
                .is_some();
            let member_of = Project::ids_for_member(&mut conn, user.id).unwrap();
            let projects = Project::list_for_company(&mut conn, user.company_id).unwrap();
            assert_eq!(
                request.is_visible_to(&viewer, &member_of, &projects),
                by_query,
                "{email}, shared: {shared}"
            );
        }
    }
}
