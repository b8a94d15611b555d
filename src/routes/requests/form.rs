//! The request forms, as `application/x-www-form-urlencoded` or, with
//! files, `multipart/form-data` (`actix-multipart`). The limits of
//! [`crate::requests::files`] are enforced while the body streams in: the
//! first byte past a limit stops the reading (the rest is never buffered)
//! and answers 413. The origin is checked before anything is read, the CSRF
//! token once the fields are read, before anything is written.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::auth::csrf;
use crate::db::models::NewFile;
use crate::error::AppError;
use crate::requests::files::{self, MAX_FILE_BYTES, MAX_FILES, MAX_MESSAGE_BYTES};

/// The text of a form, at most: a 20,000-character body of four-byte
/// characters, percent-encoded, fits.
const MAX_TEXT_BYTES: usize = 512 * 1024;
const TOO_MUCH_TEXT: &str = "The form is too large: keep the message under 20,000 characters.";

/// A file as it arrived: its cleaned name and its bytes.
pub struct Upload {
    pub filename: String,
    pub data: Vec<u8>,
}

impl Upload {
    /// The file to store: its type decided from its bytes.
    pub fn into_file(self) -> NewFile {
        NewFile {
            content_type: files::content_type(&self.data),
            filename: self.filename,
            data: self.data,
        }
    }
}

/// The fields and files of a posted form.
#[derive(Default)]
pub struct Posted {
    fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Posted {
    /// A form of one field (a link's preselection).
    pub fn with_field(name: &str, value: String) -> Posted {
        Posted {
            fields: vec![(name.to_owned(), value)],
            files: Vec::new(),
        }
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Why a form was not read.
pub enum Unread {
    /// Over a limit (413): what was read of the form so far, and which limit.
    TooLarge(Posted, String),
    /// Forged, cross-site or unreadable: the error page says why.
    Refused(AppError),
}

impl From<AppError> for Unread {
    fn from(e: AppError) -> Self {
        Unread::Refused(e)
    }
}

/// Reads the form of `req`, whatever its encoding, within the limits.
pub async fn read(req: &HttpRequest, payload: web::Payload) -> Result<Posted, Unread> {
    csrf::check_origin(req)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    let posted = if multipart {
        read_multipart(req, payload).await?
    } else {
        read_urlencoded(payload).await?
    };
    csrf::check_token(req, posted.get("csrf"))?;
    Ok(posted)
}

/// The CSRF check of a form cut short at a limit, so that its 413 page may
/// show the form again; a forged one is refused as such.
pub fn check_partial(req: &HttpRequest, partial: &Posted) -> Result<(), AppError> {
    csrf::check_token(req, partial.get("csrf"))
}

fn unreadable() -> AppError {
    AppError::BadRequest("The form could not be read. Reload the page and try again.".into())
}

async fn read_urlencoded(mut payload: web::Payload) -> Result<Posted, Unread> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > MAX_TEXT_BYTES {
            // Nothing of it was read, not even its token: the error page.
            return Err(Unread::Refused(AppError::TooLarge(TOO_MUCH_TEXT.into())));
        }
        body.extend_from_slice(&chunk);
    }
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&body).map_err(|_| unreadable())?;
    Ok(Posted {
        fields,
        files: Vec::new(),
    })
}

async fn read_multipart(req: &HttpRequest, payload: web::Payload) -> Result<Posted, Unread> {
    // The whole body's length, when sent, bounds what one file can need:
    // reserving it once keeps a growing file from being copied (untouched
    // pages of the reservation cost no memory).
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut form = Multipart::new(req.headers(), payload.into_inner());
    let mut posted = Posted::default();
    let mut text_bytes = 0usize;
    let mut file_bytes = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let (name, filename) = match field.content_disposition() {
            Some(cd) => (
                cd.get_name().unwrap_or("").to_owned(),
                cd.get_filename().map(str::to_owned),
            ),
            None => return Err(unreadable().into()),
        };
        match filename {
            Some(filename) => {
                let mut data = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|_| unreadable())?;
                    if data.is_empty() {
                        let cap = announced.unwrap_or(0).min(MAX_FILE_BYTES + 1);
                        data.reserve_exact(cap.max(chunk.len()));
                    }
                    if data.len() + chunk.len() > MAX_FILE_BYTES {
                        let why = format!(
                            "The file “{}” is larger than 10 MiB, the limit for one file. Nothing was saved.",
                            files::clean_filename(&filename)
                        );
                        return Err(Unread::TooLarge(posted, why));
                    }
                    if file_bytes + data.len() + chunk.len() > MAX_MESSAGE_BYTES {
                        return Err(Unread::TooLarge(
                            posted,
                            "The files are larger than 25 MiB together, the limit for one message. Nothing was saved.".into(),
                        ));
                    }
                    data.extend_from_slice(&chunk);
                }
                // A file input left empty still sends a part without bytes.
                if data.is_empty() && filename.is_empty() {
                    continue;
                }
                if posted.files.len() == MAX_FILES {
                    return Err(Unread::TooLarge(
                        posted,
                        "A message takes at most 5 files. Nothing was saved.".into(),
                    ));
                }
                file_bytes += data.len();
                data.shrink_to_fit();
                posted.files.push(Upload {
                    filename: files::clean_filename(&filename),
                    data,
                });
            }
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|_| unreadable())?;
                    text_bytes += chunk.len();
                    if text_bytes > MAX_TEXT_BYTES {
                        return Err(Unread::TooLarge(posted, TOO_MUCH_TEXT.into()));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value).map_err(|_| unreadable())?;
                posted.fields.push((name, value));
            }
        }
    }
    Ok(posted)
}
