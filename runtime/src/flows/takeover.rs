//! Executions are leased by the node that drives them (`executions.owner`). At start a
//! node takes back its own unfinished executions and those no live node owns; while it
//! runs it takes over, every tenth of the lease, the executions of nodes whose heartbeat
//! went stale, and it takes the signals (finish callbacks, stops) other nodes stored for
//! its executions. A taken-over execution resumes from its stored state with the rule of a
//! restart: a task whose result was stored never runs again, one in flight runs again.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::running::Running;
use super::scheduler::{Event, ExecState};
use super::service::Flows;
use super::signals::SIGNAL_POLL;
use crate::error::ServiceError;
use crate::store::ExecutionRecord;
use crate::time::now_us;

impl Flows {
    /// Takes this node's unfinished executions and those no live node owns, resumes them,
    /// and from then on takes over those of stopped nodes and takes signals. Returns how
    /// many it resumed now.
    pub async fn resume(&self) -> Result<usize, ServiceError> {
        let claimed = self.claim(true).await?;
        let count = claimed.len();
        for record in claimed {
            self.resume_one(record).await;
        }
        let flows = self.clone();
        self.driver.spawn_beside(move |stop| async move { flows.keep(stop).await });
        Ok(count)
    }

    /// Claims unfinished executions (this node's own too when `own`).
    async fn claim(&self, own: bool) -> Result<Vec<ExecutionRecord>, ServiceError> {
        let ttl = i64::try_from(self.jobs.lease_ttl().as_micros()).unwrap_or(i64::MAX);
        Ok(self.store.claim_executions(self.driver.node(), now_us().saturating_sub(ttl), own).await?)
    }

    /// Drives a claimed execution from its stored state.
    async fn resume_one(&self, record: ExecutionRecord) {
        if self.driver.is_live(&record.id) {
            return;
        }
        let graph = match self.graph_of(&record).await {
            Ok(graph) => graph,
            Err(error) => {
                tracing::error!(execution = %record.id, %error, "cannot resume an execution");
                return;
            }
        };
        let Ok(state) = ExecState::from_doc(&record.state) else {
            tracing::error!(execution = %record.id, "cannot resume an execution: its stored state does not parse");
            return;
        };
        let run = Running {
            id: record.id.clone(),
            app_key: record.app_key,
            graph,
            state,
            callback_url: record.callback_url.clone(),
            deadline_at: record.deadline_at,
            jobs: Vec::new(),
            finished_at: None,
        };
        self.driver.launch(run, Vec::new(), Some(Event::Recover), None);
    }

    /// Until `stop`: takes signals when woken (a signal stored here, or a notice of one
    /// stored on another node) and every [`SIGNAL_POLL`] in case a wake-up was missed, and
    /// every tenth of the lease (while this node's own lease is fresh) takes over the
    /// executions of stopped nodes.
    async fn keep(self, stop: CancellationToken) {
        let every = (self.jobs.lease_ttl() / 10).max(std::time::Duration::from_millis(100));
        let (mut last_claim, mut last_look) = (Instant::now(), Instant::now());
        loop {
            let woken = tokio::select! {
                () = stop.cancelled() => return,
                () = self.signalled.notified() => true,
                () = tokio::time::sleep(every.min(SIGNAL_POLL)) => false,
            };
            if woken || last_look.elapsed() >= SIGNAL_POLL {
                last_look = Instant::now();
                if let Err(error) = self.take_signals().await {
                    tracing::error!(%error, "taking the signals for this node's executions failed");
                }
            }
            if last_claim.elapsed() < every || !self.jobs.lease_fresh() {
                continue;
            }
            last_claim = Instant::now();
            match self.claim(false).await {
                Ok(claimed) if claimed.is_empty() => {}
                Ok(claimed) => {
                    tracing::warn!(executions = claimed.len(), node = %self.driver.node(), "took over the flow executions of nodes whose heartbeat stopped");
                    for record in claimed {
                        self.resume_one(record).await;
                    }
                }
                Err(error) => tracing::error!(%error, "taking over the executions of stopped nodes failed"),
            }
        }
    }
}
