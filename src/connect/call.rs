//! One unary call through the gRPC services in process: the Connect request's
//! metadata, deadline, connection facts (peer address, client certificate)
//! and message go in as a gRPC request; the message, metadata or status come
//! back out.

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header, request::Parts},
    response::Response,
};
use http_body_util::BodyExt;
use tokend_common::wire::GRPC_CONTENT_TYPES;
use tonic::{Code, Status};
use tower::ServiceExt;

use super::error::Unanswered;
use crate::{authority::AuthError, observe::metrics::Protocol};

/// The longest `grpc-timeout` in milliseconds: eight digits.
const MAX_TIMEOUT_MS: u64 = 99_999_999;
/// A gRPC message frame: a compression flag and a four-byte length.
const FRAME_HEADER: usize = 5;

/// A successful call's answer, still in protobuf.
pub struct Reply {
    headers: HeaderMap,
    trailers: HeaderMap,
    pub message: Bytes,
}

/// Calls `path` on `grpc` with `message`, as the request `parts` describe.
pub async fn unary(grpc: Router, parts: Parts, path: &str, message: Vec<u8>) -> Result<Reply, Unanswered> {
    let mut headers: HeaderMap = parts
        .headers
        .iter()
        .filter(|(name, _)| is_metadata(name))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRPC_CONTENT_TYPES[0]));
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    if let Some(timeout) = connect_timeout_ms(&parts.headers)? {
        let timeout = HeaderValue::from_str(&format!("{timeout}m")).expect("digits are a header value");
        headers.insert("grpc-timeout", timeout);
    }
    let mut request = Request::new(Body::from(frame(message)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = path.parse().map_err(|_| AuthError::internal("a method path is a URI"))?;
    *request.version_mut() = parts.version;
    *request.headers_mut() = headers;
    *request.extensions_mut() = parts.extensions;
    request.extensions_mut().insert(Protocol::Connect);

    let response = grpc.oneshot(request).await.unwrap_or_else(|never| match never {});
    let (head, body) = response.into_parts();
    let collected = body.collect().await.map_err(|err| AuthError::Internal(Box::new(err)))?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let status = Status::from_header_map(&trailers)
        .or_else(|| Status::from_header_map(&head.headers))
        .unwrap_or_else(|| Status::internal("the call ended without a status"));
    if status.code() != Code::Ok {
        return Err(Unanswered::Failed(status));
    }
    let message = unframe(collected.to_bytes())?;
    Ok(Reply { headers: head.headers, trailers, message })
}

impl Reply {
    /// A Connect unary answer carrying `body` and the call's metadata:
    /// headers as they are, trailers with the `trailer-` prefix.
    pub fn respond(self, body: Vec<u8>, content_type: &'static str) -> Response {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers.iter().filter(|(name, _)| is_metadata(name)) {
            headers.append(name.clone(), value.clone());
        }
        for (name, value) in self.trailers.iter().filter(|(name, _)| is_metadata(name)) {
            if let Ok(name) = HeaderName::try_from(format!("trailer-{name}")) {
                headers.append(name, value.clone());
            }
        }
        response
    }
}

/// Whether a header is the caller's (or the service's) metadata, rather than
/// part of HTTP, Connect or gRPC framing.
fn is_metadata(name: &HeaderName) -> bool {
    const FRAMING: [HeaderName; 10] = [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ACCEPT,
        header::ACCEPT_ENCODING,
        header::TE,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ];
    let name = name.as_str();
    !FRAMING.iter().any(|framing| framing.as_str() == name)
        && !name.starts_with("connect-")
        && !name.starts_with("grpc-")
        && name != "keep-alive"
}

/// `Connect-Timeout-Ms`, if present: 1 to 10 digits (Connect's grammar),
/// capped at what `grpc-timeout` can say; anything else is refused.
fn connect_timeout_ms(headers: &HeaderMap) -> Result<Option<u64>, AuthError> {
    let Some(value) = headers.get("connect-timeout-ms") else {
        return Ok(None);
    };
    let digits = value.as_bytes();
    if !(1..=10).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        let message = "Connect-Timeout-Ms must be 1 to 10 digits (milliseconds)";
        return Err(AuthError::InvalidRequest(message.into()));
    }
    let millis: u64 = value.to_str().ok().and_then(|text| text.parse().ok()).unwrap_or(MAX_TIMEOUT_MS);
    Ok(Some(millis.min(MAX_TIMEOUT_MS)))
}

fn frame(message: Vec<u8>) -> Vec<u8> {
    let length = u32::try_from(message.len()).expect("bodies are bounded far below 4 GiB");
    let mut framed = Vec::with_capacity(FRAME_HEADER + message.len());
    framed.push(0);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(&message);
    framed
}

/// The one uncompressed message of a unary answer.
fn unframe(body: Bytes) -> Result<Bytes, AuthError> {
    let broken = || AuthError::internal("the service answered with a malformed message frame");
    let Some((&[flag, a, b, c, d], rest)) = body.split_first_chunk::<FRAME_HEADER>() else {
        return Err(broken());
    };
    let length = u32::from_be_bytes([a, b, c, d]) as usize;
    if flag != 0 || rest.len() != length {
        return Err(broken());
    }
    Ok(body.slice(FRAME_HEADER..))
}
