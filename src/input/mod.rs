//! What people type, made canonical in one place for the pages, the SSO
//! rules and the command line: email addresses and names; and what clients
//! send about themselves: their address behind proxies ([`proxies`]).

pub mod proxies;

/// The longest email address accepted (RFC 5321's path limit less `<>`).
pub const MAX_EMAIL_LEN: usize = 254;
/// Names longer than this are cut.
pub const MAX_NAME_CHARS: usize = 200;

/// Trims and lower-cases an address; refuses anything but a plain ASCII
/// `local@domain.tld`, so that no Unicode case-folding can map one address
/// onto another account.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_ascii_lowercase();
    if email.is_empty() {
        return Err("it is empty");
    }
    if !email.is_ascii() {
        return Err("only ASCII addresses are accepted");
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err("it is longer than 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("it has no @");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok {
        return Err("the part before @ is not a valid mailbox name");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return Err("the part after @ is not a domain name");
    }
    Ok(email)
}

/// Control characters, and the invisible ones that can disguise a name:
/// zero-width spaces and joiners, bidirectional overrides, the BOM.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// The name a new user gets: `name` when it has text, else the email's
/// local part.
pub fn display_name(name: Option<&str>, email: &str) -> String {
    let printable: Option<String> = name.map(|n| n.chars().filter(|c| !hidden(*c)).collect());
    let name = printable
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email));
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// A company, team or project name: trimmed, 1 to 100 characters.
pub fn clean_name(name: &str, what: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("the {what} name is empty"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(format!(
            "the {what} name must be at most 100 printable characters"
        ));
    }
    Ok(name.to_owned())
}

/// A yes/no setting: `1 true yes on` or `0 false no off`, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A company's own address (its sign-in or sign-out page): empty is `None`;
/// else an absolute `https://` URL, `http://` only for `localhost` and
/// `127.0.0.1` (a developer's machine). `what` names it in the message.
pub fn company_url(url: &str, what: &str) -> Result<Option<String>, String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let example = format!(
        "The {what} must be a full https:// address such as https://app.example.com/{}.",
        if what.contains("out") {
            "logout"
        } else {
            "portal-login"
        }
    );
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(example);
    }
    let (secure, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err(example),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("");
    if host.is_empty() {
        return Err(example);
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1") {
        return Err(format!(
            "The {what} must start with https:// (http:// only for localhost and 127.0.0.1)."
        ));
    }
    Ok(Some(url.to_owned()))
}

#[cfg(test)]
mod tests;
