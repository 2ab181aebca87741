//! End-to-end tests of the engine, the test harness, the CLI and the server, with real
//! guests compiled from `examples/`. One test binary, one module per area.

mod compat_errors;
mod examples;
mod flow_compat;
mod flow_corpus;
mod flow_definitions;
mod flow_support;
mod flow_wasm_tasks;
mod hostile;
mod js_runtime;
mod loading;
mod router;
mod sandbox;
mod seed000;
mod seed000_roles;
mod seed001;
mod seed001_js;
mod seed001_log_links;
mod seed003_task_tokens;
mod server;
mod server_auth;
mod server_bins;
mod server_docs;
mod server_flow_nodes;
mod server_flows;
mod server_functions;
mod server_jobs;
mod server_leases;
mod server_notices;
mod server_postgres;
mod server_restart;
mod store_execution_leases;
mod store_flows;
mod store_postgres;
mod store_wal;
mod support;
