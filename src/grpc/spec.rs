//! Where tonic's answer differs from the gRPC spec, put right at the edge.

use axum::{http::HeaderValue, response::Response};
use percent_encoding::percent_decode_str;
use tonic::{Code, Status};

use crate::authority::AuthError;

/// How tonic's `grpc-message` starts when the request message did not decode
/// (percent-encoded, as the header carries it).
const UNDECODABLE: &str = "failed%20to%20decode%20Protobuf%20message";

/// Puts right two of tonic's answers:
/// - a request message over the size limit is `OUT_OF_RANGE` in tonic; the
///   spec says `RESOURCE_EXHAUSTED`. No tokend handler answers `OUT_OF_RANGE`,
///   so every such status is tonic's size check.
/// - a request message that does not decode is `INTERNAL` in tonic; it is the
///   caller's error, `INVALID_ARGUMENT`, with tokend's error details. tokend's
///   own internal errors never carry tonic's decode message.
pub async fn statuses_as_the_spec_says(mut response: Response) -> Response {
    let headers = response.headers();
    if headers.get("grpc-status") == Some(&HeaderValue::from(Code::OutOfRange as i32)) {
        response.headers_mut().insert("grpc-status", HeaderValue::from(Code::ResourceExhausted as i32));
        return response;
    }
    let internal = headers.get("grpc-status") == Some(&HeaderValue::from(Code::Internal as i32));
    let undecodable = headers
        .get("grpc-message")
        .filter(|_| internal)
        .and_then(|message| message.to_str().ok()?.strip_prefix(UNDECODABLE))
        .map(|why| percent_decode_str(why).decode_utf8_lossy().into_owned());
    match undecodable {
        Some(why) => Status::from(AuthError::InvalidArgument(format!(
            "the request message is not valid protobuf{why}"
        )))
        .into_http(),
        None => response,
    }
}
