//! `GET /requests/{id}/attachments/{attachment_id}`: a file, for whoever may
//! read its message; 404 otherwise, as for a file that does not exist.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::db::models::{Attachment, Request, Viewer};
use crate::error::AppError;
use crate::requests::files::shows_inline;
use crate::state::AppState;

pub async fn attachment_get(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (request_id, attachment_id) = path.into_inner();
    let viewer = Viewer::of(&current.user);
    let found = state
        .db
        .read(move |conn| {
            let Some(visible) = Request::find_visible(conn, &viewer, request_id)? else {
                return Ok(None);
            };
            Attachment::find_with_data(conn, &visible, attachment_id)
        })
        .await?;
    let Some((file, data)) = found else {
        return Err(AppError::NotFound);
    };
    // RFC 6266: an ASCII fallback, and the name itself as UTF-8.
    let ascii: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = ContentDisposition {
        disposition: if shows_inline(&file.content_type) {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file.filename.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type.as_str()))
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // A file is never a page: nothing in it may run or load.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(data))
}
