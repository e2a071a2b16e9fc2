//! What a Txn-Token Request (draft §7.1) says beyond a token exchange: the
//! request's context and details, each a JSON object, and which of the
//! subject token types a Txn-Token may be made from.

use serde_json::{Map, Value};

use crate::authority::{ACCESS_TOKEN_TYPE, AuthError, Exchange};
use crate::domain::{AudienceList, ScopeSet, quoted};

use super::TXN_TOKEN_TYPE;

/// A tokend access token, as RFC 8693 names it either way.
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// A subject the requesting workload states itself: `{"sub": …}` (draft §7.2.2).
pub const UNSIGNED_JSON_TYPE: &str = "urn:ietf:params:oauth:token-type:unsigned_json";
/// The most a `request_context` or `request_details` object may hold, as JSON.
const MAX_OBJECT_BYTES: usize = 4096;

/// Whom a Txn-Token is made for: the kinds of `subject_token` accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// An access token of this issuer.
    AccessToken,
    /// A Transaction Token: the request asks for its replacement.
    TxnToken,
    /// A JSON object naming the subject, vouched for by the requester.
    UnsignedJson,
}

/// The Txn-Token Request's own parameters, parsed.
#[derive(Debug, Default)]
pub struct TxnRequest {
    /// `request_context`: becomes the token's `rctx`.
    pub context: Map<String, Value>,
    /// `request_details`: becomes the token's `tctx`.
    pub details: Map<String, Value>,
    /// The scopes and audiences asked for, as every token request names them.
    pub scopes: ScopeSet,
    pub audiences: AudienceList,
}

impl TxnRequest {
    /// Reads the exchange's `request_context` and `request_details` (JSON
    /// objects as sent, empty for none) and checks what goes with them: a
    /// subject token of a kind a Txn-Token is made from, and no actor token.
    pub fn parse(exchange: &Exchange) -> Result<(Self, SubjectKind), AuthError> {
        if exchange.subject_token.is_empty() || exchange.subject_token_type.is_empty() {
            return Err(AuthError::InvalidRequest(
                "subject_token and subject_token_type are required".into(),
            ));
        }
        let kind = match exchange.subject_token_type.as_str() {
            ACCESS_TOKEN_TYPE | JWT_TOKEN_TYPE => SubjectKind::AccessToken,
            TXN_TOKEN_TYPE => SubjectKind::TxnToken,
            UNSIGNED_JSON_TYPE => SubjectKind::UnsignedJson,
            other => {
                return Err(AuthError::InvalidRequest(format!(
                    "subject_token_type {} is not supported for a Transaction Token; use {ACCESS_TOKEN_TYPE}, \
                     {TXN_TOKEN_TYPE} or {UNSIGNED_JSON_TYPE}",
                    quoted(other)
                )));
            }
        };
        if !exchange.actor_token.is_empty() || !exchange.actor_token_type.is_empty() {
            return Err(AuthError::InvalidRequest("a Transaction Token Request takes no actor_token".into()));
        }
        let context = object("request_context", &exchange.request_context)?;
        let details = object("request_details", &exchange.request_details)?;
        let request = TxnRequest { context, details, ..TxnRequest::default() };
        Ok((request, kind))
    }
}

/// The subject an unsigned JSON subject token names.
pub fn unsigned_subject(token: &str) -> Result<String, AuthError> {
    let malformed =
        || AuthError::InvalidRequest("the subject_token must be a JSON object with a string sub".into());
    let parsed = object("subject_token", token).map_err(|_| malformed())?;
    match parsed.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() && !sub.chars().any(char::is_control) => Ok(sub.clone()),
        _ => Err(malformed()),
    }
}

/// The JSON object in the parameter `name`; empty text for none.
fn object(name: &str, text: &str) -> Result<Map<String, Value>, AuthError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    if text.len() > MAX_OBJECT_BYTES {
        return Err(AuthError::InvalidRequest(format!("{name} is over {MAX_OBJECT_BYTES} bytes")));
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(members)) => Ok(members),
        _ => Err(AuthError::InvalidRequest(format!("{name} must be a JSON object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(subject_type: &str) -> Exchange {
        Exchange {
            subject_token: "t".into(),
            subject_token_type: subject_type.into(),
            requested_token_type: TXN_TOKEN_TYPE.into(),
            ..Exchange::default()
        }
    }

    #[test]
    fn context_and_details_are_json_objects_of_bounded_size() {
        let sent = Exchange {
            request_context: r#"{"req_ip":"192.0.2.7"}"#.into(),
            request_details: r#"{"action":"BUY"}"#.into(),
            ..exchange(ACCESS_TOKEN_TYPE)
        };
        let (request, kind) = TxnRequest::parse(&sent).unwrap();
        assert_eq!(kind, SubjectKind::AccessToken);
        assert_eq!(
            (request.context["req_ip"].as_str(), request.details["action"].as_str()),
            (Some("192.0.2.7"), Some("BUY"))
        );
        for bad in ["[1]", "\"text\"", "{", &format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_OBJECT_BYTES))] {
            let sent = Exchange { request_context: bad.into(), ..exchange(ACCESS_TOKEN_TYPE) };
            let refused = TxnRequest::parse(&sent).unwrap_err();
            assert!(matches!(refused, AuthError::InvalidRequest(_)), "{bad:.20}: {refused:?}");
        }
    }

    #[test]
    fn only_the_subject_kinds_a_txn_token_is_made_from_are_taken() {
        assert_eq!(TxnRequest::parse(&exchange(TXN_TOKEN_TYPE)).unwrap().1, SubjectKind::TxnToken);
        assert_eq!(TxnRequest::parse(&exchange(UNSIGNED_JSON_TYPE)).unwrap().1, SubjectKind::UnsignedJson);
        let refresh = "urn:ietf:params:oauth:token-type:refresh_token";
        assert!(TxnRequest::parse(&exchange(refresh)).is_err());
        let with_actor = Exchange {
            actor_token: "a".into(),
            actor_token_type: ACCESS_TOKEN_TYPE.into(),
            ..exchange(ACCESS_TOKEN_TYPE)
        };
        assert!(TxnRequest::parse(&with_actor).is_err());
    }

    #[test]
    fn an_unsigned_subject_names_a_sub() {
        assert_eq!(unsigned_subject(r#"{"sub":"user-7","tier":"gold"}"#).unwrap(), "user-7");
        for bad in [
            "",
            "{}",
            r#"{"sub":""}"#,
            r#"{"sub":7}"#,
            "user-7",
            r#"{"sub":"a\u0000b"}"#,
            r#"{"sub":"a\nb"}"#,
        ] {
            assert!(unsigned_subject(bad).is_err(), "{bad}");
        }
    }
}
