//! Parsing a run's variable updates from the shapes clients send (seed 000's `varList`
//! bodies, or plain objects): a compat concern of the bins layer; the engine takes the
//! typed updates.

use serde_json::Value as Json;

use crate::{TypedValue, check_typed};

/// Parses variable updates from either seed 000's `{"varList": [{"varPtr":
/// {"variableKey": "1"}, "object": {"data": 1, "len": 4, "type": 64}}]}` (also when
/// wrapped as `{"updateVarInfo": {...}}`) or a plain object of key → JSON value, whose
/// type codes are inferred.
pub fn parse_updates(json: &Json) -> Result<Vec<(String, TypedValue)>, String> {
    let Json::Object(map) = json else {
        return Err("variable updates must be a JSON object".into());
    };
    if let Some(inner) = map.get("updateVarInfo") {
        return parse_updates(inner);
    }
    match map.get("varList") {
        Some(Json::Array(list)) => list.iter().enumerate().map(|(i, item)| parse_var(i, item)).collect(),
        Some(_) => Err("`varList` must be an array".into()),
        None => Ok(map.iter().map(|(k, v)| (k.clone(), TypedValue::infer(v.clone()))).collect()),
    }
}

fn parse_var(index: usize, item: &Json) -> Result<(String, TypedValue), String> {
    let key = match item.pointer("/varPtr/variableKey") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => {
            return Err(format!("varList[{index}]: `varPtr.variableKey` must be a string or number"));
        }
    };
    let object = item.get("object").ok_or_else(|| format!("varList[{index}]: `object` is missing"))?;
    let data = object.get("data").cloned().ok_or_else(|| format!("varList[{index}]: `object.data` is missing"))?;
    let inferred = TypedValue::infer(data);
    let field = |name: &str, default: u32| -> Result<u32, String> {
        match object.get(name) {
            None | Some(Json::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("varList[{index}]: `object.{name}` must be a non-negative integer")),
        }
    };
    let len = field("len", inferred.len)?;
    let type_code = field("type", inferred.type_code)?;
    let value = TypedValue { len, type_code, ..inferred };
    check_typed(&value).map_err(|e| format!("varList[{index}] ({key:?}): {e}"))?;
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_seed_shape_verbatim() {
        let body = json!({"updateVarInfo": {"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 1, "len": 4, "type": 64}}]}});
        let updates = parse_updates(&body).unwrap();
        assert_eq!(updates, vec![("1".to_string(), TypedValue { data: json!(1), len: 4, type_code: 64 })]);
    }

    #[test]
    fn parses_plain_maps_and_numeric_keys() {
        let updates = parse_updates(&json!({"item": "apple"})).unwrap();
        assert_eq!(updates[0].1.type_code, 66);
        let numeric =
            parse_updates(&json!({"varList": [{"varPtr": {"variableKey": 1}, "object": {"data": "x"}}]})).unwrap();
        assert_eq!(numeric[0].0, "1");
    }

    #[test]
    fn refuses_a_len_or_data_that_does_not_fit_the_type() {
        let wrong_len =
            json!({"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 1, "len": 3, "type": 64}}]});
        assert!(parse_updates(&wrong_len).unwrap_err().contains("does not fit type 64"));
        let wrong_data =
            json!({"varList": [{"varPtr": {"variableKey": "s"}, "object": {"data": 5, "len": 1, "type": 66}}]});
        assert!(parse_updates(&wrong_data).is_err());
        let big = json!({"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 1_i64 << 40, "len": 4, "type": 64}}]});
        assert!(parse_updates(&big).is_err(), "does not fit 4 bytes");
        let unknown =
            json!({"varList": [{"varPtr": {"variableKey": "x"}, "object": {"data": "?", "len": 99, "type": 200}}]});
        assert!(parse_updates(&unknown).is_ok(), "unknown type codes pass");
    }

    #[test]
    fn names_the_bad_entry() {
        let err = parse_updates(&json!({"varList": [{"varPtr": {}, "object": {"data": 1}}]})).unwrap_err();
        assert!(err.contains("varList[0]"), "{err}");
        assert!(parse_updates(&json!([1])).is_err());
    }
}
