//! Seed 000, 4.2: "receive a variable update". When a run commits, each variable it
//! changed (its value differs from before the run with the run's own updates applied) is
//! queued, in key order, in a durable outbox written in the run's commit, addressed to
//! the app's engine-layer URL. A deliverer POSTs each
//! `{executeInstanceId, var: {varPtr: {variableKey}, object: {data, len, type}}}`; the
//! engine layer answers `true` (taken) or `false`. A delivery never starts a run. A
//! refusal, an error or a timeout is retried with backoff (1 s, 2 s, 4 s, ... at most
//! 5 min) up to [`MAX_ATTEMPTS`], then given up as `failed`; an instance's updates go out
//! in order (the next waits for the one before). Every attempt is counted in `/metrics`
//! (`cloudexec_var_update_deliveries_total{outcome}`) and each delivery's state is listed
//! at `GET /v1/instances/{id}/deliveries`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;

use crate::engine::TypedValue;
use crate::runs::Executor;
use crate::store::{DeliveryEnd, NewVarDelivery, Store, VarDelivery};
use crate::time::now_us;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Longest an engine layer may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim holds a delivery (a node stopped mid-delivery leaves it due again).
const CLAIM_LEASE: Duration = Duration::from_secs(30);
/// How soon an idle deliverer looks again for due deliveries; each empty look doubles
/// the wait up to [`MAX_POLL`], so an idle node claims (a write on SQLite) rarely. A
/// commit on this node wakes it at once; other nodes' updates wait at most `MAX_POLL`.
const POLL: Duration = Duration::from_millis(500);
/// Longest wait of an idle deliverer.
const MAX_POLL: Duration = Duration::from_secs(5);
/// Deliveries claimed at once.
const BATCH: i64 = 32;

/// The variables a run changed: those whose committed value differs from the state
/// before the run with the run's own updates applied (the engine layer sent those).
pub fn changed(
    before: &BTreeMap<String, TypedValue>,
    sent: &[(String, TypedValue)],
    after: &BTreeMap<String, TypedValue>,
) -> Vec<(String, TypedValue)> {
    after
        .iter()
        .filter(|(key, value)| {
            let base = sent.iter().rev().find(|(k, _)| k == *key).map(|(_, v)| v).or_else(|| before.get(*key));
            base != Some(*value)
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The outbox rows for `changed` variables of instance `instance_id`.
pub fn deliveries(app_key: i64, instance_id: &str, url: &str, changed: &[(String, TypedValue)]) -> Vec<NewVarDelivery> {
    changed
        .iter()
        .map(|(key, value)| NewVarDelivery {
            app_key,
            instance_id: instance_id.to_string(),
            variable_key: key.clone(),
            url: url.to_string(),
            body: json!({"executeInstanceId": instance_id, "var": {"varPtr": {"variableKey": key}, "object": value}})
                .to_string(),
        })
        .collect()
}

/// The deliverer: one per node, claiming due deliveries from the store.
pub struct VarUpdates {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    executor: Arc<Executor>,
    wake: Notify,
}

impl std::fmt::Debug for VarUpdates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VarUpdates").finish_non_exhaustive()
    }
}

impl VarUpdates {
    /// A deliverer sending with `client` (under the egress policy).
    pub fn new(store: Arc<dyn Store>, client: reqwest::Client, executor: Arc<Executor>) -> Arc<Self> {
        Arc::new(Self { store, client, executor, wake: Notify::new() })
    }

    /// Wakes the deliverer at once (a run queued updates).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers until the process ends.
    pub fn spawn(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut idle = POLL;
            loop {
                if this.deliver_due().await {
                    idle = POLL;
                    continue;
                }
                if tokio::time::timeout(idle, this.wake.notified()).await.is_ok() {
                    idle = POLL;
                } else {
                    idle = (idle * 2).min(MAX_POLL);
                }
            }
        });
    }

    /// One round: claims what is due and tries each; whether there was anything.
    async fn deliver_due(&self) -> bool {
        let now = now_us();
        let lease = now + i64::try_from(CLAIM_LEASE.as_micros()).unwrap_or(i64::MAX);
        let claimed = match self.store.claim_var_deliveries(now, lease, BATCH).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "claiming variable updates to deliver failed");
                return false;
            }
        };
        let worked = !claimed.is_empty();
        for delivery in claimed {
            let end = self.attempt(&delivery).await;
            let outcome = match &end {
                DeliveryEnd::Delivered => "delivered",
                DeliveryEnd::Retry { .. } => "retried",
                DeliveryEnd::Failed { .. } => "failed",
            };
            self.executor.metrics().var_update_delivery(outcome);
            if let Err(error) = self.store.end_var_delivery(delivery.id, end).await {
                tracing::warn!(%error, id = delivery.id, "recording a variable update's delivery failed");
            }
        }
        worked
    }

    async fn attempt(&self, delivery: &VarDelivery) -> DeliveryEnd {
        let error = match self.post(delivery).await {
            Ok(()) => return DeliveryEnd::Delivered,
            Err(error) => error,
        };
        let new = &delivery.new;
        tracing::warn!(instance = new.instance_id, key = new.variable_key, attempt = delivery.attempts, %error,
            "delivering a variable update to the engine layer failed");
        if delivery.attempts >= MAX_ATTEMPTS {
            return DeliveryEnd::Failed { error: format!("gave up after {} attempts: {error}", delivery.attempts) };
        }
        let exponent = u32::try_from(delivery.attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(16);
        let wait = Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF);
        DeliveryEnd::Retry { next_at: now_us() + i64::try_from(wait.as_micros()).unwrap_or(i64::MAX), error }
    }

    /// POSTs the update; `Ok` when the engine layer answered `true`.
    async fn post(&self, delivery: &VarDelivery) -> Result<(), String> {
        let url = &delivery.new.url;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(delivery.new.body.clone())
            .timeout(ANSWER_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("reading the answer of {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url} answered {status}: {}", text.chars().take(200).collect::<String>()));
        }
        match serde_json::from_str::<serde_json::Value>(text.trim()) {
            Ok(serde_json::Value::Bool(true)) => Ok(()),
            _ => Err(format!(
                "{url} did not take the update (answered {:?})",
                text.chars().take(200).collect::<String>()
            )),
        }
    }
}
