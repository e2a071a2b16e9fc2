//! A trusted issuer: a platform whose tokens may authenticate clients that
//! name one of its workloads (Kubernetes, GitHub Actions, a SPIFFE trust
//! domain), and where its keys come from.

use super::{AudienceList, InvalidValue, Jwks, JwksUri, quoted};

/// The default, least and greatest age a token from an issuer may have.
const DEFAULT_MAX_LIFETIME: i64 = 3600;
const MIN_MAX_LIFETIME: i64 = 60;
const MAX_MAX_LIFETIME: i64 = 24 * 3600;
const MAX_ISSUER_LEN: usize = 1024;

/// Where a trusted issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKeys {
    /// Registered inline.
    Inline(Jwks),
    /// Published at this URL.
    Uri(JwksUri),
    /// Published where the issuer's OIDC discovery document says.
    Discovery(JwksUri),
}

/// A platform whose tokens tokend accepts as client assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// Its tokens' `iss`, exactly.
    pub issuer: String,
    pub keys: IssuerKeys,
    /// The `aud` values accepted from it; empty accepts tokend's issuer URL.
    pub audiences: AudienceList,
    /// How old (by `iat`) or how long-lived (by `exp`) its tokens may be.
    pub max_assertion_lifetime: i64,
    /// Each of its tokens is accepted once, by its `jti`.
    pub single_use: bool,
    pub created_at: i64,
}

/// A trusted issuer as an administrator describes it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct IssuerDraft {
    pub issuer: String,
    pub jwks_uri: String,
    pub jwks: String,
    pub discovery: bool,
    pub audiences: Vec<String>,
    /// 0 selects the default, an hour.
    pub max_assertion_lifetime_seconds: i64,
    pub single_use: bool,
}

impl TrustedIssuer {
    /// Checks a draft: an issuer without spaces, keys from exactly one place.
    pub fn parse(draft: IssuerDraft, created_at: i64) -> Result<Self, InvalidValue> {
        let issuer = draft.issuer.trim();
        if issuer.is_empty()
            || issuer.len() > MAX_ISSUER_LEN
            || issuer.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InvalidValue(format!(
                "issuer {} must be 1 to {MAX_ISSUER_LEN} characters without spaces",
                quoted(issuer)
            )));
        }
        let keys = match (draft.jwks.trim(), draft.jwks_uri.trim(), draft.discovery) {
            (jwks, "", false) if !jwks.is_empty() => IssuerKeys::Inline(Jwks::parse_published(jwks)?),
            ("", uri, false) if !uri.is_empty() => IssuerKeys::Uri(JwksUri::parse("jwks_uri", uri)?),
            ("", "", true) => IssuerKeys::Discovery(JwksUri::parse("issuer (for discovery)", issuer)?),
            _ => {
                return Err(InvalidValue(
                    "give the issuer's keys in exactly one way: jwks, jwks_uri or discovery".into(),
                ));
            }
        };
        let max_assertion_lifetime = match draft.max_assertion_lifetime_seconds {
            0 => DEFAULT_MAX_LIFETIME,
            seconds if (MIN_MAX_LIFETIME..=MAX_MAX_LIFETIME).contains(&seconds) => seconds,
            seconds => {
                return Err(InvalidValue(format!(
                    "max_assertion_lifetime_seconds {seconds} is not between {MIN_MAX_LIFETIME} and {MAX_MAX_LIFETIME}"
                )));
            }
        };
        Ok(Self {
            issuer: issuer.to_owned(),
            keys,
            audiences: AudienceList::parse_each(draft.audiences.iter().map(String::as_str))?,
            max_assertion_lifetime,
            single_use: draft.single_use,
            created_at,
        })
    }

    /// The draft that describes this issuer.
    pub fn to_draft(&self) -> IssuerDraft {
        let (jwks, jwks_uri, discovery) = match &self.keys {
            IssuerKeys::Inline(jwks) => (jwks.as_str().to_owned(), String::new(), false),
            IssuerKeys::Uri(uri) => (String::new(), uri.to_string(), false),
            IssuerKeys::Discovery(_) => (String::new(), String::new(), true),
        };
        IssuerDraft {
            issuer: self.issuer.clone(),
            jwks_uri,
            jwks,
            discovery,
            audiences: self.audiences.to_strings(),
            max_assertion_lifetime_seconds: self.max_assertion_lifetime,
            single_use: self.single_use,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(jwks: &str, jwks_uri: &str, discovery: bool) -> IssuerDraft {
        IssuerDraft {
            issuer: "https://token.actions.githubusercontent.com".into(),
            jwks: jwks.into(),
            jwks_uri: jwks_uri.into(),
            discovery,
            ..IssuerDraft::default()
        }
    }

    #[test]
    fn keys_come_from_exactly_one_place() {
        assert!(TrustedIssuer::parse(draft("", "", false), 0).is_err());
        assert!(TrustedIssuer::parse(draft("", "https://a.example/jwks", true), 0).is_err());
        let issuer = TrustedIssuer::parse(draft("", "", true), 0).unwrap();
        assert!(matches!(issuer.keys, IssuerKeys::Discovery(_)));
        assert_eq!(issuer.max_assertion_lifetime, DEFAULT_MAX_LIFETIME);
        let back = TrustedIssuer::parse(issuer.to_draft(), 0).unwrap();
        assert_eq!(back, issuer);
    }

    #[test]
    fn discovery_needs_an_https_issuer_and_lifetimes_are_bounded() {
        let mut not_a_url = draft("", "", true);
        not_a_url.issuer = "kubernetes".into();
        assert!(TrustedIssuer::parse(not_a_url, 0).is_err());
        let mut forever = draft("", "", true);
        forever.max_assertion_lifetime_seconds = 30 * 24 * 3600;
        assert!(TrustedIssuer::parse(forever, 0).is_err());
    }
}
