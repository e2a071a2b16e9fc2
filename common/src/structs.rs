//! `google.protobuf.Struct` to and from JSON objects (audit details, client
//! claims), for tokend and its clients alike. Struct numbers are doubles; whole ones come back as integers, so
//! a claim set to 3 reads 3 in a token, not 3.0.

use prost_types::{ListValue, Struct, Value, value::Kind};
use serde_json::{Map, Number};

/// A JSON object as a Struct, copied straight from the object (answers
/// build one from a client's shared claims without cloning them first).
pub fn to_struct(members: &Map<String, serde_json::Value>) -> Struct {
    Struct { fields: members.iter().map(|(name, value)| (name.clone(), to_value(value))).collect() }
}

fn to_value(value: &serde_json::Value) -> Value {
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(flag) => Kind::BoolValue(*flag),
        serde_json::Value::Number(number) => Kind::NumberValue(number.as_f64().unwrap_or_default()),
        serde_json::Value::String(text) => Kind::StringValue(text.clone()),
        serde_json::Value::Array(items) => {
            Kind::ListValue(ListValue { values: items.iter().map(to_value).collect() })
        }
        serde_json::Value::Object(members) => Kind::StructValue(to_struct(members)),
    };
    Value { kind: Some(kind) }
}

/// A Struct as a JSON object.
pub fn from_struct(members: Struct) -> Map<String, serde_json::Value> {
    members.fields.into_iter().map(|(name, value)| (name, from_value(value))).collect()
}

fn from_value(value: Value) -> serde_json::Value {
    match value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(flag)) => serde_json::Value::Bool(flag),
        Some(Kind::NumberValue(number)) => from_number(number),
        Some(Kind::StringValue(text)) => serde_json::Value::String(text),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.into_iter().map(from_value).collect())
        }
        Some(Kind::StructValue(members)) => serde_json::Value::Object(from_struct(members)),
    }
}

/// A whole double within ±2^53 as an integer; anything else as it is (NaN
/// and infinities, which JSON cannot hold, as null).
fn from_number(number: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() <= EXACT {
        return serde_json::Value::Number(Number::from(number as i64));
    }
    Number::from_f64(number).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_round_trip_with_whole_numbers_kept_whole() {
        let object = json!({"tier": 3, "ratio": 0.5, "on": true, "none": null, "tags": ["a", 1], "geo": {"eu": "yes"}});
        let serde_json::Value::Object(members) = object.clone() else { unreachable!() };
        assert_eq!(serde_json::Value::Object(from_struct(to_struct(&members))), object);
    }
}
