use diesel::prelude::*;

use super::SecretState::{self, Current, Previous};
use super::User;
use crate::db::schema::{sso_secrets, used_tokens, users};
use crate::db::{Change, DbConn, DbError, Tx, per_backend};

/// A company's HS256 key. The text itself is the HMAC key (its UTF-8
/// bytes), as every JWT library uses a string secret.
#[derive(Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sso_secrets)]
pub struct SsoSecret {
    pub id: i64,
    pub company_id: i64,
    /// Current, or previous while inside its grace period.
    pub state: SecretState,
    pub secret: String,
    pub created_at: i64,
    /// For a previous secret: when it stops working.
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

// The secret never reaches a log through `{:?}`.
impl std::fmt::Debug for SsoSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoSecret")
            .field("id", &self.id)
            .field("company_id", &self.company_id)
            .field("state", &self.state)
            .field("secret", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// 48 letters and digits: ≈ 285 bits from the OS RNG.
const SECRET_LEN: usize = 48;

impl SsoSecret {
    /// The last four characters, the only part shown again after creation.
    pub fn last4(&self) -> &str {
        let n = self.secret.len();
        &self.secret[n.saturating_sub(4)..]
    }

    pub fn is_current(&self) -> bool {
        self.state == Current
    }

    /// Whether it may sign tokens at `now`: current, or previous inside its
    /// grace period.
    pub fn usable_at(&self, now: i64) -> bool {
        self.is_current() || self.expires_at.is_some_and(|t| t > now)
    }

    /// The secrets a token may be signed with now: the current one first,
    /// then a previous one whose grace period has not ended.
    pub fn usable(conn: &mut DbConn, company_id: i64, now: i64) -> Result<Vec<SsoSecret>, DbError> {
        let mut rows = sso_secrets::table
            .filter(sso_secrets::company_id.eq(company_id))
            .select(SsoSecret::as_select())
            .load(conn)?;
        rows.retain(|s| s.usable_at(now));
        rows.sort_by_key(|s| !s.is_current());
        Ok(rows)
    }

    /// Generates a new current secret. The old current one keeps working for
    /// `grace` seconds (0: revoked at once); any older previous secret is
    /// dropped. Inside the caller's write transaction, so concurrent
    /// rotations serialise and a sign-in sees either the old set or the new.
    pub fn rotate(
        tx: &mut Tx<'_>,
        company_id: i64,
        grace: i64,
        now: i64,
    ) -> Result<SsoSecret, DbError> {
        tx.changed(Change::Company(company_id));
        diesel::delete(
            sso_secrets::table
                .filter(sso_secrets::company_id.eq(company_id))
                .filter(sso_secrets::state.eq(Previous)),
        )
        .execute(tx.conn()?)?;
        let current = sso_secrets::table
            .filter(sso_secrets::company_id.eq(company_id))
            .filter(sso_secrets::state.eq(Current));
        if grace > 0 {
            diesel::update(current)
                .set((
                    sso_secrets::state.eq(Previous),
                    sso_secrets::expires_at.eq(now.saturating_add(grace)),
                ))
                .execute(tx.conn()?)?;
        } else {
            diesel::delete(current).execute(tx.conn()?)?;
        }
        Ok(per_backend!(tx.conn()?, |c| diesel::insert_into(
            sso_secrets::table
        )
        .values((
            sso_secrets::company_id.eq(company_id),
            sso_secrets::state.eq(Current),
            sso_secrets::secret.eq(super::random_alphanumeric(SECRET_LEN)),
            sso_secrets::created_at.eq(now),
        ))
        .returning(SsoSecret::as_returning())
        .get_result(c))?)
    }

    /// Ends the previous secret's grace period now.
    pub fn revoke_previous(tx: &mut Tx<'_>, company_id: i64) -> Result<usize, DbError> {
        tx.changed(Change::Company(company_id));
        Ok(diesel::delete(
            sso_secrets::table
                .filter(sso_secrets::company_id.eq(company_id))
                .filter(sso_secrets::state.eq(Previous)),
        )
        .execute(tx.conn()?)?)
    }

    /// The secret with this id, usable or not.
    pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<SsoSecret>, DbError> {
        Ok(per_backend!(conn, |c| sso_secrets::table
            .find(id)
            .select(SsoSecret::as_select())
            .first(c)
            .optional())?)
    }

    /// PostgreSQL: the secrets `ids`, and the users with any of `emails`
    /// or `user_ids`, in one statement — a round trip for what a batch of
    /// sign-ins reads (`writer::Batch`): the users are joined to the row of
    /// the first secret alone (a row each; the other secrets a row each,
    /// without a user), so they are known only when that secret was found
    /// (`None` otherwise: the sign-ins that name it are refused on it, and
    /// the others read their users one by one).
    pub fn find_with_users(
        c: &mut diesel::PgConnection,
        ids: &[i64],
        emails: &[String],
        user_ids: &[i64],
    ) -> Result<(Vec<SsoSecret>, Option<Vec<User>>), DbError> {
        let Some(&anchor) = ids.first() else {
            return Ok((Vec::new(), None));
        };
        let rows: Vec<(SsoSecret, Option<User>)> = sso_secrets::table
            .filter(sso_secrets::id.eq_any(ids))
            .left_join(
                users::table.on(sso_secrets::id
                    .eq(anchor)
                    .and(users::email.eq_any(emails).or(users::id.eq_any(user_ids)))),
            )
            .select((SsoSecret::as_select(), Option::<User>::as_select()))
            .load(c)?;
        let known = rows.iter().any(|(secret, _)| secret.id == anchor);
        let (mut secrets, mut users) = (Vec::new(), Vec::new());
        for (secret, user) in rows {
            users.extend(user);
            if !secrets.iter().any(|s: &SsoSecret| s.id == secret.id) {
                secrets.push(secret);
            }
        }
        Ok((secrets, known.then_some(users)))
    }

    /// Records a use, at most once a minute: the page shows minutes. The
    /// cached copy keeps its older time: only Settings → SSO shows it, and
    /// that page reads the database.
    pub fn needs_touch(&self, now: i64) -> bool {
        self.last_used_at.is_none_or(|t| now - t >= 60)
    }

    /// Records a use of secret `id` at `now`.
    pub fn touch(tx: &mut Tx<'_>, id: i64, now: i64) -> Result<(), DbError> {
        diesel::update(sso_secrets::table.find(id))
            .set(sso_secrets::last_used_at.eq(now))
            .execute(tx.conn()?)?;
        Ok(())
    }
}

/// The replay guard: a `jti` a company has already used.
pub struct UsedToken;

impl UsedToken {
    pub fn exists(conn: &mut DbConn, company_id: i64, jti: &str) -> Result<bool, DbError> {
        Ok(diesel::select(diesel::dsl::exists(
            used_tokens::table
                .filter(used_tokens::company_id.eq(company_id))
                .filter(used_tokens::jti.eq(jti)),
        ))
        .get_result(conn)?)
    }

    /// Records a used `jti`; false when the company already had it (the
    /// unique key decides, whatever process asks).
    pub fn insert(
        tx: &mut Tx<'_>,
        company_id: i64,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, DbError> {
        let inserted = per_backend!(tx.conn()?, |c| diesel::insert_into(used_tokens::table)
            .values((
                used_tokens::company_id.eq(company_id),
                used_tokens::jti.eq(jti),
                used_tokens::expires_at.eq(expires_at),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }

    /// Forgets ids whose tokens have expired (they would be refused as
    /// `token_expired` anyway), at most about `limit` of them, oldest first
    /// through the expiry index: the housekeeping's steps. One statement:
    /// everything up to the `limit`-th oldest expiry (ties go with it).
    pub fn purge_expired(tx: &mut Tx<'_>, now: i64, limit: i64) -> Result<usize, DbError> {
        let bound: Option<i64> = used_tokens::table
            .filter(used_tokens::expires_at.lt(now))
            .order(used_tokens::expires_at.asc())
            .offset(limit - 1)
            .limit(1)
            .select(used_tokens::expires_at)
            .load(tx.conn()?)?
            .pop();
        let bound = bound.map_or(now, |b| b.saturating_add(1).min(now));
        Ok(
            diesel::delete(used_tokens::table.filter(used_tokens::expires_at.lt(bound)))
                .execute(tx.conn()?)?,
        )
    }
}
