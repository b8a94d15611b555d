use diesel::prelude::*;

use crate::db::DbError;
use crate::db::schema::sso_events;

/// One SSO attempt for a known company: the audit log of Settings → SSO.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sso_events)]
pub struct SsoEvent {
    pub id: i64,
    pub company_id: i64,
    pub created_at: i64,
    /// `ok` or a reason code.
    pub outcome: String,
    pub subject: Option<String>,
    pub user_id: Option<i64>,
    pub ip: Option<String>,
    pub iss: Option<String>,
}

// `treat_none_as_default_value = false`: one SQL text whatever is absent, so
// diesel keeps one prepared statement instead of one per shape.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sso_events, treat_none_as_default_value = false)]
pub struct NewSsoEvent {
    pub company_id: i64,
    pub created_at: i64,
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
    pub fn insert(&self, conn: &mut SqliteConnection) -> Result<(), DbError> {
        let row = NewSsoEvent {
            subject: cut(self.subject.clone()),
            iss: cut(self.iss.clone()),
            ..self.clone()
        };
        diesel::insert_into(sso_events::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    }
}

impl SsoEvent {
    pub fn recent(
        conn: &mut SqliteConnection,
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
