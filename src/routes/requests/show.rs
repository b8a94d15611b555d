//! A request's page: the conversation with its status lines, the reply box
//! and, for agents and admins, the side panel of changes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::conversation::{self, Cached, Draft, build};
use super::form::{self, Unread, Upload};

use crate::auth::CurrentUser;
use crate::db;
use crate::db::models::{Message, NewFile, Request, RequestView, Status, Viewer};
use crate::error::AppError;
use crate::requests::rules::{self, Refused};
use crate::requests::{clean_body, markdown};
use crate::state::AppState;
use crate::views::{render_with_status, see_other};

/// The page for `current`, with `draft` in the reply box.
async fn page(
    state: &AppState,
    current: &CurrentUser,
    id: i64,
    draft: Draft,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(&current.user);
    // From the cache alone when it holds the whole page (no database read,
    // no thread hop), else from the database for what it lacks.
    let loaded = match conversation::from_cache(&state.cache, &viewer, id) {
        Cached::Page(loaded) => Some(loaded),
        Cached::Hidden => None,
        Cached::Partly(cached) => {
            let cache = state.cache.clone();
            state
                .db
                .read(move |conn| conversation::load(conn, &cache, &viewer, id, cached))
                .await?
        }
    };
    let Some(loaded) = loaded else {
        return Err(AppError::NotFound);
    };
    let activity = loaded.conversation.request.activity_for(&viewer);
    let seen = loaded.conversation.seen_by(viewer.user_id);
    let response = render_with_status(status, &build(current, &viewer, &loaded, draft)?)?;
    // Seen up to what was shown: written with the next batch of sign-ins.
    if seen.is_none_or(|s| s < activity) {
        let user_id = viewer.user_id;
        let marked = state
            .writer
            .submit(move |tx, _| RequestView::mark_seen(tx, user_id, id, activity))
            .await;
        if let Err(e) = marked {
            log::warn!("could not record a view of a request: {e}");
        }
    }
    Ok(response)
}

/// `GET /requests/{id}`.
pub async fn show_get(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &current,
        path.into_inner(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// Why a reply was not written.
enum NotWritten {
    NotFound,
    Refused(Refused),
}

fn refused_status(r: &Refused) -> StatusCode {
    match r {
        Refused::Closed => StatusCode::CONFLICT,
        Refused::NotAllowed(_) => StatusCode::FORBIDDEN,
    }
}

/// `POST /requests/{id}/messages`: a reply (or an internal note), with its
/// files and, for agents, the status to set in the same step.
pub async fn message_post(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let viewer = Viewer::of(&current.user);
    let posted = match form::read(&req, payload).await {
        Ok(posted) => posted,
        Err(Unread::Refused(e)) => return Err(e),
        Err(Unread::TooLarge(partial, why)) => {
            form::check_partial(&req, &partial)?;
            let draft = Draft {
                body: partial.get("body").to_owned(),
                internal: viewer.staff && partial.get("internal") == "on",
                error: Some(why),
            };
            return page(&state, &current, id, draft, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
    };
    let internal = viewer.staff && posted.get("internal") == "on";
    let mut draft = Draft {
        body: posted.get("body").to_owned(),
        internal,
        error: None,
    };
    let body = match clean_body(posted.get("body")) {
        Ok(body) => body,
        Err(e) => {
            draft.error = Some(e);
            return page(&state, &current, id, draft, StatusCode::BAD_REQUEST).await;
        }
    };
    let set = match (viewer.staff, posted.get("status")) {
        (false, _) | (true, "") => None,
        (true, s) => match s.parse::<Status>() {
            Ok(s) => Some(s),
            Err(_) => {
                draft.error = Some(format!("There is no status “{s}”."));
                return page(&state, &current, id, draft, StatusCode::BAD_REQUEST).await;
            }
        },
    };
    let html = markdown::render(&body);
    let files: Vec<NewFile> = posted.files.into_iter().map(Upload::into_file).collect();
    let actor = viewer.user_id;
    let written = state
        .db
        .write(move |tx| {
            let Some(visible) = Request::find_visible(tx.read(), &viewer, id)? else {
                return Ok(Err(NotWritten::NotFound));
            };
            let mut r = visible.request;
            let next = match rules::after_message(r.status, viewer.staff, internal, set) {
                Ok(next) => next,
                Err(refused) => return Ok(Err(NotWritten::Refused(refused))),
            };
            let now = db::now();
            Message::create(tx, &r, actor, &body, &html, internal, &files, now)?;
            let moved = Request::move_status(tx, &mut r, next, actor, now)?;
            Request::touch(tx, &mut r, !internal || moved, db::now_ms())?;
            RequestView::mark_seen(tx, actor, r.id, r.activity_for(&viewer))?;
            Ok(Ok(()))
        })
        .await?;
    match written {
        Ok(()) => Ok(see_other(&format!("/requests/{id}"))),
        Err(NotWritten::NotFound) => Err(AppError::NotFound),
        Err(NotWritten::Refused(refused)) => {
            draft.error = Some(match &refused {
                Refused::Closed => {
                    "This request is closed and takes no more messages. Open a new request instead."
                        .to_owned()
                }
                Refused::NotAllowed(why) => (*why).to_owned(),
            });
            page(&state, &current, id, draft, refused_status(&refused)).await
        }
    }
}
