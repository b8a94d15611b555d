//! One token per row of the table of checks: its code and its status.

use super::*;

// ---------------------------------------------------------------------------
// The table: every reason code, with its status.

struct Case {
    what: &'static str,
    token: Option<String>,
    reason: Reason,
    status: u16,
    /// The company the refusal is recorded for.
    company: Option<i64>,
}

fn case(
    what: &'static str,
    token: Option<String>,
    reason: Reason,
    status: u16,
    company: Option<i64>,
) -> Case {
    Case {
        what,
        token,
        reason,
        status,
        company,
    }
}

/// One token per row of the README's table of checks, failing that row's check only.
fn table() -> Vec<Case> {
    let c = claims();
    vec![
        case("no token", None, Reason::TokenMissing, 400, None),
        case(
            "two parts",
            Some("eyJhbGciOiJIUzI1NiJ9.e30".to_owned()),
            Reason::TokenMalformed,
            400,
            None,
        ),
        case(
            "alg none",
            Some(sign_with_header(
                &json!({"alg": "none", "typ": "JWT"}),
                &c,
                ACME_SECRET,
            )),
            Reason::UnsupportedAlgorithm,
            400,
            None,
        ),
        case(
            "no companyId, no sub",
            Some(sign(&unset(c.clone(), "companyId"), ACME_SECRET)),
            Reason::MissingClaim("companyId"),
            400,
            None,
        ),
        case(
            "unknown companyId",
            Some(sign(
                &set(c.clone(), "companyId", json!("cmp_nope")),
                ACME_SECRET,
            )),
            Reason::UnknownCompany,
            400,
            None,
        ),
        case(
            "company without a secret",
            Some(sign(
                &set(c.clone(), "companyId", json!(INITECH)),
                ACME_SECRET,
            )),
            Reason::SsoNotConfigured,
            400,
            Some(INITECH_ID),
        ),
        case(
            "wrong secret",
            Some(sign(&c, WRONG_SECRET)),
            Reason::BadSignature,
            401,
            Some(ACME_ID),
        ),
        case(
            "no exp",
            Some(sign(&unset(c.clone(), "exp"), ACME_SECRET)),
            Reason::MissingClaim("exp"),
            401,
            Some(ACME_ID),
        ),
        case(
            "expired",
            Some(sign(
                &set(
                    set(c.clone(), "exp", json!(NOW - 120)),
                    "iat",
                    json!(NOW - 200),
                ),
                ACME_SECRET,
            )),
            Reason::TokenExpired,
            401,
            Some(ACME_ID),
        ),
        case(
            "nbf in the future",
            Some(sign(&set(c.clone(), "nbf", json!(NOW + 120)), ACME_SECRET)),
            Reason::TokenNotYetValid,
            401,
            Some(ACME_ID),
        ),
        case(
            "aud of another site",
            Some(sign(
                &set(c.clone(), "aud", json!("https://evil.example")),
                ACME_SECRET,
            )),
            Reason::InvalidAudience,
            401,
            Some(ACME_ID),
        ),
        case(
            "lives too long",
            Some(sign(
                &set(c.clone(), "exp", json!(NOW + 3_600)),
                ACME_SECRET,
            )),
            Reason::LifetimeTooLong,
            401,
            Some(ACME_ID),
        ),
        case(
            "used jti",
            Some(sign(&set(c.clone(), "jti", json!("used-jti")), ACME_SECRET)),
            Reason::TokenReplayed,
            401,
            Some(ACME_ID),
        ),
        case(
            "bad email",
            Some(sign(
                &set(c.clone(), "email", json!("not an email")),
                ACME_SECRET,
            )),
            Reason::InvalidEmail,
            400,
            Some(ACME_ID),
        ),
        case(
            "no email, sub of nobody",
            Some(sign(
                &set(unset(c.clone(), "email"), "sub", json!(999)),
                ACME_SECRET,
            )),
            Reason::UnknownUser,
            400,
            Some(ACME_ID),
        ),
        case(
            "no email, no sub",
            Some(sign(&unset(c.clone(), "email"), ACME_SECRET)),
            Reason::MissingClaim("email"),
            400,
            Some(ACME_ID),
        ),
        case(
            "role ADMIN",
            Some(sign(&set(c.clone(), "role", json!("ADMIN")), ACME_SECRET)),
            Reason::InvalidRole,
            400,
            Some(ACME_ID),
        ),
        case(
            "email of another company",
            Some(sign(
                &set(c.clone(), "email", json!("bob@globex.test")),
                ACME_SECRET,
            )),
            Reason::EmailTaken,
            403,
            Some(ACME_ID),
        ),
        case(
            "project of another company",
            Some(sign(
                &set(c.clone(), "projectId", json!("proj_globex_1")),
                ACME_SECRET,
            )),
            Reason::UnknownProject,
            400,
            Some(ACME_ID),
        ),
        case(
            "disabled user",
            Some(sign(
                &set(c.clone(), "email", json!("disabled@acme.test")),
                ACME_SECRET,
            )),
            Reason::UserDisabled,
            403,
            Some(ACME_ID),
        ),
    ]
}

#[test]
fn every_reason_code_of_the_table_with_its_status() {
    let mut seen = Vec::new();
    for c in table() {
        let r = refused(c.token.as_deref());
        assert_eq!(r.reason, c.reason, "{}: {}", c.what, r.detail);
        assert_eq!(r.reason.status(), c.status, "{}", c.what);
        assert!(Reason::all_codes().contains(&r.reason.code()), "{}", c.what);
        seen.push(r.reason.code());
    }
    for code in Reason::all_codes() {
        assert!(seen.contains(&code), "no case yields {code}");
    }
}

#[test]
fn all_codes_are_the_table_in_order() {
    let in_order = [
        Reason::TokenMissing,
        Reason::TokenMalformed,
        Reason::UnsupportedAlgorithm,
        Reason::MissingClaim("companyId"),
        Reason::UnknownCompany,
        Reason::SsoNotConfigured,
        Reason::BadSignature,
        Reason::TokenExpired,
        Reason::TokenNotYetValid,
        Reason::InvalidAudience,
        Reason::LifetimeTooLong,
        Reason::TokenReplayed,
        Reason::InvalidEmail,
        Reason::UnknownUser,
        Reason::InvalidRole,
        Reason::EmailTaken,
        Reason::UnknownProject,
        Reason::UserDisabled,
    ];
    let codes: Vec<&str> = in_order.iter().map(|r| r.code()).collect();
    assert_eq!(codes, Reason::all_codes());
    for r in in_order {
        assert_eq!(r.to_string(), r.code());
        assert!(!r.headline().is_empty() && !r.advice().is_empty() && !r.hint().is_empty());
    }
}

#[test]
fn missing_claim_status_depends_on_the_claim() {
    assert_eq!(Reason::MissingClaim("companyId").status(), 400);
    assert_eq!(Reason::MissingClaim("email").status(), 400);
    assert_eq!(Reason::MissingClaim("exp").status(), 401);
    assert_eq!(Reason::MissingClaim("exp").code(), "missing_claim");
}

#[test]
fn refusals_carry_the_company_once_it_is_known_and_never_before() {
    for c in table() {
        let r = refused(c.token.as_deref());
        assert_eq!(r.company.as_ref().map(|co| co.id), c.company, "{}", c.what);
    }
}

#[test]
fn refusal_detail_never_contains_the_token_or_a_secret() {
    for c in table() {
        let r = refused(c.token.as_deref());
        assert!(!r.detail.is_empty(), "{}", c.what);
        if let Some(token) = &c.token {
            assert!(!r.detail.contains(token.as_str()), "{}", c.what);
            if let Some(signature) = token.split('.').nth(2).filter(|s| s.len() > 8) {
                assert!(!r.detail.contains(signature), "{}", c.what);
            }
        }
        for s in ALL_SECRETS.iter().chain([&WRONG_SECRET]) {
            assert!(!r.detail.contains(s), "{}: {}", c.what, r.detail);
        }
    }
}

#[test]
fn refusals_record_subject_iss_and_own_user() {
    let r = refused(Some(&sign(
        &set(claims(), "email", json!("disabled@acme.test")),
        ACME_SECRET,
    )));
    assert_eq!(r.subject.as_deref(), Some("disabled@acme.test"));
    assert_eq!(r.iss.as_deref(), Some("issuely"));
    assert_eq!(r.user_id, Some(DISABLED));

    // A user of another company is not this company's to record.
    let r = refused(Some(&sign(
        &set(claims(), "email", json!("bob@globex.test")),
        ACME_SECRET,
    )));
    assert_eq!(r.user_id, None);

    let r = refused(Some(&sign(
        &set(unset(claims(), "email"), "sub", json!("ext-7")),
        ACME_SECRET,
    )));
    assert_eq!(r.reason, Reason::UnknownUser);
    assert_eq!(r.subject.as_deref(), Some("ext-7"));
}
