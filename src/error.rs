//! One error type for handlers: it picks the status and renders the error
//! page. The cause goes to the log; the person gets plain words. No error
//! message ever carries a token, a secret or a password.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::auth::session::SessionError;
use crate::db::DbError;
use crate::views::{ErrorPage, render_with_status, see_other};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    /// A 404 with its own explanation.
    #[error("not found: {0}")]
    NotFoundWith(String),
    /// No valid session: the person is sent to the sign-in page.
    #[error("sign-in required")]
    SignInRequired,
    /// No valid session, and the company's own sign-in page is known: the
    /// person is sent there (a URL with `return_to`).
    #[error("sign-in required at the company's page")]
    SignInAt(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The thing changed is in a state that refuses it (a closed request).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A file or a form over its limits: the message says which.
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("too many attempts")]
    TooManyRequests { retry_after: u64 },
    /// The request's body did not arrive in time (`crate::limits`).
    #[error("request body timed out")]
    RequestTimeout,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl AppError {
    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => ("Page not found", "There is nothing at this address.".into()),
            AppError::NotFoundWith(m) => ("Page not found", m.clone()),
            AppError::SignInRequired | AppError::SignInAt(_) => {
                ("Sign-in required", "Please sign in.".into())
            }
            AppError::Forbidden(m) => ("Not allowed", m.clone()),
            AppError::BadRequest(m) => ("Something is wrong with this request", m.clone()),
            AppError::Conflict(m) => ("This cannot be done now", m.clone()),
            AppError::TooLarge(m) => ("Too large", m.clone()),
            AppError::TooManyRequests { retry_after } => (
                "Too many attempts",
                format!("Too many attempts. Wait {retry_after} seconds and try again."),
            ),
            AppError::RequestTimeout => (
                "Too slow",
                format!(
                    "The request's body did not arrive within {} seconds. Check the connection and send it again.",
                    crate::limits::BODY_DEADLINE.as_secs()
                ),
            ),
            AppError::Db(e) if e.is_busy() => (
                "The portal is busy",
                "The portal is busy right now. Try again in a moment.".into(),
            ),
            AppError::Db(_) | AppError::Internal(_) => (
                "Something went wrong",
                "Something went wrong on our side. Try again in a moment.".into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::NotFoundWith(_) => StatusCode::NOT_FOUND,
            AppError::SignInRequired | AppError::SignInAt(_) => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Db(e) if e.is_busy() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Db(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            log::error!("{self}");
        }
        let sign_in = match self {
            AppError::SignInRequired => Some("/login"),
            AppError::SignInAt(url) => Some(url.as_str()),
            _ => None,
        };
        if let Some(to) = sign_in {
            let mut res = see_other(to);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return res;
        }
        let (title, message) = self.title_and_message();
        let page = ErrorPage {
            layout: Default::default(),
            status: status.as_u16(),
            title,
            message: &message,
        };
        let mut res = render_with_status(status, &page).unwrap_or_else(|e| {
            log::error!("the error page did not render: {e}");
            HttpResponse::InternalServerError()
                .content_type(header::ContentType::plaintext())
                .body("Something went wrong on our side.")
        });
        let retry_after = match self {
            AppError::TooManyRequests { retry_after } => Some(*retry_after),
            AppError::Db(e) if e.is_busy() => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
