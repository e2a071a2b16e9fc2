//! Transaction Tokens (draft-ietf-oauth-transaction-tokens-10): a short-lived
//! statement of who started a request and why, minted once at the edge of a
//! trust domain by token exchange and carried unchanged through the call
//! chain behind it. `request` reads what a Txn-Token Request says beyond a
//! token exchange; `decide` decides the token, or its replacement, and
//! checks one presented back.

mod decide;
mod request;

pub use decide::{REQUESTER_CHAIN, TxnSubject, decide, verify};
pub use request::{SubjectKind, TxnRequest, unsigned_subject};
pub use tokend_common::{
    txn::TxnClaims,
    wire::{TXN_TOKEN_TYP, TXN_TOKEN_TYPE},
};

/// How long Transaction Tokens live unless the operator says otherwise.
pub const DEFAULT_LIFETIME_SECONDS: i64 = 300;

/// Where Transaction Tokens are valid, and for how long.
#[derive(Debug, Clone)]
pub struct TxnSettings {
    /// The trust domain: every Txn-Token's `aud`, the one `audience` a request may name.
    pub audience: String,
    /// The longest a Txn-Token lives; never past its subject token's `exp`.
    pub lifetime_seconds: i64,
}

impl TxnSettings {
    /// The trust domain named by tokend's issuer, and tokens of five minutes.
    pub fn for_issuer(issuer: &str) -> Self {
        Self { audience: issuer.to_owned(), lifetime_seconds: DEFAULT_LIFETIME_SECONDS }
    }
}
