//! `google.protobuf.Struct` fields kept as their encoded bytes. A client's
//! fixed claims go out in every introspection answer; building and encoding
//! a Struct (a map of `Value` messages) for each answer cost more than the
//! rest of the answer, so the generated types hold the bytes instead, and a
//! client's claims are encoded once.

use std::{fmt, sync::Arc};

use prost::{
    DecodeError, Message,
    bytes::{Buf, BufMut},
    encoding::{DecodeContext, WireType, bytes, encode_key, encode_varint, skip_field},
};
use serde_json::{Map, Value};
use tokend_common::structs;

use crate::domain::ClientClaims;

/// The tag of `Struct.fields`, Struct's only field.
const FIELDS: u32 = 1;

/// A `google.protobuf.Struct` as its encoded fields; clones share the bytes.
#[derive(Clone, Default, PartialEq)]
pub struct EncodedStruct(Arc<[u8]>);

impl EncodedStruct {
    /// The Struct of a JSON object's members.
    pub fn of(members: &Map<String, Value>) -> Self {
        Self(structs::to_struct(members).encode_to_vec().into())
    }

    /// A client's fixed claims, encoded the first time a token carrying them
    /// is answered for; `None` when there are none.
    pub fn of_claims(claims: &ClientClaims) -> Option<Self> {
        claims.wire_encoded(|members| Self::of(members).0).map(Self)
    }

    /// The members of the JSON object it holds. Its bytes always decode: they
    /// were encoded here, or checked field by field as they were read.
    pub fn members(&self) -> Map<String, Value> {
        prost_types::Struct::decode(&*self.0).map(structs::from_struct).unwrap_or_default()
    }
}

impl fmt::Debug for EncodedStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Value::Object(self.members()))
    }
}

impl Message for EncodedStruct {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// Keeps each field as it came, key and all, once it decodes as a
    /// Struct's field; anything but `fields` is skipped, as a Struct would.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag != FIELDS || wire_type != WireType::LengthDelimited {
            return skip_field(wire_type, tag, buf, ctx);
        }
        let mut inside = Vec::new();
        bytes::merge(wire_type, &mut inside, buf, ctx)?;
        let mut field = Vec::with_capacity(inside.len() + 12);
        encode_key(FIELDS, WireType::LengthDelimited, &mut field);
        encode_varint(inside.len() as u64, &mut field);
        field.extend(inside);
        prost_types::Struct::decode(field.as_slice())?;
        self.0 = [&self.0[..], &field].concat().into();
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Arc::default();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        let Value::Object(members) = value else { panic!("an object") };
        members
    }

    #[test]
    fn it_encodes_as_a_struct_does_and_decodes_what_a_struct_encodes() {
        let members = object(json!({"tenant": "acme", "tier": 3, "roles": ["a", "b"], "geo": {"eu": true}}));
        let encoded = EncodedStruct::of(&members);
        let as_struct = structs::to_struct(&members);
        assert_eq!(encoded.encode_to_vec(), as_struct.encode_to_vec());
        let decoded = EncodedStruct::decode(as_struct.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.members(), members);
        assert_eq!(decoded, encoded);
    }

    #[test]
    fn unknown_fields_are_skipped_and_a_field_past_the_end_is_refused() {
        let mut bytes = structs::to_struct(&object(json!({"a": 1}))).encode_to_vec();
        let mut unknown = Vec::new();
        encode_key(7, WireType::Varint, &mut unknown);
        encode_varint(5, &mut unknown);
        bytes.extend(unknown);
        let decoded = EncodedStruct::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.members(), object(json!({"a": 1})));
        let cut = structs::to_struct(&object(json!({"abc": "def"}))).encode_to_vec();
        assert!(EncodedStruct::decode(&cut[..cut.len() - 2]).is_err(), "a field past the end");
        // A field whose length fits but whose inside is no map entry.
        let mut garbage = Vec::new();
        encode_key(FIELDS, WireType::LengthDelimited, &mut garbage);
        encode_varint(2, &mut garbage);
        garbage.extend([0xff, 0xff]);
        assert!(EncodedStruct::decode(garbage.as_slice()).is_err(), "a field that is not a Struct's");
    }

    #[test]
    fn a_clients_claims_are_encoded_once_and_shared() {
        let claims = ClientClaims::parse(r#"{"tenant": "acme"}"#).unwrap();
        let (first, second) =
            (EncodedStruct::of_claims(&claims).unwrap(), EncodedStruct::of_claims(&claims).unwrap());
        assert!(Arc::ptr_eq(&first.0, &second.0), "the second answer reuses the first's bytes");
        assert_eq!(first.members(), object(json!({"tenant": "acme"})));
        assert!(EncodedStruct::of_claims(&ClientClaims::default()).is_none());
    }
}
