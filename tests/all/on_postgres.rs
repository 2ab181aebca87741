//! The server's suites again, with every server on a database of its own in one shared
//! PostgreSQL cluster instead of SQLite (`server::config` looks at this binary's name):
//! what passes on the embedded store must pass on the shared one. Suites about SQLite
//! itself (its file, WAL, a full disk) or about several nodes stay in `all` only.
#![allow(dead_code, reason = "the shared helper modules serve suites this binary leaves out")]

#[path = "flow_compat.rs"]
mod flow_compat;
#[path = "flow_support.rs"]
mod flow_support;
#[path = "flow_wasm_tasks.rs"]
mod flow_wasm_tasks;
#[path = "router.rs"]
mod router;
#[path = "seed000.rs"]
mod seed000;
#[path = "seed000_engine_layer.rs"]
mod seed000_engine_layer;
#[path = "seed000_roles.rs"]
mod seed000_roles;
#[path = "seed001.rs"]
mod seed001;
#[path = "seed001_js.rs"]
mod seed001_js;
#[path = "seed001_log_links.rs"]
mod seed001_log_links;
#[path = "seed002.rs"]
mod seed002;
#[path = "seed003.rs"]
mod seed003;
#[path = "seed003_task_tokens.rs"]
mod seed003_task_tokens;
#[path = "seed004.rs"]
mod seed004;
#[path = "server.rs"]
mod server;
#[path = "server_auth.rs"]
mod server_auth;
#[path = "server_bins.rs"]
mod server_bins;
#[path = "server_flows.rs"]
mod server_flows;
#[path = "server_functions.rs"]
mod server_functions;
#[path = "server_jobs.rs"]
mod server_jobs;
#[path = "server_restart.rs"]
mod server_restart;
#[path = "support.rs"]
mod support;
