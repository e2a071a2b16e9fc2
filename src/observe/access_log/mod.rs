//! One log line per request, under the target `tokend::request`: failed
//! requests at INFO (sampled under load: `sampling`), every request at DEBUG
//! (`RUST_LOG=info,tokend::request=debug`).
//! Its fields: the operation, the outcome (gRPC code or HTTP status), the
//! duration, the client id once authenticated, and the trace id of a W3C
//! `traceparent` header, so a line joins the caller's trace. Nothing is
//! gathered for a line that will not be written: a successful request with
//! DEBUG off costs two level checks.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{extract::Request, http::HeaderValue};

mod sampling;

pub use sampling::{LINES_PER_MINUTE, summarise_each_minute};

/// Where a handler leaves the id of the client it authenticated, for the
/// request's line; in the request's extensions only when successes are logged.
#[derive(Debug, Clone, Default)]
pub struct ClientSlot(Arc<OnceLock<String>>);

/// Notes the authenticated client for the request's line, if one is wanted.
pub fn authenticated(slot: Option<&ClientSlot>, client_id: &str) {
    if let Some(slot) = slot {
        let _ = slot.0.set(client_id.to_owned());
    }
}

/// What a request's line needs from before the request ran.
pub struct Pending {
    client: Option<ClientSlot>,
    traceparent: Option<HeaderValue>,
}

/// Readies the line of `request`.
pub fn begin(request: &mut Request) -> Pending {
    let client =
        tracing::enabled!(target: "tokend::request", tracing::Level::DEBUG).then(ClientSlot::default);
    if let Some(slot) = &client {
        request.extensions_mut().insert(slot.clone());
    }
    Pending { client, traceparent: request.headers().get("traceparent").cloned() }
}

impl Pending {
    /// Writes the line, if its level is on (and, for a failure, if the
    /// minute's budget for its kind is not spent).
    pub fn finish(self, operation: &'static str, outcome: &'static str, failed: bool, started: Instant) {
        let wanted = match failed {
            true => {
                tracing::enabled!(target: "tokend::request", tracing::Level::INFO)
                    && sampling::REFUSED.admits(operation, outcome, Instant::now())
            }
            false => tracing::enabled!(target: "tokend::request", tracing::Level::DEBUG),
        };
        if !wanted {
            return;
        }
        // Whole microseconds, so the line reads 0.036, not 0.036424000000000005.
        let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
        let client_id = self.client.as_ref().and_then(|slot| slot.0.get()).map(String::as_str);
        let trace_id = self.traceparent.as_ref().and_then(|value| trace_id(value.as_bytes()));
        match failed {
            true => tracing::info!(
                target: "tokend::request", operation, outcome, duration_ms, client_id, trace_id, "request failed"
            ),
            false => tracing::debug!(
                target: "tokend::request", operation, outcome, duration_ms, client_id, trace_id, "request"
            ),
        }
    }
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`);
/// `None` for anything else, which is then ignored as the spec asks.
fn trace_id(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    valid.then_some(trace)
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn only_well_formed_traceparents_give_a_trace_id() {
        let good = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(good), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        for bad in [
            &b"00-00000000000000000000000000000000-00f067aa0ba902b7-01"[..],
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            b"not a traceparent",
        ] {
            assert_eq!(trace_id(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
