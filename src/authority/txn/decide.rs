//! What a Transaction Token says: made from an access token or a stated
//! subject at the edge, or replacing a Txn-Token further down the chain
//! (draft §7.3 and §11.14), and how a presented one is checked.

use jsonwebtoken::Validation;
use serde_json::{Map, Value};

use super::{TXN_TOKEN_TYP, TxnClaims, TxnRequest, TxnSettings};
use crate::authority::tokens::{OWN_SCOPE_PREFIX, random_tag};
use crate::authority::{AccessClaims, AuthError, KeyRing};
use crate::domain::{Client, ScopeSet, quoted};

/// The name in `rctx` of the workloads that asked for the tokens a replacement replaced, first one first.
pub const REQUESTER_CHAIN: &str = "req_wl_chain";
/// The encoded `rctx` may grow to this many bytes over a chain of
/// replacements (a first request's context is at most 4 KiB).
const MAX_RCTX_BYTES: usize = 8192;
/// Replacements one transaction may go through: hops in `req_wl_chain`.
const MAX_REPLACEMENTS: usize = 32;

/// Whom a Txn-Token is for, as its subject token showed.
pub enum TxnSubject {
    /// An access token of this issuer.
    Access(AccessClaims),
    /// A Txn-Token, to be replaced.
    Txn(TxnClaims),
    /// A subject the requesting workload stated (an unsigned JSON subject token).
    Stated(String),
}

/// Decides the Txn-Token `client` asked for, at `now`. Only registered
/// requesters may ask; the audience must be the trust domain; the scope is
/// required and within the subject's (an access token's, a replaced
/// Txn-Token's, or for a stated subject the client's own allowed scopes),
/// less tokend's own; the token lives `settings.lifetime_seconds` at most
/// and never past its subject. A replacement keeps `txn`, `sub` and `tctx`,
/// adds the request's context to `rctx` without changing what was there,
/// and records who asked before in `rctx.req_wl_chain`.
pub fn decide(
    client: &Client,
    subject: TxnSubject,
    request: TxnRequest,
    settings: &TxnSettings,
    issuer: &str,
    now: i64,
) -> Result<TxnClaims, AuthError> {
    let TxnRequest { context, details, scopes, audiences } = request;
    if !client.txn_token_requester {
        return Err(AuthError::UnauthorizedClient(
            "this client may not ask for Transaction Tokens: its registration does not make it a txn_token_requester"
                .into(),
        ));
    }
    match audiences.to_strings().as_slice() {
        [trust_domain] if *trust_domain == settings.audience => {}
        [] => return Err(AuthError::InvalidRequest("audience is required: the trust domain".into())),
        _ => {
            return Err(AuthError::InvalidTarget(format!(
                "the audience of a Transaction Token is the trust domain {}, alone",
                quoted(&settings.audience)
            )));
        }
    }
    if scopes.is_empty() {
        return Err(AuthError::InvalidRequest("scope is required: the transaction's purpose".into()));
    }
    // What bounds the scope, and the rule's name when a scope is outside it.
    let (held, sub, until, bound) = match &subject {
        TxnSubject::Access(claims) => (
            ScopeSet::parse_delimited(&claims.scope),
            claims.sub.clone(),
            claims.exp,
            "in the subject token's scope",
        ),
        TxnSubject::Txn(claims) => (
            ScopeSet::parse_delimited(&claims.scope),
            claims.sub.clone(),
            claims.exp,
            "in the replaced Txn-Token's scope",
        ),
        TxnSubject::Stated(sub) => (
            Ok(client.allowed_scopes.clone()),
            sub.clone(),
            i64::MAX,
            "among the requester's allowed scopes (the bound for a subject it states)",
        ),
    };
    let held = held.map_err(AuthError::internal)?.without_prefix(OWN_SCOPE_PREFIX);
    if let Some(scope) = scopes.first_outside(&held) {
        return Err(AuthError::InvalidScope(format!(
            "scope {} is not {bound}, less tokend's own",
            quoted(scope.as_str())
        )));
    }
    let (txn, rctx, tctx) = match subject {
        TxnSubject::Txn(replaced) => {
            (replaced.txn, replacement_context(replaced.rctx, replaced.req_wl, context)?, replaced.tctx)
        }
        // The chain of requesters is tokend's to write, never the first requester's.
        _ => (transaction_id(), without_chain(context), details),
    };
    Ok(TxnClaims {
        iss: issuer.to_owned(),
        iat: now,
        aud: settings.audience.clone(),
        exp: until.min(now + settings.lifetime_seconds),
        txn,
        sub,
        scope: scopes.to_string(),
        req_wl: client.id.to_string(),
        rctx,
        tctx,
    })
}

/// The replaced token's `rctx` with the new request's members it lacks, and
/// its requester appended to the chain of those before; refused once the
/// chain or the context would grow past its bound, so replacements cannot
/// grow a token without end.
fn replacement_context(
    mut rctx: Map<String, Value>,
    replaced_requester: String,
    added: Map<String, Value>,
) -> Result<Map<String, Value>, AuthError> {
    let mut chain = match rctx.remove(REQUESTER_CHAIN) {
        Some(Value::Array(chain)) => chain,
        _ => Vec::new(),
    };
    if chain.len() >= MAX_REPLACEMENTS {
        return Err(AuthError::InvalidRequest(format!(
            "this transaction was replaced {MAX_REPLACEMENTS} times already; start a new one"
        )));
    }
    chain.push(Value::String(replaced_requester));
    for (name, value) in added {
        rctx.entry(name).or_insert(value);
    }
    rctx.insert(REQUESTER_CHAIN.into(), Value::Array(chain));
    let size = Value::Object(rctx.clone()).to_string().len();
    if size > MAX_RCTX_BYTES {
        return Err(AuthError::InvalidRequest(format!(
            "the request context would grow to {size} bytes, past {MAX_RCTX_BYTES}, over this transaction's replacements"
        )));
    }
    Ok(rctx)
}

/// A first request's context, less any chain of requesters it claims.
fn without_chain(mut context: Map<String, Value>) -> Map<String, Value> {
    context.remove(REQUESTER_CHAIN);
    context
}

/// A new transaction's id: 128 random bits (RFC 8417 §2.2's `txn`, unique in the trust domain).
fn transaction_id() -> String {
    random_tag::<16>()
}

/// The claims of a Txn-Token presented for replacement, if tokend signed it
/// for `settings`' trust domain and it is live at `now`; `None` otherwise.
pub fn verify(
    keys: &KeyRing,
    token: &str,
    settings: &TxnSettings,
    issuer: &str,
    now: i64,
) -> Option<TxnClaims> {
    let key = keys.key_for(token, TXN_TOKEN_TYP)?;
    let mut validation = Validation::new(key.algorithm);
    // The lifetime is checked below, on the authority's clock.
    validation.validate_exp = false;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<TxnClaims>(token, &key.decoding, &validation).ok()?.claims;
    (now < claims.exp).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(json: Value) -> Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn replacements_add_to_the_context_within_its_bounds() {
        let first = context(serde_json::json!({"req_ip": "192.0.2.7"}));
        let replaced =
            replacement_context(first, "gateway".into(), context(serde_json::json!({"region": "eu"})))
                .unwrap();
        assert_eq!(
            Value::Object(replaced.clone()),
            serde_json::json!({"req_ip": "192.0.2.7", "region": "eu", "req_wl_chain": ["gateway"]})
        );
        let mut grown = replaced;
        for hop in 0..20 {
            let added = context(serde_json::json!({ format!("k{hop}"): "x".repeat(400) }));
            match replacement_context(grown.clone(), format!("hop-{hop}"), added) {
                Ok(next) => grown = next,
                Err(refused) => {
                    assert!(refused.to_string().contains("8192"), "{refused}");
                    return;
                }
            }
        }
        panic!("twenty replacements adding 400 bytes each stayed under the bound");
    }
}
