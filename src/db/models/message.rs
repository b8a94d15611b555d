//! What a request's conversation holds: messages, their files, and the
//! change lines. A [`Conversation`] holds all of them, for every viewer at
//! once (it is cached whole); what one viewer may read of it is decided in
//! one place, [`Conversation::messages_for`] (a file goes with its message)
//! and [`Conversation::changes_for`]. A file's
//! bytes are read through a [`VisibleRequest`], whose viewer decides whether
//! internal notes (and their files) are part of it.

use diesel::prelude::*;

use super::request::VisibleRequest;
use super::{ChangeField, Request, Viewer};
use crate::db::schema::{attachments, messages, request_changes, request_views, requests};
use crate::db::{Change, DbConn, DbError, Tx, insert_id, per_backend};

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
        let values = (
            messages::request_id.eq(request.id),
            messages::author_id.eq(author_id),
            messages::body.eq(body),
            messages::html.eq(html),
            messages::internal.eq(internal),
            messages::created_at.eq(now),
        );
        let id = insert_id!(tx.conn()?, messages::table, values, messages::id)?;
        let message = Message {
            id,
            request_id: request.id,
            author_id,
            body: body.to_owned(),
            html: html.to_owned(),
            internal,
            created_at: now,
        };
        tx.changed(Change::Request(request.id));
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
            per_backend!(tx.conn()?, |c| diesel::insert_into(attachments::table)
                .values(row)
                .execute(c))?;
        }
        Ok(message)
    }
}

impl Attachment {
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
            .execute(tx.conn()?)?;
        tx.changed(Change::Request(request_id));
        Ok(())
    }
}

/// Everything a request's page shows of the request itself, for every
/// viewer at once: its row, all its messages and files (internal notes
/// too), all its change lines and who has seen it up to when. Cached whole
/// ([`crate::cache::Cache::conversation`]), dropped by every write to any
/// of it ([`Change::Request`]).
#[derive(Debug, Clone)]
pub struct Conversation {
    pub request: Request,
    messages: Vec<Shown>,
    files: Vec<Attachment>,
    changes: Vec<RequestChange>,
    /// `(user id, seen up to)` of everyone who has opened it.
    views: Vec<(i64, i64)>,
}

impl Conversation {
    /// The request `id` and all of its conversation, whoever may see it.
    pub fn load(conn: &mut DbConn, id: i64) -> Result<Option<Conversation>, DbError> {
        let Some(request) = requests::table
            .find(id)
            .select(Request::as_select())
            .load(conn)?
            .pop()
        else {
            return Ok(None);
        };
        let messages = messages::table
            .filter(messages::request_id.eq(id))
            .order(messages::id.asc())
            .select(Shown::as_select())
            .load(conn)?;
        let files = attachments::table
            .filter(attachments::request_id.eq(id))
            .order(attachments::id.asc())
            .select(Attachment::as_select())
            .load(conn)?;
        let changes = request_changes::table
            .filter(request_changes::request_id.eq(id))
            .order(request_changes::id.asc())
            .select(RequestChange::as_select())
            .load(conn)?;
        let views = request_views::table
            .filter(request_views::request_id.eq(id))
            .select((request_views::user_id, request_views::seen_at))
            .load(conn)?;
        Ok(Some(Conversation {
            request,
            messages,
            files,
            changes,
            views,
        }))
    }

    /// The messages `viewer` may read, oldest first: a customer never
    /// sees an internal note.
    pub fn messages_for<'a>(&'a self, viewer: &Viewer) -> impl Iterator<Item = &'a Shown> + 'a {
        let staff = viewer.staff;
        self.messages.iter().filter(move |m| staff || !m.internal)
    }

    /// The files of `message`, one that [`Conversation::messages_for`]
    /// gave: a file is shown only under a message its viewer may read.
    pub fn files_of<'a>(&'a self, message: &Shown) -> impl Iterator<Item = &'a Attachment> + 'a {
        let id = message.id;
        self.files.iter().filter(move |f| f.message_id == id)
    }

    /// The change lines `viewer` may read: a customer sees status changes
    /// only.
    pub fn changes_for<'a>(
        &'a self,
        viewer: &Viewer,
    ) -> impl Iterator<Item = &'a RequestChange> + 'a {
        let staff = viewer.staff;
        self.changes
            .iter()
            .filter(move |c| staff || c.field == ChangeField::Status)
    }

    /// About how many bytes it holds, for the cache's bound.
    pub fn weight(&self) -> u32 {
        let text: usize = self
            .messages
            .iter()
            .map(|m| m.html.len() + 64)
            .sum::<usize>()
            + self
                .files
                .iter()
                .map(|f| f.filename.len() + 96)
                .sum::<usize>()
            + self.changes.len() * 128
            + self.views.len() * 16
            + self.request.subject.len()
            + 256;
        u32::try_from(text).unwrap_or(u32::MAX)
    }

    /// What `user_id` has seen of it (`None`: never opened).
    pub fn seen_by(&self, user_id: i64) -> Option<i64> {
        self.views
            .iter()
            .find(|(user, _)| *user == user_id)
            .map(|(_, seen)| *seen)
    }
}
