//! Conversions between the WIT `value` variant and JSON.
//!
//! The rules, both ways:
//!
//! | WIT `value`    | JSON                                                        |
//! |----------------|-------------------------------------------------------------|
//! | `null`         | `null`                                                      |
//! | `boolean(b)`   | `true` / `false`                                            |
//! | `integer(i)`   | a number that fits in `i64`                                 |
//! | `float(f)`     | any other number (non-finite floats become `null`)          |
//! | `text(s)`      | a string                                                    |
//! | `bytes(b)`     | an array of numbers 0..=255 (one way: JSON never maps back) |
//! | `json(t)`      | an array or an object, as JSON text                         |

pub use crate::__private::Value;

/// Turn a WIT value into JSON.
///
/// Fails only if a `json` case carries text that is not valid JSON.
///
/// ```
/// use cloudexec_sdk::value::{Value, to_json};
///
/// let json = to_json(Value::Json(r#"{"name":"Ada"}"#.into())).unwrap();
/// assert_eq!(json["name"], "Ada");
/// assert_eq!(to_json(Value::Integer(7)).unwrap(), 7);
/// ```
pub fn to_json(value: Value) -> Result<serde_json::Value, serde_json::Error> {
    use serde_json::Value as J;
    Ok(match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::Integer(i) => J::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Value::Text(s) => J::String(s),
        Value::Bytes(bytes) => J::Array(bytes.into_iter().map(J::from).collect()),
        Value::Json(text) => serde_json::from_str(&text)?,
    })
}

/// Turn JSON into a WIT value.
///
/// ```
/// use cloudexec_sdk::value::{Value, from_json};
///
/// assert_eq!(from_json(serde_json::json!(2)), Value::Integer(2));
/// assert_eq!(from_json(serde_json::json!(2.5)), Value::Float(2.5));
/// assert_eq!(from_json(serde_json::json!(["a"])), Value::Json(r#"["a"]"#.into()));
/// ```
pub fn from_json(json: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            // u64 above i64::MAX, or a float: f64 is the closest there is.
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Text(s),
        json @ (J::Array(_) | J::Object(_)) => Value::Json(json.to_string()),
    }
}

/// JSON of a value the host produced (a variable, a function result).
///
/// The host only stores valid JSON in a `json` case; should it ever not be, the raw
/// text is kept as a JSON string rather than failing.
pub(crate) fn host_json(value: Value) -> serde_json::Value {
    match value {
        Value::Json(text) => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        other => to_json(other).unwrap_or(serde_json::Value::Null),
    }
}
