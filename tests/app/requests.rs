//! Support requests through HTTP, as customers and agents of two companies
//! use them: who sees what, statuses, Markdown, files, limits, CSRF, the
//! sign-in URL and deep links.

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::*;

/// One person with a browser of their own.
pub struct Person {
    pub client: reqwest::Client,
    pub base: String,
    pub email: String,
}

impl Person {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn page(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }

    pub async fn csrf(&self) -> String {
        let (status, body) = self.page("/requests/new").await;
        assert_eq!(status, 200, "{body}");
        csrf_in(&body)
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A multipart post: the fields, then the files (name, bytes).
    pub async fn post_files(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: Vec<(&str, Vec<u8>)>,
    ) -> reqwest::Response {
        let mut form = Form::new().text("csrf", self.csrf().await);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part("files", Part::bytes(bytes).file_name(name.to_owned()));
        }
        self.client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Opens a request; its id.
    pub async fn open(&self, subject: &str, body: &str, extra: &[(&str, &str)]) -> i64 {
        let mut fields = vec![("subject", subject), ("body", body)];
        fields.extend_from_slice(extra);
        let res = self.post("/requests", &fields).await;
        assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
        location_id(&res)
    }

    pub async fn reply(&self, id: i64, fields: &[(&str, &str)]) -> u16 {
        self.post(&format!("/requests/{id}/messages"), fields)
            .await
            .status()
            .as_u16()
    }
}

pub fn location_id(res: &reqwest::Response) -> i64 {
    let to = res.headers()["location"].to_str().unwrap();
    to.trim_start_matches("/requests/").parse().unwrap()
}

/// Signs `email` in through SSO with a browser of their own.
pub async fn person(
    app: &TestApp,
    company: &TestCompany,
    email: &str,
    extra: serde_json::Value,
) -> Person {
    let client = client_with(Arc::new(Jar::default()));
    let mut claims = json!({"role": "CUSTOMER"});
    merge(&mut claims, extra);
    let token = company.token(email, claims);
    let res = client
        .get(app.url(&format!("/api/auth/sso?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "{email} signs in");
    Person {
        client,
        base: app.address.clone(),
        email: email.to_owned(),
    }
}

async fn agent(app: &TestApp, company: &TestCompany, email: &str) -> Person {
    person(app, company, email, json!({"role": "AGENT"})).await
}

#[tokio::test]
async fn a_customer_asks_an_agent_answers_and_the_status_follows() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = agent(&app, &acme, "sam@acme.test").await;

    let id = jane
        .open("Invoice export fails", "It says **error 500**.", &[])
        .await;
    let (status, page) = jane.page(&format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Invoice export fails") && page.contains("<strong>error 500</strong>"));
    assert!(page.contains("Submitted"), "the customer's word for new");

    let (_, queue) = sam.page("/requests").await;
    assert!(
        queue.contains("Invoice export fails"),
        "the agent's queue lists it"
    );
    assert!(queue.contains("class=\"unread\""), "unread for the agent");

    assert_eq!(sam.reply(id, &[("body", "Looking into it.")]).await, 303);
    let (_, page) = jane.page(&format!("/requests/{id}")).await;
    assert!(page.contains("Looking into it.") && page.contains("In progress"));

    let (_, queue) = sam.page("/requests").await;
    assert!(
        !queue.contains("class=\"unread\""),
        "seen by the agent who answered"
    );

    assert_eq!(
        sam.reply(id, &[("body", "Which browser?"), ("status", "pending")])
            .await,
        303
    );
    let (_, page) = jane.page(&format!("/requests/{id}")).await;
    assert!(page.contains("Waiting on you"));
    assert_eq!(jane.reply(id, &[("body", "Firefox.")]).await, 303);
    let (_, page) = sam.page(&format!("/requests/{id}")).await;
    assert!(
        page.contains("status-open"),
        "a customer's reply reopens a pending request"
    );

    let res = jane
        .post(&format!("/requests/{id}"), &[("status", "solved")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = jane
        .post(&format!("/requests/{id}"), &[("status", "pending")])
        .await;
    assert_eq!(
        res.status().as_u16(),
        403,
        "a customer sets only solved or open"
    );
    let res = jane
        .post(&format!("/requests/{id}"), &[("status", "open")])
        .await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "the requester reopens a solved request"
    );
    let res = jane
        .post(&format!("/requests/{id}"), &[("priority", "urgent")])
        .await;
    assert_eq!(res.status().as_u16(), 403);

    let res = sam
        .post(&format!("/requests/{id}"), &[("status", "closed")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let res = jane
        .post(
            &format!("/requests/{id}/messages"),
            &[("body", "One more thing")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 409);
    assert!(
        res.text().await.unwrap().contains("href=\"/requests/new\""),
        "a link to a new request"
    );
    let res = sam
        .post(&format!("/requests/{id}"), &[("status", "open")])
        .await;
    assert_eq!(res.status().as_u16(), 409, "a closed request stays closed");
    assert_eq!(
        app.count("messages"),
        4,
        "nothing written to the closed request"
    );

    let (_, page) = jane.page(&format!("/requests/{id}")).await;
    assert!(
        page.contains("set the status to Waiting on you"),
        "status lines in the customer's words"
    );
    let (_, page) = sam.page(&format!("/requests/{id}")).await;
    assert!(page.contains("set the status to Pending"));
}

/// Two companies' people: in Acme, the customers jane and joe (members of
/// its project Web, not shared) and the agent sam; in Globex, the customer
/// bob and the agent gus.
pub struct Cast {
    pub acme: TestCompany,
    pub web: portico::db::models::Project,
    pub jane: Person,
    pub joe: Person,
    pub sam: Person,
    pub bob: Person,
    pub gus: Person,
}

pub async fn cast(app: &TestApp) -> Cast {
    let acme = app.company("Acme");
    let globex = app.company("Globex");
    let web = app.project(&acme.company, "Web");
    let in_web = json!({"projectId": web.public_id});
    Cast {
        jane: person(app, &acme, "jane@acme.test", in_web.clone()).await,
        joe: person(app, &acme, "joe@acme.test", in_web).await,
        sam: agent(app, &acme, "sam@acme.test").await,
        bob: person(app, &globex, "bob@globex.test", json!({})).await,
        gus: agent(app, &globex, "gus@globex.test").await,
        acme,
        web,
    }
}

#[tokio::test]
async fn nobody_sees_what_is_not_theirs_and_internal_notes_stay_internal() {
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
            "Login loop",
            "I keep landing on the login page.",
            &[("project", &web.public_id)],
        )
        .await;
    let (missing_status, missing_page) = joe.page("/requests/999999").await;
    assert_eq!(missing_status, 404);
    for other in [&joe, &bob, &gus] {
        let (status, page) = other.page(&format!("/requests/{id}")).await;
        assert_eq!(status, 404, "{} may not see it", other.email);
        assert_eq!(
            page, missing_page,
            "the same answer as a request that does not exist"
        );
        let (_, list) = other.page("/requests?status=all").await;
        assert!(!list.contains("Login loop"), "{}", other.email);
    }
    assert_eq!(joe.reply(id, &[("body", "me too")]).await, 404);

    // A shared project (as the Projects page shares it): its members see
    // each other's requests.
    let (company_id, public_id) = (acme.company.id, web.public_id.clone());
    app.state
        .db
        .write(move |tx| portico::db::models::Project::set_shared(tx, company_id, &public_id, true))
        .await
        .unwrap();
    let (status, page) = joe.page(&format!("/requests/{id}")).await;
    assert_eq!(status, 200, "shared: a project member sees it");
    assert!(page.contains("Login loop"));
    assert!(joe.page("/requests").await.1.contains("Login loop"));
    assert_eq!(
        bob.page(&format!("/requests/{id}")).await.0,
        404,
        "never another company"
    );

    // An internal note with a file: not in the page, the search, the unread
    // marker or the file's URL for customers.
    let res = sam
        .post_files(
            &format!("/requests/{id}/messages"),
            &[
                ("body", "Customer is on the legacy plan zebracorn"),
                ("internal", "on"),
            ],
            vec![("notes.txt", b"secret staff notes".to_vec())],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, agent_page) = sam.page(&format!("/requests/{id}")).await;
    assert!(
        agent_page.contains("zebracorn")
            && agent_page.contains("Internal — customers never see this")
    );
    let file_url = agent_page
        .split("href=\"")
        .find(|s| s.contains("/attachments/"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(sam.get(&file_url).await.status().as_u16(), 200);
    for customer in [&jane, &joe] {
        let (_, page) = customer.page(&format!("/requests/{id}")).await;
        assert!(
            !page.contains("zebracorn") && !page.contains("notes.txt"),
            "{}",
            customer.email
        );
        assert_eq!(customer.get(&file_url).await.status().as_u16(), 404);
        let (_, found) = customer.page("/requests?q=zebracorn").await;
        assert!(
            !found.contains("Login loop"),
            "search never reads internal notes for customers"
        );
        let (_, found) = customer.page("/requests?q=landing").await;
        assert!(found.contains("Login loop"), "search reads public messages");
    }
    let (_, found) = sam.page("/requests?q=zebracorn").await;
    assert!(found.contains("Login loop"), "agents search internal notes");
    assert_eq!(gus.get(&file_url).await.status().as_u16(), 404);
    let (_, list) = jane.page("/requests").await;
    assert!(
        !list.contains("class=\"unread\""),
        "an internal note is no news to the customer"
    );
}

#[tokio::test]
async fn markdown_is_rendered_and_attacks_are_not() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let body = "<script>alert(1)</script>\n\n[click](javascript:alert(1)) \
                <img src=x onerror=alert(1)> ![pic](https://evil.test/p.png) \
                [ok](https://example.com) `code`";
    let id = jane.open("Markdown", body, &[]).await;
    let (_, page) = jane.page(&format!("/requests/{id}")).await;
    assert!(!page.contains("<script>alert"), "raw HTML shows as text");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("href=\"javascript:"));
    assert!(!page.contains("<img"), "no image is loaded");
    let in_tags = |attr: &str| {
        page.split('<')
            .any(|t| t.split('>').next().unwrap_or("").contains(attr))
    };
    assert!(!in_tags("onerror"), "no event handler in any tag");
    assert!(page.contains("href=\"https://evil.test/p.png\" rel=\"nofollow noopener noreferrer\""));
    assert!(page.contains("href=\"https://example.com\" rel=\"nofollow noopener noreferrer\""));
    assert!(page.contains("<code>code</code>"));
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend_from_slice(&[0u8; 64]);
    b
}

#[tokio::test]
async fn files_are_typed_by_their_bytes_and_served_safely() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let res = jane
        .post_files(
            "/requests",
            &[("subject", "Screenshot"), ("body", "See attached.")],
            vec![
                ("shot.png", png()),
                (
                    "evil.png",
                    b"<html><script>alert(1)</script></html>".to_vec(),
                ),
                ("blob.bin", vec![0, 159, 146, 150, 255]),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let id = location_id(&res);
    let (_, page) = jane.page(&format!("/requests/{id}")).await;
    let urls: Vec<String> = page
        .split("href=\"")
        .filter(|s| s.contains("/attachments/"))
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect();
    assert_eq!(urls.len(), 3, "{page}");
    let expect = [
        ("image/png", "inline"),
        ("text/plain; charset=utf-8", "attachment"),
        ("application/octet-stream", "attachment"),
    ];
    for (url, (ctype, disposition)) in urls.iter().zip(expect) {
        let res = jane.get(url).await;
        assert_eq!(res.status().as_u16(), 200);
        let h = res.headers();
        assert_eq!(h["content-type"], ctype, "{url}");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with(disposition)
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "private, no-store");
    }
    assert_eq!(
        jane.get(&format!("/requests/{id}/attachments/999"))
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn files_over_the_limits_are_refused_with_413_and_nothing_is_stored() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    const MIB: usize = 1024 * 1024;
    let fields = [("subject", "Big"), ("body", "Files")];
    let res = jane
        .post_files("/requests", &fields, vec![("max.bin", vec![1; 10 * MIB])])
        .await;
    assert_eq!(res.status().as_u16(), 303, "exactly 10 MiB is accepted");
    let before = (app.count("requests"), app.count("attachments"));

    for (what, files) in [
        ("10 MiB + 1", vec![("big.bin", vec![1u8; 10 * MIB + 1])]),
        (
            "six files",
            (0..6).map(|_| ("f.txt", b"x".to_vec())).collect(),
        ),
        (
            "27 MiB in all",
            (0..3).map(|_| ("part.bin", vec![2u8; 9 * MIB])).collect(),
        ),
    ] {
        let res = jane.post_files("/requests", &fields, files).await;
        assert_eq!(res.status().as_u16(), 413, "{what}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("MiB") || page.contains("5 files"),
            "{what}: says which limit"
        );
        assert!(
            page.contains("value=\"Big\""),
            "{what}: keeps what was typed"
        );
    }
    assert_eq!((app.count("requests"), app.count("attachments")), before);
}

#[tokio::test]
async fn bad_input_is_400_with_the_form_kept_and_nothing_written() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let other = app.project(&acme.company, "Other");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = agent(&app, &acme, "sam@acme.test").await;
    let long = "s".repeat(201);
    let huge = "b".repeat(20_001);
    for (fields, says) in [
        (
            vec![("subject", ""), ("body", "kept body")],
            "Write a subject",
        ),
        (
            vec![("subject", long.as_str()), ("body", "kept body")],
            "keep it to 200",
        ),
        (
            vec![("subject", "kept subject"), ("body", "  ")],
            "Write a message",
        ),
        (
            vec![("subject", "kept subject"), ("body", huge.as_str())],
            "20000",
        ),
        (
            vec![
                ("subject", "kept subject"),
                ("body", "b"),
                ("project", &other.public_id),
            ],
            "Choose one of your projects",
        ),
    ] {
        let res = jane.post("/requests", &fields).await;
        assert_eq!(res.status().as_u16(), 400, "{says}");
        let page = res.text().await.unwrap();
        assert!(page.contains(says), "{says}: {page}");
        assert!(page.contains("kept"), "what was typed is kept");
    }
    for (fields, says) in [
        (
            vec![("subject", "s"), ("body", "b"), ("priority", "extreme")],
            "Choose a priority",
        ),
        (
            vec![
                ("subject", "s"),
                ("body", "b"),
                ("requester", "sam@acme.test"),
            ],
            "is not a customer",
        ),
        (
            vec![
                ("subject", "s"),
                ("body", "b"),
                ("requester", "nobody@acme.test"),
            ],
            "is not a customer",
        ),
    ] {
        let res = sam.post("/requests", &fields).await;
        assert_eq!(res.status().as_u16(), 400, "{says}");
        assert!(res.text().await.unwrap().contains(says), "{says}");
    }
    assert_eq!(app.count("requests"), 0);
    let ok = jane.open(&"s".repeat(200), &"é".repeat(20_000), &[]).await;
    assert!(ok > 0, "the limits are inclusive");
    assert_eq!(sam.reply(ok, &[("body", "")]).await, 400);
    assert_eq!(
        sam.reply(ok, &[("body", "x"), ("status", "bogus")]).await,
        400
    );
    let res = sam
        .post(&format!("/requests/{ok}"), &[("priority", "extreme")])
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let res = sam
        .post(&format!("/requests/{ok}"), &[("assignee", "424242")])
        .await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(app.count("messages"), 1);
    // An agent files on a customer's behalf.
    let res = sam
        .post(
            "/requests",
            &[
                ("subject", "On behalf"),
                ("body", "b"),
                ("requester", "jane@acme.test"),
                ("priority", "high"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let id = location_id(&res);
    assert!(
        jane.page(&format!("/requests/{id}"))
            .await
            .1
            .contains("On behalf")
    );
}

#[tokio::test]
async fn forms_without_csrf_or_from_another_site_change_nothing() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let id = jane.open("Mine", "b", &[]).await;
    let url = |p: &str| format!("{}{p}", app.address);
    let res = jane
        .client
        .post(url("/requests"))
        .form(&[("subject", "s"), ("body", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let csrf = jane.csrf().await;
    let res = jane
        .client
        .post(url(&format!("/requests/{id}/messages")))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", csrf.as_str()), ("body", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let form = Form::new().text("subject", "s").text("body", "b");
    let res = jane
        .client
        .post(url("/requests"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "multipart without the token");
    let res = jane
        .client
        .post(url(&format!("/requests/{id}")))
        .form(&[("status", "solved")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!((app.count("requests"), app.count("messages")), (1, 1));
}

#[tokio::test]
async fn deep_links_go_through_the_companys_sign_in_url_and_back() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    app.outside(|tx| {
        portico::db::models::Company::update_options(
            tx,
            acme.company.id,
            600,
            None,
            Some("https://app.acme.test/portal-login?from=portico"),
        )
    });
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let id = jane.open("Deep link", "b", &[]).await;

    // A browser that signed in before holds the company cookie.
    let url = app.address.parse().unwrap();
    let cookies = {
        use reqwest::cookie::CookieStore;
        let jar = Arc::new(Jar::default());
        let client = client_with(jar.clone());
        let token = acme.token("jane@acme.test", json!({}));
        let res = client
            .get(app.url(&format!("/api/auth/sso?token={token}")))
            .send()
            .await
            .unwrap();
        let set: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .filter(|c| c.starts_with("portico_company="))
            .collect();
        assert_eq!(set.len(), 1);
        assert!(
            set[0].contains("HttpOnly")
                && set[0].contains("SameSite=Lax")
                && set[0].contains("Path=/")
        );
        assert!(set[0].contains(&format!("portico_company={}", acme.id())));
        jar.cookies(&url).unwrap().to_str().unwrap().to_owned()
    };
    let company_only = cookies
        .split("; ")
        .find(|c| c.starts_with("portico_company="))
        .unwrap()
        .to_owned();
    let visitor = client_with(Arc::new(Jar::default()));
    let res = visitor
        .get(app.url(&format!("/requests/{id}")))
        .header("Cookie", company_only)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let expected =
        format!("https://app.acme.test/portal-login?from=portico&return_to=%2Frequests%2F{id}");
    assert_eq!(res.headers()["location"], expected.as_str());
    let res = visitor
        .get(app.url(&format!("/requests/{id}?company={}", acme.id())))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://app.acme.test/portal-login?from=portico&return_to=")
    );
    let res = visitor
        .get(app.url(&format!("/requests/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/login",
        "no company known: Portico's sign-in"
    );

    // The company's app signs the visitor in and sends them back.
    let token = acme.token("jane@acme.test", json!({}));
    let res = visitor
        .get(app.url(&format!(
            "/api/auth/sso?token={token}&return_to=/requests/{id}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        format!("/requests/{id}").as_str()
    );
    let res = visitor
        .get(app.url(&format!("/requests/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn the_sign_in_url_is_set_on_settings_and_must_be_https() {
    let app = spawn_app().await;
    let csrf = app.csrf_from("/signup").await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("company", "Acme"),
                ("name", "Ada"),
                ("email", "ada@acme.test"),
                ("password", "correct-horse-battery"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let csrf = app.csrf_from("/settings/sso").await;
    for (url, status) in [
        ("http://app.acme.test/login", 400),
        ("javascript:alert(1)", 400),
        ("http://localhost:3000/login", 303),
        ("https://app.acme.test/portal-login", 303),
    ] {
        let res = app
            .post_form(
                "/settings/sso/options",
                &[
                    ("csrf", &csrf),
                    ("max_token_lifetime", "600"),
                    ("signout_url", ""),
                    ("signin_url", url),
                ],
            )
            .await;
        assert_eq!(res.status().as_u16(), status, "{url}");
        if status == 400 {
            let page = res.text().await.unwrap();
            assert!(page.contains("https://"), "says what to fix");
            assert!(
                page.contains(&format!("value=\"{url}\"")),
                "keeps what was typed"
            );
        }
    }
    let user = app.find_user("ada@acme.test").unwrap();
    let company = portico::db::models::Company::find(&mut app.conn(), user.company_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        company.signin_url.as_deref(),
        Some("https://app.acme.test/portal-login")
    );
}

#[tokio::test]
async fn concurrent_replies_are_all_kept_in_order() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = agent(&app, &acme, "sam@acme.test").await;
    let id = jane.open("Race", "first", &[]).await;
    let csrf_j = jane.csrf().await;
    let csrf_s = sam.csrf().await;
    let mut tasks = Vec::new();
    for n in 0..24 {
        let (who, csrf) = if n % 2 == 0 {
            (&jane, &csrf_j)
        } else {
            (&sam, &csrf_s)
        };
        let client = who.client.clone();
        let url = format!("{}/requests/{id}/messages", app.address);
        let csrf = csrf.clone();
        tasks.push(tokio::spawn(async move {
            let body = format!("reply {n}");
            client
                .post(url)
                .form(&[("csrf", csrf.as_str()), ("body", body.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303);
    }
    assert_eq!(app.count("messages"), 25, "every reply kept");
    let (_, page) = sam.page(&format!("/requests/{id}")).await;
    let first = page.find(">first<").unwrap();
    for n in 0..24 {
        assert!(page.find(&format!(">reply {n}<")).unwrap() > first);
    }
}

#[tokio::test]
async fn the_dashboard_shows_each_role_its_requests() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = agent(&app, &acme, "sam@acme.test").await;
    let (_, dash) = jane.page("/dashboard").await;
    assert!(dash.contains("href=\"/requests/new\"") && dash.contains("no open request"));
    let id = jane.open("Printer on fire", "b", &[]).await;
    let (_, dash) = jane.page("/dashboard").await;
    assert!(dash.contains("Printer on fire"));
    let (_, dash) = sam.page("/dashboard").await;
    for link in [
        "/requests?status=new",
        "/requests?status=open",
        "/requests?assignee=me",
        "/requests?status=pending",
    ] {
        assert!(dash.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let sam_id = app.find_user("sam@acme.test").unwrap().id.to_string();
    let res = sam
        .post(
            &format!("/requests/{id}"),
            &[("assignee", &sam_id), ("status", "solved")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, dash) = jane.page("/dashboard").await;
    assert!(
        !dash.contains("Printer on fire"),
        "solved requests leave the customer's dashboard"
    );
    let (_, mine) = sam.page("/requests?assignee=me&status=all").await;
    assert!(mine.contains("Printer on fire"));
}

#[tokio::test]
async fn the_shared_setting_of_settings_projects_opens_a_projects_requests_to_its_members() {
    let app = crate::admin::admin_app().await;
    let company = crate::admin::company_of(&app, "ada@acme.test");
    let secret = crate::admin::rotate(&app, "0").await;
    let csrf = app.csrf_from("/settings/projects").await;
    let res = app
        .post_form("/settings/projects", &[("csrf", &csrf), ("name", "Team")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let team = portico::db::models::Project::list_for_company(&mut app.conn(), company.id)
        .unwrap()
        .remove(0);
    assert!(!team.shared, "off by default");
    let acme = TestCompany { company, secret };
    let jane = person(
        &app,
        &acme,
        "jane@acme.test",
        json!({"projectId": team.public_id}),
    )
    .await;
    let joe = person(
        &app,
        &acme,
        "joe@acme.test",
        json!({"projectId": team.public_id}),
    )
    .await;
    let id = jane
        .open("Team request", "b", &[("project", &team.public_id)])
        .await;
    assert_eq!(joe.page(&format!("/requests/{id}")).await.0, 404);

    let shared = format!("/settings/projects/{}/shared", team.public_id);
    let res = app
        .post_form(&shared, &[("csrf", &csrf), ("shared", "on")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        app.get("/settings/projects")
            .await
            .text()
            .await
            .unwrap()
            .contains("Stop sharing")
    );
    assert_eq!(
        joe.page(&format!("/requests/{id}")).await.0,
        200,
        "shared: members see it"
    );
    let res = app
        .post_form(&shared, &[("csrf", &csrf), ("shared", "maybe")])
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let res = app
        .post_form(&shared, &[("csrf", &csrf), ("shared", "off")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        joe.page(&format!("/requests/{id}")).await.0,
        404,
        "private again"
    );
    let res = app.post_form(&shared, &[("shared", "on")]).await;
    assert_eq!(res.status().as_u16(), 403, "CSRF-checked");
}

#[tokio::test]
async fn an_oversized_plain_form_is_413_not_a_forged_form() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let huge = "x".repeat(600 * 1024);
    let res = jane
        .post("/requests", &[("subject", "s"), ("body", &huge)])
        .await;
    assert_eq!(res.status().as_u16(), 413);
    assert!(res.text().await.unwrap().contains("20,000 characters"));
    assert_eq!(app.count("requests"), 0);
}

/// The ids of the requests a list page links to, in its order.
pub fn listed(page: &str) -> Vec<i64> {
    page.split("<a class=\"subject\" href=\"/requests/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn search_shows_subject_matches_then_message_matches_newest_first_across_pages() {
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let sam = agent(&app, &acme, "sam@acme.test").await;
    // Thirty requests that mention the word in a message, then two that have
    // it in their subject; a solved one is left out of the agents' default
    // (active) list but found with status=all.
    let mut in_body = Vec::new();
    for i in 0..30 {
        in_body.push(
            jane.open(&format!("Question {i}"), "The quokka report fails", &[])
                .await,
        );
    }
    let older_subject = jane.open("Quokka export", "Nothing else", &[]).await;
    let newer_subject = jane.open("Quokka import", "Nothing else", &[]).await;
    // A reply makes an old request's message the newest match.
    assert_eq!(
        jane.reply(in_body[0], &[("body", "quokka again")]).await,
        303
    );
    assert_eq!(
        sam.reply(
            in_body[1],
            &[("body", "Solved, quokka"), ("status", "solved")]
        )
        .await,
        303
    );

    let mut expected = vec![newer_subject, older_subject, in_body[1], in_body[0]];
    expected.extend(in_body[2..].iter().rev());
    for viewer in [&jane, &sam] {
        let status = if viewer.email == sam.email {
            "&status=all"
        } else {
            ""
        };
        let (_, first) = viewer.page(&format!("/requests?q=QUOKKA{status}")).await;
        let (_, second) = viewer
            .page(&format!("/requests?q=quokka{status}&page=2"))
            .await;
        let mut shown = listed(&first);
        assert_eq!(shown.len(), 25, "{}", viewer.email);
        shown.extend(listed(&second));
        assert_eq!(shown, expected, "{}", viewer.email);
    }
    // The agents' default list is the active requests: the solved one is not
    // in it.
    let (_, active) = sam.page("/requests?q=quokka").await;
    let (_, active2) = sam.page("/requests?q=quokka&page=2").await;
    let mut shown = listed(&active);
    shown.extend(listed(&active2));
    let without_solved: Vec<i64> = expected
        .iter()
        .copied()
        .filter(|id| *id != in_body[1])
        .collect();
    assert_eq!(shown, without_solved);
}

/// A view records the later of what was seen before and what it saw: one
/// that arrives late, from an older page, never moves "seen" back (both
/// backends' upserts).
#[tokio::test]
async fn a_late_older_view_never_moves_seen_back() {
    use portico::db::models::RequestView;
    let app = spawn_app().await;
    let acme = app.company("Acme");
    let jane = person(&app, &acme, "jane@acme.test", json!({})).await;
    let id = jane.open("Seen twice", "Which one counts?", &[]).await;
    let uid = app.find_user("jane@acme.test").unwrap().id;
    let seen = || RequestView::seen(&mut app.conn(), uid, &[id]).unwrap();
    let [(_, first)] = seen()[..] else {
        panic!("opening it marks it seen")
    };
    app.outside(|tx| RequestView::mark_seen(tx, uid, id, first - 1_000));
    assert_eq!(seen(), [(id, first)], "an older view changes nothing");
    app.outside(|tx| RequestView::mark_seen(tx, uid, id, first + 1_000));
    assert_eq!(seen(), [(id, first + 1_000)], "a newer one moves it on");
}
