//! The Connect protocol (connectrpc.com) for every unary method of
//! `tokend.v1`: `POST /tokend.v1.Service/Method` with a body in the proto3
//! JSON mapping (or `application/proto`), so browsers, `curl` and `buf curl`
//! call the same contract as gRPC. One generic route per method, found in the
//! descriptor set the build embeds: the body is turned into the method's
//! protobuf message and sent through the very gRPC services, in process, so
//! every rule, check and error mapping is gRPC's own.

mod call;
mod codec;
pub mod console;
mod error;

use std::sync::{Arc, LazyLock, OnceLock};

use axum::{
    Router,
    extract::Request,
    http::{HeaderMap, header},
    response::Response,
    routing::{MethodRouter, post},
};
use prost_reflect::{DescriptorPool, MethodDescriptor};

use self::{codec::Codec, error::Unanswered};
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
        for set in [crate::contract::pb::FILE_DESCRIPTOR_SET, tonic_types::pb::FILE_DESCRIPTOR_SET] {
            pool.decode_file_descriptor_set(set).expect("the embedded descriptors are valid");
        }
        pool
    });
    &POOL
}

/// A route for every method of the `tokend.v1` services, each calling `grpc`
/// (the gRPC services, without their own timing: the HTTP side times these).
/// The paths come from the descriptor set as it is; the reflection pool that
/// reads JSON is built at the first Connect call, so a server no one calls
/// over Connect never holds it.
pub fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>, grpc: Router) -> Router<S> {
    let prefix = format!("/{PACKAGE}.");
    let methods = crate::contract::methods(crate::contract::pb::FILE_DESCRIPTOR_SET);
    let served = methods.into_iter().filter(|method| method.path.starts_with(&prefix));
    served.fold(router, |router, method| {
        let path = method.path.clone();
        let method = Arc::new(Method { path: method.path, descriptor: OnceLock::new() });
        router.route(&path, route(method, grpc.clone()))
    })
}

/// A method of the contract and the path it is served at, over Connect and gRPC alike.
struct Method {
    path: String,
    descriptor: OnceLock<MethodDescriptor>,
}

impl Method {
    fn descriptor(&self) -> &MethodDescriptor {
        self.descriptor.get_or_init(|| {
            let (service, name) = self.path[1..].split_once('/').expect("a method path has a slash");
            let service = descriptors().get_service_by_name(service);
            let method = service.and_then(|service| service.methods().find(|method| method.name() == name));
            method.expect("every method of the descriptor set is in the pool built from it")
        })
    }
}

fn route<S: Clone + Send + Sync + 'static>(method: Arc<Method>, grpc: Router) -> MethodRouter<S> {
    post(move |request: Request| unary(method.clone(), grpc.clone(), request))
        .fallback(|| async { Unanswered::from(Refusal::MethodNotAllowed { allowed: "POST" }).response() })
}

async fn unary(method: Arc<Method>, grpc: Router, request: Request) -> Response {
    let Some(codec) = Codec::of_request(request.headers()) else {
        return error::unsupported_media_type();
    };
    match answer(&method, codec, grpc, request).await {
        Ok(response) => response,
        Err(unanswered) => unanswered.response(),
    }
}

async fn answer(
    method: &Method,
    codec: Codec,
    grpc: Router,
    request: Request,
) -> Result<Response, Unanswered> {
    let descriptor = method.descriptor();
    if descriptor.is_client_streaming() || descriptor.is_server_streaming() {
        let message = format!(
            "{} is a streaming method; Connect is served for unary methods only: call it over gRPC",
            descriptor.name()
        );
        return Err(Refusal::NotImplemented(message).into());
    }
    let (parts, body) = request.into_parts();
    check_protocol(&parts.headers)?;
    let body = crate::http::read_body(body, MAX_CONNECT_BODY_BYTES).await?;
    let message = codec.decode(descriptor.input(), &body)?;
    let reply = call::unary(grpc, parts, &method.path, message).await?;
    let body = codec.encode(descriptor.output(), &reply.message)?;
    Ok(reply.respond(body, codec.content_type()))
}

/// Refuses a protocol version or a compression this server does not speak.
fn check_protocol(headers: &HeaderMap) -> Result<(), AuthError> {
    if let Some(version) = headers.get("connect-protocol-version")
        && version.as_bytes() != PROTOCOL_VERSION
    {
        return Err(AuthError::InvalidRequest("Connect-Protocol-Version must be 1".into()));
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING)
        && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        let message = "compressed request bodies are not read: send them with Content-Encoding identity";
        return Err(AuthError::InvalidRequest(message.into()));
    }
    Ok(())
}

/// Reads a JSON body as a Connect call would, for the method its first byte
/// picks, and writes what it read back, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub fn fuzz_json(body: &[u8]) {
    let Some((choice, body)) = body.split_first() else { return };
    let services = descriptors().services().filter(|service| service.package_name() == PACKAGE);
    let methods: Vec<_> = services.flat_map(|service| service.methods().collect::<Vec<_>>()).collect();
    let input = methods[usize::from(*choice) % methods.len()].input();
    if let Ok(message) = Codec::Json.decode(input.clone(), body) {
        codec::to_json(input, &message).expect("a message read from JSON writes back");
    }
}
