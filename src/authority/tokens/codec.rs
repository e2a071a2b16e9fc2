//! Access tokens as JWTs (RFC 9068): what they claim, how they are signed and checked.

use std::sync::{Arc, PoisonError, RwLock};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};

use super::{exchange::Act, verified::VerifiedTokens};
use crate::authority::{AuthError, Clock, KeyRing, TokenStatus};
use crate::domain::{AudienceList, ClientClaims, ClientId, ScopeSet, TokenTtl};

pub use tokend_common::wire::ACCESS_TOKEN_TYP;

/// The claims of an access token. `sub` and `client_id` are both the client,
/// since in the client-credentials grant the client acts for itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    pub aud: Vec<String>,
    pub scope: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// What the token is bound to (RFC 8705 §3); absent for bearer tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The platform workload that proved itself as the client, when a
    /// federated identity authenticated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated: Option<Federated>,
    /// Who acts for `sub` (RFC 8693 §4.1), in a token made by delegation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
    /// Where the token's status sits in a Token Status List.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TokenStatus>,
    /// The client's fixed claims, as members of the token's own claims.
    #[serde(flatten)]
    pub claims: ClientClaims,
}

/// Where a federated client's identity came from: the platform's token's
/// issuer and subject (a service account, a repository, a SPIFFE ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Federated {
    pub iss: String,
    pub sub: String,
}

/// A bound token's confirmation claim (RFC 7800): the thumbprint of the
/// client certificate (RFC 8705) or of the DPoP key (RFC 9449) it must be
/// presented with. A token is bound to one or the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

impl Confirmation {
    /// Bound to the certificate with this thumbprint.
    pub fn certificate(x5t_s256: String) -> Self {
        Self { x5t_s256: Some(x5t_s256), jkt: None }
    }

    /// Bound to the DPoP key with this thumbprint.
    pub fn dpop_key(jkt: String) -> Self {
        Self { x5t_s256: None, jkt: Some(jkt) }
    }
}

impl AccessClaims {
    /// Whether the token may be accepted at `now`: from `nbf` on, and before
    /// `exp`, "the time on or after which the JWT must not be accepted" (RFC
    /// 7519 §4.1.4). `now` is whole seconds rounded down, so `now < exp` holds
    /// exactly while the true time is before `exp`.
    pub fn is_live_at(&self, now: i64) -> bool {
        self.nbf <= now && now < self.exp
    }

    /// Whether the token may be used over a connection whose client
    /// certificate has the thumbprint `presenting`: any connection for a
    /// bearer token, that certificate's only for a bound one (RFC 8705 §3).
    pub fn is_presented_with(&self, presenting: Option<&str>) -> bool {
        self.certificate().is_none_or(|x5t| presenting == Some(x5t))
    }

    /// The thumbprint of the certificate the token is bound to, if it is.
    pub fn certificate(&self) -> Option<&str> {
        self.cnf.as_ref().and_then(|cnf| cnf.x5t_s256.as_deref())
    }

    /// The thumbprint of the DPoP key the token is bound to, if it is.
    pub fn dpop_key(&self) -> Option<&str> {
        self.cnf.as_ref().and_then(|cnf| cnf.jkt.as_deref())
    }

    /// `DPoP` for a DPoP-bound token, `Bearer` for any other (RFC 9449 §5).
    pub fn token_type(&self) -> &'static str {
        if self.dpop_key().is_some() { "DPoP" } else { "Bearer" }
    }

    /// The registration tag of the client the token was issued to (see
    /// `Client::registration`); empty for tokens of clients without one.
    pub fn registration(&self) -> &str {
        self.jti.split_once('.').map_or("", |(tag, _)| tag)
    }

    /// Whether the token speaks for a client other than the one it was
    /// issued to: made by delegation, `sub` naming the client acted for.
    pub fn is_delegated(&self) -> bool {
        self.sub != self.client_id
    }

    /// The registration tag of the client a delegated token acts for, which
    /// its `jti` carries after the issued-to client's; `None` for tokens made
    /// before it did, and for tokens that are not delegated.
    pub fn subject_registration(&self) -> Option<&str> {
        let mut parts = self.jti.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(subject), Some(_)) => Some(subject),
            _ => None,
        }
    }
}

/// The client a delegated token acts for.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Its client id, the token's `sub`.
    pub id: String,
    /// Its registration tag, when the token it was exchanged from carried it.
    pub registration: Option<String>,
}

impl Subject {
    /// Whom `claims` speak for, with the registration they were made under.
    pub fn of(claims: &AccessClaims) -> Self {
        let registration = match claims.is_delegated() {
            true => claims.subject_registration(),
            false => Some(claims.registration()),
        };
        let registration = registration.filter(|tag| !tag.is_empty()).map(str::to_owned);
        Subject { id: claims.sub.clone(), registration }
    }
}

/// What a token is granted: the outcome of the grant rules.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: ClientId,
    /// The client's registration tag, which the token's `jti` carries.
    pub registration: String,
    pub scopes: ScopeSet,
    pub audiences: AudienceList,
    pub ttl: TokenTtl,
    /// What the token is bound to, if anything: a certificate or a DPoP key.
    pub cnf: Option<Confirmation>,
    /// The platform workload that authenticated as the client, if one did.
    pub federated: Option<Federated>,
    /// The client's fixed claims (shared, encoded once).
    pub claims: ClientClaims,
    /// The client acted for, when it is not the client (a delegated token).
    pub subject: Option<Subject>,
    /// Who acts for `subject`, in a delegated token.
    pub act: Option<Act>,
    /// When the token must expire at the latest (an exchanged token's subject's `exp`).
    pub not_after: Option<i64>,
    /// Where its status will sit, if tokens carry one.
    pub status: Option<TokenStatus>,
}

/// Signs new tokens and checks presented ones against the issuer's keys.
pub struct TokenCodec {
    keys: RwLock<Arc<KeyRing>>,
    issuer: String,
    verified: VerifiedTokens,
    clock: Clock,
}

impl TokenCodec {
    pub fn new(keys: KeyRing, issuer: String, clock: Clock) -> Self {
        Self { keys: RwLock::new(Arc::new(keys)), issuer, verified: VerifiedTokens::new(), clock }
    }

    /// Puts a rebuilt key ring in place; calls in flight finish with the old one.
    pub fn replace_keys(&self, keys: KeyRing) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        self.verified.clear();
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Signs a token for `grant`, valid from `now` for the grant's lifetime.
    pub fn mint(&self, grant: &Grant, now: i64) -> Result<(String, AccessClaims), AuthError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: grant
                .subject
                .as_ref()
                .map_or_else(|| grant.client_id.to_string(), |subject| subject.id.clone()),
            client_id: grant.client_id.to_string(),
            aud: grant.audiences.to_strings(),
            scope: grant.scopes.to_string(),
            iat: now,
            nbf: now,
            exp: grant.not_after.map_or(now + grant.ttl.seconds(), |at| at.min(now + grant.ttl.seconds())),
            jti: new_jti(&grant.registration, grant.subject.as_ref().and_then(|s| s.registration.as_deref())),
            cnf: grant.cnf.clone(),
            federated: grant.federated.clone(),
            claims: grant.claims.clone(),
            act: grant.act.clone(),
            status: grant.status.clone(),
        };
        let token = self.keys().signing.sign_jwt(&claims)?;
        Ok((token, claims))
    }

    /// The claims of a token this issuer signed that is within its lifetime;
    /// `None` for anything else: malformed, foreign, tampered, expired, not yet valid.
    /// Says nothing of revocation or of the client's state.
    pub fn decode(&self, token: &str) -> Option<AccessClaims> {
        let now = self.clock.now();
        if let Some(claims) = self.verified.get(token, now) {
            return Some(claims);
        }
        let claims = self.verify(token, now)?;
        self.verified.insert(token, &claims, now);
        Some(claims)
    }

    /// The full check: header, key, signature (in its one valid form), issuer
    /// and lifetime at `now`.
    fn verify(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let keys = self.keys();
        let key = keys.key_for(token, ACCESS_TOKEN_TYP)?;
        let mut validation = Validation::new(key.algorithm);
        // The lifetime is checked below, on the authority's clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub", "aud"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation).ok()?.claims;
        claims.is_live_at(now).then_some(claims)
    }
}

/// `N` random bytes in base64url: unique without coordination between instances.
pub(crate) fn random_tag<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 128 random bits, after the client's registration tag and a dot when it
/// has one, and in a delegated token the acted-for client's tag and a dot
/// between them (the tags are base64url, without dots).
fn new_jti(registration: &str, subject_registration: Option<&str>) -> String {
    match (registration, subject_registration) {
        ("", _) => random_tag::<16>(),
        (tag, None) => format!("{tag}.{}", random_tag::<16>()),
        (tag, Some(subject)) => format!("{tag}.{subject}.{}", random_tag::<16>()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use serde_json::Value;
    use tokend_common::claim_names;

    use super::*;
    use crate::{
        authority::{KeyCustody, KeySealer, SigningAlgorithm, StatusListEntry},
        store::Store,
    };

    /// A codec with a real ES256 key, made once for every case, and a token it minted.
    fn minted() -> &'static (TokenCodec, String) {
        static MINTED: OnceLock<(TokenCodec, String)> = OnceLock::new();
        MINTED.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let dir = tempfile::tempdir().unwrap();
            let clock = Clock::system();
            let ring = runtime.block_on(async {
                let store =
                    Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display())).await.unwrap();
                store.migrate().await.unwrap();
                let sealer = KeyCustody::sealed(Arc::new(KeySealer::from_bytes(&[5; 32]).unwrap()));
                KeyRing::load_or_create(&store, SigningAlgorithm::Es256, clock.now(), &sealer).await.unwrap()
            });
            let codec = TokenCodec::new(ring, "https://tokend.example".into(), clock.clone());
            let (token, _) = codec.mint(&test_grant(Default::default()), clock.now()).unwrap();
            (codec, token)
        })
    }

    fn test_grant(claims: ClientClaims) -> Grant {
        Grant {
            client_id: ClientId::parse("svc").unwrap(),
            registration: "r".into(),
            scopes: ScopeSet::parse_delimited("read").unwrap(),
            audiences: AudienceList::parse_each(["api"]).unwrap(),
            ttl: TokenTtl::DEFAULT,
            cnf: Some(Confirmation::dpop_key("k".into())),
            federated: None,
            claims,
            subject: None,
            act: None,
            not_after: None,
            status: Some(TokenStatus {
                status_list: StatusListEntry { idx: 7, uri: "https://tokend.example/status/0".into() },
            }),
        }
    }

    proptest! {
        #[test]
        fn no_token_names_a_claim_twice_whatever_claims_a_client_has(
            names in proptest::collection::vec("(status|Status|iss|sub|cnf|txn|tenant|roles|[a-zA-Z_]{1,8})", 0..6),
        ) {
            let members = names.iter().map(|name| (name.clone(), Value::from(1))).collect();
            if let Ok(claims) = ClientClaims::from_members(members) {
                let (token, _) = minted().0.mint(&test_grant(claims), 1).unwrap();
                prop_assert!(claim_names::payload_names_are_unique(&token), "{:?}", names);
            }
        }

        #[test]
        fn any_text_is_refused_without_panicking(raw in ".{0,400}") {
            prop_assert!(minted().0.decode(&raw).is_none());
        }

        #[test]
        fn a_token_with_any_one_character_changed_is_refused(at in any::<prop::sample::Index>(), with in "[A-Za-z0-9_.-]") {
            let (codec, token) = minted();
            prop_assert!(codec.decode(token).is_some(), "the token as minted is good");
            let at = at.index(token.len());
            prop_assume!(token[at..at + 1] != with);
            let tampered = format!("{}{with}{}", &token[..at], &token[at + 1..]);
            prop_assert!(codec.decode(&tampered).is_none(), "changed at {}: {}", at, tampered);
        }
    }

    #[test]
    fn a_delegated_token_names_the_registration_it_acts_for() {
        let minted = |jti: &str, sub: &str| AccessClaims {
            sub: sub.into(),
            jti: jti.into(),
            ..minted().0.decode(&minted().1).unwrap()
        };
        let own = minted("r1.x", "svc");
        assert!(!own.is_delegated());
        assert_eq!(Subject::of(&own).registration.as_deref(), Some("r1"), "a client's own token: its tag");
        let delegated = minted("r2.r1.x", "user-svc");
        assert!(delegated.is_delegated());
        assert_eq!((delegated.registration(), delegated.subject_registration()), ("r2", Some("r1")));
        assert_eq!(Subject::of(&delegated).registration.as_deref(), Some("r1"), "carried across hops");
        let older = minted("r2.x", "user-svc");
        assert_eq!(older.subject_registration(), None, "made before tokens carried it");
        assert_eq!(Subject::of(&minted("x", "svc")).registration, None, "no tag is no tag, not an empty one");
    }
}
