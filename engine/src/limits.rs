//! Per-invocation limits and the resource limiter that enforces the memory cap.

use std::time::Duration;

use wasmtime::ResourceLimiter;

/// Memory cap of the default plan (`P_FREE` in seed 001): 128 MiB.
pub const FREE_PLAN_MEMORY: u64 = 128 << 20;
/// Memory cap of the larger plan (`P_PERSONAL` in seed 001): 256 MiB.
pub const PERSONAL_PLAN_MEMORY: u64 = 256 << 20;
/// Deadline of a synchronous invocation (seed 001: 5 s).
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline of an asynchronous invocation (seed 001: 300 s).
pub const ASYNC_TIMEOUT: Duration = Duration::from_secs(300);
/// Cap of the captured log (stdout, stderr and log lines together): 1 MiB.
pub const DEFAULT_LOG_BYTES: usize = 1 << 20;
/// Table elements a guest may grow to; guards against table-growth exhaustion.
pub const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// A memory plan: how much linear memory one invocation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan {
    /// 128 MiB (`P_FREE`).
    #[default]
    Free,
    /// 256 MiB (`P_PERSONAL`).
    Personal,
}

impl Plan {
    /// The plan's memory cap in bytes.
    pub fn memory_bytes(self) -> u64 {
        match self {
            Self::Free => FREE_PLAN_MEMORY,
            Self::Personal => PERSONAL_PLAN_MEMORY,
        }
    }

    /// The seed's name of the plan.
    pub fn name(self) -> &'static str {
        match self {
            Self::Free => "P_FREE",
            Self::Personal => "P_PERSONAL",
        }
    }

    /// Parses the seed's plan name (`P_FREE`, `P_PERSONAL`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "P_FREE" => Some(Self::Free),
            "P_PERSONAL" => Some(Self::Personal),
            _ => None,
        }
    }
}

/// The limits one invocation runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory cap in bytes.
    pub memory_bytes: u64,
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Cap of the captured log in bytes.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::sync(Plan::Free)
    }
}

impl Limits {
    /// Limits of a synchronous invocation on `plan`.
    pub fn sync(plan: Plan) -> Self {
        Self { memory_bytes: plan.memory_bytes(), timeout: SYNC_TIMEOUT, log_bytes: DEFAULT_LOG_BYTES }
    }

    /// Limits of an asynchronous invocation on `plan`.
    pub fn batch(plan: Plan) -> Self {
        Self { timeout: ASYNC_TIMEOUT, ..Self::sync(plan) }
    }

    /// The same limits with another deadline.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }
}

/// Enforces the memory cap and records what the guest used, so a failed run can be
/// classified as "memory limit exceeded" whether the guest trapped or aborted itself.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: u64,
    /// Sum of all linear memories of the store right now.
    total: u64,
    peak: u64,
    denied: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(cap: u64) -> Self {
        Self { cap, total: 0, peak: 0, denied: false }
    }

    /// The largest linear memory the guest reached, in bytes.
    pub(crate) fn peak(&self) -> u64 {
        self.peak
    }

    /// The cap this limiter enforces, in bytes.
    pub(crate) fn cap(&self) -> u64 {
        self.cap
    }

    /// Whether a memory growth was refused during the run.
    pub(crate) fn denied(&self) -> bool {
        self.denied
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let after = self.total.saturating_sub(current as u64).saturating_add(desired as u64);
        if after > self.cap {
            self.denied = true;
            return Ok(false);
        }
        self.total = after;
        self.peak = self.peak.max(after);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
