//! The support-request domain, without HTTP: what a subject and a body may
//! be, who may move a request to which status, how a message's Markdown
//! becomes safe HTML, and what a file is. The data and who may see it are in
//! `db::models` (request.rs, message.rs).

pub mod files;
pub mod markdown;
pub mod rules;

/// The longest subject, in characters (inclusive).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest message body, in characters (inclusive).
pub const MAX_BODY_CHARS: usize = 20_000;
/// Requests a list page shows.
pub const PER_PAGE: i64 = 25;

/// A subject: trimmed, 1 to 200 characters, no control characters.
pub fn clean_subject(subject: &str) -> Result<String, String> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err("Write a subject: a few words that say what you need.".into());
    }
    let chars = subject.chars().count();
    if chars > MAX_SUBJECT_CHARS {
        return Err(format!(
            "The subject has {chars} characters; keep it to {MAX_SUBJECT_CHARS}."
        ));
    }
    if subject.chars().any(char::is_control) {
        return Err("The subject must be one line of text.".into());
    }
    Ok(subject.to_owned())
}

/// A message body: 1 to 20,000 characters once trimmed at the ends; kept
/// as typed otherwise (it is Markdown).
pub fn clean_body(body: &str) -> Result<String, String> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return Err("Write a message.".into());
    }
    let chars = trimmed.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(format!(
            "The message has {chars} characters; the limit is {MAX_BODY_CHARS}. Split it, or attach a file."
        ));
    }
    Ok(trimmed.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive() {
        assert!(clean_subject(&"s".repeat(200)).is_ok());
        assert!(clean_subject(&"s".repeat(201)).is_err());
        assert!(clean_subject("  ").is_err());
        assert!(clean_subject("two\nlines").is_err());
        assert!(clean_body(&"é".repeat(20_000)).is_ok());
        assert!(clean_body(&"b".repeat(20_001)).is_err());
        assert!(clean_body(" \n ").is_err());
    }
}
