//! `cloudexec token list|issue|revoke`: an app's tokens on a running server, with the
//! admin token.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Deserialize;

use super::api::{Api, Send};
use crate::cli::{CliError, ExitCode};

/// Token management against a server.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List an app's tokens: ids, origins and creation times (never the tokens).
    List(AdminFlags),
    /// Issue a new token for an app; it is printed this once.
    Issue {
        /// `developer` (everything within the app) or `service-user` (creates and runs
        /// instances of published services only: seed 000's service user).
        #[arg(long, value_enum, default_value = "developer")]
        role: Role,
        /// Server, admin token, app.
        #[command(flatten)]
        flags: AdminFlags,
    },
    /// Revoke an app's token by id: the server refuses it from then on.
    Revoke {
        /// The token's id (from `token list` or `token issue`).
        id: i64,
        /// Server, admin token, app.
        #[command(flatten)]
        flags: AdminFlags,
    },
}

/// The role a new token has.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Role {
    /// Everything within the app.
    Developer,
    /// Creates and runs instances of published services only.
    ServiceUser,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Developer => "developer",
            Self::ServiceUser => "service_user",
        }
    }
}

/// Where the server is, the admin token, and the app.
#[derive(Debug, Clone, Args)]
pub struct AdminFlags {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "CLOUDEXEC_SERVER")]
    pub server: String,
    /// The admin token (default: the `admin-token` file in --data-dir).
    #[arg(long, env = "CLOUDEXEC_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The server's data dir, read for the admin token when none is given.
    #[arg(long, default_value = "./data", env = "CLOUDEXEC_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The app's key.
    #[arg(long, default_value_t = 1)]
    pub app: i64,
    /// Print the server's JSON answer as is.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Deserialize)]
struct TokenList {
    items: Vec<TokenItem>,
}

#[derive(Debug, Deserialize)]
struct TokenItem {
    id: i64,
    origin: String,
    #[serde(default)]
    role: String,
    created_at: i64,
}

#[derive(Debug, Deserialize)]
struct Issued {
    id: i64,
    token: String,
}

/// Runs a `token` subcommand.
pub fn token(command: TokenCommand) -> Result<ExitCode, CliError> {
    match command {
        TokenCommand::List(flags) => {
            let api = admin_api(&flags)?;
            let (list, answer): (TokenList, _) = api.get(&format!("/v1/apps/{}/tokens", flags.app), &[])?;
            if api.json {
                println!("{}", answer.body);
                return Ok(ExitCode::Ok);
            }
            println!("{:>6}  {:<7}  {:<12}  created (unix s)", "id", "origin", "role");
            for item in list.items {
                let created = item.created_at as f64 / 1e6;
                println!("{:>6}  {:<7}  {:<12}  {created:.3}", item.id, item.origin, item.role);
            }
        }
        TokenCommand::Issue { role, flags } => {
            let api = admin_api(&flags)?;
            let body = serde_json::json!({ "role": role.as_str() }).to_string();
            let path = format!("/v1/apps/{}/tokens", flags.app);
            let answer = api.send(&path, &[], Send::Post("application/json", body.as_bytes()))?;
            let answer = api.expect_ok(answer)?;
            if api.json {
                println!("{}", answer.body);
                return Ok(ExitCode::Ok);
            }
            let issued: Issued = answer.decode()?;
            println!("id: {}", issued.id);
            println!("token: {}", issued.token);
        }
        TokenCommand::Revoke { id, flags } => {
            let api = admin_api(&flags)?;
            let answer = api.send(&format!("/v1/apps/{}/tokens/{id}", flags.app), &[], Send::Delete)?;
            api.expect_ok(answer)?;
            if !api.json {
                println!("revoked token {id} of app {}", flags.app);
            }
        }
    }
    Ok(ExitCode::Ok)
}

fn admin_api(flags: &AdminFlags) -> Result<Api, CliError> {
    Api::admin(&flags.server, flags.admin_token.as_deref(), &flags.data_dir, flags.json)
}
