//! Rill Flow's `transform` scripts: the AviatorScript subset real flows use (arithmetic,
//! comparisons, `rand`, `seq.list`, string functions, `let`, `for … in range(…)`, `if`,
//! several statements ending in `return`). A script is parsed when its flow is created (one
//! outside the subset is refused there, naming the construct) and run with `source` bound
//! to the mapping's source value; each run is bounded in steps, list items and string
//! sizes, so a script cannot hold a worker or grow without end.

mod functions;
mod parse;

use std::collections::HashMap;

use serde_json::{Value, json};

pub use parse::MAX_SCRIPT_BYTES;
use parse::{Expr, Stmt};

/// Most evaluation steps one run may take.
pub const MAX_STEPS: u64 = 100_000;

/// A parsed script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    text: String,
    stmts: Vec<Stmt>,
}

impl Script {
    /// Parses `text`; the error names what is outside the subset.
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(Self { text: text.to_string(), stmts: parse::parse(text)? })
    }

    /// The script as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs the script with `source` bound; its `return` value.
    pub fn run(&self, source: Value) -> Result<Value, String> {
        let mut run = Run { vars: HashMap::from([("source".to_string(), source)]), steps: 0 };
        match run.block(&self.stmts)? {
            Some(value) => Ok(value),
            None => Ok(Value::Null),
        }
    }
}

struct Run {
    vars: HashMap<String, Value>,
    steps: u64,
}

impl Run {
    fn step(&mut self) -> Result<(), String> {
        self.steps += 1;
        if self.steps > MAX_STEPS { Err(format!("the script ran over {MAX_STEPS} steps")) } else { Ok(()) }
    }

    /// Runs statements; `Some` once one returned.
    fn block(&mut self, stmts: &[Stmt]) -> Result<Option<Value>, String> {
        for stmt in stmts {
            self.step()?;
            match stmt {
                Stmt::Set(name, value) => {
                    let value = self.eval(value)?;
                    self.vars.insert(name.clone(), value);
                }
                Stmt::Return(value) => return self.eval(value).map(Some),
                Stmt::Eval(value) => drop(self.eval(value)?),
                Stmt::For(name, items, body) => {
                    let items = match self.eval(items)? {
                        Value::Array(items) => items,
                        other => return Err(format!("`for` over {other}, which is not a list")),
                    };
                    for item in items {
                        self.vars.insert(name.clone(), item);
                        if let Some(value) = self.block(body)? {
                            return Ok(Some(value));
                        }
                    }
                }
                Stmt::If(arms, otherwise) => {
                    let mut taken = None;
                    for (condition, body) in arms {
                        if truth(&self.eval(condition)?)? {
                            taken = Some(body);
                            break;
                        }
                    }
                    if let Some(value) = self.block(taken.unwrap_or(otherwise))? {
                        return Ok(Some(value));
                    }
                }
            }
        }
        Ok(None)
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, String> {
        self.step()?;
        match expr {
            Expr::Lit(value) => Ok(value.clone()),
            Expr::Var(name) => self.vars.get(name).cloned().ok_or_else(|| format!("the variable `{name}` is not set")),
            Expr::Unary("-", operand) => arithmetic("*", &json!(-1), &self.eval(operand)?),
            Expr::Unary(_, operand) => Ok(Value::Bool(!truth(&self.eval(operand)?)?)),
            Expr::Binary("&&", left, right) => Ok(Value::Bool(truth(&self.eval(left)?)? && truth(&self.eval(right)?)?)),
            Expr::Binary("||", left, right) => Ok(Value::Bool(truth(&self.eval(left)?)? || truth(&self.eval(right)?)?)),
            Expr::Binary(op, left, right) => {
                let (left, right) = (self.eval(left)?, self.eval(right)?);
                binary(op, &left, &right)
            }
            Expr::Call(name, args) if name == "seq.add" => self.seq_add(args),
            Expr::Call(name, args) => {
                let args = args.iter().map(|a| self.eval(a)).collect::<Result<Vec<_>, _>>()?;
                functions::call(name, &args)
            }
        }
    }

    /// `seq.add(list, value)`: appends to the list variable (and answers the list).
    fn seq_add(&mut self, args: &[Expr]) -> Result<Value, String> {
        let [Expr::Var(name), value] = args else {
            return Err("seq.add takes a list variable and a value".into());
        };
        let value = self.eval(value)?;
        match self.vars.get_mut(name) {
            Some(Value::Array(items)) if items.len() < functions::MAX_LIST_ITEMS => {
                items.push(value);
                Ok(Value::Array(items.clone()))
            }
            Some(Value::Array(_)) => Err(format!("a list of more than {} items", functions::MAX_LIST_ITEMS)),
            _ => Err(format!("seq.add to `{name}`, which is not a list")),
        }
    }
}

fn truth(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(format!("{other} is not a boolean")),
    }
}

fn binary(op: &str, left: &Value, right: &Value) -> Result<Value, String> {
    match op {
        "==" => Ok(Value::Bool(same(left, right))),
        "!=" => Ok(Value::Bool(!same(left, right))),
        "<" | "<=" | ">" | ">=" => {
            let ordering = match (left, right) {
                (Value::String(a), Value::String(b)) => a.cmp(b),
                _ => {
                    let (a, b) = (number(left)?, number(right)?);
                    a.partial_cmp(&b).ok_or("a comparison with NaN")?
                }
            };
            Ok(Value::Bool(match op {
                "<" => ordering.is_lt(),
                "<=" => ordering.is_le(),
                ">" => ordering.is_gt(),
                _ => ordering.is_ge(),
            }))
        }
        "+" if left.is_string() || right.is_string() => {
            functions::string(functions::as_text(left) + &functions::as_text(right))
        }
        _ => arithmetic(op, left, right),
    }
}

fn same(left: &Value, right: &Value) -> bool {
    match (number(left), number(right)) {
        (Ok(a), Ok(b)) => a == b,
        _ => left == right,
    }
}

fn number(value: &Value) -> Result<f64, String> {
    value.as_f64().ok_or_else(|| format!("{value} is not a number"))
}

/// `+ - * / %` on numbers: integers stay integers (overflow is an error, `/` truncates as
/// Aviator's long division does); a decimal on either side makes a decimal.
fn arithmetic(op: &str, left: &Value, right: &Value) -> Result<Value, String> {
    if let (Some(a), Some(b)) = (left.as_i64(), right.as_i64()) {
        let result = match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" | "%" if b == 0 => return Err("division by zero".into()),
            "/" => a.checked_div(b),
            _ => a.checked_rem(b),
        };
        return result.map(Value::from).ok_or_else(|| format!("{a} {op} {b} overflows"));
    }
    let (a, b) = (number(left)?, number(right)?);
    let result = match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        _ => a % b,
    };
    serde_json::Number::from_f64(result).map(Value::Number).ok_or_else(|| format!("{a} {op} {b} is not a number"))
}

#[cfg(test)]
mod tests;
