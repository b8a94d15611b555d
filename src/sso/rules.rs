//! The SSO rules of the README's table of checks ("The SSO checks"), top
//! to bottom, one reason code per check.
//!
//! [`verify`] runs checks 1–9 (the token itself: structure, algorithm,
//! company, secret, signature, times, audience, lifetime) with read-only
//! lookups; [`admit`] runs checks 10–15 (replay, identity, role, ownership,
//! project, disabled) and is meant to run inside the write transaction that
//! then applies the [`Admission`]. Neither writes anything nor knows HTTP,
//! so the token checker of Settings → SSO runs the same code as a sign-in.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::Reason;
use super::token::{self, Claims};
use crate::db::DbError;
use crate::db::models::{Company, Project, Role, SsoSecret, User};
use crate::input::{display_name, normalize_email};

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

/// Checks 1–9.
pub fn verify(
    token: Option<&str>,
    ctx: &Context<'_>,
    dir: &mut impl Directory,
) -> Result<Verified, Failure> {
    let mut r = Refuser {
        claims: None,
        company: None,
        user_id: None,
    };

    // 1. A token is present.
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(r.refuse(Reason::TokenMissing, "The request carried no token."));
    };

    // 2. Three base64url parts, JSON header and payload, at most 8 KiB.
    let raw = token::parse(token).map_err(|(reason, detail)| r.refuse(reason, detail))?;
    let claims = &raw.claims;
    r.claims = Some(claims);

    // 3. The algorithm is exactly HS256.
    match token::algorithm(&raw.header) {
        Some("HS256") => {}
        Some(alg) => {
            return Err(r.refuse(
                Reason::UnsupportedAlgorithm,
                format!(
                    "The header's alg is {}; only HS256 is accepted.",
                    shown(alg)
                ),
            ));
        }
        None => {
            return Err(r.refuse(
                Reason::UnsupportedAlgorithm,
                "The header has no alg string; only HS256 is accepted.",
            ));
        }
    }

    // 4. The company is known: from companyId, else from the user named by sub.
    let company = if let Some(public_id) = &claims.company_id {
        dir.company_by_public_id(public_id)?.ok_or_else(|| {
            r.refuse(
                Reason::UnknownCompany,
                format!("No company has the ID {}.", shown(public_id)),
            )
        })?
    } else if let Some(user_id) = claims.sub_id {
        dir.company_of_user(user_id)?.ok_or_else(|| {
            r.refuse(
                Reason::UnknownCompany,
                format!("The token has no companyId and no user has the id {user_id} (sub)."),
            )
        })?
    } else {
        return Err(r.refuse(
            Reason::MissingClaim("companyId"),
            "The token has no companyId claim (nor a numeric sub naming an existing user).",
        ));
    };
    r.company = Some(company.clone());

    // 5. The company has an SSO secret.
    let secrets = dir.usable_secrets(company.id, ctx.now)?;
    if secrets.is_empty() {
        return Err(r.refuse(
            Reason::SsoNotConfigured,
            format!("The company {} has no SSO secret.", company.public_id),
        ));
    }

    // 6. The signature verifies under the current secret or a previous one in grace.
    let (secret_id, secret_created_at) = secrets
        .iter()
        .find(|s| signature_matches(&raw, s))
        .map(|s| (s.id, s.created_at))
        .ok_or_else(|| {
            let detail = if secrets.len() > 1 {
                "The signature matches neither the current secret nor the previous one."
            } else {
                "The signature does not match the company's current secret."
            };
            r.refuse(Reason::BadSignature, detail)
        })?;

    // 7. exp is present and not past.
    let Some(exp) = claims.exp else {
        return Err(r.refuse(
            Reason::MissingClaim("exp"),
            "The token has no exp claim: every sign-in token must expire.",
        ));
    };
    if ctx.now > exp.saturating_add(LEEWAY) {
        return Err(r.refuse(
            Reason::TokenExpired,
            format!(
                "exp is {exp}, {} s before the server time {}.",
                ctx.now.saturating_sub(exp),
                ctx.now
            ),
        ));
    }

    // 8. nbf, and iat when present, are not in the future.
    for (name, value) in [("nbf", claims.nbf), ("iat", claims.iat)] {
        if let Some(t) = value
            && t > ctx.now.saturating_add(LEEWAY)
        {
            return Err(r.refuse(
                Reason::TokenNotYetValid,
                format!(
                    "{name} is {t}, {} s after the server time {}.",
                    t.saturating_sub(ctx.now),
                    ctx.now
                ),
            ));
        }
    }

    // 8a. aud, when present, is this portal's base URL or the company's ID.
    if let Some(aud) = &claims.aud {
        let base = ctx.base_url.trim_end_matches('/');
        let accepted = aud
            .iter()
            .any(|a| a.trim_end_matches('/') == base || *a == company.public_id);
        if !accepted {
            return Err(r.refuse(
                Reason::InvalidAudience,
                format!(
                    "aud is {}; accepted: \"{base}\" or \"{}\".",
                    shown(&aud.join(", ")),
                    company.public_id
                ),
            ));
        }
    }

    // 9. The lifetime is within the company's maximum.
    let lifetime = exp.saturating_sub(claims.iat.unwrap_or(ctx.now));
    if lifetime > company.max_token_lifetime {
        return Err(r.refuse(
            Reason::LifetimeTooLong,
            format!(
                "The token lives {lifetime} s ({}); this company's maximum is {} s.",
                if claims.iat.is_some() {
                    "exp − iat"
                } else {
                    "exp − now"
                },
                company.max_token_lifetime
            ),
        ));
    }

    Ok(Verified {
        company,
        header: raw.header.clone(),
        claims: raw.claims.clone(),
        secret_id,
        secret_created_at,
    })
}

fn signature_matches(raw: &token::RawToken<'_>, secret: &SsoSecret) -> bool {
    let key = DecodingKey::from_secret(secret.secret.as_bytes());
    jsonwebtoken::crypto::verify(
        raw.signature,
        raw.signing_input.as_bytes(),
        &key,
        Algorithm::HS256,
    )
    .unwrap_or(false)
}

/// Checks 10–15, on a token that passed [`verify`].
pub fn admit(v: &Verified, ledger: &mut impl Ledger) -> Result<Admission, Failure> {
    let claims = &v.claims;
    let company = &v.company;
    let mut r = Refuser {
        claims: Some(claims),
        company: Some(company.clone()),
        user_id: None,
    };

    // 10. jti, when present, has not been used before by this company.
    if let Some(jti) = &claims.jti
        && ledger.jti_used(company.id, jti)?
    {
        return Err(r.refuse(
            Reason::TokenReplayed,
            format!("The jti {} was already used.", shown(jti)),
        ));
    }

    // 11. An identity: a valid email, else a sub naming a user of this company.
    let identity = if let Some(raw_email) = &claims.email {
        let email = normalize_email(raw_email).map_err(|why| {
            r.refuse(
                Reason::InvalidEmail,
                format!("email {}: {why}", shown(raw_email)),
            )
        })?;
        match ledger.user_by_email(&email)? {
            Some(user) => Identity::Existing(user),
            None => Identity::New {
                name: display_name(claims.name.as_deref(), &email),
                email,
            },
        }
    } else if let Some(user_id) = claims.sub_id {
        let user = ledger
            .user_in_company(company.id, user_id)?
            .ok_or_else(|| {
                r.refuse(
                    Reason::UnknownUser,
                    format!(
                        "No user of this company has the id {user_id} (sub), and there is no email."
                    ),
                )
            })?;
        Identity::Existing(user)
    } else if let Some(sub) = &claims.sub_text {
        return Err(r.refuse(
            Reason::UnknownUser,
            format!(
                "sub {} is not a user id, and there is no email.",
                shown(sub)
            ),
        ));
    } else {
        return Err(r.refuse(
            Reason::MissingClaim("email"),
            "The token names nobody: send email (or sub, the id of an existing user).",
        ));
    };
    if let Identity::Existing(user) = &identity
        && user.company_id == company.id
    {
        r.user_id = Some(user.id);
    }

    // 12. role, when present, is CUSTOMER or AGENT.
    let role = match claims.role.as_deref() {
        None => None,
        Some(given) => Some(Role::parse_assignable(given).ok_or_else(|| {
            r.refuse(
                Reason::InvalidRole,
                format!("role is {}; it must be CUSTOMER or AGENT.", shown(given)),
            )
        })?),
    };

    // 13. The email is not registered under another company.
    if let Identity::Existing(user) = &identity
        && user.company_id != company.id
    {
        return Err(r.refuse(
            Reason::EmailTaken,
            "This email belongs to a user of another company.",
        ));
    }

    // 14. projectId, when present, is a project of this company.
    let project = match &claims.project_id {
        None => None,
        Some(public_id) => Some(ledger.project(company.id, public_id)?.ok_or_else(|| {
            r.refuse(
                Reason::UnknownProject,
                format!(
                    "This company has no project with the ID {}.",
                    shown(public_id)
                ),
            )
        })?),
    };

    // 15. The user is not disabled.
    if let Identity::Existing(user) = &identity
        && user.disabled
    {
        return Err(r.refuse(Reason::UserDisabled, "This user is disabled."));
    }

    let exp = claims.exp.unwrap_or(0);
    Ok(Admission {
        role: match &identity {
            Identity::New { .. } => Some(role.unwrap_or(Role::Customer)),
            // SSO never changes an admin, and never makes one.
            Identity::Existing(user) if user.role() == Role::Admin => None,
            Identity::Existing(user) => role.filter(|r| *r != user.role()),
        },
        identity,
        project,
        jti: claims
            .jti
            .clone()
            .map(|jti| (jti, exp.saturating_add(LEEWAY))),
    })
}
