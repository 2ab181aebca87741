//! Limits on a definition's size and shape, checked before and after parsing so no
//! upload can take the server's time or stack: the YAML parser is quadratic in flow
//! nesting (`[[[[…`), and a graph of thousands of tasks makes every later walk long.

use super::DefinitionError;

/// Largest definition text accepted, in bytes.
pub const MAX_DEFINITION_BYTES: usize = 1 << 20;
/// Deepest nesting of mappings and sequences accepted in a definition's text.
pub const MAX_NESTING: usize = 64;
/// Most tasks (or states) in one definition, nested ones included.
pub const MAX_TASKS: usize = 2_000;

/// Refuses text over [`MAX_DEFINITION_BYTES`] or nested deeper than [`MAX_NESTING`],
/// before the YAML parser sees it.
pub(super) fn check_text(text: &str) -> Result<(), DefinitionError> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(DefinitionError::general(format!(
            "the definition is {} bytes; at most {MAX_DEFINITION_BYTES} are accepted",
            text.len()
        )));
    }
    let (depth, line) = nesting_depth(text);
    if depth > MAX_NESTING {
        return Err(DefinitionError::general(format!(
            "the definition nests deeper than {MAX_NESTING} levels (at line {line})"
        )));
    }
    Ok(())
}

/// Most retries one retry rule may ask for.
pub const MAX_RETRIES: u32 = 1_000;

/// Refuses retry rules with more than [`MAX_RETRIES`] retries, or an interval, backoff
/// rate or cap that is not a finite number at least 0 (at least 1 for the rate).
pub(super) fn check_retries(block: &crate::flows::graph::Block) -> Result<(), DefinitionError> {
    for node in &block.nodes {
        for rule in &node.retry {
            let bad = |what: &str| {
                Err(DefinitionError {
                    task: Some(node.name.clone()),
                    field: Some("retry".into()),
                    message: what.to_string(),
                })
            };
            if rule.max_retries > MAX_RETRIES {
                return bad(&format!("{} retries asked; at most {MAX_RETRIES} are accepted", rule.max_retries));
            }
            let finite = |v: f64| v.is_finite() && v >= 0.0;
            if !finite(rule.interval_secs) || !finite(rule.backoff_rate) || !rule.max_interval_secs.is_none_or(finite) {
                return bad("the interval, backoff rate and interval cap must be finite numbers, at least 0");
            }
        }
        for child in node.kind.child_blocks() {
            check_retries(child)?;
        }
    }
    Ok(())
}

/// Refuses a graph with more than [`MAX_TASKS`] tasks.
pub(super) fn check_task_count(count: usize) -> Result<(), DefinitionError> {
    if count > MAX_TASKS {
        return Err(DefinitionError::general(format!(
            "the definition has {count} tasks; at most {MAX_TASKS} are accepted"
        )));
    }
    Ok(())
}

/// An estimate of the deepest nesting of YAML (or JSON) text, and the line (1-based)
/// where it is first reached. Block structure counts indentation levels and `- ` items;
/// flow structure counts open `[`/`{` outside quotes and comments. It is a guard, not a
/// parser: it errs on the generous side of real definitions and stops pathological ones.
fn nesting_depth(text: &str) -> (usize, usize) {
    let mut scan = Scan::default();
    for (number, line) in text.lines().enumerate() {
        let depth = scan.line(line);
        if depth > scan.max {
            scan.max = depth;
            scan.max_line = number + 1;
        }
        if scan.max > MAX_NESTING {
            break;
        }
    }
    (scan.max, scan.max_line)
}

#[derive(Debug, Default)]
struct Scan {
    /// Indentation columns of the open block levels.
    indents: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    /// Block depth where the open flow collection started.
    flow_base: usize,
    /// Inside a quoted scalar that spans lines.
    quote: Option<char>,
    /// Indentation of a line whose value is a block scalar (`|`, `>`): deeper lines are text.
    block_scalar: Option<usize>,
    max: usize,
    max_line: usize,
}

impl Scan {
    /// Scans one line; returns the deepest nesting seen on it.
    fn line(&mut self, line: &str) -> usize {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let rest = &bytes[indent..];
        if self.quote.is_none() && self.flow == 0 {
            if let Some(scalar_indent) = self.block_scalar {
                if rest.is_empty() || indent > scalar_indent {
                    return 0;
                }
                self.block_scalar = None;
            }
            if rest.is_empty() || rest[0] == b'#' {
                return 0;
            }
            while self.indents.last().is_some_and(|&top| top >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
        }
        let mut depth = self.indents.len();
        let mut at = 0;
        if self.quote.is_none() && self.flow == 0 {
            // Compact nested sequences: `- - - x`.
            while rest.get(at) == Some(&b'-') && matches!(rest.get(at + 1), None | Some(b' ')) {
                depth += 1;
                at += 2;
                while rest.get(at) == Some(&b' ') {
                    at += 1;
                }
            }
            self.flow_base = depth;
        }
        let deepest = self.scan_rest(rest, at, indent, depth);
        deepest.max(depth)
    }

    /// Scans from `at` for quotes, comments, flow brackets and block scalar indicators.
    fn scan_rest(&mut self, rest: &[u8], mut at: usize, indent: usize, block_depth: usize) -> usize {
        let mut deepest = block_depth;
        let mut value_start = true;
        while at < rest.len() {
            let c = rest[at];
            if let Some(quote) = self.quote {
                if c == b'\\' && quote == '"' {
                    at += 2;
                    continue;
                }
                if c == quote as u8 {
                    if quote == '\'' && rest.get(at + 1) == Some(&b'\'') {
                        at += 2;
                        continue;
                    }
                    self.quote = None;
                }
                at += 1;
                continue;
            }
            let after_space = at == 0 || rest[at - 1] == b' ' || rest[at - 1] == b'\t';
            match c {
                b'#' if after_space => break,
                b'"' | b'\'' if self.flow > 0 || value_start => self.quote = Some(c as char),
                b'[' | b'{' if self.flow > 0 || value_start => {
                    if self.flow == 0 {
                        self.flow_base = block_depth;
                    }
                    self.flow += 1;
                    deepest = deepest.max(self.flow_base + self.flow);
                }
                b']' | b'}' if self.flow > 0 => self.flow -= 1,
                b'|' | b'>' if self.flow == 0 && value_start => {
                    self.block_scalar = Some(indent);
                    break;
                }
                b' ' | b'\t' => {
                    at += 1;
                    continue;
                }
                b':' if self.flow == 0 && matches!(rest.get(at + 1), None | Some(b' ')) => {
                    value_start = true;
                    deepest = deepest.max(block_depth + 1);
                    at += 1;
                    continue;
                }
                b',' if self.flow > 0 => {
                    value_start = true;
                    at += 1;
                    continue;
                }
                _ if self.flow == 0 && value_start => {
                    // A plain scalar in block context: brackets inside it are text, but a
                    // later `key: value` on the line (`- name: x`) still opens a value.
                    value_start = false;
                }
                _ => {}
            }
            at += 1;
            if self.flow > 0 {
                value_start = true;
            }
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_definitions_are_shallow() {
        let yaml = "tasks:\n  - name: a\n    inputMappings:\n      - source: \"$.input.items[0]\"\n        \
                    target: $.input.x\n    next: b\n  - name: b\n    script: |\n      if (a) {\n        [[[[[[\n\
                    flags: [1, [2, {a: 3}]]\n";
        let (depth, _) = nesting_depth(yaml);
        assert!((3..=8).contains(&depth), "depth {depth}");
    }

    #[test]
    fn deep_flow_nesting_is_found_on_one_line() {
        let text = format!("tasks: {}{}", "[".repeat(5_000), "]".repeat(5_000));
        let err = check_text(&text).expect_err("refused");
        assert!(err.to_string().contains("nests deeper than 64 levels (at line 1)"), "{err}");
    }

    #[test]
    fn deep_block_nesting_is_found() {
        let mut text = String::new();
        for level in 0..100 {
            text.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        assert!(check_text(&text).is_err());
        let items = format!("tasks:\n  {}x\n", "- ".repeat(100));
        assert!(check_text(&items).is_err());
    }

    #[test]
    fn brackets_inside_quotes_comments_and_plain_scalars_do_not_count() {
        let text = format!(
            "a: \"{open}\"\nb: '{open}'\n# {open}\nc: text {open}\nd: [\"{open}\", '{open}']\n",
            open = "[".repeat(500)
        );
        assert_eq!(check_text(&text), Ok(()));
    }

    #[test]
    fn json_text_is_measured_too() {
        let deep = format!("{}1{}", "{\"a\":".repeat(80), "}".repeat(80));
        assert!(check_text(&deep).is_err());
        assert_eq!(check_text("{\"tasks\": [{\"name\": \"a\", \"category\": \"pass\"}]}"), Ok(()));
    }
}
