//! HTTP answers: JSON bodies, the no-store headers OAuth asks for, and
//! rejections in the RFC 6749 §5.2 shape.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use crate::{authority::AuthError, failure::Failure};

/// A JSON response that caches must not keep (RFC 6749 §5.1).
pub fn no_store_json(status: StatusCode, body: &impl Serialize) -> Response {
    let mut response = json_response(status, body);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).expect("plain data serialises");
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The client authentication scheme a request used, which decides the
/// `WWW-Authenticate` challenge of a 401 (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Basic,
    Bearer,
    None,
}

/// Why a request was refused, ready to be written in either JSON dialect.
#[derive(Debug)]
pub struct Rejection {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    challenge: Option<&'static str>,
}

impl Rejection {
    /// A refusal from the authority, with the status `failure` assigns it.
    pub fn auth(err: AuthError, scheme: Scheme) -> Self {
        let failure = Failure::from(err);
        let challenge = match (failure.http, scheme) {
            (StatusCode::UNAUTHORIZED, Scheme::Basic) => Some("Basic realm=\"tokend\""),
            (StatusCode::UNAUTHORIZED, Scheme::Bearer) => {
                Some("Bearer realm=\"tokend\", error=\"invalid_token\"")
            }
            _ => None,
        };
        Rejection { status: failure.http, error: failure.reason, description: failure.message, challenge }
    }

    /// A malformed request caught by the adapter itself.
    pub fn invalid_request(status: StatusCode, description: impl Into<String>) -> Self {
        Rejection { status, error: "invalid_request", description: description.into(), challenge: None }
    }

    /// RFC 6749 §5.2: `{"error", "error_description"}`.
    pub fn oauth(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        self.respond(&body)
    }

    /// The TokenIDP dialect: `{"isSuccess": false, "error": {"code", "message"}}`.
    pub fn token_idp(self) -> Response {
        let body =
            json!({ "isSuccess": false, "error": { "code": self.error, "message": self.description } });
        self.respond(&body)
    }

    fn respond(self, body: &serde_json::Value) -> Response {
        let mut response = no_store_json(self.status, body);
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.oauth()
    }
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    let body = json!({ "error": "not_found", "error_description": format!("no endpoint at {}", uri.path()) });
    json_response(StatusCode::NOT_FOUND, &body)
}

pub fn method_not_allowed(allowed: &'static str) -> Response {
    let body = json!({ "error": "invalid_request", "error_description": format!("this endpoint accepts {allowed}") });
    let mut response = json_response(StatusCode::METHOD_NOT_ALLOWED, &body);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}
