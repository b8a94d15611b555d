use diesel::prelude::*;

use super::{Method, NewUser, Role, User};
use crate::db::schema::companies;
use crate::db::{Change, DbConn, DbError, Tx, per_backend};

/// The first admin of a new company.
pub struct NewAdmin<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    /// Set when the admin is signed in at once (sign-up).
    pub signed_in_by: Option<Method>,
}

/// A customer of the portal: the owner of an SSO secret, users and projects.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = companies)]
pub struct Company {
    pub id: i64,
    /// `cmp_…`, what tokens carry as `companyId`.
    pub public_id: String,
    pub name: String,
    /// Seconds; tokens living longer are refused (`lifetime_too_long`).
    pub max_token_lifetime: i64,
    /// Where users go after signing out; unset, Portico's signed-out page.
    pub signout_url: Option<String>,
    pub created_at: i64,
    /// The company's own sign-in page: visitors without a session are sent
    /// there with `return_to`; unset, they go to `/login`.
    pub signin_url: Option<String>,
}

impl Company {
    pub const DEFAULT_MAX_TOKEN_LIFETIME: i64 = 600;
    pub const MIN_TOKEN_LIFETIME: i64 = 60;
    pub const MAX_TOKEN_LIFETIME: i64 = 86_400;

    /// A new company: nothing of it can be cached yet.
    pub fn create(tx: &mut Tx<'_>, name: &str, now: i64) -> Result<Company, DbError> {
        Ok(per_backend!(tx.conn()?, |c| diesel::insert_into(
            companies::table
        )
        .values((
            companies::public_id.eq(super::public_id("cmp")),
            companies::name.eq(name),
            companies::max_token_lifetime.eq(Self::DEFAULT_MAX_TOKEN_LIFETIME),
            companies::created_at.eq(now),
        ))
        .returning(Company::as_returning())
        .get_result(c))?)
    }

    /// A company and its first admin; `None` when the email already belongs
    /// to someone (emails are unique portal-wide).
    pub fn create_with_admin(
        tx: &mut Tx<'_>,
        name: &str,
        admin: NewAdmin<'_>,
        now: i64,
    ) -> Result<Option<(Company, User)>, DbError> {
        if User::find_by_email(tx.read(), admin.email)?.is_some() {
            return Ok(None);
        }
        let company = Company::create(tx, name, now)?;
        let user = User::create(
            tx,
            NewUser {
                company_id: company.id,
                email: admin.email,
                name: admin.name,
                role: Role::Admin,
                password_hash: admin.password_hash,
                signed_in_by: admin.signed_in_by,
            },
            now,
        )?;
        Ok(Some((company, user)))
    }

    pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Company>, DbError> {
        Ok(companies::table
            .find(id)
            .select(Company::as_select())
            .load(conn)?
            .pop())
    }

    pub fn find_by_public_id(
        conn: &mut DbConn,
        public_id: &str,
    ) -> Result<Option<Company>, DbError> {
        Ok(companies::table
            .filter(companies::public_id.eq(public_id))
            .select(Company::as_select())
            .load(conn)?
            .pop())
    }

    /// The company of the user with this id, for tokens that carry only `sub`.
    pub fn find_by_user_id(conn: &mut DbConn, user_id: i64) -> Result<Option<Company>, DbError> {
        use crate::db::schema::users;
        Ok(companies::table
            .inner_join(users::table)
            .filter(users::id.eq(user_id))
            .select(Company::as_select())
            .load(conn)?
            .pop())
    }

    /// Sets the max token lifetime, the sign-out and the sign-in URLs.
    pub fn update_options(
        tx: &mut Tx<'_>,
        id: i64,
        max_token_lifetime: i64,
        signout_url: Option<&str>,
        signin_url: Option<&str>,
    ) -> Result<(), DbError> {
        diesel::update(companies::table.find(id))
            .set((
                companies::max_token_lifetime.eq(max_token_lifetime),
                companies::signout_url.eq(signout_url),
                companies::signin_url.eq(signin_url),
            ))
            .execute(tx.conn()?)?;
        tx.changed(Change::Company(id));
        Ok(())
    }
}
