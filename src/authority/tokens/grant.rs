//! The grant rules: which scopes and audiences a client's token carries.

use super::Grant;
use crate::authority::AuthError;
use crate::domain::{Audience, AudienceList, Client, GrantType, ScopeSet, quoted};

/// Decides what a token for `client` grants by `grant` (client credentials,
/// or the JWT bearer grant, which gives the very same token).
///
/// - Only a client whose `grant_types` include `grant` gets one.
/// - No scope asked: the client's default scopes, or `invalid_scope` when it
///   has none but may ask for some. Otherwise every scope asked must be allowed, or the request
///   fails naming the first that is not.
/// - No audience asked: the client's audiences, or `default_audience` when it
///   has none. Otherwise every audience asked must be among those.
pub fn decide(
    client: &Client,
    grant: GrantType,
    scopes: ScopeSet,
    audiences: AudienceList,
    default_audience: &Audience,
) -> Result<Grant, AuthError> {
    allowed(client, grant)?;
    own_token(client, scopes, audiences, default_audience)
}

/// `unauthorized_client` unless the client's `grant_types` include `grant`.
fn allowed(client: &Client, grant: GrantType) -> Result<(), AuthError> {
    match client.grant_types.contains(grant) {
        true => Ok(()),
        false => Err(AuthError::UnauthorizedClient(format!(
            "this client may not use the {} grant: its grant_types do not include it",
            grant.as_str()
        ))),
    }
}

/// The client's own token: its scopes and audiences, as asked within its registration.
fn own_token(
    client: &Client,
    scopes: ScopeSet,
    audiences: AudienceList,
    default_audience: &Audience,
) -> Result<Grant, AuthError> {
    let scopes = match scopes_within(scopes, &client.allowed_scopes, "allowed for this client")? {
        Some(asked) => asked,
        None => defaults_of(client)?,
    };
    let permitted = if client.audiences.is_empty() {
        AudienceList::single(default_audience.clone())
    } else {
        client.audiences.clone()
    };
    let audiences = audiences_within(audiences, &permitted, "allowed for this client")?.unwrap_or(permitted);
    Ok(Grant::for_client(client, scopes, audiences))
}

/// The client's default scopes, for a request that names none; RFC 6749
/// §3.3: a client that may ask for scopes but has no defaults is refused,
/// never given a token without scope by surprise. A client allowed no scope
/// at all (audiences alone say what its tokens are for) gets none.
fn defaults_of(client: &Client) -> Result<ScopeSet, AuthError> {
    match client.default_scopes.is_empty() && !client.allowed_scopes.is_empty() {
        false => Ok(client.default_scopes.clone()),
        true => Err(AuthError::InvalidScope(format!(
            "this client has no default scopes; ask for one of: {}",
            client.allowed_scopes
        ))),
    }
}

/// The scopes asked for, if any, once every one is within `permitted`;
/// otherwise `invalid_scope` naming the first that is not (`is not {what}`).
pub fn scopes_within(
    asked: ScopeSet,
    permitted: &ScopeSet,
    what: &str,
) -> Result<Option<ScopeSet>, AuthError> {
    if asked.is_empty() {
        return Ok(None);
    }
    match asked.first_outside(permitted) {
        Some(scope) => {
            Err(AuthError::InvalidScope(format!("scope {} is not {what}", quoted(scope.as_str()))))
        }
        None => Ok(Some(asked)),
    }
}

/// The audiences asked for, if any, once every one is within `permitted`;
/// otherwise `invalid_target` naming the first that is not.
pub fn audiences_within(
    asked: AudienceList,
    permitted: &AudienceList,
    what: &str,
) -> Result<Option<AudienceList>, AuthError> {
    if asked.is_empty() {
        return Ok(None);
    }
    match asked.first_outside(permitted) {
        Some(audience) => {
            Err(AuthError::InvalidTarget(format!("audience {} is not {what}", quoted(audience.as_str()))))
        }
        None => Ok(Some(asked)),
    }
}

impl Grant {
    /// A plain grant to `client`: its own token, with its fixed claims.
    pub fn for_client(client: &Client, scopes: ScopeSet, audiences: AudienceList) -> Self {
        Grant {
            client_id: client.id.clone(),
            registration: client.registration.clone(),
            scopes,
            audiences,
            ttl: client.token_ttl,
            cnf: None,
            federated: None,
            claims: client.claims.clone(),
            subject: None,
            act: None,
            not_after: None,
            status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, GrantTypes, TokenTtl};

    fn client(allowed: &str, defaults: &str, audiences: &[&str]) -> Client {
        Client {
            id: ClientId::parse("orders-worker").unwrap(),
            display_name: String::new(),
            allowed_scopes: ScopeSet::parse_delimited(allowed).unwrap(),
            default_scopes: ScopeSet::parse_delimited(defaults).unwrap(),
            audiences: AudienceList::parse_each(audiences.iter().copied()).unwrap(),
            token_ttl: TokenTtl::DEFAULT,
            disabled_at: None,
            created_at: 0,
            updated_at: 0,
            registration: "r1".into(),
            auth: Default::default(),
            rate_limit: None,
            secret_max_age: None,
            claims: Default::default(),
            token_exchange_audiences: Default::default(),
            txn_token_requester: false,
            grant_types: GrantTypes::DEFAULT,
            registered_dynamically: false,
        }
    }

    fn decide_own(
        client: &Client,
        scopes: ScopeSet,
        audiences: AudienceList,
        fallback: &Audience,
    ) -> Result<Grant, AuthError> {
        decide(client, GrantType::ClientCredentials, scopes, audiences, fallback)
    }

    fn fallback() -> Audience {
        Audience::parse("tokend").unwrap()
    }

    fn scopes(raw: &str) -> ScopeSet {
        ScopeSet::parse_delimited(raw).unwrap()
    }

    #[test]
    fn no_scope_asked_grants_the_default_scopes() {
        let grant =
            decide_own(&client("read write", "read", &[]), scopes(""), AudienceList::default(), &fallback())
                .unwrap();
        assert_eq!(grant.scopes.to_string(), "read");
    }

    #[test]
    fn no_scope_asked_of_a_client_without_defaults_is_invalid_scope_naming_what_it_may_ask() {
        let none = |allowed| {
            decide_own(&client(allowed, "", &[]), scopes(""), AudienceList::default(), &fallback())
                .unwrap_err()
        };
        let err = none("read write");
        assert!(matches!(err, AuthError::InvalidScope(ref m) if m.contains("one of: read write")), "{err:?}");
        let audiences_only =
            decide_own(&client("", "", &[]), scopes(""), AudienceList::default(), &fallback());
        assert!(audiences_only.unwrap().scopes.is_empty(), "a client allowed no scope gets none");
    }

    #[test]
    fn a_scope_outside_the_allowed_set_is_named_in_the_error() {
        let err =
            decide_own(&client("read", "", &[]), scopes("read admin"), AudienceList::default(), &fallback())
                .unwrap_err();
        assert!(matches!(err, AuthError::InvalidScope(ref m) if m.contains("\"admin\"")), "{err:?}");
    }

    #[test]
    fn a_client_without_audiences_gets_the_default_audience() {
        let grant =
            decide_own(&client("read", "read", &[]), scopes(""), AudienceList::default(), &fallback())
                .unwrap();
        assert_eq!(grant.audiences.to_strings(), ["tokend"]);
    }

    #[test]
    fn an_audience_the_client_lacks_is_refused() {
        let asked = AudienceList::parse_each(["billing"]).unwrap();
        let err =
            decide_own(&client("read", "", &["orders"]), scopes("read"), asked, &fallback()).unwrap_err();
        assert!(matches!(err, AuthError::InvalidTarget(_)), "{err:?}");
    }

    #[test]
    fn asking_for_some_audiences_narrows_the_token_to_them() {
        let asked = AudienceList::parse_each(["orders"]).unwrap();
        let grant =
            decide_own(&client("read", "read", &["orders", "billing"]), scopes(""), asked, &fallback())
                .unwrap();
        assert_eq!(grant.audiences.to_strings(), ["orders"]);
    }

    #[test]
    fn a_client_whose_grant_types_lack_client_credentials_gets_none_that_way() {
        let jwt_only = Client {
            grant_types: GrantTypes::parse_each(["urn:ietf:params:oauth:grant-type:jwt-bearer"]).unwrap(),
            ..client("read", "read", &[])
        };
        let err = decide_own(&jwt_only, scopes(""), AudienceList::default(), &fallback()).unwrap_err();
        assert!(matches!(err, AuthError::UnauthorizedClient(_)), "{err:?}");
    }
}
