//! Portico: a self-hosted customer portal that companies plug into their
//! apps with JWT single sign-on. The binary (`src/main.rs`) only reads
//! settings and calls [`cli`] or [`startup`].
//!
//! The layers point one way: [`routes`] (with [`views`], the pages) use
//! [`auth`] and [`sso`], which use [`cache`] and [`db`]; [`input`] and
//! [`db`] use nothing of ours. [`startup`] builds the [`state`] and the
//! route table; [`cli`] runs one command against [`db`].

pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod input;
pub mod limits;
pub mod requests;
pub mod routes;
pub mod sso;
pub mod startup;
pub mod state;
pub mod views;
