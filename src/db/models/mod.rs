//! The rows of Portico and the queries that go with them. Handlers call
//! these; nothing outside `db` touches `schema`.

mod company;
mod project;
mod sso_event;
mod sso_secret;
mod user;

pub use company::{Company, NewAdmin};
pub use project::Project;
pub use sso_event::{NewSsoEvent, SsoEvent};
pub use sso_secret::{SsoSecret, UsedToken};
pub use user::{NewUser, Role, User};

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;

/// `len` letters and digits from the OS RNG (≈ 5.95 bits each).
pub fn random_alphanumeric(len: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A public id such as `cmp_3kTq…`: a prefix and 20 random characters.
pub fn public_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(20))
}
