//! Tokens and syntax of the AviatorScript subset: `let`, assignment, `for x in …`, `if` /
//! `elsif` / `else`, `return`, and expressions with arithmetic, comparisons, `&&`, `||`,
//! `!`, calls of the known functions, numbers, strings, `true`, `false` and `nil`.

use serde_json::Value;

use super::functions::is_known;

/// Longest script accepted (as a condition).
pub const MAX_SCRIPT_BYTES: usize = 4096;
/// Deepest nesting of expressions and blocks.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(Value),
    Str(String),
    Ident(String),
    Op(&'static str),
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number, string, boolean or `nil`.
    Lit(Value),
    /// A variable.
    Var(String),
    /// A call of a known function.
    Call(String, Vec<Expr>),
    /// `-x` or `!x`.
    Unary(&'static str, Box<Expr>),
    /// `a op b`.
    Binary(&'static str, Box<Expr>, Box<Expr>),
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let name = value;` or `name = value;`.
    Set(String, Expr),
    /// `for name in items { … }`.
    For(String, Expr, Vec<Stmt>),
    /// `if c { … } elsif c { … } else { … }`.
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
    /// `return value;`.
    Return(Expr),
    /// An expression evaluated for its effect (`seq.add(list, x);`).
    Eval(Expr),
}

const OPS: [&str; 22] = [
    "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "<", ">", "!", "=", "(", ")", "{", "}", ",", ";", ".",
];

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let number = match text.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => text
                    .parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                    .ok_or_else(|| format!("the number {text:?}"))?,
            };
            tokens.push(Token::Num(number));
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or("a string without its closing quote")?;
            tokens.push(Token::Str(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPS.iter().find(|op| rest.starts_with(**op)).ok_or_else(|| format!("the character {c:?}"))?;
            tokens.push(Token::Op(op));
            i += op.len();
        }
    }
    Ok(tokens)
}

/// Parses a script; the error names the construct outside the subset.
pub fn parse(text: &str) -> Result<Vec<Stmt>, String> {
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(format!("the script is longer than {MAX_SCRIPT_BYTES} bytes"));
    }
    let mut parser = Parser { tokens: lex(text)?, at: 0, depth: 0 };
    let mut stmts = Vec::new();
    while parser.peek().is_some() {
        stmts.push(parser.stmt()?);
    }
    if !returns(&stmts) {
        return Err("a script without `return`".into());
    }
    Ok(stmts)
}

/// True when some statement, here or in a block, returns.
fn returns(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|stmt| match stmt {
        Stmt::Return(_) => true,
        Stmt::For(_, _, body) => returns(body),
        Stmt::If(arms, otherwise) => arms.iter().any(|(_, body)| returns(body)) || returns(otherwise),
        Stmt::Set(..) | Stmt::Eval(_) => false,
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, op: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Op(o)) if *o == op);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat(op) { Ok(()) } else { Err(format!("`{op}` expected, found {}", self.describe())) }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the script".into(),
            Some(Token::Op(op)) => format!("`{op}`"),
            Some(Token::Ident(name)) => format!("`{name}`"),
            Some(Token::Str(s)) => format!("the string {s:?}"),
            Some(Token::Num(n)) => format!("the number {n}"),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Ident(name)) if !name.contains('.') => Ok(name),
            _ => Err("a variable name expected".into()),
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(format!("nesting deeper than {MAX_DEPTH}")) } else { Ok(()) }
    }

    fn block(&mut self) -> Result<Vec<Stmt>, String> {
        self.deeper()?;
        self.expect("{")?;
        let mut stmts = Vec::new();
        while !self.eat("}") {
            if self.peek().is_none() {
                return Err("a block without its closing `}`".into());
            }
            stmts.push(self.stmt()?);
        }
        self.depth -= 1;
        Ok(stmts)
    }

    fn stmt(&mut self) -> Result<Stmt, String> {
        let keyword = match self.peek() {
            Some(Token::Ident(word)) => word.clone(),
            _ => String::new(),
        };
        let stmt = match keyword.as_str() {
            "let" => {
                self.at += 1;
                let name = self.ident()?;
                self.expect("=")?;
                Stmt::Set(name, self.expr(0)?)
            }
            "return" => {
                self.at += 1;
                Stmt::Return(self.expr(0)?)
            }
            "for" => {
                self.at += 1;
                let name = self.ident()?;
                match self.next() {
                    Some(Token::Ident(word)) if word == "in" => {}
                    _ => return Err("`in` expected after `for <name>`".into()),
                }
                let items = self.expr(0)?;
                return Ok(Stmt::For(name, items, self.block()?));
            }
            "if" => return self.if_chain(),
            "while" | "fn" | "lambda" | "new" | "import" | "use" | "try" | "throw" => {
                return Err(format!("`{keyword}` is outside the supported subset"));
            }
            _ if matches!(self.tokens.get(self.at + 1), Some(Token::Op("="))) => {
                let name = self.ident()?;
                self.expect("=")?;
                Stmt::Set(name, self.expr(0)?)
            }
            _ => Stmt::Eval(self.expr(0)?),
        };
        if !self.eat(";") && self.peek().is_some() && !matches!(self.peek(), Some(Token::Op("}"))) {
            return Err(format!("`;` expected, found {}", self.describe()));
        }
        Ok(stmt)
    }

    fn if_chain(&mut self) -> Result<Stmt, String> {
        self.at += 1;
        let mut arms = vec![(self.expr(0)?, self.block()?)];
        loop {
            match self.peek() {
                Some(Token::Ident(word)) if word == "elsif" => {
                    self.at += 1;
                    arms.push((self.expr(0)?, self.block()?));
                }
                Some(Token::Ident(word)) if word == "else" => {
                    self.at += 1;
                    return Ok(Stmt::If(arms, self.block()?));
                }
                _ => return Ok(Stmt::If(arms, Vec::new())),
            }
        }
    }

    fn expr(&mut self, min: u8) -> Result<Expr, String> {
        self.deeper()?;
        let mut left = self.unary()?;
        while let Some(Token::Op(op)) = self.peek() {
            let op = *op;
            let precedence = match op {
                "||" => 1,
                "&&" => 2,
                "==" | "!=" => 3,
                "<" | "<=" | ">" | ">=" => 4,
                "+" | "-" => 5,
                "*" | "/" | "%" => 6,
                _ => break,
            };
            if precedence <= min {
                break;
            }
            self.at += 1;
            let right = self.expr(precedence)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        for op in ["-", "!"] {
            if self.eat(op) {
                self.deeper()?;
                let operand = self.unary()?;
                self.depth -= 1;
                return Ok(Expr::Unary(op, Box::new(operand)));
            }
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Num(n)) => Ok(Expr::Lit(n)),
            Some(Token::Str(s)) => Ok(Expr::Lit(Value::String(s))),
            Some(Token::Op("(")) => {
                let inner = self.expr(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Some(Token::Ident(name)) => match name.as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "nil" => Ok(Expr::Lit(Value::Null)),
                _ if self.eat("(") => {
                    if !is_known(&name) {
                        return Err(format!("the function `{name}` is outside the supported subset"));
                    }
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.expr(0)?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    Ok(Expr::Call(name, args))
                }
                _ if name.contains('.') => {
                    Err(format!("`{name}` (a field or module access) is outside the supported subset"))
                }
                _ => Ok(Expr::Var(name)),
            },
            Some(Token::Op(op)) => Err(format!("`{op}` where a value was expected")),
            None => Err("a value expected at the end of the script".into()),
        }
    }
}
