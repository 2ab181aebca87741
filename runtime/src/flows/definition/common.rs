//! Field access with error context, and the pieces every format shares: name lists,
//! mappings, conditions, resources.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::DefinitionError;
use crate::flows::data::{Condition, DataError, Mapping, Path, Source, transform_script};
use crate::flows::graph::{Resource, RetryRule};

/// A JSON object being read, with the task it belongs to and the field path leading to
/// it, so every error can name both.
#[derive(Debug, Clone)]
pub(super) struct Fields<'a> {
    pub map: &'a Map<String, Json>,
    pub task: Option<String>,
    prefix: String,
}

impl<'a> Fields<'a> {
    /// The top of a document (no task).
    pub fn top(map: &'a Map<String, Json>) -> Self {
        Fields { map, task: None, prefix: String::new() }
    }

    /// The same object, read as the task or state named `task`.
    pub fn with_task(&self, task: &str) -> Self {
        Fields { map: self.map, task: Some(task.to_string()), prefix: String::new() }
    }

    /// An error about field `field` of this object.
    pub fn err(&self, field: &str, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            task: self.task.clone(),
            field: Some(format!("{}{field}", self.prefix)),
            message: message.into(),
        }
    }

    /// The raw value of `key`; `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string field; numbers and booleans are accepted as their text.
    pub fn text(&self, key: &str) -> Result<Option<String>, DefinitionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Json::Number(_) | Json::Bool(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(self.err(key, "must be a string")),
        }
    }

    /// A string field that must be present and not blank.
    pub fn required_text(&self, key: &str) -> Result<String, DefinitionError> {
        match self.text(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(self.err(key, "is required")),
        }
    }

    /// A number, also accepted when written as a string (`"120"`).
    pub fn number(&self, key: &str) -> Result<Option<f64>, DefinitionError> {
        let parsed = match self.get(key) {
            None => return Ok(None),
            Some(Json::Number(n)) => n.as_f64(),
            Some(Json::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match parsed {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(self.err(key, "must be a non-negative number")),
        }
    }

    /// A whole non-negative number (counts, concurrency).
    pub fn count(&self, key: &str) -> Result<Option<u32>, DefinitionError> {
        match self.number(key)? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(Some(n as u32)),
            Some(_) => Err(self.err(key, "must be a whole number")),
        }
    }

    /// A boolean, also accepted as the string `"true"`/`"false"`.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, DefinitionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(Json::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Json::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(self.err(key, "must be true or false")),
        }
    }

    /// A nested object field, read with the field path extended.
    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, DefinitionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Object(map)) => Ok(Some(self.nested(map, format!("{key}.")))),
            Some(_) => Err(self.err(key, "must be a mapping")),
        }
    }

    /// A list field of objects (absent = empty), each read as `key[i]`.
    pub fn items(&self, key: &str) -> Result<Vec<Fields<'a>>, DefinitionError> {
        let Some(value) = self.get(key) else { return Ok(Vec::new()) };
        let Json::Array(list) = value else { return Err(self.err(key, "must be a list")) };
        let to_fields = |(i, item): (usize, &'a Json)| match item {
            Json::Object(map) => Ok(self.nested(map, format!("{key}[{i}]."))),
            _ => Err(self.err(&format!("{key}[{i}]"), "must be a mapping")),
        };
        list.iter().enumerate().map(to_fields).collect()
    }

    /// A list of strings (absent = empty); a single string counts as a one-item list.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, DefinitionError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Json::String(s)) => Ok(vec![s.clone()]),
            Some(Json::Array(list)) => list
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| self.err(key, "must list strings")))
                .collect(),
            Some(_) => Err(self.err(key, "must be a list of strings")),
        }
    }

    fn nested(&self, map: &'a Map<String, Json>, extra: String) -> Fields<'a> {
        Fields { map, task: self.task.clone(), prefix: format!("{}{extra}", self.prefix) }
    }

    /// Turns a data error about field `key` into a definition error.
    pub fn data_err(&self, key: &str) -> impl Fn(DataError) -> DefinitionError + '_ {
        let key = key.to_string();
        move |e| self.err(&key, e.0)
    }
}

/// `parent/name` for nested tasks, `name` at the top.
pub(super) fn task_path(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") }
}

/// Maps each name to its position, rejecting duplicates (`fields[i]` is the item named `names[i]`).
pub(super) fn index_names(
    names: &[String],
    fields: &[Fields<'_>],
    parent: &str,
) -> Result<HashMap<String, usize>, DefinitionError> {
    let mut index = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if index.insert(name.clone(), i).is_some() {
            return Err(fields[i].with_task(&task_path(parent, name)).err("name", format!("duplicate name {name:?}")));
        }
    }
    Ok(index)
}

/// Looks `names` up in `index`; an unknown name is an error on `field`.
pub(super) fn resolve(
    names: &[String],
    index: &HashMap<String, usize>,
    fields: &Fields<'_>,
    field: &str,
) -> Result<Vec<usize>, DefinitionError> {
    names
        .iter()
        .map(|name| index.get(name).copied().ok_or_else(|| fields.err(field, format!("no task named {name:?}"))))
        .collect()
}

/// Parses the `key` list of mappings. A target not starting with `$` is a bare name under
/// `bare_root` (`$.input` or `$.context`); source paths pass through `rewrite` first.
pub(super) fn mappings(
    fields: &Fields<'_>,
    key: &str,
    bare_root: &str,
    rewrite: &dyn Fn(&str) -> String,
) -> Result<Vec<Mapping>, DefinitionError> {
    let mut mappings = Vec::new();
    for (i, item) in fields.items(key)?.iter().enumerate() {
        let field = |name: &str| format!("{key}[{i}].{name}");
        let target_text = match item.get("target") {
            Some(Json::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(fields.err(&field("target"), "is required")),
        };
        let target_text = if target_text.starts_with('$') { target_text } else { format!("{bare_root}.{target_text}") };
        let target = Path::parse(&target_text).map_err(fields.data_err(&field("target")))?;
        if !target.is_singular() {
            return Err(fields.err(&field("target"), format!("{target_text:?} is not a single location")));
        }
        let source = match item.get("source") {
            Some(Json::String(s)) if s.trim_start().starts_with('$') => {
                Some(Source::Path(Path::parse(&rewrite(s.trim())).map_err(fields.data_err(&field("source")))?))
            }
            Some(value) => Some(Source::Const(value.clone())),
            None => None,
        };
        let transform = match item.text("transform")? {
            Some(text) => Some(transform_script(&text).map_err(|e| fields.err(&field("transform"), e))?),
            None => None,
        };
        mappings.push(Mapping { source, target, transform });
    }
    Ok(mappings)
}

/// Parses the list of condition strings under `key`.
pub(super) fn conditions(
    fields: &Fields<'_>,
    key: &str,
    rewrite: &dyn Fn(&str) -> String,
) -> Result<Vec<Condition>, DefinitionError> {
    let Some(value) = fields.get(key) else { return Ok(Vec::new()) };
    let Json::Array(list) = value else { return Err(fields.err(key, "must be a list")) };
    let parse = |(i, item): (usize, &Json)| {
        let field = format!("{key}[{i}]");
        let text = item.as_str().ok_or_else(|| fields.err(&field, "must be a string"))?;
        Condition::parse_with(text, rewrite).map_err(fields.data_err(&field))
    };
    list.iter().enumerate().map(parse).collect()
}

/// The resource a URL-ish text names: `http(s)://` → HTTP, `function://name` or a
/// function-compute ARN → a cloud function, anything else → unsupported. An empty
/// `function://` or an ARN without a function name is an error message.
pub(super) fn url_resource(text: &str) -> Result<Resource, String> {
    let text = text.trim();
    if text.starts_with("acs:fc:") {
        return fc_function(text)
            .map(|name| Resource::Function { name: name.to_string() })
            .ok_or_else(|| format!("the function-compute ARN {text:?} names no function (`.../functions/<name>`)"));
    }
    if let Some((_, rest)) = text.split_once("://")
        && (text.starts_with("http://") || text.starts_with("https://"))
    {
        // Only the host is required here: real definitions carry placeholders such as
        // `http://<RILL_FLOW_HOST>/...` that are filled in before they run.
        if rest.split(['/', '?', '#']).next().is_none_or(str::is_empty) {
            return Err(format!("the URL {text:?} has no host"));
        }
        return Ok(Resource::Http { url: text.to_string() });
    }
    if let Some(name) = text.strip_prefix("function://") {
        if name.trim().is_empty() {
            return Err("`function://` needs a function name".into());
        }
        return Ok(Resource::Function { name: name.trim().to_string() });
    }
    Ok(Resource::Unsupported { resource: text.to_string() })
}

/// The function a function-compute ARN names
/// (`acs:fc:{region}:{account}:services/{service}/functions/{name}`, region and account
/// often empty): the app's cloud function of that name runs the task, as `function://name`
/// would. The service (and its `.qualifier`) and a `/qualifier` after the name are not
/// kept: an app's functions have one namespace.
pub(super) fn fc_function(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once("functions/")?;
    let name = rest.split('/').next()?.trim();
    (!name.is_empty()).then_some(name)
}

/// No rewriting (DAG and state-machine paths are used as written).
pub(super) fn as_written(path: &str) -> String {
    path.to_string()
}

/// The names a format gives a retry rule's fields (FDL: `maxAttempts`, `multiplier`, ...;
/// the state-machine spec: `MaxAttempts`, `BackoffRate`, ...).
pub(super) struct RetryNames {
    pub errors: &'static str,
    pub max_attempts: &'static str,
    pub interval: &'static str,
    pub rate: &'static str,
    pub max_interval: &'static str,
}

/// A retry rule: retries after the first attempt (default 3), the first interval in
/// seconds (default 1), the rate it grows by (default 2), and its cap.
pub(super) fn retry_rule(r: &Fields<'_>, names: &RetryNames) -> Result<RetryRule, DefinitionError> {
    Ok(RetryRule {
        errors: r.strings(names.errors)?,
        max_retries: r.count(names.max_attempts)?.unwrap_or(3),
        interval_secs: r.number(names.interval)?.unwrap_or(1.0),
        backoff_rate: r.number(names.rate)?.unwrap_or(2.0),
        max_interval_secs: r.number(names.max_interval)?,
    })
}
