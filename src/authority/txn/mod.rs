//! Transaction Tokens (draft-ietf-oauth-transaction-tokens-10): a short-lived
//! statement of who started a request and why, minted once at the edge of a
//! trust domain by token exchange and carried unchanged through the call
//! chain behind it. `request` reads what a Txn-Token Request says beyond a
//! token exchange; `decide` decides the token, or its replacement, and
//! checks one presented back.

mod decide;
mod request;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use decide::{REQUESTER_CHAIN, TxnSubject, decide, verify};
pub use request::{SubjectKind, TxnRequest, unsigned_subject};
pub use tokend_common::wire::{TXN_TOKEN_TYP, TXN_TOKEN_TYPE};

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

/// The claims of a Transaction Token (draft §6.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxnClaims {
    /// tokend, which signed it: which keys verify it.
    pub iss: String,
    pub iat: i64,
    /// The trust domain.
    pub aud: String,
    pub exp: i64,
    /// The transaction's id, the same across the whole call chain and every replacement.
    pub txn: String,
    /// Who the transaction is for: the subject token's `sub`.
    pub sub: String,
    /// What the transaction may do: within the subject token's scope.
    pub scope: String,
    /// The workload that asked for this token (a client id).
    pub req_wl: String,
    /// The request's environment (`req_ip`, `authn`, …), and in a replacement
    /// the workloads that asked before (`req_wl_chain`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub rctx: Map<String, Value>,
    /// What stays fixed through the call chain: the request's details.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub tctx: Map<String, Value>,
}
