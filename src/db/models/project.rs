use diesel::prelude::*;

use crate::db::schema::{memberships, projects};
use crate::db::{Change, DbConn, DbError, Tx, per_backend};

/// A project of a company; users become members through SSO's `projectId`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = projects)]
pub struct Project {
    pub id: i64,
    /// `proj_…`, what tokens carry as `projectId`.
    pub public_id: String,
    pub company_id: i64,
    pub name: String,
    pub created_at: i64,
    /// Members see each other's support requests.
    pub shared: bool,
}

impl Project {
    pub fn create(
        tx: &mut Tx<'_>,
        company_id: i64,
        name: &str,
        now: i64,
    ) -> Result<Project, DbError> {
        tx.changed(Change::Projects(company_id));
        Ok(per_backend!(tx.conn()?, |c| diesel::insert_into(
            projects::table
        )
        .values((
            projects::public_id.eq(super::public_id("proj")),
            projects::company_id.eq(company_id),
            projects::name.eq(name),
            projects::created_at.eq(now),
        ))
        .returning(Project::as_returning())
        .get_result(c))?)
    }

    pub fn find_in_company(
        conn: &mut DbConn,
        company_id: i64,
        public_id: &str,
    ) -> Result<Option<Project>, DbError> {
        Ok(projects::table
            .filter(projects::company_id.eq(company_id))
            .filter(projects::public_id.eq(public_id))
            .select(Project::as_select())
            .load(conn)?
            .pop())
    }

    pub fn list_for_company(conn: &mut DbConn, company_id: i64) -> Result<Vec<Project>, DbError> {
        Ok(projects::table
            .filter(projects::company_id.eq(company_id))
            .order((projects::name.asc(), projects::id.asc()))
            .select(Project::as_select())
            .load(conn)?)
    }

    pub fn list_for_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<Project>, DbError> {
        Ok(projects::table
            .inner_join(memberships::table)
            .filter(memberships::user_id.eq(user_id))
            .order((projects::name.asc(), projects::id.asc()))
            .select(Project::as_select())
            .load(conn)?)
    }

    /// Makes the user a member; a second call changes nothing. True when
    /// the user was not a member before.
    pub fn add_member(
        tx: &mut Tx<'_>,
        project_id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<bool, DbError> {
        let inserted = per_backend!(tx.conn()?, |c| diesel::insert_into(memberships::table)
            .values((
                memberships::project_id.eq(project_id),
                memberships::user_id.eq(user_id),
                memberships::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted > 0 {
            tx.changed(Change::Memberships(user_id));
        }
        Ok(inserted > 0)
    }

    /// The ids of the projects the user belongs to.
    pub fn ids_for_member(conn: &mut DbConn, user_id: i64) -> Result<Vec<i64>, DbError> {
        Ok(memberships::table
            .filter(memberships::user_id.eq(user_id))
            .select(memberships::project_id)
            .load(conn)?)
    }

    pub fn rename(
        tx: &mut Tx<'_>,
        company_id: i64,
        public_id: &str,
        name: &str,
    ) -> Result<usize, DbError> {
        tx.changed(Change::Projects(company_id));
        Ok(diesel::update(
            projects::table
                .filter(projects::company_id.eq(company_id))
                .filter(projects::public_id.eq(public_id)),
        )
        .set(projects::name.eq(name))
        .execute(tx.conn()?)?)
    }

    /// Turns the *shared* setting on or off.
    pub fn set_shared(
        tx: &mut Tx<'_>,
        company_id: i64,
        public_id: &str,
        shared: bool,
    ) -> Result<usize, DbError> {
        tx.changed(Change::Projects(company_id));
        Ok(diesel::update(
            projects::table
                .filter(projects::company_id.eq(company_id))
                .filter(projects::public_id.eq(public_id)),
        )
        .set(projects::shared.eq(shared))
        .execute(tx.conn()?)?)
    }

    /// Deletes the project and its memberships (by cascade).
    pub fn delete(tx: &mut Tx<'_>, company_id: i64, public_id: &str) -> Result<usize, DbError> {
        tx.changed(Change::Projects(company_id));
        tx.changed(Change::AllMemberships);
        Ok(diesel::delete(
            projects::table
                .filter(projects::company_id.eq(company_id))
                .filter(projects::public_id.eq(public_id)),
        )
        .execute(tx.conn()?)?)
    }

    /// The company's projects with their member counts.
    pub fn list_with_member_counts(
        conn: &mut DbConn,
        company_id: i64,
    ) -> Result<Vec<(Project, i64)>, DbError> {
        let projects = Self::list_for_company(conn, company_id)?;
        let counts: Vec<(i64, i64)> = memberships::table
            .inner_join(projects::table)
            .filter(projects::company_id.eq(company_id))
            .group_by(memberships::project_id)
            .select((memberships::project_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(projects
            .into_iter()
            .map(|p| {
                let n = counts
                    .iter()
                    .find(|(id, _)| *id == p.id)
                    .map_or(0, |(_, n)| *n);
                (p, n)
            })
            .collect())
    }
}
