//! How callers prove who they are: client credentials (RFC 6749 §2.3.1, in an
//! `Authorization: Basic` header or in the request body) or a bearer token (RFC 6750).

use base64::{Engine, engine::general_purpose::STANDARD};

use super::AuthError;
use crate::domain::ClientSecret;

/// What an `authorization` header (or gRPC metadata entry) carries.
#[derive(Debug)]
pub enum Authorization {
    Basic { client_id: String, secret: ClientSecret },
    Bearer(String),
}

/// The caller's credentials once header and body have been reconciled.
#[derive(Debug)]
pub enum Credentials {
    Client { client_id: String, secret: ClientSecret },
    Bearer(String),
}

impl Authorization {
    /// The one `authorization` header (or gRPC metadata entry) among `values`,
    /// parsed. Several are `invalid_request`: RFC 6749 §2.3 allows one way of
    /// authenticating per request, and taking the first would let a later one
    /// go unnoticed. A value that is not visible ASCII is `invalid_request` too.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<Self>, AuthError> {
        let mut values = values.into_iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(AuthError::InvalidRequest(
                "send one authorization header; several are not allowed".into(),
            ));
        }
        let value = std::str::from_utf8(value)
            .ok()
            .filter(|value| value.bytes().all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic()))
            .ok_or_else(|| {
                AuthError::InvalidRequest("the authorization header is not visible ASCII".into())
            })?;
        Self::parse(value).map(Some)
    }

    /// Parses `Basic base64(urlencode(id) ":" urlencode(secret))` or `Bearer token`.
    /// The scheme is case-insensitive (RFC 9110 §11.1).
    pub fn parse(value: &str) -> Result<Self, AuthError> {
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            parse_basic(rest)
        } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            Ok(Authorization::Bearer(rest.to_owned()))
        } else {
            Err(AuthError::InvalidRequest(
                "the authorization header must be \"Basic <credentials>\" or \"Bearer <token>\"".into(),
            ))
        }
    }
}

fn parse_basic(encoded: &str) -> Result<Authorization, AuthError> {
    let malformed = |what: &str| AuthError::InvalidRequest(format!("the Basic authorization header {what}"));
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed("is not valid base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed("is not valid UTF-8"))?;
    let (id, secret) =
        decoded.split_once(':').ok_or_else(|| malformed("has no ':' between client id and secret"))?;
    Ok(Authorization::Basic {
        client_id: form_decode(id),
        secret: ClientSecret::presented(form_decode(secret)),
    })
}

/// Undoes application/x-www-form-urlencoded escaping, as RFC 6749 §2.3.1 asks
/// of both halves of Basic credentials (`orders%2Dworker` is `orders-worker`).
fn form_decode(part: &str) -> String {
    form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

impl Credentials {
    /// Reconciles the authorization header with credentials sent in the body.
    /// Two methods at once is `invalid_request` (RFC 6749 §2.3: a client must
    /// not use more than one); a `client_id` in the body beside Basic is
    /// tolerated when it names the same client. `None`: no credentials at all.
    pub fn reconcile(
        header: Option<Authorization>,
        body_client_id: Option<String>,
        body_secret: Option<String>,
    ) -> Result<Option<Self>, AuthError> {
        let two_methods = || {
            AuthError::InvalidRequest("use exactly one client authentication method: Basic header or client_id/client_secret in the body, not both".into())
        };
        match (header, body_client_id, body_secret) {
            (Some(_), _, Some(_)) => Err(two_methods()),
            (Some(Authorization::Basic { client_id, secret }), body_id, None) => {
                if body_id.is_some_and(|body_id| body_id != client_id) {
                    return Err(two_methods());
                }
                Ok(Some(Credentials::Client { client_id, secret }))
            }
            (Some(Authorization::Bearer(_)), Some(_), None) => Err(two_methods()),
            (Some(Authorization::Bearer(token)), None, None) => Ok(Some(Credentials::Bearer(token))),
            (None, Some(client_id), secret) => Ok(Some(Credentials::Client {
                client_id,
                secret: ClientSecret::presented(secret.unwrap_or_default()),
            })),
            (None, None, Some(_)) => {
                Err(AuthError::InvalidRequest("client_secret was sent without client_id".into()))
            }
            (None, None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let Authorization::Basic { client_id, secret } =
            Authorization::parse(&basic("orders%2Dworker", "a%2Bb+c")).unwrap()
        else {
            panic!("not basic");
        };
        assert_eq!(client_id, "orders-worker");
        assert_eq!(secret.expose(), "a+b c");
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert!(
            matches!(Authorization::parse("bearer abc").unwrap(), Authorization::Bearer(t) if t == "abc")
        );
        assert!(matches!(
            Authorization::parse(&basic("a", "b").replace("Basic", "BASIC")).unwrap(),
            Authorization::Basic { .. }
        ));
    }

    #[test]
    fn basic_that_is_not_base64_is_an_invalid_request() {
        assert!(matches!(Authorization::parse("Basic !!!"), Err(AuthError::InvalidRequest(_))));
    }

    #[test]
    fn basic_without_a_colon_is_an_invalid_request() {
        let header = format!("Basic {}", STANDARD.encode("nocolon"));
        assert!(matches!(Authorization::parse(&header), Err(AuthError::InvalidRequest(_))));
    }

    #[test]
    fn an_unknown_scheme_or_empty_bearer_is_an_invalid_request() {
        assert!(Authorization::parse("Digest x").is_err());
        assert!(Authorization::parse("Bearer ").is_err());
    }

    #[test]
    fn basic_and_a_body_secret_together_are_refused() {
        let header = Authorization::parse(&basic("a", "b")).unwrap();
        let err = Credentials::reconcile(Some(header), None, Some("b".into())).unwrap_err();
        assert!(matches!(err, AuthError::InvalidRequest(_)));
    }

    #[test]
    fn basic_with_the_same_client_id_in_the_body_is_accepted() {
        let header = Authorization::parse(&basic("a", "b")).unwrap();
        assert!(Credentials::reconcile(Some(header), Some("a".into()), None).unwrap().is_some());
    }

    #[test]
    fn two_authorization_values_are_an_invalid_request_whatever_their_order() {
        let (good, bad) = (basic("a", "b"), basic("c", "d"));
        for values in [[good.as_bytes(), bad.as_bytes()], [bad.as_bytes(), good.as_bytes()]] {
            assert!(matches!(Authorization::from_values(values), Err(AuthError::InvalidRequest(_))));
        }
    }

    #[test]
    fn a_non_ascii_authorization_value_is_an_invalid_request() {
        let value = "Bearer t\u{e9}".as_bytes();
        assert!(matches!(Authorization::from_values([value]), Err(AuthError::InvalidRequest(_))));
        assert!(Authorization::from_values(std::iter::empty()).unwrap().is_none());
    }

    #[test]
    fn nothing_presented_is_no_credentials() {
        assert!(Credentials::reconcile(None, None, None).unwrap().is_none());
    }
}
