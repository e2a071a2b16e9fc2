//! Transaction Tokens (draft-ietf-oauth-transaction-tokens-10) for services:
//! one token minted by tokend at the edge of the trust domain and carried
//! unchanged through every internal call, verified locally at each hop.
//! `verifier` checks one; `context` keeps the one of the request being
//! handled; `layers` exchange, verify and propagate it.

mod context;
mod layers;
mod verifier;

pub use context::TxnToken;
pub use layers::{
    PropagateTxn, PropagateTxnLayer, TxnEdgeLayer, TxnEdgeService, TxnTokenLayer, TxnTokenService,
};
pub use verifier::{TxnClaims, TxnVerifier};
