//! Rewrites the JSONPath dialects found in real flows into RFC 9535 text, and records the
//! segments of singular paths so they can be read and written without a query engine.

use super::DataError;

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// An object member.
    Name(String),
    /// An array element; negative counts from the end.
    Index(i64),
}

/// A path rewritten to RFC 9535.
#[derive(Debug)]
pub(super) struct Normalized {
    /// The RFC 9535 text.
    pub text: String,
    /// The segments when the path only names members and indices.
    pub segments: Option<Vec<Segment>>,
    /// Byte offset in `text` of a trailing filter selector (`[?...]`), if the path ends in one.
    pub trailing_filter: Option<usize>,
}

/// The dialect roots and what they become (FDL old format, then CloudFlow new spec).
const ROOTS: [(&str, &str); 6] = [
    ("$input", "$.input"),
    ("$local", "$.output"),
    ("$context", "$.context"),
    ("$Input", "$"),
    ("$Output", "$"),
    ("$Context", "$.context"),
];

/// Replaces a dialect root (`$input`, `$Context`, ...) with its RFC 9535 equivalent.
/// Longest JSONPath accepted.
pub const MAX_PATH_BYTES: usize = 1024;
/// Deepest nesting of brackets and parentheses (filters within filters) in a JSONPath.
pub const MAX_PATH_NESTING: usize = 16;

/// Refuses a path too long or too deeply nested for the parser's recursion.
pub(super) fn check_size(text: &str) -> Result<(), DataError> {
    if text.len() > MAX_PATH_BYTES {
        return Err(DataError(format!("JSONPath longer than {MAX_PATH_BYTES} bytes")));
    }
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None::<char>);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | ')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_PATH_NESTING {
        return Err(DataError(format!("JSONPath nests brackets deeper than {MAX_PATH_NESTING} levels")));
    }
    Ok(())
}

pub(super) fn rewrite_root(text: &str) -> String {
    for (root, replacement) in ROOTS {
        if let Some(rest) = strip_root(text, root) {
            return format!("{replacement}{rest}");
        }
    }
    text.to_string()
}

/// `text` without the root `root` when `root` is followed by the end, `.` or `[`.
pub(crate) fn strip_root<'a>(text: &'a str, root: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(root)?;
    (rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')).then_some(rest)
}

/// Rewrites `input` (already trimmed, root rewritten) into RFC 9535 text.
pub(super) fn normalize(input: &str) -> Result<Normalized, DataError> {
    let bad = |why: &str| DataError(format!("invalid JSONPath {input:?}: {why}"));
    let Some(body) = input.strip_prefix('$') else {
        return Err(bad("a path starts with `$`"));
    };
    let mut out = Normalized { text: String::from("$"), segments: Some(Vec::new()), trailing_filter: None };
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        out.trailing_filter = None;
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                out.segments = None;
                out.text.push_str("..");
                i += 2;
                if chars.get(i) != Some(&'[') {
                    i = dot_member(&chars, i, &mut out).map_err(|e| bad(&e))?;
                }
            }
            '.' if chars.get(i + 1) == Some(&'[') => i += 1,
            '.' => i = dot_member(&chars, i + 1, &mut out).map_err(|e| bad(&e))?,
            '[' => i = bracket(&chars, i, &mut out).map_err(|e| bad(&e))?,
            c => return Err(bad(&format!("unexpected {c:?}"))),
        }
    }
    Ok(out)
}

/// Reads a member name after a `.` starting at `start`; returns the index after it.
fn dot_member(chars: &[char], start: usize, out: &mut Normalized) -> Result<usize, String> {
    let end = (start..chars.len()).find(|&j| chars[j] == '.' || chars[j] == '[').unwrap_or(chars.len());
    let name: String = chars[start..end].iter().collect();
    let descendant = out.text.ends_with("..");
    if name.is_empty() {
        return Err("empty member name".into());
    }
    if name.chars().any(char::is_whitespace) {
        return Err(format!("space in member name {name:?}"));
    }
    if name == "*" {
        out.segments = None;
        out.text.push_str(if descendant { "*" } else { ".*" });
    } else if !descendant && name.chars().all(|c| c.is_ascii_digit()) {
        let index: i64 = name.parse().map_err(|_| format!("index {name} is too large"))?;
        out.text.push_str(&format!("[{index}]"));
        push(out, Segment::Index(index));
    } else if is_shorthand(&name) {
        out.text.push_str(if descendant { "" } else { "." });
        out.text.push_str(&name);
        push(out, Segment::Name(name));
    } else {
        out.text.push_str(&format!("[{}]", quote(&name)));
        push(out, Segment::Name(name));
    }
    Ok(end)
}

/// Reads a bracketed selector starting at `start` (the `[`); returns the index after `]`.
fn bracket(chars: &[char], start: usize, out: &mut Normalized) -> Result<usize, String> {
    let end = matching_bracket(chars, start).ok_or("unclosed `[`")?;
    let inner: String = chars[start + 1..end].iter().collect();
    let trimmed = inner.trim();
    let position = out.text.len();
    if let Some(name) = unquote(trimmed) {
        out.text.push_str(&format!("[{}]", quote(&name)));
        push(out, Segment::Name(name));
    } else if let Ok(index) = trimmed.parse::<i64>() {
        out.text.push_str(&format!("[{index}]"));
        push(out, Segment::Index(index));
    } else {
        out.segments = None;
        out.text.push('[');
        out.text.push_str(&inner);
        out.text.push(']');
        if trimmed.starts_with('?') {
            out.trailing_filter = Some(position);
        }
    }
    Ok(end + 1)
}

/// The index of the `]` closing the `[` at `start`, skipping quoted strings and nesting.
pub(super) fn matching_bracket(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(_) if c == '\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '[' || c == '(' => depth += 1,
            None if c == ']' || c == ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (c == ']').then_some(i);
                }
            }
            None => {}
        }
        i += 1;
    }
    None
}

fn push(out: &mut Normalized, segment: Segment) {
    if let Some(segments) = out.segments.as_mut() {
        segments.push(segment);
    }
}

/// Whether RFC 9535 accepts `name` after a dot (`member-name-shorthand`).
fn is_shorthand(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
}

/// `name` as an RFC 9535 single-quoted string literal.
fn quote(name: &str) -> String {
    let mut quoted = String::from("'");
    for c in name.chars() {
        match c {
            '\'' => quoted.push_str("\\'"),
            '\\' => quoted.push_str("\\\\"),
            c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

/// The name inside one quoted string literal (`'a'`, `"a.b"`), or `None` if `text` is not one.
fn unquote(text: &str) -> Option<String> {
    let q = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = text.strip_prefix(q)?.strip_suffix(q)?;
    let mut name = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => name.push(chars.next()?),
            c if c == q => return None,
            c => name.push(c),
        }
    }
    Some(name)
}
