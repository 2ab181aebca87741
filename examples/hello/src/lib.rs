//! `hello`: the smallest cloudexec function.
//!
//! `{"name": "Ada"}` → `{"greeting": "Hello, Ada!"}`; a missing or null name greets the
//! world. Logs `greeting <name>` at info level.

use cloudexec_sdk::{Error, function, info};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Greeting {
    name: Option<String>,
}

#[derive(Serialize)]
struct Reply {
    greeting: String,
}

#[function]
fn hello(input: Greeting) -> Result<Reply, Error> {
    let name = input.name.unwrap_or_else(|| "world".to_owned());
    info!("greeting {name}");
    Ok(Reply { greeting: format!("Hello, {name}!") })
}
