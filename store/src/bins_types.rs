//! Records of bins, execution instances and function-key bindings.

use cloudexec_engine::{InstanceState, Manifest};

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

/// Where an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceStatus {
    /// Not run yet.
    Created,
    /// Its last run went well.
    Idle,
    /// Its last run failed (its state is the one before that run).
    Failed,
    /// Destroyed: no longer found.
    Destroyed,
}

impl InstanceStatus {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Idle => "idle",
            Self::Failed => "failed",
            Self::Destroyed => "destroyed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Created, Self::Idle, Self::Failed, Self::Destroyed].into_iter().find(|s| s.as_str() == text)
    }
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
    /// Where it is.
    pub status: InstanceStatus,
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

/// How a published bin runs (seed 000 sends the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceCategory {
    /// 0: each run is a fresh instance.
    Static,
    /// 1: create an instance, then run it many times.
    Dynamic,
}

impl ServiceCategory {
    /// Seed 000's number for it.
    pub fn code(self) -> i64 {
        match self {
            Self::Static => 0,
            Self::Dynamic => 1,
        }
    }

    /// The category of seed 000's number.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Static),
            1 => Some(Self::Dynamic),
            _ => None,
        }
    }

    /// `static` or `dynamic`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Dynamic => "dynamic",
        }
    }
}

/// A bin published under an alias (seed 000: static or dynamic flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Owning app.
    pub app_key: i64,
    /// Unique within the app: letters, digits, `_` and `-`.
    pub alias: String,
    /// Static or dynamic flow.
    pub category: ServiceCategory,
    /// The bin it runs.
    pub bin_id: String,
    /// Whether it was revoked.
    pub revoked: bool,
}
