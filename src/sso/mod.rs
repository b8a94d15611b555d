//! Single sign-on: from a company-signed JWT to a user of that company.
//!
//! - [`token`] reads the compact JWS (checks 2 and the parts of 3);
//! - [`rules`] holds the README's table of checks, in order, with no HTTP;
//! - [`provision`] applies an admitted token to the database in one
//!   transaction and keeps the audit log;
//! - [`mint`] signs tokens, for `portico sso link` and the test links.

pub mod mint;
pub mod provision;
mod reason;
pub mod rules;
pub mod token;

pub use reason::Reason;
pub use rules::{Context, Failure, Refusal};

#[cfg(test)]
mod tests;
