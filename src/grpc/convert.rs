//! Conversions between protobuf messages and authority types.

use prost_types::{FieldMask, Timestamp};

use super::EncodedStruct;
use crate::contract::pb;
use crate::{
    authority::{AuthDraft, AuthError, ClientChanges, ClientDraft, IdentityDraft, KeyInfo},
    domain::{ClientDetails, IssuerDraft, SecretInfo, SecretMaxAge, TrustedIssuer, quoted},
};

/// The paths an `UpdateClient` mask may name.
const UPDATABLE: &str = "display_name, allowed_scopes, default_scopes, audiences, token_ttl_seconds, active, \
     token_endpoint_auth_methods, tls_client_auth_subject_dn, tls_client_auth_san_dns, \
     tls_client_auth_san_uri, jwks, jwks_uri, tls_client_certificate_bound_access_tokens, rate_limit_per_second, \
     rate_limit_burst, secret_max_age_seconds, federated_identities, claims, token_exchange_audiences, \
     dpop_bound_access_tokens, txn_token_requester, grant_types";

fn timestamp(seconds: i64) -> Timestamp {
    Timestamp { seconds, nanos: 0 }
}

impl From<ClientDetails> for pb::Client {
    fn from(details: ClientDetails) -> Self {
        let client = details.client;
        let active = client.is_active();
        let auth = AuthDraft::from(&client.auth);
        pb::Client {
            client_id: client.id.to_string(),
            display_name: client.display_name,
            allowed_scopes: client.allowed_scopes.to_strings(),
            default_scopes: client.default_scopes.to_strings(),
            audiences: client.audiences.to_strings(),
            token_ttl_seconds: client.token_ttl.seconds(),
            active,
            create_time: Some(timestamp(client.created_at)),
            update_time: Some(timestamp(client.updated_at)),
            secrets: details.secrets.into_iter().map(pb::SecretInfo::from).collect(),
            token_endpoint_auth_methods: auth.methods,
            tls_client_auth_subject_dn: auth.tls_subject_dn,
            tls_client_auth_san_dns: auth.tls_san_dns,
            tls_client_auth_san_uri: auth.tls_san_uri,
            jwks: auth.jwks,
            jwks_uri: auth.jwks_uri,
            tls_client_certificate_bound_access_tokens: auth.bound_tokens,
            dpop_bound_access_tokens: auth.dpop_bound,
            federated_identities: auth.federated.into_iter().map(pb::FederatedIdentity::from).collect(),
            rate_limit_per_second: client.rate_limit.map_or(0, |limit| limit.per_second),
            rate_limit_burst: client.rate_limit.map_or(0, |limit| limit.burst),
            secret_max_age_seconds: client.secret_max_age.map_or(0, SecretMaxAge::seconds),
            claims: EncodedStruct::of_claims(&client.claims),
            token_exchange_audiences: client.token_exchange_audiences.to_strings(),
            txn_token_requester: client.txn_token_requester,
            grant_types: client.grant_types.to_strings(),
        }
    }
}

impl From<IdentityDraft> for pb::FederatedIdentity {
    fn from(identity: IdentityDraft) -> Self {
        pb::FederatedIdentity {
            issuer: identity.issuer,
            subject: identity.subject,
            claims: identity.claims.into_iter().collect(),
        }
    }
}

impl From<pb::FederatedIdentity> for IdentityDraft {
    fn from(identity: pb::FederatedIdentity) -> Self {
        IdentityDraft {
            issuer: identity.issuer,
            subject: identity.subject,
            claims: identity.claims.into_iter().collect(),
        }
    }
}

impl From<TrustedIssuer> for pb::TrustedIssuer {
    fn from(issuer: TrustedIssuer) -> Self {
        let draft = issuer.to_draft();
        pb::TrustedIssuer {
            issuer: draft.issuer,
            jwks_uri: draft.jwks_uri,
            jwks: draft.jwks,
            discovery: draft.discovery,
            audiences: draft.audiences,
            max_assertion_lifetime_seconds: draft.max_assertion_lifetime_seconds,
            create_time: Some(timestamp(issuer.created_at)),
            single_use: draft.single_use,
        }
    }
}

impl From<pb::CreateTrustedIssuerRequest> for IssuerDraft {
    fn from(request: pb::CreateTrustedIssuerRequest) -> Self {
        IssuerDraft {
            issuer: request.issuer,
            jwks_uri: request.jwks_uri,
            jwks: request.jwks,
            discovery: request.discovery,
            audiences: request.audiences,
            max_assertion_lifetime_seconds: request.max_assertion_lifetime_seconds,
            single_use: request.single_use,
        }
    }
}

impl From<SecretInfo> for pb::SecretInfo {
    fn from(secret: SecretInfo) -> Self {
        pb::SecretInfo {
            secret_id: secret.id.to_string(),
            create_time: Some(timestamp(secret.created_at)),
            expire_time: secret.expires_at.map(timestamp),
            last_used_time: secret.last_used_at.map(timestamp),
        }
    }
}

impl From<KeyInfo> for pb::SigningKey {
    fn from(key: KeyInfo) -> Self {
        use pb::signing_key::State;
        let state = match (key.signing, key.pending) {
            (true, _) => State::Signing,
            (false, true) => State::Pending,
            (false, false) => State::Verifying,
        };
        pb::SigningKey {
            kid: key.kid,
            algorithm: key.algorithm,
            create_time: Some(timestamp(key.created_at)),
            active_time: Some(timestamp(key.active_from)),
            state: state.into(),
        }
    }
}

impl From<pb::CreateClientRequest> for ClientDraft {
    fn from(request: pb::CreateClientRequest) -> Self {
        ClientDraft {
            client_id: request.client_id,
            display_name: request.display_name,
            allowed_scopes: request.allowed_scopes,
            default_scopes: request.default_scopes,
            audiences: request.audiences,
            token_ttl_seconds: request.token_ttl_seconds,
            auth: AuthDraft {
                methods: request.token_endpoint_auth_methods,
                tls_subject_dn: request.tls_client_auth_subject_dn,
                tls_san_dns: request.tls_client_auth_san_dns,
                tls_san_uri: request.tls_client_auth_san_uri,
                jwks: request.jwks,
                jwks_uri: request.jwks_uri,
                federated: request.federated_identities.into_iter().map(IdentityDraft::from).collect(),
                bound_tokens: request.tls_client_certificate_bound_access_tokens,
                dpop_bound: request.dpop_bound_access_tokens,
            },
            rate_limit_per_second: request.rate_limit_per_second,
            rate_limit_burst: request.rate_limit_burst,
            secret_max_age_seconds: request.secret_max_age_seconds,
            claims: request.claims.map(|claims| claims.members()).unwrap_or_default(),
            token_exchange_audiences: request.token_exchange_audiences,
            txn_token_requester: request.txn_token_requester,
            grant_types: request.grant_types,
        }
    }
}

/// Picks the fields named by `mask` out of `client`. An empty mask or an
/// unknown path is an error: guessing would let a proto3 default (an empty
/// list, `active = false`) silently overwrite a real value.
pub fn changes(client: pb::Client, mask: Option<FieldMask>) -> Result<ClientChanges, AuthError> {
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(AuthError::InvalidArgument("update_mask must name at least one field".into()));
    }
    let mut changes = ClientChanges::default();
    for path in paths {
        match path.as_str() {
            "display_name" => changes.display_name = Some(client.display_name.clone()),
            "allowed_scopes" => changes.allowed_scopes = Some(client.allowed_scopes.clone()),
            "default_scopes" => changes.default_scopes = Some(client.default_scopes.clone()),
            "audiences" => changes.audiences = Some(client.audiences.clone()),
            "token_ttl_seconds" => changes.token_ttl_seconds = Some(client.token_ttl_seconds),
            "active" => changes.active = Some(client.active),
            "token_endpoint_auth_methods" => {
                changes.auth_methods = Some(client.token_endpoint_auth_methods.clone())
            }
            "tls_client_auth_subject_dn" => {
                changes.tls_subject_dn = Some(client.tls_client_auth_subject_dn.clone())
            }
            "tls_client_auth_san_dns" => changes.tls_san_dns = Some(client.tls_client_auth_san_dns.clone()),
            "tls_client_auth_san_uri" => changes.tls_san_uri = Some(client.tls_client_auth_san_uri.clone()),
            "jwks" => changes.jwks = Some(client.jwks.clone()),
            "jwks_uri" => changes.jwks_uri = Some(client.jwks_uri.clone()),
            "federated_identities" => {
                let identities = client.federated_identities.iter().cloned().map(IdentityDraft::from);
                changes.federated = Some(identities.collect())
            }
            "rate_limit_per_second" => changes.rate_limit_per_second = Some(client.rate_limit_per_second),
            "rate_limit_burst" => changes.rate_limit_burst = Some(client.rate_limit_burst),
            "secret_max_age_seconds" => changes.secret_max_age_seconds = Some(client.secret_max_age_seconds),
            "token_exchange_audiences" => {
                changes.token_exchange_audiences = Some(client.token_exchange_audiences.clone())
            }
            "claims" => {
                changes.claims = Some(client.claims.as_ref().map(EncodedStruct::members).unwrap_or_default())
            }
            "tls_client_certificate_bound_access_tokens" => {
                changes.bound_tokens = Some(client.tls_client_certificate_bound_access_tokens)
            }
            "dpop_bound_access_tokens" => changes.dpop_bound = Some(client.dpop_bound_access_tokens),
            "txn_token_requester" => changes.txn_token_requester = Some(client.txn_token_requester),
            "grant_types" => changes.grant_types = Some(client.grant_types.clone()),
            other => {
                return Err(AuthError::InvalidArgument(format!(
                    "update_mask path {} is not one of {UPDATABLE}",
                    quoted(other)
                )));
            }
        }
    }
    Ok(changes)
}
