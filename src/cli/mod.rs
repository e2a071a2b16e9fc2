//! Operator commands that work directly on the database, before or beside a
//! running server: clients (so the first admin exists before any server runs)
//! and signing keys.

pub mod clients;
pub mod keys;
