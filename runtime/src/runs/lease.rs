//! This node's lease on the async jobs it claims. The node heartbeats into the store every
//! tenth of the lease; while its last heartbeat is fresher than the lease its executing
//! jobs are its own, and past that any node puts them back to waiting. So a node renews
//! until its last running job has ended (also while it shuts down), claims nothing while
//! its own heartbeat is failing, and at start waits out a live holder of its id instead
//! of taking that node's jobs (a crashed predecessor's heartbeat goes stale within one
//! lease; a second live process with the same id is refused).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::ServiceError;
use crate::store::Store;
use crate::time::now_us;

/// What the lease's keeper reports.
pub(crate) enum LeaseEvent {
    /// The lease was renewed; the store took this long.
    Renewed(Duration),
    /// This many jobs of stopped nodes went back to waiting.
    Reclaimed(u64),
}

/// A node's lease.
pub(crate) struct Lease {
    node: String,
    ttl: Duration,
    store: Arc<dyn Store>,
    /// When the last heartbeat was stored, µs since the epoch (0: never).
    last_beat: AtomicI64,
    stop: CancellationToken,
    keeper: Mutex<Option<JoinHandle<()>>>,
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Lease {
    /// The lease of `node`, `ttl` long.
    pub(crate) fn new(store: Arc<dyn Store>, node: String, ttl: Duration) -> Arc<Self> {
        let ttl = ttl.max(Duration::from_millis(100));
        Arc::new(Self {
            node,
            ttl,
            store,
            last_beat: AtomicI64::new(0),
            stop: CancellationToken::new(),
            keeper: Mutex::new(None),
        })
    }

    /// This node's id.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// How long a heartbeat keeps this node's work its own.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the lease at start: waits up to one lease for another holder of this id to
    /// go stale, heartbeats, and puts back to waiting the jobs this node left executing
    /// when it stopped. Returns how many.
    pub(crate) async fn take(&self) -> Result<u64, ServiceError> {
        let deadline = now_us().saturating_add(micros(self.ttl) + micros(self.every()));
        loop {
            let now = now_us();
            let live = self.store.node_heartbeat(&self.node).await?.is_some_and(|at| at >= now - micros(self.ttl));
            if !live {
                break;
            }
            if now >= deadline {
                return Err(ServiceError::InvalidArgument(format!(
                    "another live node heartbeats as {:?}: give each node on one database its own --node-id",
                    self.node
                )));
            }
            tracing::warn!(node = %self.node, "this node id's heartbeat is fresh; waiting for it to go stale");
            tokio::time::sleep(self.every()).await;
        }
        self.beat().await?;
        Ok(self.store.requeue_own_jobs(&self.node).await?)
    }

    /// Stores a heartbeat now; returns how long the store took.
    async fn beat(&self) -> Result<Duration, ServiceError> {
        let (now, started) = (now_us(), std::time::Instant::now());
        self.store.heartbeat(&self.node, now).await?;
        self.last_beat.store(now, Ordering::SeqCst);
        Ok(started.elapsed())
    }

    /// Whether this node may claim jobs: its last heartbeat is within half the lease, so
    /// no other node can take what it claims now before the next one.
    pub(crate) fn fresh(&self) -> bool {
        now_us().saturating_sub(self.last_beat.load(Ordering::SeqCst)) < micros(self.ttl / 2)
    }

    /// Puts back to waiting the jobs of nodes whose lease ran out; returns how many.
    pub(crate) async fn reclaim(&self) -> Result<u64, ServiceError> {
        Ok(self.store.reclaim_jobs(now_us().saturating_sub(micros(self.ttl))).await?)
    }

    fn every(&self) -> Duration {
        self.ttl / 10
    }

    /// Renews the lease every tenth of it and reclaims the jobs of stopped nodes, until
    /// [`Lease::release`]; `report` hears each renewal's round trip and each reclaim.
    pub(crate) fn keep(self: &Arc<Self>, report: impl Fn(LeaseEvent) + Send + Sync + 'static) {
        let lease = self.clone();
        let keeper = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = lease.stop.cancelled() => return,
                    () = tokio::time::sleep(lease.every()) => {}
                }
                match lease.beat().await {
                    Ok(took) => report(LeaseEvent::Renewed(took)),
                    Err(error) => {
                        tracing::error!(%error, node = %lease.node, "renewing this node's lease failed; it claims nothing meanwhile");
                        continue;
                    }
                }
                match lease.reclaim().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(reclaimed = n, node = %lease.node, "took back the jobs of nodes whose heartbeat stopped");
                        report(LeaseEvent::Reclaimed(n));
                    }
                    Err(error) => tracing::error!(%error, "reclaiming the jobs of stopped nodes failed"),
                }
            }
        });
        if let Ok(mut slot) = self.keeper.lock() {
            *slot = Some(keeper);
        }
    }

    /// Stops renewing and gives the lease up (once this node's jobs have ended): other
    /// nodes may take what it left executing at once, and its restart needs no wait.
    pub(crate) async fn release(&self) {
        self.stop.cancel();
        let keeper = self.keeper.lock().ok().and_then(|mut k| k.take());
        if let Some(keeper) = keeper {
            let _ = keeper.await;
        }
        if let Err(error) = self.store.remove_node(&self.node).await {
            tracing::warn!(%error, node = %self.node, "giving up this node's lease failed; it runs out by itself");
        }
    }
}
