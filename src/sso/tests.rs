//! The SSO rules of SPEC.md's table, case by case, against an in-memory
//! directory and ledger; then properties over arbitrary tokens and claims.
//!
//! Every test runs [`verify`] and, when it passes, [`admit`], the way a
//! sign-in does, so a case names the first check that fails whichever half
//! holds it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::Reason;
use super::rules::{
    self, Admission, Context, Directory, Failure, Identity, Ledger, Refusal, Verified,
    display_name, normalize_email,
};
use crate::db::DbError;
use crate::db::models::{Company, Project, Role, SsoSecret, User};

// ---------------------------------------------------------------------------
// The world the tokens are checked against.

const NOW: i64 = 1_700_000_000;
const BASE: &str = "https://portal.example.com";

const ACME: &str = "cmp_acme";
const GLOBEX: &str = "cmp_globex";
/// A company without an SSO secret.
const INITECH: &str = "cmp_initech";

const ACME_ID: i64 = 1;
const GLOBEX_ID: i64 = 2;
const INITECH_ID: i64 = 3;

const ACME_SECRET: &str = "acmeCurrentSecret0123456789abcdefghijklmnopqrstuv";
/// Acme's previous secret, rotated out an hour ago, in grace for another hour.
const ACME_PREVIOUS: &str = "acmePreviousSecretInGrace0123456789abcdefghijklm";
const GLOBEX_SECRET: &str = "globexCurrentSecret0123456789abcdefghijklmnopqrs";
/// Globex's previous secret, whose grace period ended a second ago.
const GLOBEX_EXPIRED: &str = "globexExpiredPreviousSecret0123456789abcdefghij";
const WRONG_SECRET: &str = "noCompanyHasThisSecret0123456789abcdefghijklmnop";

const ALL_SECRETS: [&str; 4] = [ACME_SECRET, ACME_PREVIOUS, GLOBEX_SECRET, GLOBEX_EXPIRED];

const ACME_SECRET_ID: i64 = 101;
const ACME_PREVIOUS_ID: i64 = 102;

const ALICE: i64 = 10; // acme, CUSTOMER
const AGENT: i64 = 11; // acme, AGENT
const ADMIN: i64 = 12; // acme, ADMIN
const DISABLED: i64 = 13; // acme, CUSTOMER, disabled
const BOB: i64 = 20; // globex, CUSTOMER

/// Acme's maximum token lifetime, in seconds.
const MAX_LIFETIME: i64 = 600;

/// Companies, secrets, users, projects and used `jti`s, in memory.
struct Fake {
    companies: Vec<Company>,
    secrets: Vec<SsoSecret>,
    users: Vec<User>,
    projects: Vec<Project>,
    used_jtis: Vec<(i64, String)>,
}

fn company(id: i64, public_id: &str, max_token_lifetime: i64) -> Company {
    Company {
        id,
        public_id: public_id.to_owned(),
        name: public_id.trim_start_matches("cmp_").to_owned(),
        max_token_lifetime,
        signout_url: None,
        created_at: NOW - 86_400,
    }
}

fn secret(id: i64, company_id: i64, secret: &str, expires_at: Option<i64>) -> SsoSecret {
    SsoSecret {
        id,
        company_id,
        state: if expires_at.is_some() {
            "previous"
        } else {
            "current"
        }
        .to_owned(),
        secret: secret.to_owned(),
        created_at: NOW - 86_400,
        expires_at,
        last_used_at: None,
    }
}

fn user(id: i64, company_id: i64, email: &str, role: Role, disabled: bool) -> User {
    User {
        id,
        company_id,
        email: email.to_owned(),
        name: email.split('@').next().unwrap().to_owned(),
        role: role.as_str().to_owned(),
        password_hash: None,
        disabled,
        session_epoch: 0,
        created_at: NOW - 86_400,
        last_login_at: None,
        last_login_method: None,
    }
}

fn project(id: i64, company_id: i64, public_id: &str) -> Project {
    Project {
        id,
        public_id: public_id.to_owned(),
        company_id,
        name: public_id.to_owned(),
        created_at: NOW - 86_400,
    }
}

impl Fake {
    fn new() -> Fake {
        Fake {
            companies: vec![
                company(ACME_ID, ACME, MAX_LIFETIME),
                company(GLOBEX_ID, GLOBEX, 3_600),
                company(INITECH_ID, INITECH, 600),
            ],
            secrets: vec![
                // Listed previous first: the directory must still put the current one first.
                secret(ACME_PREVIOUS_ID, ACME_ID, ACME_PREVIOUS, Some(NOW + 3_600)),
                secret(ACME_SECRET_ID, ACME_ID, ACME_SECRET, None),
                secret(201, GLOBEX_ID, GLOBEX_SECRET, None),
                secret(202, GLOBEX_ID, GLOBEX_EXPIRED, Some(NOW - 1)),
            ],
            users: vec![
                user(ALICE, ACME_ID, "alice@acme.test", Role::Customer, false),
                user(AGENT, ACME_ID, "agent@acme.test", Role::Agent, false),
                user(ADMIN, ACME_ID, "admin@acme.test", Role::Admin, false),
                user(
                    DISABLED,
                    ACME_ID,
                    "disabled@acme.test",
                    Role::Customer,
                    true,
                ),
                user(BOB, GLOBEX_ID, "bob@globex.test", Role::Customer, false),
            ],
            projects: vec![
                project(1, ACME_ID, "proj_acme_1"),
                project(2, GLOBEX_ID, "proj_globex_1"),
            ],
            used_jtis: vec![(ACME_ID, "used-jti".to_owned())],
        }
    }
}

impl Directory for Fake {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, DbError> {
        Ok(self
            .companies
            .iter()
            .find(|c| c.public_id == public_id)
            .cloned())
    }

    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, DbError> {
        let Some(u) = self.users.iter().find(|u| u.id == user_id) else {
            return Ok(None);
        };
        Ok(self
            .companies
            .iter()
            .find(|c| c.id == u.company_id)
            .cloned())
    }

    /// As `SsoSecret::usable`: the current secret, then a previous one
    /// whose grace period has not ended.
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, DbError> {
        let mut rows: Vec<SsoSecret> = self
            .secrets
            .iter()
            .filter(|s| s.company_id == company_id)
            .filter(|s| s.is_current() || s.expires_at.is_some_and(|t| t > now))
            .cloned()
            .collect();
        rows.sort_by_key(|s| !s.is_current());
        Ok(rows)
    }
}

impl Ledger for Fake {
    fn jti_used(&mut self, company_id: i64, jti: &str) -> Result<bool, DbError> {
        Ok(self
            .used_jtis
            .iter()
            .any(|(c, j)| *c == company_id && j == jti))
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<User>, DbError> {
        Ok(self.users.iter().find(|u| u.email == email).cloned())
    }

    fn user_in_company(&mut self, company_id: i64, user_id: i64) -> Result<Option<User>, DbError> {
        Ok(self
            .users
            .iter()
            .find(|u| u.id == user_id && u.company_id == company_id)
            .cloned())
    }

    fn project(&mut self, company_id: i64, public_id: &str) -> Result<Option<Project>, DbError> {
        Ok(self
            .projects
            .iter()
            .find(|p| p.company_id == company_id && p.public_id == public_id)
            .cloned())
    }
}

// ---------------------------------------------------------------------------
// Making tokens.

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hmac(signing_input: &str, secret: &str) -> String {
    jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap()
}

/// An HS256 token the way an integrator's library makes it.
fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A token with any header, HMAC-SHA256-signed under `secret` whatever its `alg` says.
fn sign_with_header(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        b64(&serde_json::to_vec(header).unwrap()),
        b64(&serde_json::to_vec(claims).unwrap())
    );
    let signature = hmac(&input, secret);
    format!("{input}.{signature}")
}

/// A token signed under an algorithm of jsonwebtoken's own (HS384, HS512).
fn sign_alg(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn parts(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let parts = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none());
    parts
}

/// The token with its payload swapped for `claims`, the old signature kept.
fn swap_payload(token: &str, claims: &Value) -> String {
    let (header, _, signature) = parts(token);
    format!(
        "{header}.{}.{signature}",
        b64(&serde_json::to_vec(claims).unwrap())
    )
}

/// A token Acme signs for a new user: passes every check.
fn claims() -> Value {
    json!({
        "companyId": ACME,
        "email": "new@acme.test",
        "iss": "issuely",
        "iat": NOW,
        "exp": NOW + 300,
    })
}

fn set(mut claims: Value, name: &str, value: Value) -> Value {
    claims
        .as_object_mut()
        .unwrap()
        .insert(name.to_owned(), value);
    claims
}

fn unset(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

// ---------------------------------------------------------------------------
// Running the rules.

type Outcome = Result<(Verified, Admission), Box<Refusal>>;

fn check_in(token: Option<&str>, ctx: &Context<'_>, fake: &mut Fake) -> Outcome {
    let outcome = rules::verify(token, ctx, fake).and_then(|v| {
        let a = rules::admit(&v, fake)?;
        Ok((v, a))
    });
    match outcome {
        Ok(ok) => Ok(ok),
        Err(Failure::Refused(r)) => Err(r),
        Err(Failure::Store(e)) => panic!("the fake store cannot fail: {e}"),
    }
}

fn ctx() -> Context<'static> {
    Context {
        now: NOW,
        base_url: BASE,
    }
}

fn check(token: Option<&str>) -> Outcome {
    check_in(token, &ctx(), &mut Fake::new())
}

#[track_caller]
fn admitted(token: &str) -> (Verified, Admission) {
    match check(Some(token)) {
        Ok(ok) => ok,
        Err(r) => panic!(
            "refused {} ({}) where admission was expected",
            r.reason, r.detail
        ),
    }
}

#[track_caller]
fn refused(token: Option<&str>) -> Box<Refusal> {
    match check(token) {
        Ok((_, a)) => panic!("admitted ({a:?}) where a refusal was expected"),
        Err(r) => r,
    }
}

/// The reason code `claims` signed with `secret` gets, or "ok".
#[track_caller]
fn code(claims: &Value, secret: &str) -> &'static str {
    match check(Some(&sign(claims, secret))) {
        Ok(_) => "ok",
        Err(r) => r.reason.code(),
    }
}

fn new_identity(a: &Admission) -> (&str, &str) {
    match &a.identity {
        Identity::New { email, name } => (email, name),
        Identity::Existing(u) => panic!("expected a new user, got {u:?}"),
    }
}

fn existing_id(a: &Admission) -> i64 {
    match &a.identity {
        Identity::Existing(u) => u.id,
        Identity::New { email, .. } => panic!("expected an existing user, got new {email}"),
    }
}

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

/// One token per row of SPEC.md's table, failing that row's check only.
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
        assert!(Reason::ALL_CODES.contains(&r.reason.code()), "{}", c.what);
        seen.push(r.reason.code());
    }
    for code in Reason::ALL_CODES {
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
    assert_eq!(codes, Reason::ALL_CODES);
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

// ---------------------------------------------------------------------------
// Checks 1–3: presence, structure, algorithm.

#[test]
fn token_missing_when_absent_empty_or_blank() {
    for token in [None, Some(""), Some("   "), Some("\t\n")] {
        assert_eq!(refused(token).reason, Reason::TokenMissing, "{token:?}");
    }
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let token = format!("  {}\n", sign(&claims(), ACME_SECRET));
    admitted(&token);
}

#[test]
fn malformed_structures() {
    let good = sign(&claims(), ACME_SECRET);
    let (h, p, s) = parts(&good);
    let header_b64 = b64(br#"{"alg":"HS256"}"#);
    let sig = |input: &str| hmac(input, ACME_SECRET);
    let signed = |h: &str, p: &str| format!("{h}.{p}.{}", sig(&format!("{h}.{p}")));
    let tokens = vec![
        ("one part", "abc".to_owned()),
        ("two parts", format!("{h}.{p}")),
        ("four parts", format!("{h}.{p}.{s}.{s}")),
        ("empty parts", "..".to_owned()),
        ("header not base64", format!("!!!.{p}.{s}")),
        ("payload not base64", format!("{h}.pay*load.{s}")),
        ("standard base64 (+/)", signed(&header_b64, "e30+/w")),
        ("header not JSON", signed(&b64(b"alg=HS256"), p)),
        ("payload not JSON", signed(&header_b64, &b64(b"{\"exp\":"))),
        ("header a JSON array", signed(&b64(b"[\"HS256\"]"), p)),
        (
            "payload a JSON string",
            signed(&header_b64, &b64(b"\"claims\"")),
        ),
        ("payload JSON null", signed(&header_b64, &b64(b"null"))),
        (
            "payload not UTF-8",
            signed(&header_b64, &b64(&[0xff, 0xfe, b'{'])),
        ),
    ];
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(r.reason, Reason::TokenMalformed, "{what}: {}", r.detail);
        assert_eq!(r.reason.status(), 400);
        assert!(r.company.is_none(), "{what}");
    }
}

#[test]
fn claims_of_the_wrong_type_are_malformed() {
    let cases = [
        ("exp", json!("1700000300")),
        ("iat", json!("1700000000")),
        ("nbf", json!(true)),
        ("exp", json!([NOW + 300])),
        ("companyId", json!(1)),
        ("email", json!(["new@acme.test"])),
        ("name", json!({"first": "Jane"})),
        ("role", json!(1)),
        ("projectId", json!(7)),
        ("jti", json!(7)),
        ("iss", json!(false)),
        ("sub", json!(true)),
        ("sub", json!({"id": 10})),
        ("sub", json!([10])),
        ("aud", json!(1)),
        ("aud", json!([BASE, 1])),
        ("aud", json!({"url": BASE})),
    ];
    for (name, value) in cases {
        let r = refused(Some(&sign(
            &set(claims(), name, value.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::TokenMalformed, "{name} = {value}");
    }
}

#[test]
fn null_claims_count_as_absent() {
    let c = set(set(claims(), "role", Value::Null), "aud", Value::Null);
    let c = set(set(c, "nbf", Value::Null), "jti", Value::Null);
    admitted(&sign(&c, ACME_SECRET));
    let r = refused(Some(&sign(&set(claims(), "exp", Value::Null), ACME_SECRET)));
    assert_eq!(r.reason, Reason::MissingClaim("exp"));
}

/// A token of exactly `len` bytes, padded with a long `name`.
fn token_of_len(len: usize) -> Option<String> {
    const SIGNATURE_LEN: usize = 43; // 32 bytes of HMAC-SHA256 in base64url
    for header_pad in 0..4 {
        let header = json!({"alg": "HS256", "typ": "JWT", "x": "y".repeat(header_pad)});
        let h = b64(&serde_json::to_vec(&header).unwrap());
        for name_len in 5_000..6_500 {
            let c = set(claims(), "name", json!("n".repeat(name_len)));
            let p = b64(&serde_json::to_vec(&c).unwrap());
            let total = h.len() + 1 + p.len() + 1 + SIGNATURE_LEN;
            if total == len {
                let token = sign_with_header(&header, &c, ACME_SECRET);
                assert_eq!(token.len(), len);
                return Some(token);
            }
            if total > len {
                break;
            }
        }
    }
    None
}

#[test]
fn size_limit_is_8_kib() {
    let at_limit = token_of_len(8 * 1024).unwrap();
    let (_, a) = admitted(&at_limit);
    assert_eq!(new_identity(&a).1.chars().count(), rules::MAX_NAME_CHARS);

    let over = token_of_len(8 * 1024 + 1).unwrap();
    let r = refused(Some(&over));
    assert_eq!(r.reason, Reason::TokenMalformed);
    assert!(!r.detail.contains(&over));
}

#[test]
fn padded_header_and_payload_are_tolerated() {
    let token = sign(&claims(), ACME_SECRET);
    let (h, p, _) = parts(&token);
    let input = format!("{h}==.{p}=");
    let token = format!("{input}.{}", hmac(&input, ACME_SECRET));
    admitted(&token);
}

#[test]
fn only_hs256_is_accepted() {
    let c = claims();
    let mut tokens = vec![
        ("HS384", sign_alg(Algorithm::HS384, &c, ACME_SECRET)),
        ("HS512", sign_alg(Algorithm::HS512, &c, ACME_SECRET)),
    ];
    for alg in [
        json!("none"),
        json!("None"),
        json!("NONE"),
        json!("hs256"),
        json!("HS256 "),
        json!("RS256"),
        json!("ES256"),
        json!("PS256"),
        json!("EdDSA"),
        json!(""),
        json!(256),
        json!(["HS256"]),
        Value::Null,
    ] {
        let header = json!({"alg": alg, "typ": "JWT"});
        tokens.push(("header alg", sign_with_header(&header, &c, ACME_SECRET)));
    }
    tokens.push((
        "no alg",
        sign_with_header(&json!({"typ": "JWT"}), &c, ACME_SECRET),
    ));
    // alg none with an empty signature, the classic forgery.
    let unsigned = {
        let (_, p, _) = parts(&tokens[0].1);
        format!("{}.{p}.", b64(br#"{"alg":"none"}"#))
    };
    tokens.push(("none, unsigned", unsigned));
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(
            r.reason,
            Reason::UnsupportedAlgorithm,
            "{what}: {}",
            r.detail
        );
        assert!(r.company.is_none());
    }
    // Other header fields do not matter.
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1", "cty": "x"});
    admitted(&sign_with_header(&header, &c, ACME_SECRET));
    admitted(&sign_with_header(&json!({"alg": "HS256"}), &c, ACME_SECRET));
}

// ---------------------------------------------------------------------------
// Check 4: the company; sub.

#[test]
fn company_from_company_id() {
    let (v, _) = admitted(&sign(&claims(), ACME_SECRET));
    assert_eq!(v.company.id, ACME_ID);
    let globex = set(claims(), "companyId", json!(GLOBEX));
    let (v, _) = admitted(&sign(
        &set(globex, "email", json!("g@globex.test")),
        GLOBEX_SECRET,
    ));
    assert_eq!(v.company.id, GLOBEX_ID);
    // The ID is matched exactly.
    for id in ["CMP_ACME", " cmp_acme", "cmp_acme ", "", "acme"] {
        assert_eq!(
            code(&set(claims(), "companyId", json!(id)), ACME_SECRET),
            "unknown_company",
            "{id:?}"
        );
    }
}

#[test]
fn without_company_id_the_company_comes_from_sub() {
    let c = unset(unset(claims(), "companyId"), "email");
    for sub in [json!(ALICE), json!("10"), json!(" 10 ")] {
        let (v, a) = admitted(&sign(&set(c.clone(), "sub", sub.clone()), ACME_SECRET));
        assert_eq!(v.company.id, ACME_ID, "sub {sub}");
        assert_eq!(existing_id(&a), ALICE, "sub {sub}");
    }
    // Bob's company is Globex: its secret signs, Acme's does not.
    let bob = set(c.clone(), "sub", json!(BOB));
    let (v, a) = admitted(&sign(&bob, GLOBEX_SECRET));
    assert_eq!((v.company.id, existing_id(&a)), (GLOBEX_ID, BOB));
    let r = refused(Some(&sign(&bob, ACME_SECRET)));
    assert_eq!(r.reason, Reason::BadSignature);
    assert_eq!(r.company.map(|co| co.id), Some(GLOBEX_ID));
    // With an email too, the email is the identity; the company still comes from sub.
    let (v, a) = admitted(&sign(
        &set(
            set(c.clone(), "sub", json!(ALICE)),
            "email",
            json!("x@acme.test"),
        ),
        ACME_SECRET,
    ));
    assert_eq!(v.company.id, ACME_ID);
    assert_eq!(new_identity(&a).0, "x@acme.test");
}

#[test]
fn sub_that_is_not_a_user_id() {
    let c = unset(unset(claims(), "companyId"), "email");
    // Without companyId: no company to be had.
    for sub in [
        json!("alice"),
        json!(-10),
        json!("-10"),
        json!(0),
        json!("0"),
        json!(""),
    ] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::MissingClaim("companyId"), "sub {sub}");
        assert!(r.company.is_none());
    }
    for sub in [json!(999), json!("999"), json!(i64::MAX)] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::UnknownCompany, "sub {sub}");
        assert!(r.company.is_none());
    }
    // With companyId: no user to be had.
    let c = set(c, "companyId", json!(ACME));
    for sub in [
        json!("alice"),
        json!(-10),
        json!(0),
        json!(999),
        json!(BOB),
        json!("20"),
        json!(u64::MAX),
    ] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::UnknownUser, "sub {sub}");
        assert_eq!(r.reason.status(), 400);
        assert_eq!(r.company.map(|co| co.id), Some(ACME_ID));
    }
}

#[test]
fn company_id_wins_over_sub() {
    // companyId Acme, sub naming Globex's Bob: the company is Acme.
    let c = set(claims(), "sub", json!(BOB));
    let (v, _) = admitted(&sign(&c, ACME_SECRET));
    assert_eq!(v.company.id, ACME_ID);
    assert_eq!(code(&c, GLOBEX_SECRET), "bad_signature");
}

// ---------------------------------------------------------------------------
// Checks 5–6: secrets and signature.

#[test]
fn a_company_without_secret_is_not_configured() {
    let r = refused(Some(&sign(
        &set(claims(), "companyId", json!(INITECH)),
        ACME_SECRET,
    )));
    assert_eq!(r.reason, Reason::SsoNotConfigured);
    assert_eq!(r.company.map(|co| co.id), Some(INITECH_ID));
}

#[test]
fn signature_under_current_secret() {
    let (v, _) = admitted(&sign(&claims(), ACME_SECRET));
    assert_eq!(v.secret_id, ACME_SECRET_ID);
}

#[test]
fn previous_secret_is_accepted_only_while_in_grace() {
    let (v, _) = admitted(&sign(&claims(), ACME_PREVIOUS));
    assert_eq!(v.secret_id, ACME_PREVIOUS_ID);

    // Globex's previous secret is past its grace.
    let globex = set(
        set(claims(), "companyId", json!(GLOBEX)),
        "email",
        json!("g@globex.test"),
    );
    admitted(&sign(&globex, GLOBEX_SECRET));
    let r = refused(Some(&sign(&globex, GLOBEX_EXPIRED)));
    assert_eq!(r.reason, Reason::BadSignature);

    // The grace of Acme's previous secret ends at NOW + 3600, exclusive.
    let later = set(
        set(claims(), "iat", json!(NOW + 3_500)),
        "exp",
        json!(NOW + 3_800),
    );
    let token = sign(&later, ACME_PREVIOUS);
    let late = |now: i64| {
        let c = Context {
            now,
            base_url: BASE,
        };
        rules::verify(Some(&token), &c, &mut Fake::new())
    };
    assert!(late(NOW + 3_599).is_ok());
    match late(NOW + 3_600) {
        Err(Failure::Refused(r)) => assert_eq!(r.reason, Reason::BadSignature),
        other => panic!("expected bad_signature, got {other:?}"),
    }
}

#[test]
fn secrets_of_others_and_forged_signatures_are_refused() {
    let c = claims();
    let good = sign(&c, ACME_SECRET);
    let (h, p, s) = parts(&good);
    let mut flipped = s.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let tokens = vec![
        ("wrong secret", sign(&c, WRONG_SECRET)),
        ("Globex's secret", sign(&c, GLOBEX_SECRET)),
        ("empty-ish secret", sign(&c, "x")),
        (
            "secret with a trailing newline",
            sign(&c, &format!("{ACME_SECRET}\n")),
        ),
        (
            "secret in upper case",
            sign(&c, &ACME_SECRET.to_uppercase()),
        ),
        ("no signature", format!("{h}.{p}.")),
        ("signature flipped", format!("{h}.{p}.{flipped}")),
        ("signature not base64", format!("{h}.{p}.!!!")),
        ("signature padded", format!("{h}.{p}.{s}=")),
        (
            "signature truncated",
            format!("{h}.{p}.{}", &s[..s.len() - 2]),
        ),
        (
            "payload swapped",
            swap_payload(&good, &set(c.clone(), "email", json!("alice@acme.test"))),
        ),
        ("HS384 signature under an HS256 header", {
            let other = sign_alg(Algorithm::HS384, &c, ACME_SECRET);
            format!("{h}.{p}.{}", parts(&other).2)
        }),
    ];
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(r.reason, Reason::BadSignature, "{what}: {}", r.detail);
        assert_eq!(r.reason.status(), 401);
        assert_eq!(r.company.as_ref().map(|co| co.id), Some(ACME_ID));
    }
}

// ---------------------------------------------------------------------------
// Checks 7–8: times, with 60 s of leeway.

#[test]
fn exp_leeway_is_60_seconds() {
    // iat = exp − 60 keeps the lifetime short.
    let at = |exp: i64| set(set(claims(), "exp", json!(exp)), "iat", json!(exp - 60));
    assert_eq!(code(&at(NOW), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 1), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 60), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 61), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(NOW - 86_400), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(0), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(-1), ACME_SECRET), "token_expired");
    // Fractions are dropped (floored).
    let frac = set(
        set(claims(), "exp", json!(NOW as f64 - 60.5)),
        "iat",
        json!(NOW - 100),
    );
    assert_eq!(code(&frac, ACME_SECRET), "token_expired");
    let frac = set(
        set(claims(), "exp", json!(NOW as f64 - 59.5)),
        "iat",
        json!(NOW - 100),
    );
    assert_eq!(code(&frac, ACME_SECRET), "ok");
}

#[test]
fn nbf_and_iat_leeway_is_60_seconds() {
    for name in ["nbf", "iat"] {
        let at = |t: i64| set(set(claims(), name, json!(t)), "exp", json!(NOW + 300));
        assert_eq!(code(&at(NOW + 60), ACME_SECRET), "ok", "{name}");
        assert_eq!(
            code(&at(NOW + 61), ACME_SECRET),
            "token_not_yet_valid",
            "{name}"
        );
        assert_eq!(code(&at(NOW - 100), ACME_SECRET), "ok", "{name}");
        assert_eq!(
            code(&at(i64::MAX), ACME_SECRET),
            "token_not_yet_valid",
            "{name}"
        );
    }
    // Neither is required.
    let c = unset(unset(claims(), "iat"), "nbf");
    assert_eq!(code(&c, ACME_SECRET), "ok");
}

#[test]
fn extreme_numeric_dates_do_not_overflow() {
    let cases = [
        (json!(i64::MIN), json!(NOW), "token_expired"),
        (json!(-1e300), json!(NOW), "token_expired"),
        (json!(i64::MAX), json!(NOW), "lifetime_too_long"),
        (json!(u64::MAX), json!(NOW), "lifetime_too_long"),
        (json!(1e300), json!(NOW), "lifetime_too_long"),
        (json!(NOW + 100), json!(i64::MIN), "lifetime_too_long"),
        (json!(NOW + 100), json!(-1e300), "lifetime_too_long"),
        (json!(i64::MAX), json!(i64::MIN), "lifetime_too_long"),
    ];
    for (exp, iat, expected) in cases {
        let c = set(set(claims(), "exp", exp.clone()), "iat", iat.clone());
        assert_eq!(code(&c, ACME_SECRET), expected, "exp {exp}, iat {iat}");
    }
}

// ---------------------------------------------------------------------------
// Check 8a: the audience.

#[test]
fn accepted_audiences() {
    let accepted = [
        json!(BASE),
        json!(format!("{BASE}/")),
        json!(ACME),
        json!([BASE]),
        json!([ACME]),
        json!(["https://other.example", ACME]),
        json!(["https://other.example", format!("{BASE}/")]),
    ];
    for aud in accepted {
        assert_eq!(
            code(&set(claims(), "aud", aud.clone()), ACME_SECRET),
            "ok",
            "aud {aud}"
        );
    }
}

#[test]
fn refused_audiences() {
    let refused_auds = [
        json!("https://evil.example"),
        json!(format!("{BASE}/app")),
        json!(format!("{BASE}.evil.example")),
        json!("portal.example.com"),
        json!("http://portal.example.com"),
        json!(GLOBEX),
        json!(format!("{ACME}/")),
        json!(""),
        json!(["https://other.example"]),
        json!([GLOBEX, "https://evil.example"]),
        json!([""]),
    ];
    for aud in refused_auds {
        let r = refused(Some(&sign(&set(claims(), "aud", aud.clone()), ACME_SECRET)));
        assert_eq!(r.reason, Reason::InvalidAudience, "aud {aud}");
        assert_eq!(r.reason.status(), 401);
    }
}

#[test]
fn base_url_with_a_trailing_slash_accepts_either_form() {
    let ctx = Context {
        now: NOW,
        base_url: "https://portal.example.com/",
    };
    for aud in [BASE, "https://portal.example.com/", ACME] {
        let token = sign(&set(claims(), "aud", json!(aud)), ACME_SECRET);
        assert!(
            check_in(Some(&token), &ctx, &mut Fake::new()).is_ok(),
            "aud {aud}"
        );
    }
}

#[test]
fn empty_audience_array_is_refused() {
    let r = refused(Some(&sign(&set(claims(), "aud", json!([])), ACME_SECRET)));
    assert_eq!(r.reason, Reason::InvalidAudience);
}

// ---------------------------------------------------------------------------
// Check 9: the lifetime.

#[test]
fn lifetime_edges_with_iat() {
    let life = |iat: i64, exp: i64| set(set(claims(), "iat", json!(iat)), "exp", json!(exp));
    assert_eq!(code(&life(NOW, NOW + MAX_LIFETIME), ACME_SECRET), "ok");
    assert_eq!(
        code(&life(NOW, NOW + MAX_LIFETIME + 1), ACME_SECRET),
        "lifetime_too_long"
    );
    // exp − iat counts, not exp − now.
    assert_eq!(
        code(&life(NOW - 100, NOW + MAX_LIFETIME - 100), ACME_SECRET),
        "ok"
    );
    assert_eq!(
        code(&life(NOW - 100, NOW + MAX_LIFETIME - 99), ACME_SECRET),
        "lifetime_too_long"
    );
    // Even with iat slightly ahead (within leeway).
    assert_eq!(
        code(&life(NOW + 30, NOW + 30 + MAX_LIFETIME), ACME_SECRET),
        "ok"
    );
    // exp before iat is a negative lifetime, not an error of its own.
    assert_eq!(code(&life(NOW, NOW - 10), ACME_SECRET), "ok");
}

#[test]
fn lifetime_edges_without_iat_use_exp_minus_now() {
    let exp = |e: i64| set(unset(claims(), "iat"), "exp", json!(e));
    assert_eq!(code(&exp(NOW + MAX_LIFETIME), ACME_SECRET), "ok");
    assert_eq!(
        code(&exp(NOW + MAX_LIFETIME + 1), ACME_SECRET),
        "lifetime_too_long"
    );
    // nbf does not stand in for iat.
    let c = set(exp(NOW + MAX_LIFETIME + 1), "nbf", json!(NOW));
    assert_eq!(code(&c, ACME_SECRET), "lifetime_too_long");
}

#[test]
fn lifetime_is_per_company() {
    // Globex allows an hour.
    let c = set(
        set(claims(), "companyId", json!(GLOBEX)),
        "email",
        json!("g@globex.test"),
    );
    let c = set(c, "exp", json!(NOW + 3_600));
    assert_eq!(code(&c, GLOBEX_SECRET), "ok");
    assert_eq!(
        code(&set(c, "exp", json!(NOW + 3_601)), GLOBEX_SECRET),
        "lifetime_too_long"
    );
}

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
    assert_eq!(name_of(json!(long)), "é".repeat(rules::MAX_NAME_CHARS));
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
fn display_name_cases() {
    let e = "jane.doe+x@example.com";
    assert_eq!(display_name(Some("Jane"), e), "Jane");
    assert_eq!(display_name(Some("  Jane  "), e), "Jane");
    assert_eq!(display_name(None, e), "jane.doe+x");
    assert_eq!(display_name(Some(""), e), "jane.doe+x");
    assert_eq!(display_name(Some("\u{3000}\t"), e), "jane.doe+x");
    assert_eq!(display_name(Some("\u{85}Jane\u{9f}"), e), "Jane");
    assert_eq!(display_name(Some("a\u{7f}b"), e), "ab");
    assert_eq!(
        display_name(Some(&"x".repeat(250)), e),
        "x".repeat(rules::MAX_NAME_CHARS)
    );
}

#[test]
fn a_name_of_only_control_characters_falls_back_to_the_local_part() {
    assert_eq!(
        display_name(Some("\u{7}\u{1b}"), "jane@example.com"),
        "jane"
    );
    let (_, a) = admitted(&sign(
        &set(claims(), "name", json!("\u{0}\u{7}\u{1b}")),
        ACME_SECRET,
    ));
    assert_eq!(new_identity(&a).1, "new");
}

// ---------------------------------------------------------------------------
// normalize_email.

fn at_len(local: usize, domain_labels: &[usize]) -> String {
    let domain: Vec<String> = domain_labels
        .iter()
        .enumerate()
        .map(|(i, n)| char::from(b'a' + i as u8).to_string().repeat(*n))
        .collect();
    format!("{}@{}", "l".repeat(local), domain.join("."))
}

#[test]
fn normalize_email_accepts() {
    let cases = [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM\t", "jane.doe@example.com"),
        ("\n a@b.co \r\n", "a@b.co"),
        (
            "first.last+tag@sub.example.co.uk",
            "first.last+tag@sub.example.co.uk",
        ),
        ("o'brien@example.ie", "o'brien@example.ie"),
        (
            "x!#$%&'*+-/=?^_`{|}~y@example.com",
            "x!#$%&'*+-/=?^_`{|}~y@example.com",
        ),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
        ("user@my-host.example", "user@my-host.example"),
        ("user@123.example", "user@123.example"),
        ("user@a.b.c.d.e", "user@a.b.c.d.e"),
        ("1@2.3", "1@2.3"),
        ("a.b.c@example.com", "a.b.c@example.com"),
        ("a-b_c@e-x.com", "a-b_c@e-x.com"),
    ];
    for (raw, expected) in cases {
        assert_eq!(normalize_email(raw).as_deref(), Ok(expected), "{raw:?}");
    }
    // Length limits, at the limit.
    let local_64 = at_len(64, &[7, 3]);
    assert_eq!(normalize_email(&local_64), Ok(local_64.clone()));
    let label_63 = at_len(4, &[63, 3]);
    assert_eq!(normalize_email(&label_63), Ok(label_63.clone()));
    let total_254 = at_len(64, &[63, 63, 61]);
    assert_eq!(total_254.len(), 254);
    assert_eq!(normalize_email(&total_254), Ok(total_254.clone()));
    // Surrounding blanks do not count towards the length.
    assert_eq!(
        normalize_email(&format!("  {total_254}  ")),
        Ok(total_254.clone())
    );
}

#[test]
fn normalize_email_refuses() {
    let cases = [
        "",
        "   ",
        "plain",
        "@example.com",
        "jane@",
        "jane@example",
        "jane@@example.com",
        "ja@ne@example.com",
        ".jane@example.com",
        "jane.@example.com",
        "ja..ne@example.com",
        "jane doe@example.com",
        "\"jane\"@example.com",
        "\"ja ne\"@example.com",
        "jane(comment)@example.com",
        "<jane@example.com>",
        "jane@example.com, bob@example.com",
        "jane@-example.com",
        "jane@example-.com",
        "jane@exa_mple.com",
        "jane@exam ple.com",
        "jane@example..com",
        "jane@.example.com",
        "jane@example.com.",
        "jane@[127.0.0.1]",
        "jane@example.com\u{0}",
        "ja\u{7}ne@example.com",
        "jané@example.com",
        "jane@exämple.com",
        "jane@例え.jp",
        "ＪＡＮＥ@example.com",
        "\u{212A}elvin@example.com",
        "jane\u{200B}@example.com",
        "jane@example.com\u{a0}x",
        "jane\\@example.com",
        "jane@example.com/",
    ];
    for raw in cases {
        assert!(normalize_email(raw).is_err(), "{raw:?} was accepted");
    }
    // Length limits, one past.
    assert!(normalize_email(&at_len(65, &[7, 3])).is_err(), "local 65");
    assert!(normalize_email(&at_len(4, &[64, 3])).is_err(), "label 64");
    let total_255 = at_len(64, &[63, 63, 62]);
    assert_eq!(total_255.len(), 255);
    assert!(normalize_email(&total_255).is_err(), "total 255");
    assert!(normalize_email(&"a".repeat(10_000)).is_err());
}

#[test]
fn normalize_email_is_idempotent_on_what_it_accepts() {
    for raw in ["  Jane.Doe@Example.COM", "o'brien@example.ie", "A@B.CO"] {
        let once = normalize_email(raw).unwrap();
        assert_eq!(normalize_email(&once), Ok(once.clone()));
        assert!(once.is_ascii() && once == once.to_ascii_lowercase());
    }
}

// ---------------------------------------------------------------------------
// Properties.

const CLAIM_NAMES: [&str; 12] = [
    "companyId",
    "email",
    "name",
    "role",
    "projectId",
    "sub",
    "iss",
    "jti",
    "aud",
    "iat",
    "nbf",
    "exp",
];

/// Strings the rules look at, so random values hit known rows often.
const INTERESTING: [&str; 26] = [
    ACME,
    GLOBEX,
    INITECH,
    "cmp_nope",
    "new@acme.test",
    "alice@acme.test",
    "admin@acme.test",
    "disabled@acme.test",
    "bob@globex.test",
    "not an email",
    "CUSTOMER",
    "AGENT",
    "ADMIN",
    "proj_acme_1",
    "proj_globex_1",
    BASE,
    "https://portal.example.com/",
    "used-jti",
    "10",
    "13",
    "20",
    "-1",
    "HS256",
    "none",
    "",
    "1700000000",
];

/// Any JSON value: scalars of every kind, numbers of every kind, nested
/// arrays and objects.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-1_000i64..1_000).prop_map(|d| Value::from(NOW + d)),
        (-1_000.0f64..1_000.0).prop_map(|d| Value::from(NOW as f64 + d)),
        (-3i64..30).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "\\PC{0,24}".prop_map(Value::String),
        prop::sample::select(INTERESTING.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one claim the rules know.
fn plausible_value(name: &'static str) -> BoxedStrategy<Value> {
    match name {
        "companyId" => prop::sample::select(vec![ACME, ACME, GLOBEX, INITECH, "cmp_nope"])
            .prop_map(Value::from)
            .boxed(),
        "email" => prop::sample::select(vec![
            "new@acme.test",
            "Alice@ACME.test",
            "agent@acme.test",
            "admin@acme.test",
            "disabled@acme.test",
            "bob@globex.test",
            "new@globex.test",
            "nope",
        ])
        .prop_map(Value::from)
        .boxed(),
        "role" => prop::sample::select(vec!["CUSTOMER", "AGENT", "ADMIN", "customer"])
            .prop_map(Value::from)
            .boxed(),
        "projectId" => prop::sample::select(vec!["proj_acme_1", "proj_globex_1", "proj_nope"])
            .prop_map(Value::from)
            .boxed(),
        "sub" => prop_oneof![
            (-2i64..25).prop_map(Value::from),
            prop::sample::select(vec!["10", "13", "20", "x", " 11 "]).prop_map(Value::from),
        ]
        .boxed(),
        "jti" => prop::sample::select(vec!["used-jti", "fresh-jti"])
            .prop_map(Value::from)
            .boxed(),
        "aud" => prop_oneof![
            prop::sample::select(vec![BASE, "https://portal.example.com/", ACME, GLOBEX, "x"])
                .prop_map(Value::from),
            prop::collection::vec(
                prop::sample::select(vec![BASE, ACME, GLOBEX, "x"]).prop_map(Value::from),
                0..3
            )
            .prop_map(Value::Array),
        ]
        .boxed(),
        // Around the edges of checks 7–9, mostly inside them.
        "exp" => (-120i64..700).prop_map(|d| Value::from(NOW + d)).boxed(),
        "iat" | "nbf" => (-300i64..120).prop_map(|d| Value::from(NOW + d)).boxed(),
        _ => "\\PC{0,20}".prop_map(Value::String).boxed(),
    }
}

/// A value for one claim: one the rules know, or anything.
fn claim_value(name: &'static str) -> BoxedStrategy<Value> {
    prop_oneof![plausible_value(name), arb_json()].boxed()
}

/// A claims object: each claim of Portico's perhaps present with a value
/// the rules know, strangers beside them, and now and then one claim
/// holding anything at all (most of those fail check 2, so they stay rare
/// enough for the other checks to be reached).
fn arb_claims() -> impl Strategy<Value = Value> {
    let known: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = CLAIM_NAMES
        .iter()
        .map(|&name| {
            prop::option::weighted(0.8, plausible_value(name).prop_map(move |v| (name, v))).boxed()
        })
        .collect();
    (
        prop::collection::btree_map("\\PC{0,8}", arb_json(), 0..3),
        known,
        prop::option::weighted(
            0.3,
            (prop::sample::select(CLAIM_NAMES.to_vec()), arb_json()),
        ),
    )
        .prop_map(|(extra, known, wild)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in known.into_iter().flatten().chain(wild) {
                map.insert(name.to_owned(), value);
            }
            Value::Object(map)
        })
}

/// A header object: usually `alg: HS256`, plus anything.
fn arb_header() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("\\PC{0,8}", arb_json(), 0..3),
        prop_oneof![
            10 => Just(Some(json!("HS256"))),
            1 => Just(None),
            1 => arb_json().prop_map(Some),
        ],
    )
        .prop_map(|(extra, alg)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            map.remove("alg");
            if let Some(alg) = alg {
                map.insert("alg".to_owned(), alg);
            }
            Value::Object(map)
        })
}

/// What any refusal must be, whatever the input.
fn assert_well_formed_refusal(r: &Refusal, token: &str) -> Result<(), TestCaseError> {
    let code = r.reason.code();
    prop_assert!(Reason::ALL_CODES.contains(&code), "unknown code {code}");
    if let Reason::MissingClaim(name) = r.reason {
        prop_assert!(
            ["companyId", "email", "exp"].contains(&name),
            "missing {name}"
        );
    }
    prop_assert!([400, 401, 403].contains(&r.reason.status()));
    // The company is known from check 5's refusals on, never before.
    let company_known = !matches!(
        r.reason,
        Reason::TokenMissing
            | Reason::TokenMalformed
            | Reason::UnsupportedAlgorithm
            | Reason::MissingClaim("companyId")
            | Reason::UnknownCompany
    );
    prop_assert_eq!(r.company.is_some(), company_known, "{} {}", code, &r.detail);
    prop_assert!(token.len() < 8 || !r.detail.contains(token));
    for s in ALL_SECRETS {
        prop_assert!(!r.detail.contains(s));
    }
    Ok(())
}

/// What any admission must be, whatever the input.
fn assert_sound_admission(v: &Verified, a: &Admission) -> Result<(), TestCaseError> {
    prop_assert!([ACME_ID, GLOBEX_ID].contains(&v.company.id));
    prop_assert!(v.claims.exp.is_some());
    prop_assert_ne!(a.role, Some(Role::Admin), "SSO never grants ADMIN");
    match &a.identity {
        Identity::Existing(u) => {
            prop_assert_eq!(u.company_id, v.company.id);
            prop_assert!(!u.disabled);
        }
        Identity::New { email, .. } => {
            let normalized = normalize_email(email);
            prop_assert_eq!(normalized.as_deref(), Ok(email.as_str()));
        }
    }
    if let Some(p) = &a.project {
        prop_assert_eq!(p.company_id, v.company.id);
    }
    Ok(())
}

/// The codes a token with a valid header but an unsigned change may get.
const BEFORE_OR_AT_SIGNATURE: [Reason; 5] = [
    Reason::TokenMalformed,
    Reason::MissingClaim("companyId"),
    Reason::UnknownCompany,
    Reason::SsoNotConfigured,
    Reason::BadSignature,
];

/// A token passing every check, with all ten claims the property changes.
fn full_claims() -> Value {
    json!({
        "companyId": ACME,
        "email": "new@acme.test",
        "name": "New Person",
        "iss": "issuely",
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "aud": BASE,
        "role": "AGENT",
        "projectId": "proj_acme_1",
        "sub": ALICE,
        "jti": "fresh-jti",
    })
}

const CHANGED_CLAIMS: [&str; 10] = [
    "companyId",
    "email",
    "exp",
    "iat",
    "nbf",
    "aud",
    "role",
    "projectId",
    "sub",
    "jti",
];

fn wrong_secret() -> impl Strategy<Value = String> {
    "[!-~]{16,48}".prop_filter("not a usable secret", |s| {
        !ALL_SECRETS.contains(&s.as_str())
    })
}

#[test]
fn the_full_token_of_the_properties_is_admitted() {
    let (_, a) = admitted(&sign(&full_claims(), ACME_SECRET));
    assert_eq!(new_identity(&a), ("new@acme.test", "New Person"));
    assert_eq!(a.role, Some(Role::Agent));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Any bytes as a token: no panic; a refusal with a code of the table.
    #[test]
    fn any_bytes_as_a_token(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            "[A-Za-z0-9_=.+/ -]{0,300}".prop_map(String::into_bytes),
            (
                "[A-Za-z0-9_-]{0,80}",
                "[A-Za-z0-9_-]{0,200}",
                "[A-Za-z0-9_-]{0,60}"
            )
                .prop_map(|(h, p, s)| format!("{h}.{p}.{s}").into_bytes()),
            prop::collection::vec(any::<u8>(), 8_000..8_400),
        ]
    ) {
        let token = String::from_utf8_lossy(&bytes).into_owned();
        match check(Some(&token)) {
            Ok((v, a)) => assert_sound_admission(&v, &a)?,
            Err(r) => assert_well_formed_refusal(&r, &token)?,
        }
    }

    /// (b) Any header and claims, signed with a company's secret (or not):
    /// no panic; admitted soundly, or refused with a code of the table.
    #[test]
    fn any_signed_header_and_claims(
        header in arb_header(),
        claims in arb_claims(),
        other_secret in prop::option::weighted(0.25, prop::sample::select(vec![
            ACME_SECRET, ACME_PREVIOUS, GLOBEX_SECRET, GLOBEX_EXPIRED, WRONG_SECRET,
        ])),
    ) {
        // Mostly the secret of the company the claims name, else another.
        let secret = other_secret.unwrap_or(match claims.get("companyId").and_then(Value::as_str) {
            Some(GLOBEX) => GLOBEX_SECRET,
            _ => ACME_SECRET,
        });
        let token = sign_with_header(&header, &claims, secret);
        match check(Some(&token)) {
            Ok((v, a)) => assert_sound_admission(&v, &a)?,
            Err(r) => assert_well_formed_refusal(&r, &token)?,
        }
    }

    /// (c) A valid token with one claim changed or removed, the payload
    /// swapped under the old signature: always refused at or before check 6;
    /// re-signed with a wrong secret: refused the same way.
    #[test]
    fn one_claim_changed_without_resigning(
        (name, change) in prop::sample::select(CHANGED_CLAIMS.to_vec()).prop_flat_map(|name| {
            (Just(name), prop::option::weighted(0.85, prop_oneof![claim_value(name), arb_json()]))
        }),
        wrong in wrong_secret(),
    ) {
        let original = full_claims();
        let token = sign(&original, ACME_SECRET);
        let changed = match change {
            Some(value) => set(original.clone(), name, value),
            None => unset(original.clone(), name),
        };
        prop_assume!(changed != original);

        let forged = swap_payload(&token, &changed);
        let r = match check(Some(&forged)) {
            Ok(_) => return Err(TestCaseError::fail(format!("{name} changed, admitted"))),
            Err(r) => r,
        };
        assert_well_formed_refusal(&r, &forged)?;
        prop_assert!(
            BEFORE_OR_AT_SIGNATURE.contains(&r.reason),
            "{} changed: {} ({})", name, r.reason, r.detail
        );

        // Checks 1–5 do not read the signature: the same claims under a
        // wrong secret stop at the same place.
        let input = format!("{}.{}", parts(&forged).0, parts(&forged).1);
        let resigned = format!("{input}.{}", hmac(&input, &wrong));
        let r2 = check(Some(&resigned)).expect_err("re-signed with a wrong secret, admitted");
        prop_assert_eq!(r2.reason, r.reason);
    }

    /// The valid token itself under a wrong secret: bad_signature, exactly.
    #[test]
    fn the_valid_token_under_a_wrong_secret(wrong in wrong_secret()) {
        let r = check(Some(&sign(&full_claims(), &wrong)))
            .expect_err("signed with a wrong secret, admitted");
        prop_assert_eq!(r.reason, Reason::BadSignature);
        prop_assert!(!r.detail.contains(&wrong));
    }
}
