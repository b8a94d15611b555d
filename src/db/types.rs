//! The closed sets stored as text: each is an enum with one list of its
//! values (strum) and one spelling, read and written through diesel, so
//! that an unknown value in the database is an error, never a default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Declares an enum stored as text: strum spells it (`as_str`, `Display`)
/// and parses it (`FromStr`); diesel reads and writes it on every backend.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal, $case:literal) { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
            strum::EnumString, strum::IntoStaticStr, strum::Display, strum::EnumIter,
        )]
        #[diesel(sql_type = Text)]
        #[strum(serialize_all = $case)]
        $vis enum $name { $($variant),+ }

        impl $name {
            /// The one spelling, as stored and as shown.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
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

text_enum! {
    /// What a user may see and do: `CUSTOMER`, `AGENT` or `ADMIN`, the only
    /// spellings, in tokens too.
    pub enum Role ("role", "SCREAMING_SNAKE_CASE") { Customer, Agent, Admin }
}

impl Role {
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

text_enum! {
    /// How someone signed in: `sso` or `password` (also in the session
    /// cookie, through serde).
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Method ("sign-in method", "lowercase") { Sso, Password }
}

text_enum! {
    /// Whether a secret is the current one or a previous one in its grace.
    pub enum SecretState ("secret state", "lowercase") { Current, Previous }
}

text_enum! {
    /// Where a support request stands. Customers read it in their own
    /// words ([`Status::customer_label`]).
    pub enum Status ("status", "lowercase") { New, Open, Pending, Solved, Closed }
}

impl Status {
    /// New, open and pending: what the agents' queue shows by default.
    pub const ACTIVE: [Status; 3] = [Status::New, Status::Open, Status::Pending];

    /// How the company's staff read it.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Open => "Open",
            Status::Pending => "Pending",
            Status::Solved => "Solved",
            Status::Closed => "Closed",
        }
    }

    /// How `staff` (agents and admins) or else a customer reads it.
    pub fn label_for(self, staff: bool) -> &'static str {
        if staff {
            self.label()
        } else {
            self.customer_label()
        }
    }

    /// How a customer reads it.
    pub fn customer_label(self) -> &'static str {
        match self {
            Status::New => "Submitted",
            Status::Open => "In progress",
            Status::Pending => "Waiting on you",
            Status::Solved => "Solved",
            Status::Closed => "Closed",
        }
    }
}

text_enum! {
    /// How urgent a request is; `normal` unless an agent says otherwise.
    pub enum Priority ("priority", "lowercase") { Low, Normal, High, Urgent }
}

impl Priority {
    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Normal => "Normal",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }
}

text_enum! {
    /// What a change line of a request records.
    pub enum ChangeField ("change", "lowercase") { Status, Priority, Assignee, Project }
}
