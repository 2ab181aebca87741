//! The functions of the subset: `rand`, `range`, `seq.*` over lists, `string.*`, the
//! conversions and `math.abs`. Each checks its arguments and keeps lists and strings
//! within the script's caps.

use serde_json::{Value, json};

/// Most items a list may hold.
pub const MAX_LIST_ITEMS: usize = 10_000;
/// Longest a string may grow, in bytes.
pub const MAX_STRING_BYTES: usize = 1 << 20;

const KNOWN: [&str; 21] = [
    "rand",
    "range",
    "count",
    "seq.list",
    "seq.add",
    "seq.get",
    "seq.contains_key",
    "string.length",
    "string.contains",
    "string.startsWith",
    "string.endsWith",
    "string.substring",
    "string.indexOf",
    "string.split",
    "string.join",
    "string.replace_all",
    "str",
    "long",
    "double",
    "math.abs",
    "is_nil",
];

/// True for a function the subset runs.
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

fn int(value: &Value, what: &str) -> Result<i64, String> {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .ok_or_else(|| format!("{what} must be a number, not {value}"))
}

fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, String> {
    value.as_str().ok_or_else(|| format!("{what} must be a string, not {value}"))
}

fn arity(name: &str, args: &[Value], range: std::ops::RangeInclusive<usize>) -> Result<(), String> {
    if range.contains(&args.len()) {
        Ok(())
    } else {
        Err(format!("{name} takes {range:?} arguments, not {}", args.len()))
    }
}

/// A list value within the cap.
pub fn list(items: Vec<Value>) -> Result<Value, String> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(format!("a list of more than {MAX_LIST_ITEMS} items"));
    }
    Ok(Value::Array(items))
}

/// A string value within the cap.
pub fn string(text: String) -> Result<Value, String> {
    if text.len() > MAX_STRING_BYTES {
        return Err(format!("a string of more than {MAX_STRING_BYTES} bytes"));
    }
    Ok(Value::String(text))
}

/// Calls `name` (not `seq.add`, which changes a variable: see the evaluator).
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let chars = |s: &str| s.chars().collect::<Vec<_>>();
    match name {
        "rand" => {
            arity(name, args, 0..=1)?;
            let unit = f64::from(u32::from_le_bytes(crate::ids::random::<4>("rand").map_err(|e| e.to_string())?))
                / (f64::from(u32::MAX) + 1.0);
            match args.first() {
                None => Ok(json!(unit)),
                Some(bound) => {
                    let bound = int(bound, "rand's bound")?;
                    if bound <= 0 {
                        return Err(format!("rand's bound must be positive, not {bound}"));
                    }
                    Ok(json!((unit * bound as f64) as i64))
                }
            }
        }
        "range" => {
            arity(name, args, 2..=2)?;
            let (from, to) = (int(&args[0], "range's start")?, int(&args[1], "range's end")?);
            if to.saturating_sub(from) > MAX_LIST_ITEMS as i64 {
                return Err(format!("a range of more than {MAX_LIST_ITEMS} items"));
            }
            list((from..to).map(Value::from).collect())
        }
        "seq.list" => list(args.to_vec()),
        "count" => {
            arity(name, args, 1..=1)?;
            match &args[0] {
                Value::Array(items) => Ok(json!(items.len())),
                Value::Object(fields) => Ok(json!(fields.len())),
                Value::String(s) => Ok(json!(s.chars().count())),
                Value::Null => Ok(json!(0)),
                other => Err(format!("count of {other}")),
            }
        }
        "seq.get" => {
            arity(name, args, 2..=2)?;
            match &args[0] {
                Value::Array(items) => Ok(usize::try_from(int(&args[1], "the index")?)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .unwrap_or(Value::Null)),
                Value::Object(fields) => Ok(fields.get(text(&args[1], "the key")?).cloned().unwrap_or(Value::Null)),
                other => Err(format!("seq.get of {other}")),
            }
        }
        "seq.contains_key" => {
            arity(name, args, 2..=2)?;
            Ok(json!(args[0].as_object().is_some_and(|o| args[1].as_str().is_some_and(|k| o.contains_key(k)))))
        }
        "string.length" => {
            arity(name, args, 1..=1)?;
            Ok(json!(text(&args[0], "the string")?.chars().count()))
        }
        "string.contains" | "string.startsWith" | "string.endsWith" | "string.indexOf" => {
            arity(name, args, 2..=2)?;
            let (s, t) = (text(&args[0], "the string")?, text(&args[1], "the part")?);
            Ok(match name {
                "string.contains" => json!(s.contains(t)),
                "string.startsWith" => json!(s.starts_with(t)),
                "string.endsWith" => json!(s.ends_with(t)),
                _ => json!(s.find(t).map_or(-1, |byte| s[..byte].chars().count() as i64)),
            })
        }
        "string.substring" => {
            arity(name, args, 2..=3)?;
            let s = chars(text(&args[0], "the string")?);
            let begin = usize::try_from(int(&args[1], "the begin index")?).map_err(|_| "a negative index")?;
            let end = match args.get(2) {
                Some(end) => usize::try_from(int(end, "the end index")?).map_err(|_| "a negative index")?,
                None => s.len(),
            };
            if begin > end || end > s.len() {
                return Err(format!("substring {begin}..{end} of a string of {} characters", s.len()));
            }
            Ok(Value::String(s[begin..end].iter().collect()))
        }
        "string.split" => {
            arity(name, args, 2..=2)?;
            let (s, sep) = (text(&args[0], "the string")?, text(&args[1], "the separator")?);
            list(s.split(sep).map(|p| Value::String(p.to_string())).collect())
        }
        "string.join" => {
            arity(name, args, 2..=2)?;
            let items = args[0].as_array().ok_or("string.join takes a list")?;
            let parts: Vec<String> = items.iter().map(as_text).collect();
            string(parts.join(text(&args[1], "the separator")?))
        }
        "string.replace_all" => {
            arity(name, args, 3..=3)?;
            let s = text(&args[0], "the string")?;
            string(s.replace(text(&args[1], "the pattern")?, text(&args[2], "the replacement")?))
        }
        "str" => string(as_text(args.first().unwrap_or(&Value::Null))),
        "long" => match args.first() {
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Value::from).map_err(|_| format!("long({s:?})")),
            Some(v) => Ok(json!(int(v, "long's argument")?)),
            None => Err("long takes one argument".into()),
        },
        "double" => match args.first() {
            Some(Value::String(s)) => s.trim().parse::<f64>().map(|f| json!(f)).map_err(|_| format!("double({s:?})")),
            Some(v) => v.as_f64().map(|f| json!(f)).ok_or_else(|| format!("double({v})")),
            None => Err("double takes one argument".into()),
        },
        "math.abs" => match args.first() {
            Some(v) if v.is_i64() => {
                Ok(json!(v.as_i64().unwrap_or_default().checked_abs().ok_or("math.abs overflows")?))
            }
            Some(v) => v.as_f64().map(|f| json!(f.abs())).ok_or_else(|| format!("math.abs({v})")),
            None => Err("math.abs takes one argument".into()),
        },
        "is_nil" => Ok(json!(args.first().is_none_or(Value::is_null))),
        other => Err(format!("the function `{other}` is outside the supported subset")),
    }
}

/// A value as text (strings as they are; `nil` as `null`).
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
