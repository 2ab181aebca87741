//! Records of bins, execution instances and function-key bindings.

use crate::engine::{InstanceState, Manifest};

/// An uploaded bin.
#[derive(Debug, Clone, PartialEq)]
pub struct BinRecord {
    /// The `binId`.
    pub id: String,
    /// Owning app.
    pub app_key: i64,
    /// Its module.
    pub module_sha256: String,
    /// What it declared at upload.
    pub manifest: Manifest,
    /// µs since the epoch.
    pub created_at: i64,
}

/// An execution instance of a bin, with its whole state.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRecord {
    /// The `executeInstanceId`.
    pub id: String,
    /// Owning app.
    pub app_key: i64,
    /// The bin it runs.
    pub bin_id: String,
    /// `created`, `idle` (last run ok), `failed` (last run failed), `destroyed`.
    pub status: String,
    /// Variables and state machines.
    pub state: InstanceState,
    /// Runs committed so far; a run commits only if this did not change meanwhile.
    pub runs: i64,
    /// Why the last run failed.
    pub last_error: Option<String>,
    /// The service alias it was created for, if any (its runs need the service live).
    pub service: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

/// Where an app's `functionKey` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingTarget {
    /// A cloud function of the app, by name.
    Function(String),
    /// An HTTP endpoint (seed 000's "execute function" callback).
    Url(String),
}

/// A function key and its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The key bins call.
    pub function_key: String,
    /// Where it goes.
    pub target: BindingTarget,
}

/// A bin published under an alias (seed 000: static or dynamic flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Owning app.
    pub app_key: i64,
    /// Unique within the app: letters, digits, `_` and `-`.
    pub alias: String,
    /// 0 = static flow (each run a fresh instance), 1 = dynamic flow.
    pub category: i64,
    /// The bin it runs.
    pub bin_id: String,
    /// Whether it was revoked.
    pub revoked: bool,
}
