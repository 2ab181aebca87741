//! Branch conditions: Jayway filters (`$.input[?(@.num >= 5)]`) and small boolean
//! expressions over paths (`$.a > 1 && ($.b == "x" || !$.c)`, `remux == "dash"`).

use std::cmp::Ordering;

use serde_json::Value;

use super::path_text::matching_bracket;
use super::{DataError, Path};

/// Longest condition text accepted.
pub const MAX_CONDITION_BYTES: usize = 4096;
/// Most tokens in a condition: parsing and evaluating recurse at most this deep.
pub const MAX_CONDITION_TOKENS: usize = 256;

/// A parsed condition, evaluated over a JSON document with [`Condition::eval`].
#[derive(Debug, Clone)]
pub struct Condition {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    Literal(Value),
    Path(Path),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Path(String),
    Ident(String),
    Literal(Value),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

impl Condition {
    /// The condition as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Parses a Jayway filter on an object or array (`$.input.[?(@.status == "ok")]`: true
    /// when the object itself, or any array element, matches), or an expression of paths,
    /// literals (numbers, `"strings"`, `'strings'`, `true`, `false`, `null`), `== != < <= >
    /// >=`, `&& || !` and parentheses. A bare identifier (`remux`) is the root field
    /// `$.remux`; a path alone means "exists and is not false/null".
    pub fn parse(text: &str) -> Result<Condition, DataError> {
        Self::parse_with(text, &|path| path.to_string())
    }

    /// Like [`Condition::parse`], but every path (a bare identifier as `$.name`) is passed
    /// through `rewrite` first; FDL uses it to rebase `$.x` onto its context.
    pub(crate) fn parse_with(text: &str, rewrite: &dyn Fn(&str) -> String) -> Result<Condition, DataError> {
        let invalid = |why: String| DataError(format!("invalid condition {text:?}: {why}"));
        if text.len() > MAX_CONDITION_BYTES {
            return Err(invalid(format!("longer than {MAX_CONDITION_BYTES} bytes")));
        }
        let tokens = tokenize(text).map_err(invalid)?;
        if tokens.len() > MAX_CONDITION_TOKENS {
            return Err(invalid(format!("more than {MAX_CONDITION_TOKENS} operators and operands")));
        }
        let mut parser = Parser { tokens, at: 0, rewrite };
        let expr = parser.or().map_err(invalid)?;
        if parser.at < parser.tokens.len() {
            return Err(invalid(format!("unexpected {:?}", parser.tokens[parser.at])));
        }
        Ok(Condition { text: text.to_string(), expr })
    }

    /// The condition as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the condition holds over `doc`. A missing path reads as `null`.
    pub fn eval(&self, doc: &Value) -> Result<bool, DataError> {
        Ok(truthy(&self.expr, doc))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (token, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            '&' if next == Some('&') => (Token::And, 2),
            '|' if next == Some('|') => (Token::Or, 2),
            '=' if next == Some('=') => (Token::Op(Op::Eq), 2),
            '!' if next == Some('=') => (Token::Op(Op::Ne), 2),
            '!' => (Token::Not, 1),
            '<' if next == Some('=') => (Token::Op(Op::Le), 2),
            '<' => (Token::Op(Op::Lt), 1),
            '>' if next == Some('=') => (Token::Op(Op::Ge), 2),
            '>' => (Token::Op(Op::Gt), 1),
            '"' | '\'' => string(&chars, i)?,
            '$' => path_token(&chars, i, Token::Path)?,
            c if c.is_alphabetic() || c == '_' => path_token(&chars, i, Token::Ident)?,
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit() || n == '.')) => {
                number(&chars, i)?
            }
            c => return Err(format!("unexpected {c:?}")),
        };
        tokens.push(token);
        i += len;
    }
    Ok(tokens)
}

/// A quoted string starting at `start`, and its length in chars.
fn string(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                i += 1;
                let escaped = chars.get(i).ok_or("unfinished escape")?;
                value.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => *other,
                });
            }
            c if c == quote => return Ok((Token::Literal(Value::String(value)), i + 1 - start)),
            c => value.push(c),
        }
        i += 1;
    }
    Err("unclosed string".into())
}

/// A path or identifier starting at `start`: runs to whitespace or an operator outside brackets.
fn path_token(chars: &[char], start: usize, make: fn(String) -> Token) -> Result<(Token, usize), String> {
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c == '[' {
            i = matching_bracket(chars, i).ok_or("unclosed `[`")? + 1;
            continue;
        }
        if c.is_whitespace() || "=!<>&|(),".contains(c) {
            break;
        }
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let token = match text.as_str() {
        "true" => Token::Literal(Value::Bool(true)),
        "false" => Token::Literal(Value::Bool(false)),
        "null" => Token::Literal(Value::Null),
        _ => make(text),
    };
    Ok((token, i - start))
}

fn number(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let mut i = start + 1;
    while i < chars.len()
        && (chars[i].is_ascii_alphanumeric()
            || chars[i] == '.'
            || "+-".contains(chars[i]) && "eE".contains(chars[i - 1]))
    {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let value: Value = serde_json::from_str(&text).map_err(|_| format!("bad number {text:?}"))?;
    if !value.is_number() {
        return Err(format!("bad number {text:?}"));
    }
    Ok((Token::Literal(value), i - start))
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    rewrite: &'a dyn Fn(&str) -> String,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek() == Some(token);
        self.at += usize::from(found);
        found
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat(&Token::Or) {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.eat(&Token::And) {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(&Token::Not) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let left = self.primary()?;
        if let Some(Token::Op(op)) = self.peek() {
            let op = *op;
            self.at += 1;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(self.primary()?)));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self.peek().cloned().ok_or("unexpected end")?;
        self.at += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                if !self.eat(&Token::Close) {
                    return Err("missing `)`".into());
                }
                Ok(inner)
            }
            Token::Literal(value) => Ok(Expr::Literal(value)),
            Token::Path(text) => self.path(&text),
            Token::Ident(name) => self.path(&format!("$.{name}")),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    fn path(&self, text: &str) -> Result<Expr, String> {
        Path::parse(&(self.rewrite)(text)).map(Expr::Path).map_err(|e| e.0)
    }
}

fn truthy(expr: &Expr, doc: &Value) -> bool {
    match expr {
        Expr::Literal(value) => !matches!(value, Value::Null | Value::Bool(false)),
        Expr::Path(path) => path_holds(path, doc),
        Expr::Not(inner) => !truthy(inner, doc),
        Expr::And(left, right) => truthy(left, doc) && truthy(right, doc),
        Expr::Or(left, right) => truthy(left, doc) || truthy(right, doc),
        Expr::Compare(left, op, right) => compare(&value(left, doc), *op, &value(right, doc)),
    }
}

/// A path used as a condition: a trailing filter applies to the base object itself (or any
/// element of a base array); other paths hold when they find something not false/null.
fn path_holds(path: &Path, doc: &Value) -> bool {
    if let Some(split) = &path.0.filter {
        return match split.base.select(doc) {
            Some(object @ Value::Object(_)) => !split.filter.query(&Value::Array(vec![object])).is_empty(),
            Some(array @ Value::Array(_)) => !split.filter.query(&array).is_empty(),
            _ => false,
        };
    }
    match path.select(doc) {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Array(items)) if !path.is_singular() => !items.is_empty(),
        Some(_) => true,
    }
}

fn value(expr: &Expr, doc: &Value) -> Value {
    match expr {
        Expr::Literal(value) => value.clone(),
        Expr::Path(path) => path.select(doc).unwrap_or(Value::Null),
        other => Value::Bool(truthy(other, doc)),
    }
}

fn compare(left: &Value, op: Op, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        Op::Eq => ordering.map_or(left == right, Ordering::is_eq),
        Op::Ne => !ordering.map_or(left == right, Ordering::is_eq),
        Op::Lt => ordering.is_some_and(Ordering::is_lt),
        Op::Le => ordering.is_some_and(Ordering::is_le),
        Op::Gt => ordering.is_some_and(Ordering::is_gt),
        Op::Ge => ordering.is_some_and(Ordering::is_ge),
    }
}
