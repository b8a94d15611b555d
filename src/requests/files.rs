//! Files attached to messages: the limits, and what a file is, decided from
//! its bytes — never from the name or the type the client sent.

/// Files one message may carry.
pub const MAX_FILES: usize = 5;
/// The largest file, in bytes (inclusive): 10 MiB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// All the files of one message together, in bytes (inclusive): 25 MiB.
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// The images a browser may show inline; every other file downloads.
const INLINE: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The content type of `bytes`: PNG, JPEG, GIF, WebP and PDF by signature,
/// UTF-8 text, else `application/octet-stream`. An HTML page named `.png`
/// is text, served as a download.
pub fn content_type(bytes: &[u8]) -> &'static str {
    let sniffed = infer::get(bytes).map(|t| t.mime_type());
    match sniffed {
        Some(t @ ("image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf")) => {
            t
        }
        _ if std::str::from_utf8(bytes).is_ok() => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// True for the four image types shown inline; anything else is served as
/// `Content-Disposition: attachment`.
pub fn shows_inline(content_type: &str) -> bool {
    INLINE.contains(&content_type)
}

/// The name to keep: its last path part, without control characters or
/// quotes, at most 200 characters; `file` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\'))
        .take(200)
        .collect();
    let kept = kept.trim().trim_start_matches('.').to_owned();
    if kept.is_empty() {
        "file".to_owned()
    } else {
        kept
    }
}

/// `1.2 MB`, `340 KB`, `12 bytes`: sizes on the page.
pub fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", (b + 512) / 1024),
        1 => "1 byte".to_owned(),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(content_type(png), "image/png");
        assert_eq!(content_type(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(content_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(content_type(b"RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(
            content_type(b"<html><script>alert(1)</script></html>"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type(b"\0\x01\x02\xfe\xff"),
            "application/octet-stream"
        );
        assert!(shows_inline("image/webp") && !shows_inline("application/pdf"));
        assert!(!shows_inline("text/plain; charset=utf-8"));
    }

    #[test]
    fn names_lose_paths_and_quotes() {
        assert_eq!(clean_filename("C:\\Users\\me\\shot.png"), "shot.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\r\n.txt"), "ab.txt");
        assert_eq!(clean_filename("..."), "file");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MB");
        assert_eq!(human_size(2048), "2 KB");
    }
}
