//! Flows: workflow definitions (Rill-Flow DAG YAML, the state-machine spec and old-format
//! FDL), the one validated graph they all compile to, the JSONPath data mapping its nodes
//! use, the pure scheduler that walks it, and the driver that performs the scheduler's
//! actions (wasm and HTTP tasks, timers, persistence), leased per node (`takeover.rs`,
//! `signals.rs`).

pub mod callbacks;
pub mod data;
pub mod definition;
pub mod driver;
mod executions;
pub mod graph;
mod headers;
pub mod http_task;
mod live;
pub mod outbound;
pub mod outline;
pub mod running;
pub mod scheduler;
pub mod service;
mod signals;
mod takeover;
pub mod task_tokens;
mod tasks;
pub mod view;
mod writes;
