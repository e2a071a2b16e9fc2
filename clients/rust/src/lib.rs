//! tokend-client: access tokens for callers, local verification for resource servers.
//!
//! Callers: [`TokenSource`] fetches tokens with gRPC `IssueToken`, proving
//! its client by a secret, a TLS certificate, a private key
//! (`private_key_jwt`) or a platform's token read from a file, and caches
//! each (scope, audience) token until shortly before it expires, refreshing it
//! in the background; concurrent callers on an empty cache share one call;
//! `UNAVAILABLE` is retried with jittered backoff (50 ms doubling to 1 s, for
//! up to 10 s), a rate limit's `RetryInfo` after the delay it names;
//! authentication and authorisation failures never are. Given a [`DpopKey`]
//! it gets DPoP-bound tokens (RFC 9449). [`BearerLayer`] puts its tokens on
//! every outgoing gRPC or HTTP request, with a fresh DPoP proof for bound ones.
//!
//! Resource servers: [`Verifier`] checks tokens locally against the keys found
//! by discovery (or, for revocation-sensitive APIs, asks tokend's `Introspect`),
//! and [`VerifyLayer`] rejects requests without a valid token: `UNAUTHENTICATED`
//! / `PERMISSION_DENIED` to gRPC callers, 401 / 403 to HTTP ones.
//!
//! Call chains: [`TxnEdgeLayer`] turns an incoming access token into a
//! Transaction Token at the edge, [`TxnTokenLayer`] verifies it at every
//! internal service, and [`PropagateTxnLayer`] sends it on with each outgoing
//! call made while handling the request.

mod bearer;
mod credentials;
mod dpop;
mod error;
mod guard;
mod source;
mod txn;
mod verify;

pub use bearer::{Bearer, BearerLayer};
pub use credentials::PrivateKey;
pub use dpop::DpopKey;
pub use error::TokenError;
pub use guard::{Admit, Guarded};
pub use jsonwebtoken::Algorithm;
pub use source::{TlsIdentity, Token, TokenSource};
pub use txn::{
    PropagateTxn, PropagateTxnLayer, TxnClaims, TxnEdgeLayer, TxnEdgeService, TxnToken, TxnTokenLayer,
    TxnTokenService, TxnVerifier,
};
pub use verify::{
    Call, Claims, Confirmation, PeerCertificate, StatusListCounts, StatusListEntry, TokenStatus, Verifier,
    VerifierBuilder, VerifyError, VerifyLayer, VerifyService,
};

/// The generated tokend gRPC client, for calls the wrappers here do not cover.
pub mod pb {
    tonic::include_proto!("tokend.v1");
}
