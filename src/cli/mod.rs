//! Operator commands that work directly on the database, before or beside a
//! running server: clients (so the first admin exists before any server runs),
//! trusted issuers and signing keys.

pub mod clients;
pub mod issuers;
pub mod keys;
