//! Calls to other functions by their function key.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::bindings::cloudexec::runtime::functions as imports;
use crate::Error;
use crate::value::{from_json, host_json};

/// Call the function bound to `key` and deserialize its result as `R`.
///
/// `params` is serialized to JSON: an array (a tuple, a slice, a `Vec`) gives one
/// parameter per element; anything else is a single parameter (so `()`, which is JSON
/// `null`, is one `null` parameter; pass `[(); 0]` for none). A bin may only call keys
/// its manifest declares. A result that is not an `R` is an `InvalidData` error.
///
/// ```no_run
/// use cloudexec_sdk::functions;
///
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// let in_cart: bool = functions::call("utcook.jar:com.ut.BuzMethod.shoppingCart", ("apple",))?;
/// let order: String = functions::call("utcook.jar:com.ut.BuzMethod.order", ("apple", 2.5))?;
/// # Ok(())
/// # }
/// ```
pub fn call<R: DeserializeOwned>(key: &str, params: impl Serialize) -> Result<R, Error> {
    let params = match serde_json::to_value(params)? {
        serde_json::Value::Array(items) => items.into_iter().map(from_json).collect(),
        single => vec![from_json(single)],
    };
    let result = imports::call(key, &params).map_err(Error::from)?;
    R::deserialize(&host_json(result)).map_err(|e| Error::new("InvalidData", format!("result of {key:?}: {e}")))
}
