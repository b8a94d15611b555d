//! Reading a compact JWS without trusting it yet: checks 2 (structure and
//! claim types) and the parts check 3 and 6 need. Nothing here verifies a
//! signature; [`super::verify`] does, over the exact bytes parsed here, so
//! the claims read now are the claims verified later.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::Reason;

/// The largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A token split into its parts, header and claims decoded but not trusted.
#[derive(Debug, Clone)]
pub struct RawToken<'a> {
    pub header: Map<String, Value>,
    pub claims: Claims,
    /// `base64(header) + "." + base64(payload)`: what the signature covers.
    pub signing_input: &'a str,
    pub signature: &'a str,
}

/// The claims Portico reads, typed. `null` counts as absent everywhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims {
    pub company_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub project_id: Option<String>,
    /// `sub` as sent (a number or a string), for the audit log.
    pub sub_text: Option<String>,
    /// `sub` when it is a user id: a JSON integer or a numeric string.
    pub sub_id: Option<i64>,
    pub iss: Option<String>,
    pub jti: Option<String>,
    /// `aud` when present: a string becomes a list of one.
    pub aud: Option<Vec<String>>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

/// A refusal at the parsing stage: the code and a detail for the developer.
pub type ParseError = (Reason, String);

fn malformed(detail: impl Into<String>) -> ParseError {
    (Reason::TokenMalformed, detail.into())
}

/// Check 2: three base64url parts, JSON objects, at most 8 KiB, typed claims.
pub fn parse(token: &str) -> Result<RawToken<'_>, ParseError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed(format!(
            "The token is {} bytes long; the limit is {MAX_TOKEN_BYTES}.",
            token.len()
        )));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(format!(
            "A JWT has three parts separated by dots; this one has {}.",
            token.split('.').count()
        )));
    };
    let header = decode_object(h, "header")?;
    let payload = decode_object(p, "payload")?;
    let claims = Claims::from_payload(&payload)?;
    Ok(RawToken {
        header,
        claims,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature: s,
    })
}

/// Decodes one base64url part into a JSON object. Trailing `=` padding is
/// tolerated, as some hand-rolled encoders add it.
pub fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, ParseError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| {
            malformed(format!(
                "The {what} is not base64url (RFC 4648 §5, no padding)."
            ))
        })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed(format!("The {what} is JSON but not an object."))),
        Err(_) => Err(malformed(format!("The {what} is not valid JSON."))),
    }
}

impl Claims {
    pub fn from_payload(payload: &Map<String, Value>) -> Result<Claims, ParseError> {
        let (sub_text, sub_id) = match present(payload, "sub") {
            None => (None, None),
            Some(Value::Number(n)) => (Some(n.to_string()), n.as_i64().filter(|id| *id > 0)),
            Some(Value::String(s)) => (
                Some(s.clone()),
                s.trim().parse::<i64>().ok().filter(|id| *id > 0),
            ),
            Some(_) => return Err(malformed("The claim `sub` must be a number or a string.")),
        };
        let aud = match present(payload, "aud") {
            None => None,
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        malformed("The claim `aud` must be a string or an array of strings.")
                    })?,
            ),
            Some(_) => {
                return Err(malformed(
                    "The claim `aud` must be a string or an array of strings.",
                ));
            }
        };
        Ok(Claims {
            company_id: string(payload, "companyId")?,
            email: string(payload, "email")?,
            name: string(payload, "name")?,
            role: string(payload, "role")?,
            project_id: string(payload, "projectId")?,
            sub_text,
            sub_id,
            iss: string(payload, "iss")?,
            jti: string(payload, "jti")?,
            aud,
            iat: numeric_date(payload, "iat")?,
            nbf: numeric_date(payload, "nbf")?,
            exp: numeric_date(payload, "exp")?,
        })
    }
}

fn present<'a>(payload: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    payload.get(name).filter(|v| !v.is_null())
}

fn string(payload: &Map<String, Value>, name: &str) -> Result<Option<String>, ParseError> {
    match present(payload, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("The claim `{name}` must be a string."))),
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions allowed
/// and dropped. A string is refused, never skipped (CVE-2026-25537).
fn numeric_date(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>, ParseError> {
    match present(payload, name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(match n.as_i64() {
            Some(i) => i,
            // `as` saturates: 1e300 becomes i64::MAX, which the time checks refuse.
            None => n.as_f64().map(|f| f.floor() as i64).unwrap_or(i64::MAX),
        })),
        Some(_) => Err(malformed(format!(
            "The claim `{name}` must be a NumericDate: a JSON number of seconds since 1970, not a string."
        ))),
    }
}

/// The `alg` of the header, for check 3.
pub fn algorithm(header: &Map<String, Value>) -> Option<&str> {
    header.get("alg").and_then(Value::as_str)
}
