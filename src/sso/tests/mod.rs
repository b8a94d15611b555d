//! The SSO rules of the README's table of checks, case by case, against an
//! in-memory directory and ledger; then properties over arbitrary tokens and
//! claims. This module holds the world and the helpers; each child module
//! one concern.
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
    self, Admission, Context, Directory, Failure, Identity, Ledger, LookupError, Refusal, Verified,
};
use crate::db::DbError;
use crate::input::{self, normalize_email};

mod admission;
mod order;
mod properties;
mod table;
mod token_checks;
use crate::db::models::{Company, Project, Role, SecretState, SsoSecret, User};

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
        signin_url: None,
    }
}

fn secret(id: i64, company_id: i64, secret: &str, expires_at: Option<i64>) -> SsoSecret {
    SsoSecret {
        id,
        company_id,
        state: if expires_at.is_some() {
            SecretState::Previous
        } else {
            SecretState::Current
        },
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
        role,
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
        shared: false,
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
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, LookupError> {
        Ok(self
            .companies
            .iter()
            .find(|c| c.public_id == public_id)
            .cloned())
    }

    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, LookupError> {
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
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, LookupError> {
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
        Err(Failure::NotCached) => panic!("the fake directory holds everything"),
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
