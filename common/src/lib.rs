//! What tokend, `tokend-client` and `tokend-bench` must agree on, declared
//! once: [`wire`] holds the values the contract in `proto/` implies but cannot
//! state (scope names, the error domain, media types, key timing),
//! [`expiring`] the one bounded, expiring cache each of them uses,
//! [`structs`] how the contract's `google.protobuf.Struct` fields read as
//! JSON, and [`ecdsa`] the one form of an ES256 signature both the server and
//! the verifiers accept, and [`dpop`] what the token endpoint and the
//! resource-server check read alike in a DPoP proof; [`status_list`] the
//! bit string of a Token Status List, written by one and read by the others;
//! [`txn`] the claims of a Transaction Token; [`claim_names`] the one check
//! that a JWT's claim names are unique, which every reader makes.

pub mod claim_names;
pub mod dpop;
pub mod ecdsa;
pub mod expiring;
pub mod status_list;
pub mod structs;
pub mod txn;
pub mod wire;
