//! `cloudexec engine-layer`: the app's engine-layer URL that instances' variable updates
//! are delivered to (seed 000, 4.2), and an instance's deliveries.

use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::json;

use super::ClientFlags;
use super::api::{Api, Send, segment};
use crate::cli::{CliError, ExitCode};

/// `cloudexec engine-layer ...`.
#[derive(Debug, Subcommand)]
pub enum EngineLayerCommand {
    /// Print the app's engine-layer URL.
    Get(Flags),
    /// Set the URL each variable a run changes is POSTed to; `--clear` stops queuing them.
    Set(SetArgs),
    /// List an instance's variable-update deliveries, newest first.
    Deliveries(DeliveriesArgs),
}

/// Only the client flags.
#[derive(Debug, Args)]
pub struct Flags {
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `engine-layer set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The URL (http or https).
    #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
    pub var_update_url: Option<String>,
    /// Clear it.
    #[arg(long)]
    pub clear: bool,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `engine-layer deliveries`.
#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// The instance.
    pub id: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layer {
    var_update_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    id: i64,
    variable_key: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
}

#[derive(Deserialize)]
struct Deliveries {
    items: Vec<Delivery>,
}

pub(in crate::cli) fn engine_layer(command: EngineLayerCommand) -> Result<ExitCode, CliError> {
    match command {
        EngineLayerCommand::Get(args) => {
            let api = Api::new(&args.flags)?;
            let (layer, answer): (Layer, _) = api.get("/v1/engine-layer", &[])?;
            print_layer(&api, &layer, &answer.body);
        }
        EngineLayerCommand::Set(args) => {
            let api = Api::new(&args.flags)?;
            let body = json!({"varUpdateUrl": args.var_update_url}).to_string();
            let answer = api.send("/v1/engine-layer", &[], Send::Put("application/json", body.as_bytes()))?;
            let answer = api.expect_ok(answer)?;
            print_layer(&api, &answer.decode()?, &answer.body);
        }
        EngineLayerCommand::Deliveries(args) => {
            let api = Api::new(&args.flags)?;
            let path = format!("/v1/instances/{}/deliveries", segment(&args.id));
            let (list, answer): (Deliveries, _) = api.get(&path, &[])?;
            if api.json {
                println!("{}", answer.body);
            } else {
                for d in list.items {
                    let error = d.last_error.map(|e| format!("  ({e})")).unwrap_or_default();
                    println!("{:>6}  {:<10} {:<24} attempts {}{error}", d.id, d.status, d.variable_key, d.attempts);
                }
            }
        }
    }
    Ok(ExitCode::Ok)
}

fn print_layer(api: &Api, layer: &Layer, body: &str) {
    if api.json {
        println!("{body}");
    } else {
        println!("var update url: {}", layer.var_update_url.as_deref().unwrap_or("(none)"));
    }
}
