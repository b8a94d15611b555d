//! Search over subjects and messages, one contract on two engines:
//! SQLite's FTS5 (the bundled build has it) and PostgreSQL's full-text
//! search (`tsvector` with a GIN index). PostgreSQL's is kept by triggers
//! in the same transactions (migrations/postgres/…_requests); SQLite's is in
//! a file of its own, kept by a thread of its own from a log its triggers
//! write, and a search waits for it to hold what was committed before the
//! search began ([`Index`]). What a person types is never either engine's
//! syntax: it is cut into words ([`Words::of`]), each quoted, all required; a
//! word typed with a `*` after it is a prefix, so `error 500 log*` finds
//! "Error 500 on login". (Whole words by default: a prefix query merges the
//! posting lists of every word it covers, ten times the cost.) Case and
//! accents never matter ('Zürich' finds 'zurich') on either.
//!
//! Both indexes hold one row per subject and one per message, in the same
//! order — subjects first, then messages, each newest first — so a walk
//! through the matches pages on "after the last key" alike:
//! - on SQLite, the row of a message carries scope tokens — its company,
//!   its request, public or internal — and a search ANDs them with the
//!   words, so FTS5 walks its posting lists skipping what is out of scope
//!   and stops as soon as a page is full; the rowids are the order shown
//!   (migrations/sqlite/…_search_order), and FTS5 reads forwards twice as
//!   fast as backwards;
//! - on PostgreSQL, the scope is in columns and the GIN index holds
//!   `(company_id, doc)` together (btree_gin), so a company's search
//!   intersects posting lists inside the index; `key` is the order shown.

mod index;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, PooledConnection};
use diesel::sql_types::{Array, BigInt, Text};

pub use index::{Index, Ready, logged};

use super::{DbConn, DbError};

/// Words a search keeps at most; the rest are dropped.
pub const MAX_WORDS: usize = 8;

/// The words of what was typed, each maybe a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(Vec<(String, bool)>);

impl Words {
    /// Runs of letters and digits, at most [`MAX_WORDS`]; `None` when what
    /// was typed holds no word.
    pub fn of(typed: &str) -> Option<Words> {
        let mut words = Vec::new();
        let mut rest = typed;
        while words.len() < MAX_WORDS {
            let Some(start) = rest.find(char::is_alphanumeric) else {
                break;
            };
            rest = &rest[start..];
            let end = rest
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(rest.len());
            let (word, after) = rest.split_at(end);
            words.push((word.to_owned(), after.starts_with('*')));
            rest = after;
        }
        (!words.is_empty()).then_some(Words(words))
    }

    /// The words, each quoted with `quote` and followed by `star` when it
    /// is a prefix, joined by `and`. Words hold only letters and digits, so
    /// the quotes can hold nothing else.
    fn spelled(&self, quote: char, star: &str, and: &str) -> String {
        self.0
            .iter()
            .map(|(w, prefix)| format!("{quote}{w}{quote}{}", if *prefix { star } else { "" }))
            .collect::<Vec<_>>()
            .join(and)
    }

    /// FTS5's words: `"w1" "w2"*`.
    fn fts5(&self) -> String {
        self.spelled('"', "*", " ")
    }

    /// A tsquery of the words: `'w1' & 'w2':*`.
    fn tsquery(&self) -> String {
        self.spelled('\'', ":*", " & ")
    }
}

/// Where to search.
pub enum Scope<'a> {
    /// Every request of a company.
    Company(i64),
    /// These requests only (a customer's few).
    Requests(&'a [i64]),
}

/// One search: its words, its scope, and whether internal notes count.
pub struct Query<'a> {
    pub words: &'a Words,
    pub scope: Scope<'a>,
    pub internal_too: bool,
}

impl Query<'_> {
    /// The whole FTS5 query: the words in the text, within the scope,
    /// public rows only unless `internal_too`.
    fn fts5(&self) -> String {
        let within = match self.scope {
            Scope::Company(id) => format!("\"c{id}\""),
            Scope::Requests(ids) => ids
                .iter()
                .map(|id| format!("\"r{id}\""))
                .collect::<Vec<_>>()
                .join(" OR "),
        };
        let public = if self.internal_too {
            ""
        } else {
            " AND scope : \"pub\""
        };
        format!(
            "text : ({}) AND scope : ({within}){public}",
            self.words.fts5()
        )
    }
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    key: i64,
    #[diesel(sql_type = BigInt)]
    request_id: i64,
}

/// Where a walk through the matches starts: before the first row.
pub const START: i64 = i64::MIN;

/// Where a search reads its matches: on SQLite the index's file, once it
/// holds everything committed before the search began ([`Index`]); on
/// PostgreSQL the database itself.
pub enum Matcher {
    Sqlite(Reading),
    Pg,
}

/// A connection that reads SQLite's index inside one read transaction, so
/// that a walk through the matches sees one state of the index whatever
/// the index's thread does meanwhile; ended when dropped.
pub struct Reading(PooledConnection<ConnectionManager<diesel::sqlite::SqliteConnection>>);

impl Drop for Reading {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        let _ = self.0.batch_execute("ROLLBACK");
    }
}

impl Matcher {
    /// Ready to read the matches: on SQLite from the index's file, once
    /// `ready` says it holds what was committed before the search began.
    pub fn open(conn: &mut DbConn, ready: Option<&Ready>) -> Result<Matcher, DbError> {
        match conn {
            DbConn::Sqlite(_) => {
                use diesel::connection::SimpleConnection;
                let ready = ready.ok_or(DbError::Busy("the search index is not running"))?;
                let mut reader = ready.reader()?;
                reader.batch_execute("BEGIN")?;
                Ok(Matcher::Sqlite(Reading(reader)))
            }
            DbConn::Pg(_) => Ok(Matcher::Pg),
        }
    }

    /// Up to `limit` matches of `query` after the row `after` (the last one
    /// of the previous call, or [`START`]), in the order shown: `(key,
    /// request id)`.
    pub fn matches(
        &mut self,
        conn: &mut DbConn,
        query: &Query<'_>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64)>, DbError> {
        let hits: Vec<Hit> = match (self, conn) {
            (Matcher::Sqlite(c), _) => diesel::sql_query(
                "SELECT rowid AS key, request_id FROM request_search \
                 WHERE request_search MATCH ? AND rowid > ? ORDER BY rowid LIMIT ?",
            )
            .bind::<Text, _>(query.fts5())
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(limit)
            .load(&mut *c.0)?,
            (Matcher::Pg, DbConn::Pg(c)) => {
                let public = if query.internal_too {
                    ""
                } else {
                    " AND NOT internal"
                };
                let within = match query.scope {
                    Scope::Company(_) => "company_id = $2",
                    Scope::Requests(_) => "request_id = ANY($3)",
                };
                let (company, ids): (i64, &[i64]) = match query.scope {
                    Scope::Company(id) => (id, &[]),
                    Scope::Requests(ids) => (0, ids),
                };
                diesel::sql_query(format!(
                    "SELECT key, request_id FROM request_search \
                     WHERE {within}{public} \
                       AND doc @@ to_tsquery('simple', request_search_fold($1)) \
                       AND key > $4 ORDER BY key LIMIT $5"
                ))
                .bind::<Text, _>(query.words.tsquery())
                .bind::<BigInt, _>(company)
                .bind::<Array<BigInt>, _>(ids)
                .bind::<BigInt, _>(after)
                .bind::<BigInt, _>(limit)
                .load(c)?
            }
            (Matcher::Pg, DbConn::Sqlite(_)) => {
                return Err(DbError::Busy("a search crossed backends"));
            }
        };
        Ok(hits.into_iter().map(|h| (h.key, h.request_id)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts5(typed: &str) -> Option<String> {
        Words::of(typed).map(|w| w.fts5())
    }

    #[test]
    fn typed_text_becomes_quoted_words_a_starred_one_a_prefix() {
        assert_eq!(
            fts5("error 500 log*").as_deref(),
            Some("\"error\" \"500\" \"log\"*")
        );
        assert_eq!(
            fts5("  \"OR\" NEAR(a b) *^ ").as_deref(),
            Some("\"OR\" \"NEAR\" \"a\" \"b\"")
        );
        assert_eq!(fts5("Zürich été").as_deref(), Some("\"Zürich\" \"été\""));
        assert_eq!(fts5("!!! ---"), None);
        assert_eq!(fts5(""), None);
        assert_eq!(
            fts5(&"w ".repeat(20)).map(|q| q.matches('"').count()),
            Some(16)
        );
        assert_eq!(
            Words::of("error 500 log* ' & !")
                .map(|w| w.tsquery())
                .as_deref(),
            Some("'error' & '500' & 'log':*")
        );
    }

    #[test]
    fn queries_carry_their_scope() {
        let words = Words::of("x*").unwrap();
        let q = |scope, internal_too| {
            Query {
                words: &words,
                scope,
                internal_too,
            }
            .fts5()
        };
        assert_eq!(
            q(Scope::Company(7), true),
            "text : (\"x\"*) AND scope : (\"c7\")"
        );
        assert_eq!(
            q(Scope::Requests(&[1, 2]), false),
            "text : (\"x\"*) AND scope : (\"r1\" OR \"r2\") AND scope : \"pub\""
        );
    }
}
