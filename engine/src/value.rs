//! Conversions between the guest ABI's `value` and JSON, and the seed's typed variables.
//!
//! JSON is the host's one data model (HTTP bodies, stored variables, job records); the
//! WIT `value` is how it crosses into a guest. Arrays and objects travel as JSON text.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::bindings::{WitTypedValue, WitValue};

/// Type code of a null value.
pub const TYPE_NULL: u32 = 0;
/// Type code of a bool.
pub const TYPE_BOOL: u32 = 1;
/// Type code of an integer: 64, as in seed 000's `{"data": 1, "len": 4, "type": 64}`.
pub const TYPE_INTEGER: u32 = 64;
/// Type code of a float (double).
pub const TYPE_FLOAT: u32 = 65;
/// Type code of a string.
pub const TYPE_STRING: u32 = 66;
/// Type code of raw bytes (stored as a JSON array of numbers).
pub const TYPE_BYTES: u32 = 67;
/// Type code of JSON arrays and objects.
pub const TYPE_JSON: u32 = 68;

/// A variable's value as seed 000 shapes it: `{data, len, type}`.
///
/// `len` and `type` are kept verbatim when a client sends them; [`TypedValue::infer`]
/// derives them from the data otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedValue {
    /// The value itself.
    pub data: Json,
    /// Size in bytes, as the client or [`TypedValue::infer`] put it.
    pub len: u32,
    /// Type code (see the `TYPE_*` constants).
    #[serde(rename = "type")]
    pub type_code: u32,
}

impl TypedValue {
    /// Wraps plain JSON, inferring its type code and length.
    pub fn infer(data: Json) -> Self {
        let (type_code, len) = match &data {
            Json::Null => (TYPE_NULL, 0),
            Json::Bool(_) => (TYPE_BOOL, 1),
            Json::Number(n) if n.is_i64() || n.is_u64() => {
                let fits32 = n.as_i64().is_some_and(|v| i32::try_from(v).is_ok());
                (TYPE_INTEGER, if fits32 { 4 } else { 8 })
            }
            Json::Number(_) => (TYPE_FLOAT, 8),
            Json::String(s) => (TYPE_STRING, saturating_len(s.len())),
            Json::Array(_) | Json::Object(_) => (TYPE_JSON, saturating_len(data.to_string().len())),
        };
        Self { data, len, type_code }
    }
}

/// Checks that a client's `{data, len, type}` agree for the type codes cloudexec knows
/// (unknown codes pass as they are): the data has the type's shape and `len` its size.
pub fn check_typed(v: &TypedValue) -> Result<(), String> {
    let len = v.len;
    let ok = match (v.type_code, &v.data) {
        (TYPE_NULL, Json::Null) => len == 0,
        (TYPE_BOOL, Json::Bool(_)) => len == 1,
        (TYPE_INTEGER, Json::Number(n)) if n.is_i64() || n.is_u64() => {
            len == 8 || (len == 4 && n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()))
        }
        (TYPE_FLOAT, Json::Number(_)) => len == 4 || len == 8,
        (TYPE_STRING, Json::String(text)) => len as usize == text.len(),
        (TYPE_BYTES, Json::Array(items)) => bytes_of(items).is_some_and(|b| b.len() == len as usize),
        (TYPE_JSON, Json::Array(_) | Json::Object(_)) => true,
        (TYPE_NULL | TYPE_BOOL | TYPE_INTEGER | TYPE_FLOAT | TYPE_STRING | TYPE_BYTES | TYPE_JSON, _) => false,
        _ => true,
    };
    if ok { Ok(()) } else { Err(format!("data {} with len {len} does not fit type {}", v.data, v.type_code)) }
}

fn saturating_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Converts a guest value into JSON. Malformed JSON text from a guest becomes a string.
pub fn to_json(value: WitValue) -> Json {
    match value {
        WitValue::Null => Json::Null,
        WitValue::Boolean(b) => Json::Bool(b),
        WitValue::Integer(i) => Json::from(i),
        WitValue::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        WitValue::Text(s) => Json::String(s),
        WitValue::Bytes(b) => Json::Array(b.into_iter().map(Json::from).collect()),
        WitValue::Json(text) => serde_json::from_str(&text).unwrap_or(Json::String(text)),
    }
}

/// Converts JSON into a guest value.
pub fn from_json(json: &Json) -> WitValue {
    match json {
        Json::Null => WitValue::Null,
        Json::Bool(b) => WitValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => WitValue::Integer(i),
            None => WitValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => WitValue::Text(s.clone()),
        Json::Array(_) | Json::Object(_) => WitValue::Json(json.to_string()),
    }
}

/// Converts a guest's typed value into the stored shape.
pub fn typed_from_wit(value: WitTypedValue) -> TypedValue {
    TypedValue { data: to_json(value.value), len: value.len, type_code: value.type_code }
}

/// Converts a stored typed value into the guest's shape; bytes come back as bytes.
pub fn typed_to_wit(value: &TypedValue) -> WitTypedValue {
    let wit = match (&value.data, value.type_code) {
        (Json::Array(items), TYPE_BYTES) => bytes_of(items).map_or_else(|| from_json(&value.data), WitValue::Bytes),
        (data, _) => from_json(data),
    };
    WitTypedValue { value: wit, len: value.len, type_code: value.type_code }
}

/// Infers the type code of a value a guest set, keeping bytes as bytes.
pub fn infer_from_wit(value: WitValue) -> TypedValue {
    if let WitValue::Bytes(bytes) = &value {
        let len = saturating_len(bytes.len());
        return TypedValue { data: to_json(value), len, type_code: TYPE_BYTES };
    }
    TypedValue::infer(to_json(value))
}

fn bytes_of(items: &[Json]) -> Option<Vec<u8>> {
    items.iter().map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn infers_seed_type_codes_and_lengths() {
        assert_eq!(TypedValue::infer(json!(1)), TypedValue { data: json!(1), len: 4, type_code: 64 });
        assert_eq!(TypedValue::infer(json!(1_i64 << 40)).len, 8);
        assert_eq!(TypedValue::infer(json!(2.5)).type_code, TYPE_FLOAT);
        assert_eq!(TypedValue::infer(json!("abc")).len, 3);
        assert_eq!(TypedValue::infer(json!({"a": 1})).type_code, TYPE_JSON);
    }

    #[test]
    fn json_round_trips_through_guest_values() {
        for v in [json!(null), json!(true), json!(-3), json!(1.5), json!("x"), json!([1, {"a": [2]}])] {
            assert_eq!(to_json(from_json(&v)), v);
        }
    }

    #[test]
    fn bytes_survive_storage_as_bytes() {
        let stored = infer_from_wit(WitValue::Bytes(vec![1, 2, 255]));
        assert_eq!(stored.type_code, TYPE_BYTES);
        assert_eq!(typed_to_wit(&stored).value, WitValue::Bytes(vec![1, 2, 255]));
    }

    #[test]
    fn seed_shape_serializes_with_type_key() {
        let v: TypedValue =
            serde_json::from_value(json!({"data": 1, "len": 4, "type": 64})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_value(&v).ok(), Some(json!({"data": 1, "len": 4, "type": 64})));
    }
}
