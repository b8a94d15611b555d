//! The one integration test binary: every test spawns the real app on
//! port 0 with its own temporary database and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod cache;
mod cli;
mod dashboard;
mod hardening;
mod helpers;
mod instances;
mod requests;
mod search;
mod sso_checks;
mod sso_flow;
mod store;
