//! Email addresses and names, case by case.

#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn display_name_cases() {
    let e = "jane.doe+x@example.com";
    assert_eq!(display_name(Some("Jane"), e), "Jane");
    assert_eq!(display_name(Some("  Jane  "), e), "Jane");
    assert_eq!(display_name(None, e), "jane.doe+x");
    assert_eq!(display_name(Some(""), e), "jane.doe+x");
    assert_eq!(display_name(Some("\u{3000}\t"), e), "jane.doe+x");
    assert_eq!(display_name(Some("\u{85}Jane\u{9f}"), e), "Jane");
    assert_eq!(display_name(Some("a\u{7f}b"), e), "ab");
    assert_eq!(
        display_name(Some(&"x".repeat(250)), e),
        "x".repeat(MAX_NAME_CHARS)
    );
}

// ---------------------------------------------------------------------------
// normalize_email.

fn at_len(local: usize, domain_labels: &[usize]) -> String {
    let domain: Vec<String> = domain_labels
        .iter()
        .enumerate()
        .map(|(i, n)| char::from(b'a' + i as u8).to_string().repeat(*n))
        .collect();
    format!("{}@{}", "l".repeat(local), domain.join("."))
}

#[test]
fn normalize_email_accepts() {
    let cases = [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM\t", "jane.doe@example.com"),
        ("\n a@b.co \r\n", "a@b.co"),
        (
            "first.last+tag@sub.example.co.uk",
            "first.last+tag@sub.example.co.uk",
        ),
        ("o'brien@example.ie", "o'brien@example.ie"),
        (
            "x!#$%&'*+-/=?^_`{|}~y@example.com",
            "x!#$%&'*+-/=?^_`{|}~y@example.com",
        ),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
        ("user@my-host.example", "user@my-host.example"),
        ("user@123.example", "user@123.example"),
        ("user@a.b.c.d.e", "user@a.b.c.d.e"),
        ("1@2.3", "1@2.3"),
        ("a.b.c@example.com", "a.b.c@example.com"),
        ("a-b_c@e-x.com", "a-b_c@e-x.com"),
    ];
    for (raw, expected) in cases {
        assert_eq!(normalize_email(raw).as_deref(), Ok(expected), "{raw:?}");
    }
    // Length limits, at the limit.
    let local_64 = at_len(64, &[7, 3]);
    assert_eq!(normalize_email(&local_64), Ok(local_64.clone()));
    let label_63 = at_len(4, &[63, 3]);
    assert_eq!(normalize_email(&label_63), Ok(label_63.clone()));
    let total_254 = at_len(64, &[63, 63, 61]);
    assert_eq!(total_254.len(), 254);
    assert_eq!(normalize_email(&total_254), Ok(total_254.clone()));
    // Surrounding blanks do not count towards the length.
    assert_eq!(
        normalize_email(&format!("  {total_254}  ")),
        Ok(total_254.clone())
    );
}

#[test]
fn normalize_email_refuses() {
    let cases = [
        "",
        "   ",
        "plain",
        "@example.com",
        "jane@",
        "jane@example",
        "jane@@example.com",
        "ja@ne@example.com",
        ".jane@example.com",
        "jane.@example.com",
        "ja..ne@example.com",
        "jane doe@example.com",
        "\"jane\"@example.com",
        "\"ja ne\"@example.com",
        "jane(comment)@example.com",
        "<jane@example.com>",
        "jane@example.com, bob@example.com",
        "jane@-example.com",
        "jane@example-.com",
        "jane@exa_mple.com",
        "jane@exam ple.com",
        "jane@example..com",
        "jane@.example.com",
        "jane@example.com.",
        "jane@[127.0.0.1]",
        "jane@example.com\u{0}",
        "ja\u{7}ne@example.com",
        "jané@example.com",
        "jane@exämple.com",
        "jane@例え.jp",
        "ＪＡＮＥ@example.com",
        "\u{212A}elvin@example.com",
        "jane\u{200B}@example.com",
        "jane@example.com\u{a0}x",
        "jane\\@example.com",
        "jane@example.com/",
    ];
    for raw in cases {
        assert!(normalize_email(raw).is_err(), "{raw:?} was accepted");
    }
    // Length limits, one past.
    assert!(normalize_email(&at_len(65, &[7, 3])).is_err(), "local 65");
    assert!(normalize_email(&at_len(4, &[64, 3])).is_err(), "label 64");
    let total_255 = at_len(64, &[63, 63, 62]);
    assert_eq!(total_255.len(), 255);
    assert!(normalize_email(&total_255).is_err(), "total 255");
    assert!(normalize_email(&"a".repeat(10_000)).is_err());
}

#[test]
fn normalize_email_is_idempotent_on_what_it_accepts() {
    for raw in ["  Jane.Doe@Example.COM", "o'brien@example.ie", "A@B.CO"] {
        let once = normalize_email(raw).unwrap();
        assert_eq!(normalize_email(&once), Ok(once.clone()));
        assert!(once.is_ascii() && once == once.to_ascii_lowercase());
    }
}

#[test]
fn company_urls_are_https_or_a_local_http() {
    let ok = |u: &str| company_url(u, "sign-in URL").unwrap();
    assert_eq!(ok(""), None);
    assert_eq!(
        ok(" https://app.example.com/portal-login "),
        Some("https://app.example.com/portal-login".into())
    );
    assert_eq!(
        ok("http://localhost:3000/login?x=1"),
        Some("http://localhost:3000/login?x=1".into())
    );
    assert_eq!(
        ok("http://127.0.0.1/login"),
        Some("http://127.0.0.1/login".into())
    );
    for bad in [
        "http://app.example.com/login",
        "http://localhost.evil.test/",
        "javascript:alert(1)",
        "ftp://x",
        "https://",
        "//app.example.com",
        "https://app.example.com/a b",
        "app.example.com",
    ] {
        assert!(company_url(bad, "sign-in URL").is_err(), "{bad}");
    }
}
