//! `start_node` of a flow: `{"left": a, "right": b}` → `{"result_number": a + b}`.
//!
//! Two integers add as integers (if the sum fits in 64 bits); anything else adds as
//! floats.

use cloudexec_sdk::{Error, function};
use serde_json::{Number, Value, json};

#[function]
fn start_node(input: Value) -> Result<Value, Error> {
    let number = |key: &str| input.get(key).and_then(Value::as_number).cloned();
    let (Some(left), Some(right)) = (number("left"), number("right")) else {
        return Err(Error::new("InvalidArgument", "left and right must be numbers"));
    };
    Ok(json!({ "result_number": add(&left, &right) }))
}

fn add(left: &Number, right: &Number) -> Value {
    if let (Some(l), Some(r)) = (left.as_i64(), right.as_i64())
        && let Some(sum) = l.checked_add(r)
    {
        return sum.into();
    }
    let float = |n: &Number| n.as_f64().unwrap_or(f64::NAN);
    json!(float(left) + float(right))
}
