//! Conversions between store rows and domain clients.

use crate::{
    authority::AuthError,
    domain::{
        AudienceList, AuthMethods, CertificateSubject, Client, ClientAuth, ClientClaims, ClientId,
        FederatedIdentity, GrantTypes, InvalidValue, Jwks, JwksUri, RateLimit, ScopeSet, SecretId,
        SecretInfo, SecretMaxAge, TokenTtl,
    },
    store::{ClientRow, SecretRow},
};

impl TryFrom<ClientRow> for Client {
    type Error = AuthError;

    /// A row that does not parse was not written by this code: an internal fault.
    fn try_from(row: ClientRow) -> Result<Self, Self::Error> {
        let corrupt =
            |err| AuthError::internal(format!("stored client {:?} is corrupt: {err}", row.client_id));
        Ok(Client {
            id: ClientId::parse(&row.client_id).map_err(corrupt)?,
            display_name: row.display_name.clone(),
            allowed_scopes: ScopeSet::parse_delimited(&row.allowed_scopes).map_err(corrupt)?,
            default_scopes: ScopeSet::parse_delimited(&row.default_scopes).map_err(corrupt)?,
            audiences: AudienceList::parse_each(row.audiences.split_whitespace()).map_err(corrupt)?,
            token_ttl: TokenTtl::parse(row.token_ttl_seconds).map_err(corrupt)?,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            registration: row.registration.clone(),
            auth: ClientAuth {
                methods: AuthMethods::parse_each(row.auth_methods.split_whitespace()).map_err(corrupt)?,
                tls_subject: CertificateSubject::parse(
                    &row.tls_subject_dn,
                    &row.tls_san_dns,
                    &row.tls_san_uri,
                )
                .map_err(corrupt)?,
                jwks: match row.jwks.as_str() {
                    "" => None,
                    // Checked strictly when registered; read back leniently, so a set
                    // registered before a rule was added still loads.
                    jwks => Some(Jwks::parse_published(jwks).map_err(corrupt)?),
                },
                jwks_uri: match row.jwks_uri.as_str() {
                    "" => None,
                    uri => Some(JwksUri::parse("jwks_uri", uri).map_err(corrupt)?),
                },
                federated: FederatedIdentity::parse_stored(&row.federated_identities).map_err(corrupt)?,
                bound_tokens: row.bound_tokens != 0,
                dpop_bound: row.dpop_bound != 0,
            },
            rate_limit: RateLimit::parse(
                count(row.rate_limit_per_second).map_err(corrupt)?,
                count(row.rate_limit_burst).map_err(corrupt)?,
            )
            .map_err(corrupt)?,
            secret_max_age: SecretMaxAge::parse(row.secret_max_age_seconds).map_err(corrupt)?,
            claims: stored_claims(&row.client_id, &row.claims).map_err(corrupt)?,
            token_exchange_audiences: AudienceList::parse_each(
                row.token_exchange_audiences.split_whitespace(),
            )
            .map_err(corrupt)?,
            txn_token_requester: row.txn_token_requester != 0,
            grant_types: GrantTypes::parse_each(row.grant_types.split_whitespace()).map_err(corrupt)?,
            registered_dynamically: row.registered_dynamically != 0,
        })
    }
}

/// A client's stored claims, less (and logging) any name reserved since they were set.
fn stored_claims(client_id: &str, text: &str) -> Result<ClientClaims, InvalidValue> {
    let (claims, left_out) = ClientClaims::from_stored(text)?;
    if !left_out.is_empty() {
        tracing::warn!(
            client_id,
            left_out = ?left_out,
            "the client's claims use names tokend reserves; its tokens leave them out until its claims are set again"
        );
    }
    Ok(claims)
}

/// A stored count that must fit a `u32`.
fn count(value: i64) -> Result<u32, InvalidValue> {
    u32::try_from(value).map_err(|_| InvalidValue(format!("{value} is not a count")))
}

impl From<&Client> for ClientRow {
    fn from(client: &Client) -> Self {
        let [tls_subject_dn, tls_san_dns, tls_san_uri] =
            CertificateSubject::fields(client.auth.tls_subject.as_ref());
        ClientRow {
            client_id: client.id.to_string(),
            display_name: client.display_name.clone(),
            allowed_scopes: client.allowed_scopes.to_string(),
            default_scopes: client.default_scopes.to_string(),
            audiences: client.audiences.to_strings().join(" "),
            token_ttl_seconds: client.token_ttl.seconds(),
            disabled_at: client.disabled_at,
            created_at: client.created_at,
            updated_at: client.updated_at,
            registration: client.registration.clone(),
            auth_methods: client.auth.methods.to_string(),
            tls_subject_dn,
            tls_san_dns,
            tls_san_uri,
            jwks: client.auth.jwks.as_ref().map(|keys| keys.as_str().to_owned()).unwrap_or_default(),
            bound_tokens: i64::from(client.auth.bound_tokens),
            rate_limit_per_second: client.rate_limit.map_or(0, |limit| limit.per_second.into()),
            rate_limit_burst: client.rate_limit.map_or(0, |limit| limit.burst.into()),
            secret_max_age_seconds: client.secret_max_age.map_or(0, SecretMaxAge::seconds),
            jwks_uri: client.auth.jwks_uri.as_ref().map(|uri| uri.to_string()).unwrap_or_default(),
            federated_identities: FederatedIdentity::to_stored(&client.auth.federated),
            claims: client.claims.as_json().to_owned(),
            token_exchange_audiences: client.token_exchange_audiences.to_strings().join(" "),
            dpop_bound: i64::from(client.auth.dpop_bound),
            txn_token_requester: i64::from(client.txn_token_requester),
            grant_types: client.grant_types.to_string(),
            registered_dynamically: i64::from(client.registered_dynamically),
        }
    }
}

impl From<SecretRow> for SecretInfo {
    fn from(row: SecretRow) -> Self {
        SecretInfo {
            id: SecretId::from_stored(row.secret_id),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        }
    }
}
