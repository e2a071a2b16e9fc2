//! The Connect protocol (connectrpc.com) for every unary method of
//! `tokend.v1`: `POST /tokend.v1.Service/Method` with a body in the proto3
//! JSON mapping (or `application/proto`), so browsers, `curl` and `buf curl`
//! call the same contract as gRPC. One generic route per method, found in the
//! descriptor set the build embeds: the body is turned into the method's
//! protobuf message and sent through the very gRPC services, in process, so
//! every rule, check and error mapping is gRPC's own.

mod call;
mod codec;
mod error;

use std::sync::{Arc, LazyLock};

use axum::{
    Router,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::{MethodRouter, post},
};
use prost_reflect::{DescriptorPool, MethodDescriptor};
use tonic::Status;

use self::codec::Codec;
use super::request;
use crate::{authority::AuthError, failure::Refusal, limits::MAX_CONNECT_BODY_BYTES};

/// The package whose services are served.
const PACKAGE: &str = "tokend.v1";

/// The Connect protocol version this server speaks (`Connect-Protocol-Version`).
const PROTOCOL_VERSION: &[u8] = b"1";

/// The descriptors of the contract and of `google.rpc`'s error details, which
/// error answers show decoded.
fn descriptors() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
        let mut pool = DescriptorPool::new();
        for set in [crate::grpc::pb::FILE_DESCRIPTOR_SET, tonic_types::pb::FILE_DESCRIPTOR_SET] {
            pool.decode_file_descriptor_set(set).expect("the embedded descriptors are valid");
        }
        pool
    });
    &POOL
}

/// A route for every method of the `tokend.v1` services, each calling `grpc`
/// (the gRPC services, without their own timing: the HTTP side times these).
pub fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>, grpc: Router) -> Router<S> {
    let methods = descriptors()
        .services()
        .filter(|service| service.package_name() == PACKAGE)
        .flat_map(|service| service.methods().collect::<Vec<_>>());
    methods.fold(router, |router, method| {
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        router.route(&path, route(method, grpc.clone()))
    })
}

fn route<S: Clone + Send + Sync + 'static>(method: MethodDescriptor, grpc: Router) -> MethodRouter<S> {
    let method = Arc::new(method);
    post(move |request: Request| unary(method.clone(), grpc.clone(), request)).fallback(|| async {
        let mut answer = error::response(&Status::from(Refusal::MethodNotAllowed { allowed: "POST" }));
        *answer.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        answer.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        answer
    })
}

async fn unary(method: Arc<MethodDescriptor>, grpc: Router, request: Request) -> Response {
    let Some(codec) = Codec::of_request(request.headers()) else {
        return error::unsupported_media_type();
    };
    match answer(&method, codec, grpc, request).await {
        Ok(response) => response,
        Err(status) => error::response(&status),
    }
}

async fn answer(
    method: &MethodDescriptor,
    codec: Codec,
    grpc: Router,
    request: Request,
) -> Result<Response, Status> {
    if method.is_client_streaming() || method.is_server_streaming() {
        let message = format!(
            "{} is a streaming method; Connect is served for unary methods only: call it over gRPC",
            method.name()
        );
        return Err(Status::from(Refusal::NoEndpoint(message)));
    }
    let (parts, body) = request.into_parts();
    check_protocol(&parts.headers)?;
    let body = request::read_body(body, MAX_CONNECT_BODY_BYTES).await.map_err(Status::from)?;
    let message = codec.decode(method.input(), &body)?;
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let reply = call::unary(grpc, parts, &path, message).await?;
    let body = codec.encode(method.output(), &reply.message)?;
    Ok(reply.respond(body, codec.content_type()))
}

/// Refuses a protocol version or a compression this server does not speak.
fn check_protocol(headers: &HeaderMap) -> Result<(), Status> {
    if let Some(version) = headers.get("connect-protocol-version")
        && version.as_bytes() != PROTOCOL_VERSION
    {
        return Err(Status::from(AuthError::InvalidRequest("Connect-Protocol-Version must be 1".into())));
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING)
        && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        let message = "compressed request bodies are not read: send them with Content-Encoding identity";
        return Err(Status::from(AuthError::InvalidRequest(message.into())));
    }
    Ok(())
}
