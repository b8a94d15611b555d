//! Checks 10–15: replay, identity, role, ownership, project, disabled;
//! run inside the sign-in's write transaction.

use super::{Admission, Failure, Identity, LEEWAY, Ledger, Refuser, Verified, shown};
use crate::db::models::Role;
use crate::input::{display_name, normalize_email};
use crate::sso::Reason;

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
