//! What tokend, `tokend-client` and `tokend-bench` must agree on, declared
//! once: [`wire`] holds the values the contract in `proto/` implies but cannot
//! state (scope names, the error domain, media types, key timing), and
//! [`expiring`] the one bounded, expiring cache each of them uses.

pub mod expiring;
pub mod wire;
