//! The SSO rules of the README's table of checks ("Reason codes"), top to
//! bottom, one reason code per check: this file holds what the checks read
//! and answer; `verify.rs` then `admit.rs` hold the checks, in order.
//!
//! [`verify`] runs checks 1–9 (the token itself: structure, algorithm,
//! company, secret, signature, times, audience, lifetime) with read-only
//! lookups; [`admit`] runs checks 10–15 (replay, identity, role, ownership,
//! project, disabled) and is meant to run inside the write transaction that
//! then applies the [`Admission`]. Neither writes anything nor knows HTTP,
//! so the token checker of Settings → SSO runs the same code as a sign-in.

mod admit;
mod verify;

use serde_json::{Map, Value};

pub use admit::admit;
pub use verify::verify;

use super::Reason;
use super::token::Claims;
use crate::db::DbError;
use crate::db::models::{Company, Project, Role, SsoSecret, User};

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY: i64 = 60;

/// What the rules need to know about the moment and the server.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: i64,
    /// This portal's base URL: one of the two accepted `aud` values.
    pub base_url: &'a str,
}

/// Why a [`Directory`] could not answer.
#[derive(Debug)]
pub enum LookupError {
    /// A directory that holds only some of the data (the cache) does not
    /// hold this: ask one that loads it.
    NotCached,
    Store(DbError),
}

impl From<DbError> for LookupError {
    fn from(e: DbError) -> Self {
        LookupError::Store(e)
    }
}

/// Read-only look-ups for checks 4–6.
pub trait Directory {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, LookupError>;
    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, LookupError>;
    /// The current secret first, then a previous one still in grace.
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, LookupError>;
}

/// Look-ups for checks 10–15, made inside the sign-in's transaction.
pub trait Ledger {
    fn jti_used(&mut self, company_id: i64, jti: &str) -> Result<bool, DbError>;
    fn user_by_email(&mut self, email: &str) -> Result<Option<User>, DbError>;
    fn user_in_company(&mut self, company_id: i64, user_id: i64) -> Result<Option<User>, DbError>;
    fn project(&mut self, company_id: i64, public_id: &str) -> Result<Option<Project>, DbError>;
}

/// A refused token, with what the audit log and the error page need.
#[derive(Debug)]
pub struct Refusal {
    pub reason: Reason,
    /// For the developer: what exactly was wrong. Never the token or a secret.
    pub detail: String,
    /// Known from check 4 on: the event is recorded for this company.
    pub company: Option<Company>,
    pub subject: Option<String>,
    pub iss: Option<String>,
    pub user_id: Option<i64>,
}

/// Why a sign-in did not happen: the token was refused, or the store failed,
/// or the directory asked could not tell without loading.
#[derive(Debug)]
pub enum Failure {
    Refused(Box<Refusal>),
    Store(DbError),
    /// [`LookupError::NotCached`]: run the checks again with a loading
    /// directory.
    NotCached,
}

impl From<LookupError> for Failure {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotCached => Failure::NotCached,
            LookupError::Store(e) => Failure::Store(e),
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Store(e)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Store(DbError::Query(e))
    }
}

/// A token that passed checks 1–9.
#[derive(Debug, Clone)]
pub struct Verified {
    pub company: Company,
    pub header: Map<String, Value>,
    pub claims: Claims,
    /// The secret whose signature matched, and when it was made: the write
    /// phase checks that this very secret is still usable.
    pub secret_id: i64,
    pub secret_created_at: i64,
}

impl Verified {
    /// The email or sub the token names, for the audit log.
    pub fn subject(&self) -> Option<String> {
        subject_of(&self.claims)
    }
}

/// Who the token signs in.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    Existing(User),
    /// First visit: the account to create.
    New {
        email: String,
        name: String,
    },
}

/// A token that passed every check, and what applying it changes.
#[derive(Debug, Clone)]
pub struct Admission {
    pub identity: Identity,
    /// The role a new user gets, or the one an existing non-admin moves to.
    pub role: Option<Role>,
    pub project: Option<Project>,
    /// The `jti` to record as used, with when it may be forgotten.
    pub jti: Option<(String, i64)>,
}

fn subject_of(claims: &Claims) -> Option<String> {
    claims.email.clone().or_else(|| claims.sub_text.clone())
}

/// Builds refusals that carry what is known so far.
struct Refuser<'c> {
    claims: Option<&'c Claims>,
    company: Option<Company>,
    user_id: Option<i64>,
}

impl Refuser<'_> {
    fn refuse(&self, reason: Reason, detail: impl Into<String>) -> Failure {
        Failure::Refused(Box::new(Refusal {
            reason,
            detail: detail.into(),
            company: self.company.clone(),
            subject: self.claims.and_then(subject_of),
            iss: self.claims.and_then(|c| c.iss.clone()),
            user_id: self.user_id,
        }))
    }
}

/// Shows a value from a token in a message: quoted, and cut short.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(40).collect();
    if cut.len() < value.len() {
        format!("\"{cut}…\"")
    } else {
        format!("\"{cut}\"")
    }
}
