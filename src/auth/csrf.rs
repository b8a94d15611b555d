//! CSRF protection for every state-changing form: a per-session token in a
//! hidden field (templates/partials/csrf.html), compared in constant time by
//! the one extractor [`CsrfForm`], after refusing cross-site requests by
//! their Fetch Metadata (`Sec-Fetch-Site`) or, lacking it, their `Origin`
//! (compared with `PORTICO_BASE_URL`'s origin, never with a Host header).

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::session;
use crate::error::AppError;

/// A url-encoded form whose `csrf` field and origin were checked before
/// the form itself was read.
pub struct CsrfForm<T>(pub T);

/// Refuses requests a browser marks as coming from another site.
pub fn check_origin(req: &HttpRequest) -> Result<(), AppError> {
    let refuse = || {
        AppError::Forbidden(
            "This form was sent from another site. Reload the page and try again.".into(),
        )
    };
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(refuse()),
        };
    }
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) {
        if origin == "null" {
            return Err(refuse());
        }
        // The portal's own origin is the configured base URL's, never the
        // request's (forwarded) Host, which the client chooses.
        let base = req
            .app_data::<web::Data<crate::state::AppState>>()
            .map(|state| normal_origin(origin_of(&state.base_url)));
        if base.is_none_or(|base| normal_origin(origin) != base) {
            return Err(refuse());
        }
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL: what a browser sends as `Origin`.
fn origin_of(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.find('/') {
            Some(i) => &url[..scheme.len() + 3 + i],
            None => url,
        },
        None => url,
    }
}

/// An origin as browsers compare them: lower case, without the scheme's
/// default port (`https://Help.Acme.test:443` is `https://help.acme.test`).
fn normal_origin(origin: &str) -> String {
    let origin = origin.to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme) && origin.ends_with(port) {
            return origin[..origin.len() - port.len()].to_owned();
        }
    }
    origin
}

/// Compares the form's token with the session's, in constant time.
pub fn check_token(req: &HttpRequest, sent: &str) -> Result<(), AppError> {
    let session = req.get_session();
    let expected = session::csrf_token(&session).map_err(AppError::from)?;
    let same: bool = expected.as_bytes().ct_eq(sent.as_bytes()).into();
    if sent.is_empty() || !same {
        return Err(AppError::Forbidden(
            "This form has expired or was not sent by this site. Reload the page and try again."
                .into(),
        ));
    }
    Ok(())
}

/// A form that carries nothing but its CSRF token (buttons such as
/// "Sign out" or "Disable").
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The largest form body accepted.
const FORM_LIMIT: usize = 64 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            check_origin(&req)?;
            let body = body
                .await
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::BadRequest("The form is too large.".into()));
            }
            // The token first: a form without it is refused as forged (403),
            // whatever else is wrong with it.
            let field: CsrfField = serde_urlencoded::from_bytes(&body).unwrap_or(CsrfField {
                csrf: String::new(),
            });
            check_token(&req, &field.csrf)?;
            let form = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}.")))?;
            Ok(CsrfForm(form))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn the_origin_of_a_base_url_is_its_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://help.acme.test"),
            "https://help.acme.test"
        );
        assert_eq!(
            origin_of("https://help.acme.test/"),
            "https://help.acme.test"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/portal/"),
            "http://127.0.0.1:8080"
        );
    }
}
