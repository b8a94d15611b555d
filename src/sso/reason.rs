//! The reason codes of the README's table of checks: one per check, each
//! with its status,
//! a sentence for the person who clicked and a hint for the developer.

use std::fmt;

/// Why a sign-in token was refused. The code is the variant's name in
/// snake case, spelled by strum: one list, one spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Reason {
    TokenMissing,
    TokenMalformed,
    UnsupportedAlgorithm,
    /// A required claim is absent; the claim's name decides the status
    /// (`exp` is a validity problem, 401; the others are 400).
    MissingClaim(&'static str),
    UnknownCompany,
    SsoNotConfigured,
    BadSignature,
    TokenExpired,
    TokenNotYetValid,
    InvalidAudience,
    LifetimeTooLong,
    TokenReplayed,
    InvalidEmail,
    UnknownUser,
    InvalidRole,
    EmailTaken,
    UnknownProject,
    UserDisabled,
}

impl Reason {
    /// Every reason code, in the order of the checks.
    pub fn all_codes() -> Vec<&'static str> {
        use strum::IntoEnumIterator;
        Reason::iter().map(Reason::code).collect()
    }

    pub fn code(self) -> &'static str {
        self.into()
    }

    /// The HTTP status of the README's table of checks.
    pub fn status(self) -> u16 {
        match self {
            Reason::MissingClaim("exp") => 401,
            Reason::BadSignature
            | Reason::TokenExpired
            | Reason::TokenNotYetValid
            | Reason::InvalidAudience
            | Reason::LifetimeTooLong
            | Reason::TokenReplayed => 401,
            Reason::EmailTaken | Reason::UserDisabled => 403,
            _ => 400,
        }
    }

    /// One plain sentence for the person who followed the link.
    pub fn headline(self) -> &'static str {
        match self {
            Reason::TokenMissing => "This sign-in link is incomplete.",
            Reason::TokenMalformed | Reason::UnsupportedAlgorithm => {
                "This sign-in link is not valid."
            }
            Reason::MissingClaim(_) | Reason::UnknownCompany | Reason::SsoNotConfigured => {
                "This sign-in link is not set up correctly."
            }
            Reason::BadSignature => "This sign-in link could not be verified.",
            Reason::TokenExpired => "This sign-in link has expired.",
            Reason::TokenNotYetValid => "This sign-in link is not valid yet.",
            Reason::InvalidAudience => "This sign-in link was made for another site.",
            Reason::LifetimeTooLong => "This sign-in link is valid for too long to be accepted.",
            Reason::TokenReplayed => "This sign-in link has already been used.",
            Reason::InvalidEmail | Reason::UnknownUser => {
                "We could not tell who this sign-in link is for."
            }
            Reason::InvalidRole => "This sign-in link asks for a role that does not exist.",
            Reason::EmailTaken => "This email address belongs to an account of another company.",
            Reason::UnknownProject => "This sign-in link names a project that does not exist.",
            Reason::UserDisabled => "Your account has been disabled.",
        }
    }

    /// What the person who clicked can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Reason::TokenExpired | Reason::TokenReplayed | Reason::TokenNotYetValid => {
                "Go back to the app you came from and open the portal again: it will make a fresh link."
            }
            Reason::UserDisabled | Reason::EmailTaken => {
                "Contact the support team of the app you came from."
            }
            _ => {
                "Go back to the app you came from and try again. If it keeps happening, tell its support team the code below."
            }
        }
    }

    /// What the code means and how to fix it, for the integrating developer.
    pub fn hint(self) -> &'static str {
        match self {
            Reason::TokenMissing => {
                "No token was sent. Pass the JWT as ?token=… on /api/auth/sso, as the form field `token` of a POST to /api/auth/sso, or as the path of /login/{token}."
            }
            Reason::TokenMalformed => {
                "The token must be a compact JWS of at most 8 KiB: three base64url parts joined by dots, whose header and payload are JSON objects, with NumericDate (number) iat/nbf/exp and string claims where strings are expected."
            }
            Reason::UnsupportedAlgorithm => {
                "Only HS256 is accepted. Sign with HMAC-SHA256 and your company's SSO secret; `none`, HS384/HS512 and public-key algorithms are refused."
            }
            Reason::MissingClaim(_) => {
                "A claim the portal needs is absent. Every token needs `exp`; the company comes from `companyId` (or from an existing user's numeric `sub`); the person from `email` (or `sub`)."
            }
            Reason::UnknownCompany => {
                "`companyId` must be the company ID shown on Settings → SSO (it starts with cmp_), or `sub` must be the id of an existing user."
            }
            Reason::SsoNotConfigured => {
                "This company has no SSO secret yet. An admin generates one on Settings → SSO (or runs `portico sso rotate`)."
            }
            Reason::BadSignature => {
                "The signature does not match the company's current secret, nor a previous one still in its grace period. Check that you sign with the secret's exact text (its UTF-8 bytes are the HMAC key, not base64-decoded) and that it was not rotated."
            }
            Reason::TokenExpired => {
                "`exp` is in the past (60 s of clock skew allowed). Mint the token just before the redirect, and check the clock of your server against the server time below."
            }
            Reason::TokenNotYetValid => {
                "`nbf` or `iat` is more than 60 s in the future. Your server's clock is probably ahead: compare it with the server time below."
            }
            Reason::InvalidAudience => {
                "When `aud` is set it must be this portal's base URL or your company ID."
            }
            Reason::LifetimeTooLong => {
                "`exp` − `iat` (or `exp` − now without `iat`) is longer than the company's maximum token lifetime. Use a short expiry such as 5 minutes, or raise the maximum on Settings → SSO."
            }
            Reason::TokenReplayed => {
                "A token with this `jti` was already used. Mint a new token, with a new jti, for every sign-in."
            }
            Reason::InvalidEmail => {
                "`email` must be a plain ASCII address of at most 254 characters, like jane@example.com."
            }
            Reason::UnknownUser => {
                "Without `email`, `sub` must be the numeric id of an existing user of this company. Send `email` to create accounts on first visit."
            }
            Reason::InvalidRole => "`role` must be CUSTOMER or AGENT (upper case), or absent.",
            Reason::EmailTaken => {
                "Emails are unique across the whole portal, and this one belongs to a user of another company."
            }
            Reason::UnknownProject => {
                "`projectId` must be the ID of one of this company's projects (Settings → Projects), or absent."
            }
            Reason::UserDisabled => {
                "An admin disabled this user on Settings → People; enable the user there to let them in again."
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
