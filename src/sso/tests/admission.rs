//! Checks 10–15 and what an admitted token does to the user.

use super::*;

// ---------------------------------------------------------------------------
// Check 10: replay.

#[test]
fn jti_is_single_use_per_company() {
    let r = refused(Some(&sign(
        &set(claims(), "jti", json!("used-jti")),
        ACME_SECRET,
    )));
    assert_eq!(r.reason, Reason::TokenReplayed);
    assert!(!r.detail.contains(ACME_SECRET));

    // Globex never used it.
    let globex = set(
        set(claims(), "companyId", json!(GLOBEX)),
        "email",
        json!("g@globex.test"),
    );
    admitted(&sign(&set(globex, "jti", json!("used-jti")), GLOBEX_SECRET));

    // A fresh jti is to be recorded until exp + leeway.
    let (_, a) = admitted(&sign(&set(claims(), "jti", json!("fresh")), ACME_SECRET));
    assert_eq!(a.jti, Some(("fresh".to_owned(), NOW + 300 + rules::LEEWAY)));
    let (_, a) = admitted(&sign(&claims(), ACME_SECRET));
    assert_eq!(a.jti, None);
}

#[test]
fn a_recorded_jti_is_refused_the_second_time() {
    let mut fake = Fake::new();
    let token = sign(&set(claims(), "jti", json!("once")), ACME_SECRET);
    let (_, a) = check_in(Some(&token), &ctx(), &mut fake).unwrap();
    let (jti, _) = a.jti.unwrap();
    fake.used_jtis.push((ACME_ID, jti));
    let r = check_in(Some(&token), &ctx(), &mut fake).unwrap_err();
    assert_eq!(r.reason, Reason::TokenReplayed);
}

// ---------------------------------------------------------------------------
// Check 11: the identity.

#[test]
fn identity_from_email() {
    // A new address: a new user, the address normalised.
    let (_, a) = admitted(&sign(
        &set(claims(), "email", json!("  New.Person@ACME.test ")),
        ACME_SECRET,
    ));
    assert_eq!(new_identity(&a).0, "new.person@acme.test");
    // A known address, in any case: the existing user.
    let (_, a) = admitted(&sign(
        &set(claims(), "email", json!("ALICE@Acme.Test")),
        ACME_SECRET,
    ));
    assert_eq!(existing_id(&a), ALICE);
    // email wins over sub.
    let (_, a) = admitted(&sign(&set(claims(), "sub", json!(AGENT)), ACME_SECRET));
    assert_eq!(new_identity(&a).0, "new@acme.test");
}

#[test]
fn identity_from_sub_without_email() {
    let c = unset(claims(), "email");
    for sub in [json!(AGENT), json!("11")] {
        let (_, a) = admitted(&sign(&set(c.clone(), "sub", sub.clone()), ACME_SECRET));
        assert_eq!(existing_id(&a), AGENT, "sub {sub}");
    }
    let r = refused(Some(&sign(&c, ACME_SECRET)));
    assert_eq!(r.reason, Reason::MissingClaim("email"));
    assert_eq!(r.reason.status(), 400);
}

#[test]
fn invalid_emails_are_refused_even_with_a_good_sub() {
    for email in [
        "",
        "   ",
        "alice",
        "alice@acme",
        "ålice@acme.test",
        "alice@acme.test\u{0}",
        "\u{212A}elvin@acme.test",
    ] {
        let c = set(set(claims(), "email", json!(email)), "sub", json!(ALICE));
        let r = refused(Some(&sign(&c, ACME_SECRET)));
        assert_eq!(r.reason, Reason::InvalidEmail, "{email:?}");
        assert_eq!(r.reason.status(), 400);
    }
}

// ---------------------------------------------------------------------------
// Checks 12–15.

#[test]
fn role_must_be_customer_or_agent() {
    for role in ["CUSTOMER", "AGENT"] {
        assert_eq!(code(&set(claims(), "role", json!(role)), ACME_SECRET), "ok");
    }
    for role in [
        "ADMIN", "customer", "Agent", "", " AGENT", "AGENT ", "OWNER",
    ] {
        let r = refused(Some(&sign(
            &set(claims(), "role", json!(role)),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::InvalidRole, "{role:?}");
        assert_eq!(r.reason.status(), 400);
    }
}

#[test]
fn email_of_another_company_is_taken() {
    for email in ["bob@globex.test", " BOB@globex.TEST"] {
        let r = refused(Some(&sign(
            &set(claims(), "email", json!(email)),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::EmailTaken, "{email:?}");
        assert_eq!(r.reason.status(), 403);
    }
}

#[test]
fn project_must_belong_to_the_company() {
    let (_, a) = admitted(&sign(
        &set(claims(), "projectId", json!("proj_acme_1")),
        ACME_SECRET,
    ));
    assert_eq!(
        a.project.map(|p| p.public_id),
        Some("proj_acme_1".to_owned())
    );
    let (_, a) = admitted(&sign(&claims(), ACME_SECRET));
    assert!(a.project.is_none());
    for project in ["proj_globex_1", "proj_nope", "", "PROJ_ACME_1"] {
        let r = refused(Some(&sign(
            &set(claims(), "projectId", json!(project)),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::UnknownProject, "{project:?}");
        assert_eq!(r.reason.status(), 400);
    }
}

#[test]
fn disabled_users_are_refused_by_email_and_by_sub() {
    let by_email = set(claims(), "email", json!("disabled@acme.test"));
    let by_sub = set(unset(claims(), "email"), "sub", json!(DISABLED));
    for c in [by_email, by_sub] {
        let r = refused(Some(&sign(&c, ACME_SECRET)));
        assert_eq!(r.reason, Reason::UserDisabled);
        assert_eq!(r.reason.status(), 403);
        assert_eq!(r.user_id, Some(DISABLED));
    }
}

// ---------------------------------------------------------------------------
// The admission: roles and names.

fn role_of(c: &Value) -> (Admission, Option<Role>) {
    let (_, a) = admitted(&sign(c, ACME_SECRET));
    let role = a.role;
    (a, role)
}

#[test]
fn a_new_user_is_a_customer_unless_the_token_says_agent() {
    let (a, role) = role_of(&claims());
    new_identity(&a);
    assert_eq!(role, Some(Role::Customer));
    assert_eq!(
        role_of(&set(claims(), "role", json!("CUSTOMER"))).1,
        Some(Role::Customer)
    );
    assert_eq!(
        role_of(&set(claims(), "role", json!("AGENT"))).1,
        Some(Role::Agent)
    );
}

#[test]
fn an_existing_user_changes_role_only_when_it_differs() {
    let alice = set(claims(), "email", json!("alice@acme.test"));
    let agent = set(claims(), "email", json!("agent@acme.test"));
    let cases = [
        (&alice, None, None),
        (&alice, Some("CUSTOMER"), None),
        (&alice, Some("AGENT"), Some(Role::Agent)),
        (&agent, None, None),
        (&agent, Some("AGENT"), None),
        (&agent, Some("CUSTOMER"), Some(Role::Customer)),
    ];
    for (c, role, expected) in cases {
        let c = match role {
            Some(r) => set(c.clone(), "role", json!(r)),
            None => c.clone(),
        };
        let (a, got) = role_of(&c);
        assert!(matches!(a.identity, Identity::Existing(_)));
        assert_eq!(got, expected, "{c} role {role:?}");
    }
    // The same by sub.
    let by_sub = set(
        set(unset(claims(), "email"), "sub", json!(ALICE)),
        "role",
        json!("AGENT"),
    );
    assert_eq!(role_of(&by_sub).1, Some(Role::Agent));
}

#[test]
fn an_admin_is_never_changed_by_sso() {
    let by_email = set(claims(), "email", json!("admin@acme.test"));
    let by_sub = set(unset(claims(), "email"), "sub", json!(ADMIN));
    for c in [by_email, by_sub] {
        for role in [None, Some("CUSTOMER"), Some("AGENT")] {
            let c = match role {
                Some(r) => set(c.clone(), "role", json!(r)),
                None => c.clone(),
            };
            let (a, got) = role_of(&c);
            assert_eq!(existing_id(&a), ADMIN);
            assert_eq!(got, None, "role {role:?}");
        }
    }
}

#[test]
fn new_user_name_from_the_token() {
    let name_of = |name: Value| {
        let (_, a) = admitted(&sign(&set(claims(), "name", name), ACME_SECRET));
        new_identity(&a).1.to_owned()
    };
    assert_eq!(name_of(json!("Jane Doe")), "Jane Doe");
    assert_eq!(name_of(json!("  Jane Doe \n")), "Jane Doe");
    assert_eq!(
        name_of(json!("Ja\u{0}ne\u{7} D\u{1b}[31moe")),
        "Jane D[31moe"
    );
    assert_eq!(name_of(json!("Line\r\nBreak\tTab")), "LineBreakTab");
    assert_eq!(name_of(json!("Zoë 山田")), "Zoë 山田");
    assert_eq!(name_of(json!("")), "new");
    assert_eq!(name_of(json!(" \t\n ")), "new");
    assert_eq!(name_of(Value::Null), "new");
    let (_, a) = admitted(&sign(&unset(claims(), "name"), ACME_SECRET));
    assert_eq!(new_identity(&a).1, "new");
    // Long names are cut to 200 characters (not bytes).
    let long = "é".repeat(300);
    assert_eq!(name_of(json!(long)), "é".repeat(input::MAX_NAME_CHARS));
}

#[test]
fn an_existing_user_keeps_their_name() {
    let c = set(
        set(claims(), "email", json!("alice@acme.test")),
        "name",
        json!("Other"),
    );
    let (_, a) = admitted(&sign(&c, ACME_SECRET));
    match a.identity {
        Identity::Existing(u) => assert_eq!(u.name, "alice"),
        Identity::New { .. } => panic!("alice exists"),
    }
}

#[test]
fn a_name_of_only_control_characters_falls_back_to_the_local_part() {
    assert_eq!(
        input::display_name(Some("\u{7}\u{1b}"), "jane@example.com"),
        "jane"
    );
    let (_, a) = admitted(&sign(
        &set(claims(), "name", json!("\u{0}\u{7}\u{1b}")),
        ACME_SECRET,
    ));
    assert_eq!(new_identity(&a).1, "new");
}
