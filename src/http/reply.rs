//! HTTP answers: JSON bodies, the no-store headers OAuth asks for, and
//! rejections in the RFC 6749 §5.2 shape.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use crate::{
    authority::AuthError,
    domain::quoted,
    failure::{DPOP_NONCE_HEADER, Failure, Refusal},
};

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

/// Why a request was refused, ready to be written in either JSON dialect;
/// everything it says comes from its [`Failure`].
#[derive(Debug)]
pub struct Rejection(Box<Failure>);

impl From<AuthError> for Rejection {
    fn from(err: AuthError) -> Self {
        Rejection(Box::new(Failure::from(err)))
    }
}

impl From<Failure> for Rejection {
    fn from(failure: Failure) -> Self {
        Rejection(Box::new(failure))
    }
}

impl From<Refusal> for Rejection {
    fn from(refusal: Refusal) -> Self {
        Rejection(Box::new(Failure::from(refusal)))
    }
}

impl Rejection {
    /// The OAuth error code it answers with.
    pub fn reason(&self) -> &'static str {
        self.0.reason
    }

    /// RFC 6749 §5.2: `{"error", "error_description"}`.
    pub fn oauth(self) -> Response {
        let body = json!({ "error": self.0.reason, "error_description": self.0.message });
        self.respond(&body)
    }

    /// The TokenIDP dialect: `{"isSuccess": false, "error": {"code", "message"}}`.
    pub fn token_idp(self) -> Response {
        let body =
            json!({ "isSuccess": false, "error": { "code": self.0.reason, "message": self.0.message } });
        self.respond(&body)
    }

    fn respond(self, body: &serde_json::Value) -> Response {
        let mut response = no_store_json(self.0.http, body);
        let headers = response.headers_mut();
        if let Some(challenge) = self.0.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(allowed) = self.0.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allowed));
        }
        if let Some(nonce) = self.0.dpop_nonce.as_deref().and_then(|nonce| HeaderValue::from_str(nonce).ok())
        {
            headers.insert(DPOP_NONCE_HEADER, nonce);
        }
        if let Some(delay) = self.0.retry_after {
            // Whole seconds (RFC 9110 §10.2.3), rounded up so a retry is not early.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
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
    Rejection::from(Refusal::NoEndpoint(format!("no endpoint at {}", quoted(uri.path())))).oauth()
}

pub fn method_not_allowed(allowed: &'static str) -> Response {
    Rejection::from(Refusal::MethodNotAllowed { allowed }).oauth()
}
