//! The order of the checks: the first failing check decides.

use super::*;

// ---------------------------------------------------------------------------
// The order of the checks: a token failing several gets the earliest.

#[test]
fn order_of_checks() {
    let c = claims();
    let expired = set(
        set(c.clone(), "exp", json!(NOW - 120)),
        "iat",
        json!(NOW - 200),
    );
    let cases: Vec<(&str, String, Reason)> = vec![
        (
            "malformed beats everything",
            format!("{}.x", sign(&unset(c.clone(), "exp"), WRONG_SECRET)),
            Reason::TokenMalformed,
        ),
        (
            "a string exp is malformed before alg is read",
            sign_with_header(
                &json!({"alg": "none"}),
                &set(c.clone(), "exp", json!("9999999999")),
                ACME_SECRET,
            ),
            Reason::TokenMalformed,
        ),
        (
            "algorithm beats unknown company",
            sign_alg(
                Algorithm::HS512,
                &set(c.clone(), "companyId", json!("cmp_nope")),
                ACME_SECRET,
            ),
            Reason::UnsupportedAlgorithm,
        ),
        (
            "missing companyId beats bad signature",
            sign(&unset(c.clone(), "companyId"), WRONG_SECRET),
            Reason::MissingClaim("companyId"),
        ),
        (
            "unknown company beats bad signature",
            sign(
                &set(c.clone(), "companyId", json!("cmp_nope")),
                WRONG_SECRET,
            ),
            Reason::UnknownCompany,
        ),
        (
            "no secret beats bad signature",
            sign(&set(c.clone(), "companyId", json!(INITECH)), WRONG_SECRET),
            Reason::SsoNotConfigured,
        ),
        (
            "bad signature beats expired",
            sign(&expired, WRONG_SECRET),
            Reason::BadSignature,
        ),
        (
            "bad signature beats missing exp",
            sign(&unset(c.clone(), "exp"), WRONG_SECRET),
            Reason::BadSignature,
        ),
        (
            "missing exp beats not yet valid",
            sign(
                &set(unset(c.clone(), "exp"), "nbf", json!(NOW + 500)),
                ACME_SECRET,
            ),
            Reason::MissingClaim("exp"),
        ),
        (
            "expired beats not yet valid",
            sign(&set(expired.clone(), "nbf", json!(NOW + 500)), ACME_SECRET),
            Reason::TokenExpired,
        ),
        (
            "expired beats invalid audience",
            sign(
                &set(expired.clone(), "aud", json!("elsewhere")),
                ACME_SECRET,
            ),
            Reason::TokenExpired,
        ),
        (
            "expired beats invalid email",
            sign(&set(expired.clone(), "email", json!("nope")), ACME_SECRET),
            Reason::TokenExpired,
        ),
        (
            "nbf beats iat when both are early",
            sign(
                &set(
                    set(c.clone(), "nbf", json!(NOW + 100)),
                    "iat",
                    json!(NOW + 100),
                ),
                ACME_SECRET,
            ),
            Reason::TokenNotYetValid,
        ),
        (
            "not yet valid beats invalid audience",
            sign(
                &set(set(c.clone(), "nbf", json!(NOW + 100)), "aud", json!("x")),
                ACME_SECRET,
            ),
            Reason::TokenNotYetValid,
        ),
        (
            "invalid audience beats lifetime",
            sign(
                &set(set(c.clone(), "exp", json!(NOW + 9_999)), "aud", json!("x")),
                ACME_SECRET,
            ),
            Reason::InvalidAudience,
        ),
        (
            "lifetime beats replay",
            sign(
                &set(
                    set(c.clone(), "exp", json!(NOW + 9_999)),
                    "jti",
                    json!("used-jti"),
                ),
                ACME_SECRET,
            ),
            Reason::LifetimeTooLong,
        ),
        (
            "replay beats invalid email",
            sign(
                &set(
                    set(c.clone(), "jti", json!("used-jti")),
                    "email",
                    json!("x"),
                ),
                ACME_SECRET,
            ),
            Reason::TokenReplayed,
        ),
        (
            "replay beats invalid role",
            sign(
                &set(
                    set(c.clone(), "jti", json!("used-jti")),
                    "role",
                    json!("ADMIN"),
                ),
                ACME_SECRET,
            ),
            Reason::TokenReplayed,
        ),
        (
            "invalid email beats invalid role",
            sign(
                &set(set(c.clone(), "email", json!("x")), "role", json!("ADMIN")),
                ACME_SECRET,
            ),
            Reason::InvalidEmail,
        ),
        (
            "unknown user beats invalid role",
            sign(
                &set(
                    set(unset(c.clone(), "email"), "sub", json!(999)),
                    "role",
                    json!("ADMIN"),
                ),
                ACME_SECRET,
            ),
            Reason::UnknownUser,
        ),
        (
            "missing identity beats invalid role",
            sign(
                &set(unset(c.clone(), "email"), "role", json!("boss")),
                ACME_SECRET,
            ),
            Reason::MissingClaim("email"),
        ),
        (
            "invalid role beats email taken",
            sign(
                &set(
                    set(c.clone(), "email", json!("bob@globex.test")),
                    "role",
                    json!("ADMIN"),
                ),
                ACME_SECRET,
            ),
            Reason::InvalidRole,
        ),
        (
            "email taken beats unknown project",
            sign(
                &set(
                    set(c.clone(), "email", json!("bob@globex.test")),
                    "projectId",
                    json!("proj_nope"),
                ),
                ACME_SECRET,
            ),
            Reason::EmailTaken,
        ),
        (
            "unknown project beats user disabled",
            sign(
                &set(
                    set(c.clone(), "email", json!("disabled@acme.test")),
                    "projectId",
                    json!("proj_nope"),
                ),
                ACME_SECRET,
            ),
            Reason::UnknownProject,
        ),
    ];
    for (what, token, reason) in cases {
        let r = refused(Some(&token));
        assert_eq!(r.reason, reason, "{what}: {}", r.detail);
    }
}

#[test]
fn a_token_failing_everything_from_check_10_on_peels_off_in_order() {
    // Replayed, invalid role, another company's email... each fix reveals the next.
    let base = set(
        set(
            set(claims(), "jti", json!("used-jti")),
            "role",
            json!("OWNER"),
        ),
        "email",
        json!("bob@globex.test"),
    );
    let base = set(base, "projectId", json!("proj_nope"));
    let steps: [(&str, Value, Reason); 4] = [
        ("jti", json!("fresh"), Reason::TokenReplayed),
        ("role", json!("AGENT"), Reason::InvalidRole),
        ("email", json!("disabled@acme.test"), Reason::EmailTaken),
        ("projectId", json!("proj_acme_1"), Reason::UnknownProject),
    ];
    let mut c = base;
    for (name, fix, reason) in steps {
        assert_eq!(refused(Some(&sign(&c, ACME_SECRET))).reason, reason);
        c = set(c, name, fix);
    }
    assert_eq!(
        refused(Some(&sign(&c, ACME_SECRET))).reason,
        Reason::UserDisabled
    );
}
