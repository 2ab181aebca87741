//! Prometheus metrics: invocations by service type and outcome, their durations, and
//! gauges of work in flight, rendered as the text exposition format at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::run::Caller;
use crate::store::{JobStatus, ServiceType};

/// Labels of one invocation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InvocationLabels {
    /// Who ran it: `invoke` (a sync call), `job` (an async job), `flow` (a flow task),
    /// `bin` (a bin's run), `bin_call` (a function a bin's run called).
    pub caller: &'static str,
    /// `time_sensitive` or `batch`.
    pub service_type: &'static str,
    /// The job's terminal status (`fulfilled`, `execution_failed`, ...).
    pub status: &'static str,
}

/// Labels of a refusal.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppLabels {
    /// The app's key.
    pub app: i64,
}

/// Labels of a timed store call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreCallLabels {
    /// `heartbeat` (the lease's renewal, every tenth of the lease) or `claim_jobs` (the
    /// dispatcher's claim of waiting jobs).
    pub call: &'static str,
}

/// Labels of a failure.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// The error code recorded with the job (`DeadlineExceeded`, `Trap`, the guest's own, ...).
    pub kind: String,
}

/// Labels of a variable-update delivery attempt (seed 000, 4.2).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `delivered`, `retried` or `failed` (given up).
    pub outcome: &'static str,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    invocations: Family<InvocationLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    duration: Family<InvocationLabels, Histogram>,
    throttled: Family<AppLabels, Counter>,
    in_flight: Gauge,
    waiting_jobs: Gauge,
    claimed: Counter,
    reclaimed: Counter,
    store_calls: Family<StoreCallLabels, Histogram>,
    deliveries: Family<DeliveryLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cloudexec");
        let invocations = Family::<InvocationLabels, Counter>::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let duration = Family::<InvocationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_1, 4.0, 10))
        });
        let throttled = Family::<AppLabels, Counter>::default();
        let (in_flight, waiting_jobs) = (Gauge::default(), Gauge::default());
        registry.register(
            "invocations",
            "Guest runs by caller (invoke, job, flow, bin, bin_call), service type and status",
            invocations.clone(),
        );
        registry.register("failures", "Failed invocations by error kind", failures.clone());
        registry.register("invocation_duration_seconds", "Wall time of invocations", duration.clone());
        registry.register(
            "throttled",
            "Calls refused with 429 (capacity, the app's share or its rate), by app",
            throttled.clone(),
        );
        registry.register("in_flight", "Invocations running or waiting for a slot", in_flight.clone());
        registry.register("waiting_jobs", "Async jobs waiting in the store", waiting_jobs.clone());
        let (claimed, reclaimed) = (Counter::default(), Counter::default());
        registry.register("jobs_claimed", "Async jobs this node claimed to run", claimed.clone());
        registry.register(
            "jobs_reclaimed",
            "Executing jobs this node put back to waiting because their node's lease ran out",
            reclaimed.clone(),
        );
        let store_calls = Family::<StoreCallLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 4.0, 10))
        });
        registry.register(
            "store_round_trip_seconds",
            "Round trips to the store this node makes on a schedule (heartbeat) or when idle slots claim jobs",
            store_calls.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "var_update_deliveries",
            "Attempts to deliver variable updates to apps' engine layers (seed 000, 4.2), by outcome",
            deliveries.clone(),
        );
        Self {
            registry,
            invocations,
            failures,
            duration,
            throttled,
            in_flight,
            waiting_jobs,
            claimed,
            reclaimed,
            store_calls,
            deliveries,
        }
    }

    /// Counts one attempt to deliver a variable update.
    pub fn var_update_delivery(&self, outcome: &'static str) {
        self.deliveries.get_or_create(&DeliveryLabels { outcome }).inc();
    }

    /// Counts one finished invocation.
    pub fn invocation(
        &self,
        caller: Caller,
        service_type: ServiceType,
        status: JobStatus,
        error_code: Option<&str>,
        seconds: f64,
    ) {
        let labels =
            InvocationLabels { caller: caller.as_str(), service_type: service_type.as_str(), status: status.as_str() };
        self.invocations.get_or_create(&labels).inc();
        self.duration.get_or_create(&labels).observe(seconds);
        if let Some(kind) = error_code {
            self.failures.get_or_create(&FailureLabels { kind: kind.to_string() }).inc();
        }
    }

    /// Counts async jobs this node claimed.
    pub fn claimed(&self, jobs: usize) {
        self.claimed.inc_by(u64::try_from(jobs).unwrap_or(u64::MAX));
    }

    /// Counts jobs taken back from nodes whose lease ran out.
    pub fn reclaimed(&self, jobs: u64) {
        self.reclaimed.inc_by(jobs);
    }

    /// Times one store round trip.
    pub fn store_call(&self, call: &'static str, seconds: f64) {
        self.store_calls.get_or_create(&StoreCallLabels { call }).observe(seconds);
    }

    /// Counts one refused call of an app.
    pub fn throttled(&self, app: i64) {
        self.throttled.get_or_create(&AppLabels { app }).inc();
    }

    /// The text exposition, with the gauges set to the values given.
    pub fn render(&self, in_flight: usize, waiting_jobs: i64) -> String {
        self.in_flight.set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        self.waiting_jobs.set(waiting_jobs);
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.push_str("# error encoding metrics\n");
        }
        out
    }
}
