use diesel::prelude::*;

use super::{Method, Role};
use crate::db::schema::users;
use crate::db::{Change, DbConn, DbError, Tx, per_backend};

/// A person of a company: a customer or agent arriving by SSO, or an admin.
#[derive(Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Also what an Invoiced-style `sub` names.
    pub id: i64,
    pub company_id: i64,
    /// Trimmed, lower-cased ASCII; unique across all companies.
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub disabled: bool,
    /// Bumped by "sign out everywhere": sessions holding an older epoch end.
    pub session_epoch: i64,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    pub last_login_method: Option<Method>,
}

// The password hash stays out of `{:?}`.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("company_id", &self.company_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

pub struct NewUser<'a> {
    pub company_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
    /// `Some(method)` when the user is created by signing in: their first
    /// sign-in is written with the row itself.
    pub signed_in_by: Option<Method>,
}

impl User {
    pub fn role(&self) -> Role {
        self.role
    }

    /// A new user: nothing of them can be cached yet, but the list of their
    /// company's staff when they are an agent or an admin.
    pub fn create(tx: &mut Tx<'_>, new: NewUser<'_>, now: i64) -> Result<User, DbError> {
        if new.role.sees_all_projects() {
            tx.changed(Change::Staff(new.company_id));
        }
        Ok(per_backend!(tx.conn()?, |c| diesel::insert_into(
            users::table
        )
        .values((
            users::company_id.eq(new.company_id),
            users::email.eq(new.email),
            users::name.eq(new.name),
            users::role.eq(new.role),
            users::password_hash.eq(new.password_hash),
            users::created_at.eq(now),
            users::last_login_at.eq(new.signed_in_by.map(|_| now)),
            users::last_login_method.eq(new.signed_in_by),
        ))
        .returning(User::as_returning())
        .get_result(c))?)
    }

    pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<User>, DbError> {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .load(conn)?
            .pop())
    }

    /// On the sign-in's write path: spelled per backend, so that the
    /// statement is cached by its type and not rebuilt as text each time
    /// (see `per_backend!`).
    pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<User>, DbError> {
        Ok(per_backend!(conn, |c| users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .load(c))?
        .pop())
    }

    /// The users with any of `emails` or `ids`, in one statement.
    pub fn find_many(
        conn: &mut DbConn,
        emails: &[String],
        ids: &[i64],
    ) -> Result<Vec<User>, DbError> {
        match conn {
            // On the inner connection: its statement is then found prepared
            // by its type (`= ANY($1)`).
            DbConn::Pg(c) => Ok(users::table
                .filter(users::email.eq_any(emails).or(users::id.eq_any(ids)))
                .select(User::as_select())
                .load(c)?),
            // Two JSON arrays: one SQL text whatever their lengths (`IN (?,
            // ?, …)` is a new text for every count, prepared again).
            DbConn::Sqlite(c) => {
                let named = Named {
                    emails: crate::db::json_array(emails)?,
                    ids: crate::db::json_array(ids)?,
                };
                Ok(users::table
                    .filter(named)
                    .select(User::as_select())
                    .load(c)?)
            }
        }
    }

    pub fn find_in_company(
        conn: &mut DbConn,
        company_id: i64,
        id: i64,
    ) -> Result<Option<User>, DbError> {
        Ok(per_backend!(conn, |c| users::table
            .find(id)
            .filter(users::company_id.eq(company_id))
            .select(User::as_select())
            .load(c))?
        .pop())
    }

    pub fn set_role(tx: &mut Tx<'_>, user: &User, role: Role) -> Result<(), DbError> {
        diesel::update(users::table.find(user.id))
            .set(users::role.eq(role))
            .execute(tx.conn()?)?;
        tx.changed(Change::User(user.id));
        tx.changed(Change::Staff(user.company_id));
        Ok(())
    }

    pub fn record_login(tx: &mut Tx<'_>, id: i64, method: Method, now: i64) -> Result<(), DbError> {
        Self::record_logins(tx, &[id], method, now)
    }

    /// One page of the company's users, admins first then by email,
    /// optionally filtered by a piece of email or name.
    pub fn list_for_company(
        conn: &mut DbConn,
        company_id: i64,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), DbError> {
        let filtered = || {
            let mut q = users::table
                .filter(users::company_id.eq(company_id))
                .into_boxed();
            if let Some(s) = search {
                let pattern = format!(
                    "%{}%",
                    s.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                q = q.filter(
                    users::email
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::name.like(pattern).escape('\\')),
                );
            }
            q
        };
        let total = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order((users::role.eq(Role::Admin).desc(), users::email.asc()))
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    /// Records a sign-in of several users at once: one statement for a
    /// whole batch of sign-ins.
    pub fn record_logins(
        tx: &mut Tx<'_>,
        ids: &[i64],
        method: Method,
        now: i64,
    ) -> Result<(), DbError> {
        match tx.conn()? {
            // One statement kept prepared whatever the number of users (a
            // JSON array of their ids bound once): diesel prepares its own
            // UPDATE statements again at every call, and `IN (…)` is a new
            // SQL text for every count of ids (docs/PERFORMANCE.md).
            DbConn::Sqlite(c) => {
                let ids = crate::db::json_array(ids)?;
                RecordLogins {
                    ids,
                    at: now,
                    method: method.as_str(),
                }
                .execute(c)?;
            }
            // One round trip for all of them.
            DbConn::Pg(c) => {
                diesel::update(users::table.filter(users::id.eq_any(ids)))
                    .set((
                        users::last_login_at.eq(now),
                        users::last_login_method.eq(method),
                    ))
                    .execute(c)?;
            }
        }
        for id in ids {
            tx.changed(Change::User(*id));
        }
        Ok(())
    }

    /// Disabling ends every session of the user for good: their rows are
    /// deleted and the epoch moves, so enabling the user again brings no
    /// old cookie back.
    pub fn set_disabled(tx: &mut Tx<'_>, user: &User, disabled: bool) -> Result<(), DbError> {
        diesel::update(users::table.find(user.id))
            .set(users::disabled.eq(disabled))
            .execute(tx.conn()?)?;
        tx.changed(Change::User(user.id));
        tx.changed(Change::Staff(user.company_id));
        if disabled {
            Self::bump_session_epoch(tx, user.id)?;
        }
        Ok(())
    }

    /// "Sign out everywhere": every session of the user ends (rows deleted,
    /// epoch moved).
    pub fn bump_session_epoch(tx: &mut Tx<'_>, id: i64) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set(users::session_epoch.eq(users::session_epoch + 1))
            .execute(tx.conn()?)?;
        tx.changed(Change::User(id));
        super::LiveSession::end_all_of(tx, id)?;
        Ok(())
    }

    /// The id, name and role of each of `ids` (authors, requesters).
    pub fn names(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, String, Role)>, DbError> {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::name, users::role))
            .load(conn)?)
    }

    /// The user's email, alone.
    pub fn email_of(conn: &mut DbConn, id: i64) -> Result<Option<String>, DbError> {
        Ok(users::table.find(id).select(users::email).load(conn)?.pop())
    }

    /// The id and name of the company's agents and admins who may be
    /// assigned a request, by name.
    pub fn staff_of_company(
        conn: &mut DbConn,
        company_id: i64,
    ) -> Result<Vec<(i64, String)>, DbError> {
        Ok(users::table
            .filter(users::company_id.eq(company_id))
            .filter(users::role.eq_any([Role::Agent, Role::Admin]))
            .filter(users::disabled.eq(false))
            .order(users::name.asc())
            .select((users::id, users::name))
            .load(conn)?)
    }

    /// Admins of the company who can still sign in.
    pub fn count_active_admins(conn: &mut DbConn, company_id: i64) -> Result<i64, DbError> {
        Ok(users::table
            .filter(users::company_id.eq(company_id))
            .filter(users::role.eq(Role::Admin))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(conn)?)
    }

    /// Deletes a user for good, with what is theirs alone: their sessions,
    /// memberships, views and the requests they opened (with those
    /// requests' messages and files). Their SSO events stay, without the
    /// user. Refused (`Err(why)`) for the last active admin of a company
    /// (nobody could open its Settings any more), and for
    /// someone who wrote in requests opened by others (an agent): deleting
    /// would tear their answers out of other people's conversations —
    /// disable them instead.
    pub fn delete(tx: &mut Tx<'_>, user: &User) -> Result<Result<i64, String>, DbError> {
        use crate::db::schema::{messages, request_changes, requests};
        let active_admin = user.role() == Role::Admin && !user.disabled;
        if active_admin && Self::count_active_admins(tx.read(), user.company_id)? <= 1 {
            return Ok(Err(format!(
                "{} is the last active admin of their company; make another admin first",
                user.email
            )));
        }
        let in_others: i64 = messages::table
            .inner_join(requests::table)
            .filter(messages::author_id.eq(user.id))
            .filter(requests::requester_id.ne(user.id))
            .count()
            .get_result(tx.conn()?)?;
        if in_others > 0 {
            return Ok(Err(format!(
                "{} wrote {in_others} messages in requests opened by others; disable the account instead",
                user.email
            )));
        }
        let deleted: Vec<i64> = requests::table
            .filter(requests::requester_id.eq(user.id))
            .select(requests::id)
            .load(tx.conn()?)?;
        // The pages that name them otherwise: their assignments and change
        // lines lose them (`ON DELETE SET NULL`).
        let mut named: Vec<i64> = requests::table
            .filter(requests::assignee_id.eq(user.id))
            .select(requests::id)
            .load(tx.conn()?)?;
        named.extend(
            request_changes::table
                .filter(request_changes::actor_id.eq(user.id))
                .select(request_changes::request_id)
                .distinct()
                .load::<i64>(tx.conn()?)?,
        );
        super::LiveSession::end_all_of(tx, user.id)?;
        diesel::delete(users::table.find(user.id)).execute(tx.conn()?)?;
        tx.changed(Change::User(user.id));
        tx.changed(Change::Memberships(user.id));
        tx.changed(Change::OpenRequests(user.id));
        tx.changed(Change::Staff(user.company_id));
        for id in deleted.iter().chain(&named) {
            tx.changed(Change::Request(*id));
        }
        Ok(Ok(deleted.len() as i64))
    }
}

/// `UPDATE users SET last_login_at = ?, last_login_method = ? WHERE id IN
/// (the JSON array ?)` on SQLite: one SQL text with a type of its own, so
/// that diesel keeps it prepared (its `UPDATE` builder marks every statement
/// as not cacheable).
#[derive(diesel::query_builder::QueryId)]
struct RecordLogins {
    ids: String,
    at: i64,
    method: &'static str,
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for RecordLogins {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Text};
        out.push_sql("UPDATE users SET last_login_at = ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(", last_login_method = ");
        out.push_bind_param::<Text, _>(&self.method)?;
        out.push_sql(" WHERE id IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl RunQueryDsl<diesel::SqliteConnection> for RecordLogins {}

/// SQLite: `users.email IN (the JSON array ?) OR users.id IN (the JSON array
/// ?)`, a condition of a type of its own so that diesel keeps its statement
/// prepared ([`User::find_many`]).
#[derive(diesel::query_builder::QueryId)]
struct Named {
    emails: String,
    ids: String,
}

impl Expression for Named {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::expression::ValidGrouping<()> for Named {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl AppearsOnTable<users::table> for Named {}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for Named {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        out.push_sql("(users.email IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.emails)?;
        out.push_sql(")) OR users.id IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql(")))");
        Ok(())
    }
}
