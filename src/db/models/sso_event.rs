use diesel::prelude::*;

use crate::db::schema::sso_events;
use crate::db::{DbConn, DbError, Tx};

/// One SSO attempt for a known company, as recorded: the audit log of
/// Settings → SSO.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sso_events)]
pub struct SsoEvent {
    pub id: i64,
    #[diesel(embed)]
    pub event: NewSsoEvent,
}

/// An SSO attempt to record.
// `treat_none_as_default_value = false`: one SQL text whatever is absent, so
// diesel keeps one prepared statement instead of one per shape.
#[derive(Debug, Clone, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = sso_events, treat_none_as_default_value = false)]
pub struct NewSsoEvent {
    pub company_id: i64,
    pub created_at: i64,
    /// [`SsoEvent::OK`] or a reason code.
    pub outcome: String,
    pub subject: Option<String>,
    pub user_id: Option<i64>,
    pub ip: Option<String>,
    pub iss: Option<String>,
}

/// Audit fields are cut to this many characters: a token may carry long text.
const MAX_FIELD: usize = 200;

fn cut(s: Option<String>) -> Option<String> {
    s.map(|s| s.chars().take(MAX_FIELD).collect())
}

impl NewSsoEvent {
    pub fn insert(&self, tx: &mut Tx<'_>) -> Result<(), DbError> {
        let row = NewSsoEvent {
            subject: cut(self.subject.clone()),
            iss: cut(self.iss.clone()),
            ..self.clone()
        };
        diesel::insert_into(sso_events::table)
            .values(&row)
            .execute(&mut **tx)?;
        Ok(())
    }
}

impl SsoEvent {
    /// The outcome of a sign-in that succeeded.
    pub const OK: &'static str = "ok";

    pub fn is_ok(&self) -> bool {
        self.event.outcome == Self::OK
    }

    pub fn recent(
        conn: &mut DbConn,
        company_id: i64,
        limit: i64,
    ) -> Result<Vec<SsoEvent>, DbError> {
        Ok(sso_events::table
            .filter(sso_events::company_id.eq(company_id))
            .order(sso_events::id.desc())
            .limit(limit)
            .select(SsoEvent::as_select())
            .load(conn)?)
    }
}
