//! Applying the rules to the database.
//!
//! A sign-in is a read phase (checks 1–9, [`rules::verify`]) answered from
//! the cache ([`CachedDirectory`]) or, on a miss, from the database
//! ([`LoadingDirectory`], which fills the cache); then a write phase,
//! [`admit_and_apply`], run by the writer thread in its batch's write
//! transaction (`db::Tx`): it re-reads the secret the signature matched (so
//! a rotation that committed in the meantime, even from another process,
//! refuses the token), runs checks 10–15 (on SQLite under the write lock),
//! and writes the user, the membership, the used `jti`, the last login and
//! the `ok` event together.
//! Two simultaneous first sign-ins with one email therefore serialise: the
//! second finds the user the first created. A refusal writes only its
//! audit event.

use super::Reason;
use super::rules::{
    self, Admission, Context, Directory, Failure, Identity, Ledger, LookupError, Refusal, Verified,
};
use crate::cache::{Cache, CompanyEntry, Fill};
use crate::db::models::{
    Company, Method, NewSsoEvent, NewUser, Project, Role, SsoEvent, SsoSecret, UsedToken, User,
};
use crate::db::writer::{Batch, Wanted, WantedUser};
use crate::db::{DbConn, DbError, Tx};
use crate::input::normalize_email;

/// Checks 4–6 answered by the cache alone: a miss is
/// [`LookupError::NotCached`].
pub struct CachedDirectory<'a>(pub &'a Cache);

impl Directory for CachedDirectory<'_> {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, LookupError> {
        let entry = self
            .0
            .company_by_public_id(public_id)
            .ok_or(LookupError::NotCached)?;
        Ok(Some((*entry.company).clone()))
    }
    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, LookupError> {
        let user = self.0.user(user_id).ok_or(LookupError::NotCached)?;
        let entry = self
            .0
            .company(user.company_id)
            .ok_or(LookupError::NotCached)?;
        Ok(Some((*entry.company).clone()))
    }
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, LookupError> {
        let entry = self.0.company(company_id).ok_or(LookupError::NotCached)?;
        Ok(entry
            .secrets
            .iter()
            .filter(|s| s.is_current() || s.expires_at.is_some_and(|t| t > now))
            .cloned()
            .collect())
    }
}

/// Checks 4–6 answered by the database, filling the cache on the way.
pub struct LoadingDirectory<'a> {
    cache: &'a Cache,
    conn: &'a mut DbConn,
    generation: u64,
    company: Option<Company>,
}

impl<'a> LoadingDirectory<'a> {
    pub fn new(cache: &'a Cache, conn: &'a mut DbConn) -> Self {
        LoadingDirectory {
            generation: cache.generation(),
            cache,
            conn,
            company: None,
        }
    }
}

impl Directory for LoadingDirectory<'_> {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, LookupError> {
        self.company = Company::find_by_public_id(self.conn, public_id)?;
        Ok(self.company.clone())
    }
    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, LookupError> {
        self.company = Company::find_by_user_id(self.conn, user_id)?;
        Ok(self.company.clone())
    }
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, LookupError> {
        let secrets = SsoSecret::usable(self.conn, company_id, now)?;
        if let Some(company) = self.company.take().filter(|c| c.id == company_id) {
            let entry = CompanyEntry {
                company: company.into(),
                secrets: secrets.clone(),
            };
            self.cache.fill(self.generation, Fill::Company(entry));
        }
        Ok(secrets)
    }
}

/// The plain database answers checks 4–6 too: for the token checker.
impl Directory for DbConn {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, LookupError> {
        Ok(Company::find_by_public_id(self, public_id)?)
    }
    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, LookupError> {
        Ok(Company::find_by_user_id(self, user_id)?)
    }
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, LookupError> {
        Ok(SsoSecret::usable(self, company_id, now)?)
    }
}

impl Ledger for DbConn {
    fn jti_used(&mut self, company_id: i64, jti: &str) -> Result<bool, DbError> {
        UsedToken::exists(self, company_id, jti)
    }
    fn user_by_email(&mut self, email: &str) -> Result<Option<User>, DbError> {
        User::find_by_email(self, email)
    }
    fn user_in_company(&mut self, company_id: i64, user_id: i64) -> Result<Option<User>, DbError> {
        User::find_in_company(self, company_id, user_id)
    }
    fn project(&mut self, company_id: i64, public_id: &str) -> Result<Option<Project>, DbError> {
        Project::find_in_company(self, company_id, public_id)
    }
}

/// The ledger of the write phase: the transaction, with the users its batch
/// read ahead.
struct BatchLedger<'a, 'b> {
    tx: &'a mut Tx<'b>,
    batch: &'a Batch,
}

impl Ledger for BatchLedger<'_, '_> {
    fn jti_used(&mut self, company_id: i64, jti: &str) -> Result<bool, DbError> {
        self.tx.read().jti_used(company_id, jti)
    }
    fn user_by_email(&mut self, email: &str) -> Result<Option<User>, DbError> {
        self.batch.user_by_email(self.tx, email)
    }
    fn user_in_company(&mut self, company_id: i64, user_id: i64) -> Result<Option<User>, DbError> {
        self.batch.user_in_company(self.tx, company_id, user_id)
    }
    fn project(&mut self, company_id: i64, public_id: &str) -> Result<Option<Project>, DbError> {
        self.tx.read().project(company_id, public_id)
    }
}

/// What the write phase of `verified` will read, for its batch to read
/// ahead: the secret its signature matched, and the user (check 11: the
/// email, else an integer `sub`).
pub fn wanted(verified: &Verified) -> Wanted {
    let user = match (&verified.claims.email, verified.claims.sub_id) {
        (Some(email), _) => normalize_email(email).ok().map(WantedUser::Email),
        (None, Some(id)) => Some(WantedUser::Id(id)),
        (None, None) => None,
    };
    Wanted {
        secret: Some(verified.secret_id),
        user,
    }
}

/// The write phase of a sign-in (checks 10–15 and the writes), for the
/// writer thread: the user signed in, as now written. A refusal is
/// `Ok(Err(_))`: its event is written. What it
/// changes of cached data (a role, a membership) is recorded on `tx` by the
/// model functions, and forgotten by the cache once the batch commits.
pub fn admit_and_apply(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    verified: &Verified,
    now: i64,
    ip: Option<&str>,
) -> Result<Result<User, Box<Refusal>>, DbError> {
    let secret = batch
        .usable_secret(tx, verified.secret_id, now)?
        .filter(|s| s.created_at == verified.secret_created_at);
    let admitted = match secret {
        // Rotated or revoked since the read phase: check 6 fails after all.
        None => Err(Failure::Refused(Box::new(Refusal {
            reason: Reason::BadSignature,
            detail: "The secret this token was signed with was just rotated or revoked.".into(),
            company: Some(verified.company.clone()),
            subject: verified.subject(),
            iss: verified.claims.iss.clone(),
            user_id: None,
        }))),
        Some(_) => rules::admit(verified, &mut BatchLedger { tx, batch }),
    };
    // Check 10 once more, decided by the unique insert itself: of sign-ins
    // racing with one jti (through any number of processes), one wins. Only
    // an admitted sign-in consumes its jti.
    let admitted = match admitted {
        Ok(admission) => match &admission.jti {
            Some((jti, expires_at))
                if !UsedToken::insert(tx, verified.company.id, jti, *expires_at)? =>
            {
                Err(Failure::Refused(Box::new(Refusal {
                    reason: Reason::TokenReplayed,
                    detail: "This token's jti was just used by another sign-in.".into(),
                    company: Some(verified.company.clone()),
                    subject: verified.subject(),
                    iss: verified.claims.iss.clone(),
                    user_id: None,
                })))
            }
            _ => Ok(admission),
        },
        other => other,
    };
    match admitted {
        Ok(admission) => {
            let user = apply(tx, batch, verified, admission, now, ip)?;
            if let Some(secret) = &secret {
                batch.touch_secret(secret, now);
            }
            Ok(Ok(user))
        }
        Err(Failure::Refused(refusal)) => {
            if let Some(event) = refusal_event(&refusal, now, ip) {
                event.insert(tx)?;
            }
            Ok(Err(refusal))
        }
        Err(Failure::Store(e)) => Err(e),
        // The ledger is the database: it always answers.
        Err(Failure::NotCached) => Err(DbError::Busy("the ledger did not answer")),
    }
}

fn apply(
    tx: &mut Tx<'_>,
    batch: &mut Batch,
    verified: &Verified,
    admission: Admission,
    now: i64,
    ip: Option<&str>,
) -> Result<User, DbError> {
    let company = &verified.company;
    // The jti was stored by `admit_and_apply`; expired ones are forgotten by
    // the housekeeping (`db::housekeeping`), not on the sign-in's path.
    let (mut user, created) = match admission.identity {
        Identity::Existing(user) => (user, false),
        Identity::New { email, name } => {
            let new = NewUser {
                company_id: company.id,
                email: &email,
                name: &name,
                role: admission.role.unwrap_or(Role::Customer),
                password_hash: None,
                signed_in_by: Some(Method::Sso),
            };
            (User::create(tx, new, now)?, true)
        }
    };
    // A role claim that changes nothing writes nothing (and leaves the
    // cached list of the company's staff alone).
    if let (false, Some(role)) = (created, admission.role)
        && role != user.role
    {
        User::set_role(tx, &user, role)?;
        user.role = role;
    }
    if created || admission.role.is_some() {
        batch.wrote_user(&user);
    }
    if let Some(project) = &admission.project {
        Project::add_member(tx, project.id, user.id, now)?;
    }
    if !created {
        batch.sso_login(user.id, now);
    }
    user.last_login_at = Some(now);
    user.last_login_method = Some(Method::Sso);
    batch.sign_in_event(NewSsoEvent {
        company_id: company.id,
        created_at: now,
        outcome: SsoEvent::OK.to_owned(),
        subject: verified.subject(),
        user_id: Some(user.id),
        ip: ip.map(str::to_owned),
        iss: verified.claims.iss.clone(),
    });
    Ok(user)
}

/// The audit event of a refusal, when its company is known.
pub fn refusal_event(refusal: &Refusal, now: i64, ip: Option<&str>) -> Option<NewSsoEvent> {
    let company = refusal.company.as_ref()?;
    Some(NewSsoEvent {
        company_id: company.id,
        created_at: now,
        outcome: refusal.reason.code().to_owned(),
        subject: refusal.subject.clone(),
        user_id: refusal.user_id,
        ip: ip.map(str::to_owned),
        iss: refusal.iss.clone(),
    })
}

/// Runs every check on `token` without signing anyone in or writing
/// anything: the token checker of Settings → SSO.
pub fn check_only(
    conn: &mut DbConn,
    token: Option<&str>,
    ctx: &Context<'_>,
) -> Result<(Verified, Admission), Failure> {
    let verified = rules::verify(token, ctx, conn)?;
    let admission = rules::admit(&verified, conn)?;
    Ok((verified, admission))
}
