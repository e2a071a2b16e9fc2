//! How callers prove who they are: client credentials (RFC 6749 §2.3.1, in an
//! `Authorization: Basic` header or in the request body), a client id and the
//! connection's TLS client certificate (RFC 8705 §2), a signed JWT (RFC 7521
//! §4.2: `private_key_jwt` or a platform's token), or a bearer token (RFC 6750).

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::authority::{AuthError, BAD_CREDENTIALS};
use crate::domain::{ClientId, ClientSecret, Peer, PeerCertificate, quoted};

/// `client_assertion_type` for a JWT the client or its platform signed (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `client_assertion_type` for a SPIFFE JWT-SVID.
pub const JWT_SPIFFE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/// What a caller presented to prove who it is, as an adapter gathered it:
/// nothing is parsed or decided yet. An empty value counts as absent.
/// No `Debug`: it holds secrets and tokens as sent.
#[derive(Default)]
pub struct Presented<'a> {
    /// Every `authorization` header (or gRPC metadata entry) value, as sent.
    pub authorization: Vec<&'a [u8]>,
    /// What the request body (form, JSON or protobuf) carried.
    pub body: BodyCredentials,
    /// The connection the request came on (its address and client
    /// certificate), when the adapter knows it.
    pub peer: Option<Arc<Peer>>,
}

/// The credentials a request body may carry, under their OAuth names.
/// No `Debug`: secrets and assertions as sent.
#[derive(Default)]
pub struct BodyCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub client_assertion_type: String,
    pub client_assertion: String,
}

/// One way of proving who the caller is, once what was presented is parsed
/// and reconciled. No `Debug`: a bearer token is a credential.
pub enum Credential {
    None,
    /// A client id and secret (RFC 6749 §2.3.1); `by_header` when they came
    /// in an `Authorization: Basic` header rather than in the body.
    ClientSecret {
        client_id: ClientId,
        secret: ClientSecret,
        by_header: bool,
    },
    /// A client id and no secret, on a connection with a client certificate
    /// (RFC 8705 §2): the certificate must satisfy the client's registration.
    Certificate {
        client_id: ClientId,
        certificate: Arc<PeerCertificate>,
    },
    /// A signed JWT (RFC 7521 §4.2), and the client id the body named, if any.
    Assertion {
        client_id: Option<ClientId>,
        assertion: String,
        kind: AssertionKind,
    },
    Bearer(String),
}

/// What an assertion came as: which `client_assertion_type`, or a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionKind {
    /// `jwt-bearer`: a `private_key_jwt` assertion, or a platform's token.
    JwtBearer,
    /// `jwt-spiffe`: a SPIFFE JWT-SVID, only ever from a trusted issuer.
    JwtSpiffe,
    /// The `assertion` of a JWT bearer grant (RFC 7523 §2.1): the client's
    /// own, or a platform's token for the client `client_id` names.
    Grant,
}

/// What an `authorization` value carries.
enum Authorization {
    Basic { client_id: String, secret: ClientSecret },
    Bearer(String),
}

impl Credential {
    /// Parses and reconciles what was presented. Two methods at once is
    /// `invalid_request` (RFC 6749 §2.3: a client must not use more than one);
    /// a `client_id` in the body beside Basic is tolerated when it names the
    /// same client.
    pub fn from_presented(presented: Presented<'_>) -> Result<Self, AuthError> {
        let header = Authorization::from_values(presented.authorization)?;
        let body = presented.body;
        let body_id = Some(body.client_id).filter(|id| !id.is_empty());
        let body_secret = Some(body.client_secret).filter(|secret| !secret.is_empty());
        if !body.client_assertion_type.is_empty() || !body.client_assertion.is_empty() {
            if header.is_some() || body_secret.is_some() {
                return Err(AuthError::InvalidRequest(
                    "use exactly one client authentication method: a client assertion, not also a secret or an authorization header"
                        .into(),
                ));
            }
            return Credential::assertion(body_id, body.client_assertion_type, body.client_assertion);
        }
        let two_methods = || {
            AuthError::InvalidRequest("use exactly one client authentication method: Basic header or client_id/client_secret in the body, not both".into())
        };
        match (header, body_id, body_secret) {
            (Some(_), _, Some(_)) => Err(two_methods()),
            (Some(Authorization::Basic { client_id, secret }), body_id, None) => {
                if body_id.is_some_and(|body_id| body_id != client_id) {
                    return Err(two_methods());
                }
                Credential::client_secret(&client_id, secret, true)
            }
            (Some(Authorization::Bearer(_)), Some(_), None) => Err(two_methods()),
            (Some(Authorization::Bearer(token)), None, None) => Ok(Credential::Bearer(token)),
            (None, Some(client_id), None) => match presented.peer.and_then(|peer| peer.certificate.clone()) {
                Some(certificate) => Credential::certificate(&client_id, certificate),
                // No secret and no certificate: a wrong secret, as far as the caller learns.
                None => Credential::client_secret(&client_id, ClientSecret::presented(String::new()), false),
            },
            (None, Some(client_id), Some(secret)) => {
                Credential::client_secret(&client_id, ClientSecret::presented(secret), false)
            }
            (None, None, Some(_)) => {
                Err(AuthError::InvalidRequest("client_secret was sent without client_id".into()))
            }
            (None, None, None) => Ok(Credential::None),
        }
    }
}

impl Credential {
    /// A client id and secret.
    fn client_secret(client_id: &str, secret: ClientSecret, by_header: bool) -> Result<Self, AuthError> {
        let client_id = claimed_id(client_id, by_header)?;
        Ok(Credential::ClientSecret { client_id, secret, by_header })
    }

    /// A client assertion: both parameters, of a type tokend knows (RFC 7521
    /// §4.2; a request it cannot read is `invalid_request`).
    fn assertion(client_id: Option<String>, kind: String, assertion: String) -> Result<Self, AuthError> {
        let kind = match kind.as_str() {
            JWT_BEARER => AssertionKind::JwtBearer,
            JWT_SPIFFE => AssertionKind::JwtSpiffe,
            "" => {
                return Err(AuthError::InvalidRequest(
                    "client_assertion_type is required with client_assertion".into(),
                ));
            }
            other => {
                return Err(AuthError::InvalidRequest(format!(
                    "client_assertion_type {} is not supported; use {JWT_BEARER} or {JWT_SPIFFE}",
                    quoted(other)
                )));
            }
        };
        if assertion.is_empty() {
            return Err(AuthError::InvalidRequest(
                "client_assertion is required with client_assertion_type".into(),
            ));
        }
        let client_id = client_id.map(|id| claimed_id(&id, false)).transpose()?;
        Ok(Credential::Assertion { client_id, assertion, kind })
    }

    /// A client id to be proved by the connection's certificate.
    fn certificate(client_id: &str, certificate: Arc<PeerCertificate>) -> Result<Self, AuthError> {
        let client_id = claimed_id(client_id, false)?;
        Ok(Credential::Certificate { client_id, certificate })
    }
}

/// The client id a caller claims. An id that cannot exist fails at once,
/// with the same answer as a wrong credential: its shape is no secret.
fn claimed_id(client_id: &str, by_header: bool) -> Result<ClientId, AuthError> {
    ClientId::parse(client_id).map_err(|_| AuthError::InvalidClient { message: BAD_CREDENTIALS, by_header })
}

impl Authorization {
    /// The one `authorization` value among `values`, parsed. Several are
    /// `invalid_request`: RFC 6749 §2.3 allows one way of authenticating per
    /// request, and taking the first would let a later one go unnoticed. A
    /// value that is not visible ASCII is `invalid_request` too.
    fn from_values(values: Vec<&[u8]>) -> Result<Option<Self>, AuthError> {
        let value = match values.as_slice() {
            [] => return Ok(None),
            [value] => *value,
            _ => {
                return Err(AuthError::InvalidRequest(
                    "send one authorization header; several are not allowed".into(),
                ));
            }
        };
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
    fn parse(value: &str) -> Result<Self, AuthError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_authorization_values_parse_or_are_refused_without_panicking(
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..3),
            client_id in ".{0,40}",
            secret in ".{0,40}",
        ) {
            let authorization = values.iter().map(Vec::as_slice).collect();
            let body = BodyCredentials { client_id, client_secret: secret, ..BodyCredentials::default() };
            let presented = Presented { authorization, body, ..Presented::default() };
            let _ = Credential::from_presented(presented);
        }

        #[test]
        fn basic_credentials_read_back_as_sent(id in ".{1,40}", secret in ".{1,60}") {
            let encode = |part: &str| form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
            let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
            let Authorization::Basic { client_id, secret: read } = Authorization::parse(&header).unwrap() else {
                panic!("not basic");
            };
            prop_assert_eq!(client_id, id);
            prop_assert_eq!(read.expose(), secret.as_str());
        }
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    fn presented<'a>(header: Option<&'a str>, client_id: &str, secret: &str) -> Presented<'a> {
        Presented {
            authorization: header.map(str::as_bytes).into_iter().collect(),
            body: BodyCredentials {
                client_id: client_id.into(),
                client_secret: secret.into(),
                ..BodyCredentials::default()
            },
            peer: None,
        }
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
    fn two_authorization_values_are_an_invalid_request_whatever_their_order() {
        let (good, bad) = (basic("a", "b"), basic("c", "d"));
        for values in [vec![good.as_bytes(), bad.as_bytes()], vec![bad.as_bytes(), good.as_bytes()]] {
            assert!(matches!(Authorization::from_values(values), Err(AuthError::InvalidRequest(_))));
        }
    }

    #[test]
    fn a_non_ascii_authorization_value_is_an_invalid_request() {
        let value = "Bearer t\u{e9}".as_bytes();
        assert!(matches!(Authorization::from_values(vec![value]), Err(AuthError::InvalidRequest(_))));
        assert!(Authorization::from_values(Vec::new()).unwrap().is_none());
    }

    #[test]
    fn basic_and_a_body_secret_together_are_refused() {
        let header = basic("a", "b");
        let err = Credential::from_presented(presented(Some(&header), "", "b")).err().expect("refused");
        assert!(matches!(err, AuthError::InvalidRequest(_)));
    }

    #[test]
    fn basic_with_the_same_client_id_in_the_body_is_accepted() {
        let header = basic("a", "b");
        let credential = Credential::from_presented(presented(Some(&header), "a", "")).unwrap();
        assert!(matches!(credential, Credential::ClientSecret { by_header: true, .. }));
    }

    #[test]
    fn empty_body_values_count_as_absent() {
        assert!(matches!(Credential::from_presented(presented(None, "", "")).unwrap(), Credential::None));
        let credential = Credential::from_presented(presented(None, "svc", "s")).unwrap();
        assert!(matches!(credential, Credential::ClientSecret { by_header: false, .. }));
    }

    fn assertion_presented<'a>(
        header: Option<&'a str>,
        secret: &str,
        kind: &str,
        jwt: &str,
    ) -> Presented<'a> {
        let mut presented = presented(header, "svc", secret);
        presented.body.client_assertion_type = kind.into();
        presented.body.client_assertion = jwt.into();
        presented
    }

    #[test]
    fn an_assertion_with_a_secret_or_a_header_is_an_invalid_request() {
        let header = basic("svc", "b");
        for presented in [
            assertion_presented(None, "s", JWT_BEARER, "a.b.c"),
            assertion_presented(Some(&header), "", JWT_BEARER, "a.b.c"),
        ] {
            let err = Credential::from_presented(presented).err().expect("refused");
            assert!(matches!(err, AuthError::InvalidRequest(_)));
        }
    }

    #[test]
    fn an_assertion_needs_a_known_type_and_a_value() {
        for (kind, jwt) in [("", "a.b.c"), (JWT_BEARER, ""), ("urn:x", "a.b.c")] {
            let err =
                Credential::from_presented(assertion_presented(None, "", kind, jwt)).err().expect("refused");
            assert!(matches!(err, AuthError::InvalidRequest(_)), "{kind} {jwt}");
        }
        let credential =
            Credential::from_presented(assertion_presented(None, "", JWT_SPIFFE, "a.b.c")).unwrap();
        assert!(matches!(
            credential,
            Credential::Assertion { client_id: Some(_), kind: AssertionKind::JwtSpiffe, .. }
        ));
    }
}
