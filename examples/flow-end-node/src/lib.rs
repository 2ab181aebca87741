//! `end_node` of a flow: checks `result_number` against `expect_number`.
//!
//! Equal → `{"success": true, "result_number": n}`; unequal → a `Mismatch` error
//! naming both numbers.

use cloudexec_sdk::{Error, function};
use serde_json::{Number, Value, json};

#[function]
fn end_node(input: Value) -> Result<Value, Error> {
    let number = |key: &str| input.get(key).and_then(Value::as_number).cloned();
    let (Some(result), Some(expect)) = (number("result_number"), number("expect_number")) else {
        return Err(Error::new("InvalidArgument", "result_number and expect_number must be numbers"));
    };
    if !same(&result, &expect) {
        let message = format!("result_number {result} != expect_number {expect}");
        return Err(Error::new("Mismatch", message));
    }
    Ok(json!({ "success": true, "result_number": result }))
}

/// Numeric equality: `3` equals `3.0`.
fn same(a: &Number, b: &Number) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(a), Some(b)) => a == b,
        _ => a.as_f64() == b.as_f64(),
    }
}
