//! Token exchange (RFC 8693): a client turns a token it holds into a
//! narrower one (its own token, down-scoped) or a delegated one (another
//! client's token, for an audience its registration names, with `act`
//! saying who acts).

use serde::{Deserialize, Serialize};

use super::{AccessClaims, Grant, Subject, grant};
use crate::authority::AuthError;
use crate::domain::{AudienceList, Client, GrantType, ScopeSet, quoted};

pub const TOKEN_EXCHANGE: &str = GrantType::TokenExchange.as_str();
/// The one token type tokend issues, and accepts as a subject or actor.
pub use tokend_common::wire::ACCESS_TOKEN_TYPE;
/// Also accepted as a subject or actor token type: tokend's tokens are JWTs.
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// The prefix of the scopes that give power over tokend itself (`tokend.admin`,
/// `tokend.introspect`, …): no exchange carries them, so a token's holder
/// cannot pass tokend's own powers on.
pub(crate) const OWN_SCOPE_PREFIX: &str = "tokend.";

/// What a token exchange names beyond a token request, as sent.
#[derive(Default)]
pub struct Exchange {
    pub subject_token: String,
    pub subject_token_type: String,
    pub actor_token: String,
    pub actor_token_type: String,
    pub requested_token_type: String,
    /// A Txn-Token Request's context and details: JSON objects as sent.
    pub request_context: String,
    pub request_details: String,
}

impl Exchange {
    /// The checks that need no token and no store: every type named is one
    /// tokend knows, and what goes together comes together.
    pub fn check_shape(&self) -> Result<(), AuthError> {
        let accepted = |kind: &str| kind == ACCESS_TOKEN_TYPE || kind == JWT_TOKEN_TYPE;
        if self.subject_token.is_empty() || self.subject_token_type.is_empty() {
            return Err(AuthError::InvalidRequest(
                "subject_token and subject_token_type are required".into(),
            ));
        }
        if !accepted(&self.subject_token_type) {
            return Err(AuthError::InvalidRequest(format!(
                "subject_token_type {} is not supported; use {ACCESS_TOKEN_TYPE}",
                quoted(&self.subject_token_type)
            )));
        }
        match (self.actor_token.is_empty(), self.actor_token_type.is_empty()) {
            (true, true) => {}
            (false, false) if accepted(&self.actor_token_type) => {}
            (false, false) => {
                return Err(AuthError::InvalidRequest(format!(
                    "actor_token_type {} is not supported; use {ACCESS_TOKEN_TYPE}",
                    quoted(&self.actor_token_type)
                )));
            }
            _ => {
                return Err(AuthError::InvalidRequest("actor_token and actor_token_type go together".into()));
            }
        }
        if !self.requested_token_type.is_empty() && self.requested_token_type != ACCESS_TOKEN_TYPE {
            return Err(AuthError::InvalidRequest(format!(
                "requested_token_type {} is not supported; tokend issues {ACCESS_TOKEN_TYPE}",
                quoted(&self.requested_token_type)
            )));
        }
        Ok(())
    }
}

/// The `act` claim (RFC 8693 §4.1): who acts, and who acted before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Act>>,
}

/// Decides what a token exchanged by `client` for `subject` grants.
///
/// - The subject token is the client's own (its `client_id`): the result's
///   scope is within the subject's, its audience within the subject's or the
///   client's audiences (its `token_exchange_audiences`, when the token is
///   already delegated to it); `sub` and `act` stay.
/// - It is another client's: only for the audiences the client's
///   `token_exchange_audiences` names, with the subject's `sub`, the scope
///   within the subject's, and `act` naming the client, with the subject's
///   own `act` nested inside.
///
/// Either way the result expires no later than the subject token, no scope
/// asked means the subject's, and tokend's own scopes are left behind.
pub fn decide(
    client: &Client,
    subject: &AccessClaims,
    scopes: ScopeSet,
    audiences: AudienceList,
) -> Result<Grant, AuthError> {
    let held = ScopeSet::parse_delimited(&subject.scope).map_err(AuthError::internal)?;
    let held = held.without_prefix(OWN_SCOPE_PREFIX);
    let reach = "in the subject token's scope, less tokend's own scopes, which no exchange carries";
    let scopes = grant::scopes_within(scopes, &held, reach)?.unwrap_or(held);
    let subject_audiences =
        AudienceList::parse_each(subject.aud.iter().map(String::as_str)).map_err(AuthError::internal)?;
    let for_itself = subject.sub == client.id.as_str();
    let delegating = subject.client_id != client.id.as_str();
    let (permitted, act) = if !delegating {
        let extra = if for_itself { &client.audiences } else { &client.token_exchange_audiences };
        let both = subject_audiences.iter().chain(extra.iter()).map(|audience| audience.as_str());
        (AudienceList::parse_each(both).map_err(AuthError::internal)?, subject.act.clone())
    } else if client.token_exchange_audiences.is_empty() {
        return Err(AuthError::UnauthorizedClient(
            "this client may exchange only its own tokens: its registration names no token_exchange_audiences".into(),
        ));
    } else {
        let act = Act { sub: client.id.to_string(), act: subject.act.clone().map(Box::new) };
        (client.token_exchange_audiences.clone(), Some(act))
    };
    let reach = "one this exchange may reach";
    let audiences = grant::audiences_within(audiences, &permitted, reach)?.unwrap_or(if delegating {
        permitted
    } else {
        subject_audiences
    });
    Ok(Grant {
        claims: if for_itself { client.claims.clone() } else { subject.claims.clone() },
        subject: (!for_itself).then(|| Subject::of(subject)),
        act,
        not_after: Some(subject.exp),
        ..Grant::for_client(client, scopes, audiences)
    })
}
