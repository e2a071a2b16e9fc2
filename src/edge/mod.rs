//! Bytes in, requests out: the services wired to bound listeners
//! (`server`) and the HTTP routes composed from the wings (`routes`, with
//! the `probes`), connections accepted and closed within limits
//! (`connections`), TLS with its certificate reload (`tls`), client
//! certificates forwarded by trusted proxies (`forwarded`), and calls that
//! run too long answered in each protocol's own terms (`deadline`).

pub mod connections;
mod deadline;
pub mod forwarded;
mod probes;
mod routes;
pub mod server;
pub mod tls;
