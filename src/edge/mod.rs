//! Bytes in, requests out: the services wired to bound listeners
//! (`server`), connections accepted and closed within limits
//! (`connections`), TLS with its certificate reload (`tls`), and calls that
//! run too long answered in each protocol's own terms (`deadline`).

pub mod connections;
mod deadline;
pub mod server;
pub mod tls;
