//! Variables of the current execution instance (bins only; in a function every call fails).
//!
//! ```no_run
//! use cloudexec_sdk::vars;
//!
//! # fn main() -> Result<(), cloudexec_sdk::Error> {
//! vars::set("inCart", &true)?;
//! let in_cart: Option<bool> = vars::get("inCart")?;
//! assert_eq!(in_cart, Some(true));
//! # Ok(())
//! # }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::bindings::cloudexec::runtime::vars as imports;
use crate::__private::{WitTypedValue, WitVariable};
use crate::Error;
use crate::value::{from_json, host_json};

/// A variable's value with the `len` and `type_code` the host stores beside it.
///
/// The codes the host infers are 0 null, 1 bool, 64 integer, 65 float, 66 string,
/// 67 bytes, 68 JSON; see `typed-value` in the WIT for `len`.
///
/// ```no_run
/// use cloudexec_sdk::vars::{self, TypedValue};
///
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// vars::set_typed("1", TypedValue { value: 1.into(), len: 4, type_code: 64 })?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TypedValue {
    /// The value itself, as JSON.
    pub value: serde_json::Value,
    /// The byte length the client sent or the host inferred.
    pub len: u32,
    /// The type code the client sent or the host inferred.
    pub type_code: u32,
}

/// A named variable, as [`list`] and [`Updates`](crate::Updates) give them.
///
/// ```no_run
/// for var in cloudexec_sdk::vars::list() {
///     cloudexec_sdk::info!("{} = {}", var.key, var.value.value);
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// The variable's name.
    pub key: String,
    /// Its value.
    pub value: TypedValue,
}

impl From<WitTypedValue> for TypedValue {
    fn from(v: WitTypedValue) -> Self {
        Self { value: host_json(v.value), len: v.len, type_code: v.type_code }
    }
}

impl From<WitVariable> for Variable {
    fn from(v: WitVariable) -> Self {
        Self { key: v.key, value: v.value.into() }
    }
}

/// Read a variable as `T`: the instance's own, else the engine layer's answer (the bin's
/// `getVarUrl`, seed 000 4.3); `Ok(None)` if neither has it, an `InvalidData` error if it
/// is not a `T`, the engine layer's error if its answer failed.
///
/// ```no_run
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// let item: Option<String> = cloudexec_sdk::vars::get("item")?;
/// # Ok(())
/// # }
/// ```
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match fetch_typed(key)? {
        None => Ok(None),
        Some(typed) => T::deserialize(&typed.value)
            .map(Some)
            .map_err(|e| Error::new("InvalidData", format!("variable {key:?}: {e}"))),
    }
}

/// Read a variable with its `len` and `type_code`, as [`get`] does (asking the engine
/// layer for one the instance does not hold).
pub fn fetch_typed(key: &str) -> Result<Option<TypedValue>, Error> {
    Ok(imports::fetch(key)?.map(TypedValue::from))
}

/// Read the instance's own variable with its `len` and `type_code`; `None` if unset
/// (the engine layer is not asked).
///
/// ```no_run
/// if let Some(v) = cloudexec_sdk::vars::get_typed("1") {
///     assert_eq!(v.type_code, 64);
/// }
/// ```
pub fn get_typed(key: &str) -> Option<TypedValue> {
    imports::get(key).map(TypedValue::from)
}

/// Set a variable to `value` serialized as JSON; the host infers its type code and length.
///
/// ```no_run
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// cloudexec_sdk::vars::set("orderId", "order-apple-250")?;
/// cloudexec_sdk::vars::set("tags", &["a", "b"])?;
/// # Ok(())
/// # }
/// ```
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    let json = serde_json::to_value(value)?;
    imports::set(key, &from_json(json)).map_err(Error::from)
}

/// Set a variable with an explicit `type_code` and `len`, kept verbatim by the host.
///
/// ```no_run
/// use cloudexec_sdk::vars::{set_typed, TypedValue};
///
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// set_typed("count", TypedValue { value: 3.into(), len: 8, type_code: 64 })?;
/// # Ok(())
/// # }
/// ```
pub fn set_typed(key: &str, value: TypedValue) -> Result<(), Error> {
    let typed = WitTypedValue { value: from_json(value.value), len: value.len, type_code: value.type_code };
    imports::set_typed(key, &typed).map_err(Error::from)
}

/// Every variable of the instance, ordered by key.
///
/// ```no_run
/// let keys: Vec<String> = cloudexec_sdk::vars::list().into_iter().map(|v| v.key).collect();
/// ```
pub fn list() -> Vec<Variable> {
    imports::list().into_iter().map(Variable::from).collect()
}
