//! tokend: an OAuth 2.0 client-credentials token service.
//!
//! Outside in:
//! - [`edge`]: bytes in, requests out: the server assembly, connections within
//!   limits, TLS, and per-call deadlines in each protocol's own terms.
//! - The adapters, each speaking the [`contract`] its own way: [`grpc`] (the
//!   tonic services), [`oauth`] (form-encoded OAuth, discovery, the TokenIDP
//!   dialect) and [`connect`] (the Connect gateway and the console's assets);
//!   [`http`] holds what the HTTP-speaking ones share.
//! - [`failure`]: the one mapping from a failure to what a caller sees.
//! - [`observe`]: metrics, the request log and logging.
//! - [`authority`]: the core — authenticate callers, decide scopes and
//!   audiences, mint and check tokens, manage clients and signing keys.
//! - [`domain`]: value types parsed once at the edge.
//! - [`store`]: sqlx persistence on SQLite (default) or PostgreSQL.
//! - [`limits`]: the sizes and times that must agree with each other.
//! - [`cli`]: the command line, its configuration file and its commands;
//!   `cli::run` is what `main` calls.

pub mod authority;
pub mod cli;
pub mod connect;
pub mod contract;
pub mod domain;
pub mod edge;
pub mod failure;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod oauth;
pub mod observe;
pub mod store;
