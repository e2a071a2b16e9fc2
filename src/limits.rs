//! The server's numbers that must agree with each other, side by side, with
//! their relations checked at compile time instead of explained in comments
//! in three files. (Those a client must agree on too live in
//! `tokend_common::wire`.)

use std::time::Duration;

/// An HTTP token, introspection or revocation request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A gRPC request message: the same requests, with room for the admin calls.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// A dynamic registration's client metadata: a JWK Set (at most 64 KiB) and the rest.
pub const MAX_REGISTRATION_BYTES: usize = 80 * 1024;
/// A Connect call's body: a gRPC message, with room for JSON's longer spelling.
pub const MAX_CONNECT_BODY_BYTES: usize = 2 * MAX_MESSAGE_BYTES;
/// An HTTP client that has not sent its body by then is slow or hostile: 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// An HTTP call still running then gets a JSON 503.
pub const HTTP_DEADLINE: Duration = Duration::from_secs(25);
/// A gRPC call still running then gets `UNAVAILABLE` (unless the caller's own
/// `grpc-timeout` came first).
pub const GRPC_DEADLINE: Duration = Duration::from_secs(28);
/// How long calls in flight may take to finish after shutdown is asked for,
/// and how long a connection told to close may take to go.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

// A slow body is answered 408 by the body timeout, never 503 by the deadline.
const _: () = assert!(BODY_TIMEOUT.as_millis() < HTTP_DEADLINE.as_millis());
// What an HTTP request may carry, a gRPC message may too.
const _: () = assert!(MAX_BODY_BYTES <= MAX_MESSAGE_BYTES);
// A call that the deadline answers can still be answered within the drain:
// shutdown waits for no call longer than it would have run anyway.
const _: () = assert!(DRAIN_TIMEOUT.as_millis() <= HTTP_DEADLINE.as_millis());
