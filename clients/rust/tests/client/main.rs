//! tokend-client against a real tokend, started in-process on a fresh SQLite database.

mod binding;
mod dpop;
mod layers;
mod secretless;
mod server;
mod status;
mod token_source;
mod txn;
mod verifier;
