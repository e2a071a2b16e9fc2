//! Tokens, from minting to revoking: the codec that mints and checks JWTs
//! (`codec`) and remembers checked ones (`verified`); the grants (`issue`,
//! with `grant` and `exchange` for their rules) and their per-client
//! `rate_limits`; `introspection`; `revocation`, with the revocations every
//! instance knows (`revoked_tokens`).

mod codec;
mod exchange;
mod grant;
mod introspection;
mod issue;
mod rate_limits;
mod revocation;
mod revoked_tokens;
mod verified;

pub(crate) use codec::random_tag;
pub use codec::{ACCESS_TOKEN_TYP, AccessClaims, Confirmation, Federated, Grant, Subject, TokenCodec};
pub(crate) use exchange::OWN_SCOPE_PREFIX;
pub use exchange::{ACCESS_TOKEN_TYPE, Act, Exchange, TOKEN_EXCHANGE};
pub use introspection::{Introspected, Introspection};
pub use issue::{IssuedToken, TokenRequest};
pub use rate_limits::RateLimits;
pub(super) use revoked_tokens::Revocations;
