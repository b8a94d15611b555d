//! Message bodies are Markdown, rendered once when written and kept as
//! clean HTML beside the source: `pulldown-cmark` parses it, raw HTML in it
//! becomes text, images become links (no remote image is ever fetched), and
//! `ammonia` keeps only its allow-list of tags and attributes, links only to
//! `http`, `https` and `mailto`, each with `rel="nofollow noopener noreferrer"`.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow noopener noreferrer"))
        .rm_tags(["img"]);
    b
});

/// The clean HTML of a Markdown body.
pub fn render(body: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(body, options).map(|event| match event {
        // Raw HTML shows as what was typed.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        // An image is a link to it, never loaded by the page.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::render;

    /// The (tag, attribute, value) triples of serialised HTML, which quotes
    /// every value with `"` and escapes `<` everywhere else.
    fn attributes(html: &str) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for tag in html.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            let (name, mut rest) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            loop {
                rest = rest.trim_start();
                if rest.is_empty() || rest == "/" {
                    break;
                }
                let end = rest.find(['=', ' ', '/']).unwrap_or(rest.len());
                let attr = rest[..end].to_ascii_lowercase();
                rest = &rest[end..];
                let mut value = String::new();
                if let Some(after) = rest.strip_prefix("=\"") {
                    let close = after.find('"').unwrap_or(after.len());
                    value = after[..close].to_owned();
                    rest = after.get(close + 1..).unwrap_or("");
                } else {
                    rest = rest.get(1..).unwrap_or("");
                }
                out.push((name.to_ascii_lowercase(), attr, value));
            }
        }
        out
    }

    /// What no rendered body may contain, whatever was typed.
    fn assert_safe(html: &str) {
        let lower = html.to_ascii_lowercase();
        for tag in [
            "<script", "<img", "<iframe", "<object", "<embed", "<svg", "<style", "<form",
        ] {
            assert!(!lower.contains(tag), "{tag}: {html}");
        }
        for (tag, attr, value) in attributes(html) {
            assert!(
                !attr.starts_with("on"),
                "event handler {attr} on {tag}: {html}"
            );
            assert!(attr != "style" && attr != "src", "{attr} on {tag}: {html}");
            if attr == "href" {
                let url = value.to_ascii_lowercase();
                assert!(
                    url.starts_with("http://")
                        || url.starts_with("https://")
                        || url.starts_with("mailto:"),
                    "link to {value}: {html}"
                );
            }
        }
    }

    #[test]
    fn attacks_are_text_or_gone() {
        for (typed, expect) in [
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "[x](javascript:alert(1))",
                "<a rel=\"nofollow noopener noreferrer\">x</a>",
            ),
            (
                "![logo](https://evil.test/p.png)",
                "<a href=\"https://evil.test/p.png\" rel=\"nofollow noopener noreferrer\">logo</a>",
            ),
            (
                "<img src=x onerror=alert(1)>",
                "&lt;img src=x onerror=alert(1)&gt;",
            ),
            (
                "[d](data:text/html;base64,PHNjcmlwdD4=)",
                "<a rel=\"nofollow noopener noreferrer\">d</a>",
            ),
            (
                "[r](/logout)",
                "<a rel=\"nofollow noopener noreferrer\">r</a>",
            ),
        ] {
            let html = render(typed);
            assert!(html.contains(expect), "{typed} → {html}");
            assert_safe(&html);
        }
    }

    #[test]
    fn markdown_is_rendered() {
        let html = render("**bold** and `code`\n\n- one\n- two\n\n[docs](https://example.com)");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains(
            "<a href=\"https://example.com\" rel=\"nofollow noopener noreferrer\">docs</a>"
        ));
        assert!(render("mail [me](mailto:a@b.test)").contains("href=\"mailto:a@b.test\""));
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<script>alert(1)</script>".to_owned()),
            Just("<img src=x onerror=alert(1)>".to_owned()),
            Just("<a href=\"javascript:alert(1)\">x</a>".to_owned()),
            Just("[x](javascript:alert(1))".to_owned()),
            Just("[x](JaVaScRiPt:alert(1))".to_owned()),
            Just("[x](data:text/html,hi)".to_owned()),
            Just("![i](https://evil.test/x.png)".to_owned()),
            Just("![i](data:image/png;base64,AAAA)".to_owned()),
            Just("<svg onload=alert(1)>".to_owned()),
            Just("<iframe src=//evil.test>".to_owned()),
            Just("<p style=\"x\" onclick=\"y\">".to_owned()),
            Just("<div>\n\n<script>x</script>\n\n</div>".to_owned()),
            Just("[a]: javascript:alert(1)\n\n[a]".to_owned()),
            Just("`<script>`".to_owned()),
            Just("```html\n<script>\n```".to_owned()),
            Just("<".to_owned()),
            Just(">".to_owned()),
            Just("\"".to_owned()),
            Just("&#106;avascript:".to_owned()),
            Just("\n".to_owned()),
            "[ -~]{0,12}".prop_map(|s| s),
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn no_rendered_body_can_run_script_or_load_anything(
            parts in proptest::collection::vec(fragment(), 0..8)
        ) {
            assert_safe(&render(&parts.concat()));
        }
    }
}
