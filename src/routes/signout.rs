//! Signing out: `POST /logout` (CSRF-checked) ends the session on the server
//! (its row is deleted: a copy of the cookie opens nothing afterwards) and
//! sends the person to the company's sign-out URL when it has one, else to
//! Portico's signed-out page.

use actix_session::Session;
use actix_web::{HttpResponse, web};

use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session;
use crate::db::models::{Company, LiveSession, User};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{SignedOutPage, render, see_other};

pub async fn logout_post(
    session: Session,
    state: web::Data<AppState>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    // Where to go is the company's choice; a stale session just goes home.
    // Read from the database, not the cache: a rare request, and the URL an
    // admin just changed (from anywhere) is the one that counts.
    let signout_url = match session::auth(&session, db::now()) {
        Some(auth) => {
            state
                .db
                .write(move |tx| {
                    LiveSession::end(tx, auth.sid, auth.uid)?;
                    let Some(user) = User::find(tx.read(), auth.uid)? else {
                        return Ok::<_, DbError>(None);
                    };
                    Ok(Company::find(tx.read(), user.company_id)?.and_then(|c| c.signout_url))
                })
                .await?
        }
        None => None,
    };
    session::end(&session);
    Ok(see_other(signout_url.as_deref().unwrap_or("/signed-out")))
}

pub async fn signed_out_get() -> Result<HttpResponse, AppError> {
    Ok(render(&SignedOutPage {
        layout: Default::default(),
    })?)
}
