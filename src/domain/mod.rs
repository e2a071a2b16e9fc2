//! Value types parsed at the edge, so the rest of the code never re-checks them.

mod audience;
mod auth_method;
mod claims;
mod client;
mod client_auth;
mod client_id;
mod distinguished_name;
mod federation;
mod grant_type;
mod jwks;
mod jwks_uri;
mod limits;
mod network;
mod peer;
mod peer_certificate;
mod scope;
mod secret;
mod trusted_issuer;
mod ttl;

pub use audience::{Audience, AudienceList};
pub use auth_method::{AuthMethod, AuthMethods};
pub use claims::{ClientClaims, MAX_CLAIMS_BYTES, RESERVED_CLAIMS};
pub use client::{Client, ClientDetails, SecretInfo};
pub use client_auth::{CertificateSubject, ClientAuth};
pub use client_id::ClientId;
pub use distinguished_name::DistinguishedName;
pub use federation::{FederatedIdentity, MAX_IDENTITIES, SubjectPattern};
pub use grant_type::{GrantType, GrantTypes};
pub use jwks::{ASSERTION_ALGORITHMS, Jwks, MAX_JWKS_BYTES};
pub use jwks_uri::JwksUri;
pub use limits::{RateLimit, SecretMaxAge};
pub use network::{Network, canonical};
pub use peer::{Peer, ReachedUrl};
pub use peer_certificate::{PeerCertificate, thumbprint};
pub use scope::{Scope, ScopeSet};
pub use secret::{ClientSecret, SecretId};
pub use trusted_issuer::{IssuerDraft, IssuerKeys, TrustedIssuer};
pub use ttl::TokenTtl;

/// How much of a caller's value an error message quotes.
const QUOTED_CHARS: usize = 40;

/// A caller's value as error messages quote it: in Rust string syntax and cut
/// to its first [`QUOTED_CHARS`] characters, so a huge value cannot swell the
/// answer (gRPC clients refuse trailers past a few KiB).
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => format!("{value:?}"),
        Some((end, _)) => format!("{:?}… ({} bytes in all)", &value[..end], value.len()),
    }
}

/// `text` with each name it puts in single quotes quoted as [`quoted`] does:
/// cut short, so a long name a library echoes is not sent back whole.
pub fn shorten_quoted(text: &str) -> String {
    let parts = text.split('\'').enumerate();
    parts.map(|(index, part)| if index % 2 == 1 { quoted(part) } else { part.to_owned() }).collect()
}

/// Why a value failed to parse, in words fit to send back to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn a_short_value_is_quoted_whole() {
        assert_eq!(quoted("read"), "\"read\"");
    }

    #[test]
    fn a_long_value_is_cut_to_a_short_prefix() {
        let long = "é".repeat(15_000);
        let shown = quoted(&long);
        assert!(shown.chars().count() < 80, "{shown}");
        assert!(shown.ends_with("(30000 bytes in all)"), "{shown}");
    }
}
