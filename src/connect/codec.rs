//! The two encodings a Connect unary call may use, told by `Content-Type`:
//! the proto3 JSON mapping, and protobuf itself, which passes through.

use axum::http::{HeaderMap, header};
use prost::Message;
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};

use crate::{authority::AuthError, domain::shorten_quoted};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Json,
    Proto,
}

/// What an unsupported `Content-Type` is told.
pub const ACCEPTED: &str = "application/json, application/proto";

impl Codec {
    /// The codec the request's `Content-Type` names (parameters such as
    /// `charset=utf-8` aside); `None` for any other media type.
    pub fn of_request(headers: &HeaderMap) -> Option<Codec> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/json") {
            Some(Codec::Json)
        } else if essence.eq_ignore_ascii_case("application/proto") {
            Some(Codec::Proto)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Json => "application/json",
            Codec::Proto => "application/proto",
        }
    }

    /// The request body as the protobuf encoding of `input`. JSON with a field
    /// the message does not have is refused, as the mapping allows.
    pub fn decode(self, input: MessageDescriptor, body: &[u8]) -> Result<Vec<u8>, AuthError> {
        if self == Codec::Proto {
            // Checked here, so a body that does not decode is the caller's
            // mistake in Connect's terms, not the service's internal error.
            DynamicMessage::decode(input.clone(), body).map_err(|err| {
                invalid(format!("the body is not a {} in the protobuf encoding: {err}", input.name()))
            })?;
            return Ok(body.to_vec());
        }
        if body.trim_ascii().is_empty() {
            return Err(invalid(format!("the body is empty; send {{}} for an empty {}", input.name())));
        }
        let mut json = serde_json::Deserializer::from_slice(body);
        let options = DeserializeOptions::new().deny_unknown_fields(true);
        let message = DynamicMessage::deserialize_with_options(input.clone(), &mut json, &options)
            .and_then(|message| json.end().map(|()| message))
            .map_err(|err| {
                let err = shorten_quoted(&err.to_string());
                invalid(format!("the body is not a {} in the proto3 JSON mapping: {err}", input.name()))
            })?;
        Ok(message.encode_to_vec())
    }

    /// The protobuf encoding of an `output` message, as this codec writes it.
    pub fn encode(self, output: MessageDescriptor, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        if self == Codec::Proto {
            return Ok(message.to_vec());
        }
        to_json(output, message)
    }
}

/// A protobuf message as proto3 JSON: lowerCamelCase names, defaults left
/// out, 64-bit integers as strings.
pub fn to_json(descriptor: MessageDescriptor, message: &[u8]) -> Result<Vec<u8>, AuthError> {
    let message =
        DynamicMessage::decode(descriptor, message).map_err(|err| AuthError::Internal(Box::new(err)))?;
    let mut json = serde_json::Serializer::new(Vec::new());
    message
        .serialize_with_options(&mut json, &SerializeOptions::new())
        .map_err(|err| AuthError::Internal(Box::new(err)))?;
    Ok(json.into_inner())
}

fn invalid(message: String) -> AuthError {
    AuthError::InvalidRequest(message)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn issue_request() -> MessageDescriptor {
        crate::connect::descriptors().get_message_by_name("tokend.v1.IssueTokenRequest").unwrap()
    }

    proptest! {
        /// Any bytes are read or refused, never a panic.
        #[test]
        fn any_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Codec::Json.decode(issue_request(), &body);
        }

        /// What is read writes back as the same JSON, names in lowerCamelCase.
        #[test]
        fn a_request_reads_and_writes_back(id in "[a-z0-9-]{1,20}", scope in "[ -~]{0,30}", audiences in proptest::collection::vec("[a-z]{1,8}", 0..4)) {
            let sent = json!({ "client_id": id, "scope": scope, "audience": audiences });
            let proto = Codec::Json.decode(issue_request(), sent.to_string().as_bytes()).unwrap();
            let back: Value = serde_json::from_slice(&to_json(issue_request(), &proto).unwrap()).unwrap();
            let mut expected = json!({ "clientId": id });
            if !scope.is_empty() { expected["scope"] = json!(scope); }
            if !audiences.is_empty() { expected["audience"] = json!(audiences); }
            prop_assert_eq!(back, expected);
        }
    }
}
