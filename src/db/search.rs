//! Search over subjects and messages: SQLite's FTS5 (the bundled build has
//! it), kept by triggers (migrations/…_requests). What a person types is
//! never FTS5 syntax: it is cut into words, each quoted, all required, the
//! last one a prefix, so `error 500 logi` finds "Error 500 on login".

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::DbBackend;
use super::schema::requests;

/// Words a search keeps at most; the rest are dropped.
pub const MAX_WORDS: usize = 8;

/// The FTS5 query for what was typed: `"w1" "w2" "w3"*`, or `None` when it
/// holds no word.
pub fn fts_query(typed: &str) -> Option<String> {
    let words: Vec<&str> = typed
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    query.push(format!("\"{last}\"*"));
    Some(query.join(" "))
}

type Condition = Box<dyn BoxableExpression<requests::table, DbBackend, SqlType = Bool>>;

/// A condition on `requests`: a subject or a message of the request matches
/// `typed`; internal notes count only for `staff`. `None` when `typed`
/// holds no word.
pub fn matching_requests(typed: &str, staff: bool) -> Option<Condition> {
    let query = fts_query(typed)?;
    let internal = if staff { "" } else { " AND internal = 0" };
    Some(Box::new(
        sql::<Bool>(
            "requests.id IN (SELECT request_id FROM request_search WHERE request_search MATCH ",
        )
        .bind::<Text, _>(query)
        .sql(internal)
        .sql(")"),
    ))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_text_becomes_quoted_words_the_last_a_prefix() {
        assert_eq!(
            fts_query("error 500 logi").as_deref(),
            Some("\"error\" \"500\" \"logi\"*")
        );
        assert_eq!(
            fts_query("  \"OR\" NEAR(a b) *^ ").as_deref(),
            Some("\"OR\" \"NEAR\" \"a\" \"b\"*")
        );
        assert_eq!(fts_query("!!! ---"), None);
        assert_eq!(fts_query(""), None);
        assert_eq!(
            fts_query(&"w ".repeat(20)).map(|q| q.matches('"').count()),
            Some(16)
        );
    }
}
