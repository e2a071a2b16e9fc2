//! The claims of a Transaction Token
//! (draft-ietf-oauth-transaction-tokens-10 §6.2), as tokend writes them and
//! every verifier reads them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The claims of a Transaction Token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxnClaims {
    /// tokend, which signed it: which keys verify it.
    pub iss: String,
    pub iat: i64,
    /// The trust domain.
    pub aud: String,
    pub exp: i64,
    /// The transaction's id, the same across the whole call chain and every replacement.
    pub txn: String,
    /// Whom the transaction is for: the subject token's `sub`.
    pub sub: String,
    /// What the transaction may do, space-delimited: within the subject token's scope.
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

impl TxnClaims {
    /// Whether the transaction holds every scope in `required`.
    pub fn has_scopes<S: AsRef<str>>(&self, required: &[S]) -> bool {
        required.iter().all(|scope| self.scope.split(' ').any(|granted| granted == scope.as_ref()))
    }
}
