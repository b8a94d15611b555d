//! Applying the rules to the database: one sign-in is one read phase
//! (checks 1–9), then one `BEGIN IMMEDIATE` transaction that re-runs checks
//! 10–15 under the write lock and writes the user, the membership, the used
//! `jti`, the last login and the `ok` event together. Two simultaneous first
//! sign-ins with one email therefore serialise: the second finds the user
//! the first created. A refusal writes only its audit event.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::sqlite::SqliteConnection;

use super::rules::{self, Admission, Context, Directory, Failure, Identity, Ledger, Refusal};
use crate::db::DbError;
use crate::db::models::{Company, NewSsoEvent, NewUser, Project, SsoSecret, UsedToken, User};

impl Directory for SqliteConnection {
    fn company_by_public_id(&mut self, public_id: &str) -> Result<Option<Company>, DbError> {
        Company::find_by_public_id(self, public_id)
    }
    fn company_of_user(&mut self, user_id: i64) -> Result<Option<Company>, DbError> {
        Company::find_by_user_id(self, user_id)
    }
    fn usable_secrets(&mut self, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, DbError> {
        SsoSecret::usable(self, company_id, now)
    }
}

impl Ledger for SqliteConnection {
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

/// The replay guard is purged of expired ids once every this many inserts.
const PURGE_EVERY: u64 = 1000;
static JTI_INSERTS: AtomicU64 = AtomicU64::new(0);

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub company: Company,
    /// True on the first visit.
    pub created: bool,
}

/// Checks `token` and, when every check passes, signs its user in.
/// `ip` goes to the audit log.
pub fn sign_in(
    conn: &mut SqliteConnection,
    token: Option<&str>,
    ctx: &Context<'_>,
    ip: Option<&str>,
) -> Result<SignedIn, Failure> {
    let outcome = rules::verify(token, ctx, conn).and_then(|verified| {
        conn.immediate_transaction(|conn| {
            let admission = rules::admit(&verified, conn)?;
            apply(conn, &verified, admission, ctx.now, ip)
        })
    });
    if let Err(Failure::Refused(refusal)) = &outcome {
        record_refusal(conn, refusal, ctx.now, ip);
    }
    outcome
}

fn apply(
    conn: &mut SqliteConnection,
    verified: &rules::Verified,
    admission: Admission,
    now: i64,
    ip: Option<&str>,
) -> Result<SignedIn, Failure> {
    let company = &verified.company;
    if let Some((jti, expires_at)) = &admission.jti {
        UsedToken::insert(conn, company.id, jti, *expires_at)?;
        // Now and then, forget ids whose tokens have expired anyway.
        if JTI_INSERTS
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
        {
            UsedToken::purge_expired(conn, now)?;
        }
    }
    let (mut user, created) = match admission.identity {
        Identity::Existing(user) => (user, false),
        Identity::New { email, name } => {
            let role = admission.role.unwrap_or(crate::db::models::Role::Customer);
            let new = NewUser {
                company_id: company.id,
                email: &email,
                name: &name,
                role,
                password_hash: None,
            };
            (User::create(conn, new, now)?, true)
        }
    };
    if let (false, Some(role)) = (created, admission.role) {
        User::set_role(conn, user.id, role)?;
        user.role = role.as_str().to_owned();
    }
    if let Some(project) = &admission.project {
        Project::add_member(conn, project.id, user.id, now)?;
    }
    User::record_login(conn, user.id, "sso", now)?;
    user.last_login_at = Some(now);
    user.last_login_method = Some("sso".to_owned());
    SsoSecret::touch(conn, verified.secret_id, now)?;
    NewSsoEvent {
        company_id: company.id,
        created_at: now,
        outcome: "ok".to_owned(),
        subject: verified.subject(),
        user_id: Some(user.id),
        ip: ip.map(str::to_owned),
        iss: verified.claims.iss.clone(),
    }
    .insert(conn)?;
    Ok(SignedIn {
        user,
        company: company.clone(),
        created,
    })
}

/// Records a refusal for its company. A failure to record is logged, not
/// returned: the person still gets the refusal they are owed.
fn record_refusal(conn: &mut SqliteConnection, refusal: &Refusal, now: i64, ip: Option<&str>) {
    let Some(company) = &refusal.company else {
        return;
    };
    let event = NewSsoEvent {
        company_id: company.id,
        created_at: now,
        outcome: refusal.reason.code().to_owned(),
        subject: refusal.subject.clone(),
        user_id: refusal.user_id,
        ip: ip.map(str::to_owned),
        iss: refusal.iss.clone(),
    };
    if let Err(e) = event.insert(conn) {
        log::warn!(
            "could not record an SSO event for company {}: {e}",
            company.id
        );
    }
}

/// Runs every check on `token` without signing anyone in or writing
/// anything: the token checker of Settings → SSO.
pub fn check_only(
    conn: &mut SqliteConnection,
    token: Option<&str>,
    ctx: &Context<'_>,
) -> Result<(rules::Verified, Admission), Failure> {
    let verified = rules::verify(token, ctx, conn)?;
    let admission = rules::admit(&verified, conn)?;
    Ok((verified, admission))
}
