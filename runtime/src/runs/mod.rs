//! The one place guest runs go through, whoever asks (an HTTP invoke, the async
//! dispatcher, a flow task, a bin's run and the functions it calls): the executor and its
//! slots, fair admission across apps, the limits a job runs under, building and recording
//! job records, the metrics of every run, and the resolver a bin's function keys go
//! through. `functions/` keeps definitions, versions and their cache.

pub mod admission;
mod backlog;
mod executor;
mod guest_threads;
pub mod jobs;
mod lease;
pub mod metrics;
pub(crate) mod outcome;
pub(crate) mod resolver;
pub mod run;

pub use admission::{AppLimits, Refusal};
pub use executor::Executor;
pub use jobs::{JobRunner, RunnerConfig};
pub use run::Caller;
