//! Search over subjects and messages: SQLite's FTS5 (the bundled build has
//! it), kept by triggers (migrations/…_requests). What a person types is
//! never FTS5 syntax: it is cut into words, each quoted, all required; a
//! word typed with a `*` after it is a prefix, so `error 500 log*` finds
//! "Error 500 on login". (Whole words by default: a prefix query merges the
//! posting lists of every word it covers, ten times the cost.)
//!
//! The index row of a message carries scope tokens — its company, its
//! request, public or internal — and a search ANDs them with the words, so
//! FTS5 walks its posting lists skipping what is out of scope and stops as
//! soon as a page is full. The rowids make the walk's forward order the
//! order shown (migrations/…_search_order): subjects first, then messages,
//! each newest first; FTS5 reads forwards twice as fast as backwards.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{DbConn, DbError};

/// Words a search keeps at most; the rest are dropped.
pub const MAX_WORDS: usize = 8;

/// The FTS5 words of what was typed: `"w1" "w2"*`, or `None` when it holds
/// no word.
pub fn fts_words(typed: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
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
        let prefix = if after.starts_with('*') { "*" } else { "" };
        words.push(format!("\"{word}\"{prefix}"));
        rest = after;
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// Where to search.
pub enum Scope<'a> {
    /// Every request of a company.
    Company(i64),
    /// These requests only (a customer's few).
    Requests(&'a [i64]),
}

/// The whole FTS5 query: the words in the text, within the scope, public
/// rows only unless `internal_too`.
pub fn fts_query(words: &str, scope: &Scope<'_>, internal_too: bool) -> String {
    let within = match scope {
        Scope::Company(id) => format!("\"c{id}\""),
        Scope::Requests(ids) => ids
            .iter()
            .map(|id| format!("\"r{id}\""))
            .collect::<Vec<_>>()
            .join(" OR "),
    };
    let public = if internal_too {
        ""
    } else {
        " AND scope : \"pub\""
    };
    format!("text : ({words}) AND scope : ({within}){public}")
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    rowid: i64,
    #[diesel(sql_type = BigInt)]
    request_id: i64,
}

/// Where a walk through the matches starts: before the first row.
pub const START: i64 = i64::MIN;

/// Up to `limit` matches of `query` after the row `after` (the last one of
/// the previous call, or [`START`]), in the order shown: `(rowid, request
/// id)`.
pub fn matches(
    conn: &mut DbConn,
    query: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, DbError> {
    let hits: Vec<Hit> = diesel::sql_query(
        "SELECT rowid, request_id FROM request_search \
         WHERE request_search MATCH ? AND rowid > ? ORDER BY rowid LIMIT ?",
    )
    .bind::<Text, _>(query)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    Ok(hits.into_iter().map(|h| (h.rowid, h.request_id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_quoted_words_a_starred_one_a_prefix() {
        assert_eq!(
            fts_words("error 500 log*").as_deref(),
            Some("\"error\" \"500\" \"log\"*")
        );
        assert_eq!(
            fts_words("  \"OR\" NEAR(a b) *^ ").as_deref(),
            Some("\"OR\" \"NEAR\" \"a\" \"b\"")
        );
        assert_eq!(
            fts_words("Zürich été").as_deref(),
            Some("\"Zürich\" \"été\"")
        );
        assert_eq!(fts_words("!!! ---"), None);
        assert_eq!(fts_words(""), None);
        assert_eq!(
            fts_words(&"w ".repeat(20)).map(|q| q.matches('"').count()),
            Some(16)
        );
    }

    #[test]
    fn queries_carry_their_scope() {
        assert_eq!(
            fts_query("\"x\"*", &Scope::Company(7), true),
            "text : (\"x\"*) AND scope : (\"c7\")"
        );
        assert_eq!(
            fts_query("\"x\"*", &Scope::Requests(&[1, 2]), false),
            "text : (\"x\"*) AND scope : (\"r1\" OR \"r2\") AND scope : \"pub\""
        );
    }
}
