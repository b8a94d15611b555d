//! Checks 1–9: the token itself, with read-only look-ups.

use jsonwebtoken::{Algorithm, DecodingKey};

use super::{Context, Directory, Failure, LEEWAY, Refuser, Verified, shown};
use crate::db::models::SsoSecret;
use crate::sso::Reason;
use crate::sso::token;

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

    // 9. The lifetime is within the company's maximum: from `iat`, else
    // from `nbf`, else from now.
    let (start, measured) = match (claims.iat, claims.nbf) {
        (Some(iat), _) => (iat, "exp − iat"),
        (None, Some(nbf)) => (nbf, "exp − nbf"),
        (None, None) => (ctx.now, "exp − now"),
    };
    let lifetime = exp.saturating_sub(start);
    if lifetime > company.max_token_lifetime {
        return Err(r.refuse(
            Reason::LifetimeTooLong,
            format!(
                "The token lives {lifetime} s ({measured}); this company's maximum is {} s.",
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
