//! Signing sign-in tokens the way an integrator's server does, for the
//! test links of the CLI and of Settings → SSO.

use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

/// The claims of a test link, in the Issuely form.
#[derive(Debug, Clone, Serialize)]
pub struct LinkClaims {
    #[serde(rename = "companyId")]
    pub company_id: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(rename = "projectId", skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    pub iss: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs `claims` with HS256 under `secret` (its UTF-8 bytes).
pub fn sign<T: Serialize>(claims: &T, secret: &str) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// The Issuely-style sign-in URL for a token.
pub fn link(base_url: &str, token: &str) -> String {
    format!(
        "{}/api/auth/sso?token={token}",
        base_url.trim_end_matches('/')
    )
}
