//! The variable updates a bin's `run` receives.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::vars::{TypedValue, Variable};

/// The variables a client changed for this run, already applied to the instance.
///
/// ```no_run
/// use cloudexec_sdk::{Error, Updates};
///
/// fn run(updates: Updates) -> Result<(), Error> {
///     if let Some(item) = updates.get::<String>("item")? {
///         cloudexec_sdk::info!("item is now {item}");
///     }
///     for key in updates.keys() {
///         cloudexec_sdk::debug!("updated {key}");
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Updates {
    vars: Vec<Variable>,
}

impl Updates {
    /// Wrap a list of variables, e.g. to call a bin's `run` in a native test.
    ///
    /// ```
    /// use cloudexec_sdk::{TypedValue, Updates, Variable};
    ///
    /// let item = TypedValue { value: "apple".into(), len: 5, type_code: 66 };
    /// let updates = Updates::new(vec![Variable { key: "item".into(), value: item }]);
    /// assert_eq!(updates.get::<String>("item"), Ok(Some("apple".to_owned())));
    /// assert_eq!(updates.get::<String>("amount"), Ok(None));
    /// assert_eq!(updates.get::<f64>("item").map_err(|e| e.code), Err("InvalidData".into()));
    /// ```
    pub fn new(vars: Vec<Variable>) -> Self {
        Self { vars }
    }

    /// The update of `key` as a `T`: `Ok(None)` if `key` was not updated, an
    /// `InvalidData` error if its value is not a `T`.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) -> Result<(), cloudexec_sdk::Error> {
    /// let amount: Option<f64> = updates.get("amount")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(typed) = self.get_typed(key) else {
            return Ok(None);
        };
        T::deserialize(&typed.value).map(Some).map_err(|e| Error::new("InvalidData", format!("update {key:?}: {e}")))
    }

    /// The update of `key` with its `len` and `type_code`, if `key` was updated.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// let code = updates.get_typed("1").map(|v| v.type_code);
    /// # }
    /// ```
    pub fn get_typed(&self, key: &str) -> Option<&TypedValue> {
        self.vars.iter().find(|v| v.key == key).map(|v| &v.value)
    }

    /// Whether `key` was updated.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// if updates.contains("pay") { /* ... */ }
    /// # }
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        self.vars.iter().any(|v| v.key == key)
    }

    /// The updated keys, in the order the host gave them.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// let keys: Vec<&str> = updates.keys().collect();
    /// # }
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|v| v.key.as_str())
    }

    /// The updated variables, in the order the host gave them.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// for var in updates.iter() {
    ///     cloudexec_sdk::info!("{} = {}", var.key, var.value.value);
    /// }
    /// # }
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Variable> {
        self.vars.iter()
    }

    /// How many variables were updated.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// cloudexec_sdk::debug!("{} updates", updates.len());
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether no variable was updated.
    ///
    /// ```no_run
    /// # fn f(updates: cloudexec_sdk::Updates) {
    /// if updates.is_empty() { return; }
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

impl<'a> IntoIterator for &'a Updates {
    type Item = &'a Variable;
    type IntoIter = std::slice::Iter<'a, Variable>;

    fn into_iter(self) -> Self::IntoIter {
        self.vars.iter()
    }
}

impl IntoIterator for Updates {
    type Item = Variable;
    type IntoIter = std::vec::IntoIter<Variable>;

    fn into_iter(self) -> Self::IntoIter {
        self.vars.into_iter()
    }
}

impl From<Vec<Variable>> for Updates {
    fn from(vars: Vec<Variable>) -> Self {
        Self::new(vars)
    }
}
