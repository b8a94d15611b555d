//! Portico: a self-hosted customer portal that companies plug into their
//! apps with JWT single sign-on. The binary (`src/main.rs`) only reads
//! settings and calls [`cli`] or [`startup`].

pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod routes;
pub mod sso;
pub mod startup;
pub mod views;
