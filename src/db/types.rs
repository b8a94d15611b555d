//! The closed sets stored as text: each is an enum with one list of its
//! values (strum) and one spelling, read and written through diesel, so
//! that an unknown value in the database is an error, never a default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Implements diesel's text mapping for an enum that strum spells
/// (`IntoStaticStr`) and parses (`EnumString`), on every backend.
macro_rules! text_enum {
    ($t:ty, $what:literal) => {
        impl<DB: Backend> ToSql<Text, DB> for $t
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                let text: &'static str = self.into();
                text.to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $t
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                text.parse()
                    .map_err(|_| format!("unknown {} {text:?} in the database", $what).into())
            }
        }
    };
}

/// What a user may see and do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    AsExpression,
    FromSqlRow,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[diesel(sql_type = Text)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Customer,
    Agent,
    Admin,
}
text_enum!(Role, "role");

impl Role {
    /// `CUSTOMER`, `AGENT` or `ADMIN`: the only spellings, in tokens too.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Exact, upper-case names only, as the README's claims table writes them.
    pub fn parse(s: &str) -> Option<Role> {
        s.parse().ok()
    }

    /// A role SSO may give and Settings → People may set: `CUSTOMER` or
    /// `AGENT`, never `ADMIN`.
    pub fn parse_assignable(s: &str) -> Option<Role> {
        Role::parse(s).filter(|r| *r != Role::Admin)
    }

    /// Agents and admins see all of the company's projects.
    pub fn sees_all_projects(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

/// How someone signed in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    AsExpression,
    FromSqlRow,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Method {
    Sso,
    Password,
}
text_enum!(Method, "sign-in method");

impl Method {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Whether a secret is the current one or a previous one in its grace.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    AsExpression,
    FromSqlRow,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[diesel(sql_type = Text)]
#[strum(serialize_all = "lowercase")]
pub enum SecretState {
    Current,
    Previous,
}
text_enum!(SecretState, "secret state");
