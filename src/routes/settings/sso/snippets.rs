//! The ready-to-paste snippets of Settings → SSO.

/// One language's snippet, filled in.
pub struct Snippet {
    pub id: &'static str,
    pub label: &'static str,
    pub code: String,
}

/// The snippets are the very files `scripts/interop.sh` runs against a live
/// server with each library (the .NET one excepted: no SDK here; its token
/// shape is tested instead), so what an admin pastes is what was tested.
const SNIPPETS: [(&str, &str, &str); 6] = [
    (
        "node",
        "Node.js",
        include_str!("../../../../scripts/interop/node/portico-sso.js"),
    ),
    (
        "php",
        "PHP",
        include_str!("../../../../scripts/interop/php/portico-sso.php"),
    ),
    (
        "python",
        "Python",
        include_str!("../../../../scripts/interop/python/portico_sso.py"),
    ),
    (
        "dotnet",
        ".NET",
        include_str!("../../../../scripts/interop/dotnet/PorticoSso.cs"),
    ),
    (
        "ruby",
        "Ruby",
        include_str!("../../../../scripts/interop/ruby/portico_sso.rb"),
    ),
    (
        "curl",
        "curl",
        include_str!("../../../../scripts/interop/shell/portico-sso.sh"),
    ),
];

/// The snippets, filled with this company's ID and this server's URL.
pub fn snippets(company_id: &str, base_url: &str) -> Vec<Snippet> {
    SNIPPETS
        .iter()
        .map(|(id, label, code)| Snippet {
            id,
            label,
            code: code
                .replace("{{COMPANY_ID}}", company_id)
                .replace("{{BASE_URL}}", base_url),
        })
        .collect()
}
