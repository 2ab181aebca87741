//! End-to-end tests of the engine, the test harness and the CLI, with real guests
//! compiled from `examples/`. One test binary, one module per area.

mod examples;
mod hostile;
mod loading;
mod sandbox;
mod support;
