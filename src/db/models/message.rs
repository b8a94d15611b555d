//! What a request's conversation holds: messages, their files, and the
//! change lines. Each is read through a [`VisibleRequest`], whose viewer
//! decides whether internal notes (and their files) are part of it.

use diesel::prelude::*;

use super::request::VisibleRequest;
use super::{ChangeField, Request};
use crate::db::schema::{attachments, messages, request_changes};
use crate::db::{DbConn, DbError, Tx, per_backend};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub request_id: i64,
    pub author_id: i64,
    /// What was typed (Markdown).
    pub body: String,
    /// The cleaned HTML of `body`, rendered once when it was written.
    pub html: String,
    pub internal: bool,
    pub created_at: i64,
}

/// A message as the conversation shows it: its clean HTML, not its source.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Shown {
    pub id: i64,
    pub author_id: i64,
    pub html: String,
    pub internal: bool,
    pub created_at: i64,
}

/// A file of a message, without its bytes.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: i64,
    pub message_id: i64,
    pub request_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// A file to store with a message; its type was decided from the bytes.
pub struct NewFile {
    pub filename: String,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// A change line: who changed what, from what to what.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = request_changes)]
pub struct RequestChange {
    pub id: i64,
    pub request_id: i64,
    pub actor_id: Option<i64>,
    pub field: ChangeField,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: i64,
}

impl Message {
    /// Writes a message and its files; the caller records the activity.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        tx: &mut Tx<'_>,
        request: &Request,
        author_id: i64,
        body: &str,
        html: &str,
        internal: bool,
        files: &[NewFile],
        now: i64,
    ) -> Result<Message, DbError> {
        let message: Message = per_backend!(&mut **tx, |c| diesel::insert_into(messages::table)
            .values((
                messages::request_id.eq(request.id),
                messages::author_id.eq(author_id),
                messages::body.eq(body),
                messages::html.eq(html),
                messages::internal.eq(internal),
                messages::created_at.eq(now),
            ))
            .returning(Message::as_returning())
            .get_result(c))?;
        for file in files {
            let row = (
                attachments::message_id.eq(message.id),
                attachments::request_id.eq(request.id),
                attachments::filename.eq(&file.filename),
                attachments::content_type.eq(file.content_type),
                attachments::size.eq(file.data.len() as i64),
                attachments::created_at.eq(now),
                attachments::data.eq(&file.data),
            );
            // On the inner connection: each backend binds the bytes where
            // they are, where the common connection would copy them first.
            per_backend!(&mut **tx, |c| diesel::insert_into(attachments::table)
                .values(row)
                .execute(c))?;
        }
        Ok(message)
    }

    /// The conversation as the viewer may read it, oldest first.
    pub fn list(conn: &mut DbConn, visible: &VisibleRequest) -> Result<Vec<Shown>, DbError> {
        let mut q = messages::table
            .filter(messages::request_id.eq(visible.request.id))
            .select(Shown::as_select())
            .into_boxed();
        if !visible.viewer.staff {
            q = q.filter(messages::internal.eq(false));
        }
        Ok(q.order(messages::id.asc()).load(conn)?)
    }
}

impl Attachment {
    /// The files of the messages the viewer may read.
    pub fn list(conn: &mut DbConn, visible: &VisibleRequest) -> Result<Vec<Attachment>, DbError> {
        let mut q = attachments::table
            .inner_join(messages::table)
            .filter(attachments::request_id.eq(visible.request.id))
            .select(Attachment::as_select())
            .into_boxed();
        if !visible.viewer.staff {
            q = q.filter(messages::internal.eq(false));
        }
        Ok(q.order(attachments::id.asc()).load(conn)?)
    }

    /// One file and its bytes, if it belongs to this request and to a
    /// message the viewer may read.
    pub fn find_with_data(
        conn: &mut DbConn,
        visible: &VisibleRequest,
        id: i64,
    ) -> Result<Option<(Attachment, Vec<u8>)>, DbError> {
        let mut q = attachments::table
            .inner_join(messages::table)
            .filter(attachments::id.eq(id))
            .filter(attachments::request_id.eq(visible.request.id))
            .select((Attachment::as_select(), attachments::data))
            .into_boxed();
        if !visible.viewer.staff {
            q = q.filter(messages::internal.eq(false));
        }
        Ok(q.load(conn)?.pop())
    }
}

impl RequestChange {
    pub fn record(
        tx: &mut Tx<'_>,
        request_id: i64,
        actor_id: i64,
        field: ChangeField,
        old_value: Option<&str>,
        new_value: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        diesel::insert_into(request_changes::table)
            .values((
                request_changes::request_id.eq(request_id),
                request_changes::actor_id.eq(actor_id),
                request_changes::field.eq(field),
                request_changes::old_value.eq(old_value),
                request_changes::new_value.eq(new_value),
                request_changes::created_at.eq(now),
            ))
            .execute(&mut **tx)?;
        Ok(())
    }

    /// The change lines the viewer may read: a customer sees status changes
    /// only.
    pub fn list(
        conn: &mut DbConn,
        visible: &VisibleRequest,
    ) -> Result<Vec<RequestChange>, DbError> {
        let mut q = request_changes::table
            .filter(request_changes::request_id.eq(visible.request.id))
            .select(RequestChange::as_select())
            .into_boxed();
        if !visible.viewer.staff {
            q = q.filter(request_changes::field.eq(ChangeField::Status));
        }
        Ok(q.order(request_changes::id.asc()).load(conn)?)
    }
}
