//! Where tonic's answer differs from the gRPC spec, put right at the edge.

use axum::{http::HeaderValue, response::Response};
use tonic::Code;

/// tonic answers a request message over the size limit with `OUT_OF_RANGE`;
/// the spec says `RESOURCE_EXHAUSTED`. No tokend handler answers
/// `OUT_OF_RANGE`, so every such status is tonic's size check.
pub async fn oversized_is_resource_exhausted(mut response: Response) -> Response {
    let out_of_range = HeaderValue::from(Code::OutOfRange as i32);
    if response.headers().get("grpc-status") == Some(&out_of_range) {
        response.headers_mut().insert("grpc-status", HeaderValue::from(Code::ResourceExhausted as i32));
    }
    response
}
