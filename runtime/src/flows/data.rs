//! Moving data between a flow's context and its tasks: JSONPath [`Path`]s (RFC 9535 plus
//! the Jayway and FDL dialects real flows use), mapping [`Source`]s, DAG/FDL [`Mapping`]s,
//! state-machine templates ([`fill_template`]) and branch [`Condition`]s. Pure: no I/O.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

pub mod aviator;
mod condition;
mod path_text;
#[cfg(test)]
mod tests;

pub use condition::Condition;
use path_text::Segment;
pub(crate) use path_text::strip_root;

/// Deepest nesting a flow's data may reach: deeper data could not be stored and read back
/// (serde_json stops at 128 levels), and walking it would recurse that deep.
pub const MAX_DATA_DEPTH: usize = 64;
/// Largest a flow scope's data may grow (estimated as its JSON text).
pub const MAX_DATA_BYTES: usize = 8 << 20;

/// Refuses data nested deeper than [`MAX_DATA_DEPTH`] or larger than [`MAX_DATA_BYTES`].
/// Iterative, and it stops as soon as a limit is passed, so it costs at most the limit.
pub fn check_limits(value: &Value) -> Result<(), DataError> {
    estimate(value, MAX_DATA_BYTES).map(drop)
}

/// Takes `value`'s estimated size from `budget`: templates and mappings copy selected
/// values, so a template of many keys over a large input could otherwise build gigabytes
/// before any check saw the result.
fn spend(budget: &mut usize, value: &Value) -> Result<(), DataError> {
    let size = estimate(value, *budget)?;
    *budget -= size;
    Ok(())
}

/// Most bytes of data one execution may copy into its iterations, branches and their
/// results, all told: many iterations each under [`MAX_DATA_BYTES`] would otherwise add up
/// to gigabytes (a foreach over a parallel copying a large input to every branch).
pub const MAX_EXECUTION_DATA_BYTES: usize = 64 << 20;
/// Largest answer a task may give (a function's output, an HTTP answer, a finish callback).
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The estimated JSON size of `value`, or an error once it passes `max_bytes` or nests
/// deeper than [`MAX_DATA_DEPTH`].
pub(crate) fn estimate(value: &Value, max_bytes: usize) -> Result<usize, DataError> {
    let mut stack = vec![(value, 1usize)];
    let mut bytes = 0usize;
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_DATA_DEPTH {
            return Err(DataError(format!("the data nests deeper than {MAX_DATA_DEPTH} levels")));
        }
        bytes += match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items.iter().map(|v| (v, depth + 1)));
                2 + items.len()
            }
            Value::Object(map) => {
                for (key, v) in map {
                    bytes += key.len() + 4;
                    stack.push((v, depth + 1));
                }
                2
            }
        };
        if bytes > max_bytes {
            return Err(DataError(format!("the data grew past {} MiB", MAX_DATA_BYTES >> 20)));
        }
    }
    Ok(bytes)
}

/// Why a path, condition or mapping could not be parsed or applied; the message names the
/// offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

/// A parsed JSONPath, read with [`Path::select`] and written with [`Path::set`].
#[derive(Debug, Clone, PartialEq)]
pub struct Path(Box<Parsed>);

/// What a [`Path`] holds (boxed, so paths stay one pointer wide inside graph nodes).
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    /// The path as written.
    text: String,
    /// The RFC 9535 query, for paths that are not singular.
    query: JsonPath,
    /// Member names and indices, when the path is singular.
    segments: Option<Vec<Segment>>,
    /// For a path ending in a filter (`$.input[?(@.x == 1)]`): the base and the filter as
    /// `$[?...]`, so a condition can apply the filter to an object itself (Jayway style).
    filter: Option<JaywayFilter>,
}

/// The split of a filter path used by conditions.
#[derive(Debug, Clone, PartialEq)]
struct JaywayFilter {
    base: Path,
    filter: JsonPath,
}

impl Path {
    /// Accepts RFC 9535 JSONPath plus the dialects found in real flows:
    ///  - Jayway-style `.[` (`$.output.sub_context.[*].x`, `$.input.[?(@.x == 1)]`) → `[`;
    ///    member names RFC 9535 does not allow after a dot (`.content-type`) → `['content-type']`;
    ///    all-digit members (`.0`) → indices (`[0]`);
    ///  - FDL old-format roots `$input.x`, `$local.x`, `$context.x` → `$.input.x`,
    ///    `$.output.x` (`$local` is the task's result), `$.context.x`;
    ///  - CloudFlow new-spec roots `$Input.x`, `$Output.x` → `$.x` (the state's data or
    ///    result) and `$Context.x` → `$.context.x` (best effort: cloudexec has no separate
    ///    context object in state-machine data).
    pub fn parse(text: &str) -> Result<Path, DataError> {
        path_text::check_size(text)?;
        let rewritten = path_text::rewrite_root(text.trim());
        Self::from_rewritten(text, &rewritten)
    }

    fn from_rewritten(original: &str, rewritten: &str) -> Result<Path, DataError> {
        let normalized = path_text::normalize(rewritten)?;
        let invalid = |e: serde_json_path::ParseError| DataError(format!("invalid JSONPath {original:?}: {e}"));
        let query = JsonPath::parse(&normalized.text).map_err(invalid)?;
        let filter = match normalized.trailing_filter {
            Some(at) => {
                let base_text = &normalized.text[..at];
                let base = Self::from_rewritten(base_text, base_text)?;
                let filter = JsonPath::parse(&format!("${}", &normalized.text[at..])).map_err(invalid)?;
                Some(JaywayFilter { base, filter })
            }
            None => None,
        };
        Ok(Path(Box::new(Parsed { text: original.to_string(), query, segments: normalized.segments, filter })))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// True when the path names one location (only member names and indices), so it can
    /// be a mapping target.
    pub fn is_singular(&self) -> bool {
        self.0.segments.is_some()
    }

    /// A singular path's value, or `None` when nothing is there; any other path (wildcard,
    /// filter, slice, descendant) gives an array of every match, possibly empty.
    pub fn select(&self, doc: &Value) -> Option<Value> {
        match &self.0.segments {
            Some(segments) => segments.iter().try_fold(doc, child).cloned(),
            None => Some(Value::Array(self.0.query.query(doc).all().into_iter().cloned().collect())),
        }
    }

    /// Writes `value` at a singular path, creating missing intermediate objects (and
    /// padding arrays with `null` up to an index); a scalar in the way is replaced.
    /// Setting `$` replaces the whole document.
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), DataError> {
        let Some(segments) = &self.0.segments else {
            return Err(DataError(format!(
                "cannot set {:?}: only a path of member names and indices can be written",
                self.0.text
            )));
        };
        let mut current = doc;
        for segment in segments {
            current = self.child_mut(current, segment)?;
        }
        *current = value;
        Ok(())
    }

    fn child_mut<'a>(&self, current: &'a mut Value, segment: &Segment) -> Result<&'a mut Value, DataError> {
        match segment {
            Segment::Name(name) => {
                if !current.is_object() {
                    *current = Value::Object(Map::new());
                }
                let Value::Object(map) = current else {
                    return Err(DataError(format!("cannot set {:?}: not an object", self.0.text)));
                };
                Ok(map.entry(name.clone()).or_insert(Value::Null))
            }
            Segment::Index(index) => {
                if !current.is_array() {
                    *current = Value::Array(Vec::new());
                }
                let Value::Array(items) = current else {
                    return Err(DataError(format!("cannot set {:?}: not an array", self.0.text)));
                };
                let at = resolve_index(*index, items.len(), true)
                    .ok_or_else(|| DataError(format!("cannot set {:?}: index {index} is out of range", self.0.text)))?;
                if items.len() <= at {
                    items.resize(at + 1, Value::Null);
                }
                Ok(&mut items[at])
            }
        }
    }
}

/// The member or element `segment` names inside `value`.
fn child<'a>(value: &'a Value, segment: &Segment) -> Option<&'a Value> {
    match (segment, value) {
        (Segment::Name(name), Value::Object(map)) => map.get(name),
        (Segment::Index(index), Value::Array(items)) => items.get(resolve_index(*index, items.len(), false)?),
        _ => None,
    }
}

/// An index as a position: negative counts from the end; `grow` allows positions past the end.
fn resolve_index(index: i64, len: usize, grow: bool) -> Option<usize> {
    if index < 0 {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        return len.checked_sub(back);
    }
    let at = usize::try_from(index).ok()?;
    (grow || at < len).then_some(at)
}

/// Where a mapping reads its value.
#[derive(Debug, Clone)]
pub enum Source {
    /// A path over the mapping document.
    Path(Path),
    /// A constant, with the type it was written with.
    Const(Value),
}

impl Source {
    /// Reads a source as written: a string starting with `$` is a path, anything else
    /// (other strings, numbers, maps, `{}`, `[]`) is a constant.
    pub fn from_value(value: &Value) -> Result<Source, DataError> {
        match value {
            Value::String(text) if text.trim_start().starts_with('$') => Ok(Source::Path(Path::parse(text)?)),
            other => Ok(Source::Const(other.clone())),
        }
    }

    /// The value the source gives over `doc`; `None` when a singular path finds nothing.
    pub fn eval(&self, doc: &Value) -> Option<Value> {
        match self {
            Source::Path(path) => path.select(doc),
            Source::Const(value) => Some(value.clone()),
        }
    }
}

/// One DAG/FDL mapping: the value of `source` is written at `target`.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Where the value comes from; `None` for a transform-only mapping.
    pub source: Option<Source>,
    /// Where it goes (a singular path).
    pub target: Path,
    /// A transform script (Rill Flow's AviatorScript, the subset in [`aviator`]): its
    /// `return` value is written instead, with `source` bound to the source's value.
    pub transform: Option<std::sync::Arc<aviator::Script>>,
}

/// Parses a mapping's `transform` script (the error names what is outside the subset).
pub fn transform_script(text: &str) -> Result<std::sync::Arc<aviator::Script>, String> {
    aviator::Script::parse(text).map(std::sync::Arc::new).map_err(|e| format!("transform script {text:?}: {e}"))
}

/// Applies mappings in order onto doc (an object like {"context":..,"input":..,"output":..}).
/// A source that selects nothing leaves the target unset (no error). A mapping with a
/// `transform` writes what its script returns, `source` being the source's value (`nil`
/// when it selects nothing); a script that fails fails the mapping with its reason.
pub fn apply_mappings(mappings: &[Mapping], doc: &mut Value) -> Result<(), DataError> {
    let mut budget = MAX_DATA_BYTES;
    for mapping in mappings {
        if let Some(script) = &mapping.transform {
            let source = mapping.source.as_ref().and_then(|source| source.eval(doc)).unwrap_or(Value::Null);
            let value = script
                .run(source)
                .map_err(|e| DataError(format!("the transform script {:?} failed: {e}", script.text())))?;
            check_limits(&value)?;
            spend(&mut budget, &value)?;
            mapping.target.set(doc, value)?;
            continue;
        }
        let Some(value) = mapping.source.as_ref().and_then(|source| source.eval(doc)) else {
            continue;
        };
        spend(&mut budget, &value)?;
        mapping.target.set(doc, value)?;
    }
    Ok(())
}

/// Fills a state-machine template: every key ending in `.$` takes the value of the path
/// (over `data`; `null` when it selects nothing) and loses the suffix; other values are
/// copied (recursively for objects and arrays). Filling over `null` validates a template.
/// The values it copies may add up to [`MAX_DATA_BYTES`] at most.
pub fn fill_template(template: &Value, data: &Value) -> Result<Value, DataError> {
    fill_within(template, data, &mut MAX_DATA_BYTES.clone())
}

fn fill_within(template: &Value, data: &Value, budget: &mut usize) -> Result<Value, DataError> {
    match template {
        Value::Object(map) => {
            let mut filled = Map::new();
            for (key, value) in map {
                if let Some(name) = key.strip_suffix(".$") {
                    let Value::String(text) = value else {
                        return Err(DataError(format!("template key {key:?} must hold a path string")));
                    };
                    let path = Path::parse(text).map_err(|e| DataError(format!("template key {key:?}: {e}")))?;
                    let selected = path.select(data).unwrap_or(Value::Null);
                    spend(budget, &selected)?;
                    filled.insert(name.to_string(), selected);
                } else {
                    filled.insert(key.clone(), fill_within(value, data, budget)?);
                }
            }
            Ok(Value::Object(filled))
        }
        Value::Array(items) => {
            items.iter().map(|item| fill_within(item, data, budget)).collect::<Result<_, _>>().map(Value::Array)
        }
        other => Ok(other.clone()),
    }
}
