//! The async dispatcher: claims waiting jobs as the executor's slots free up (while this
//! node's lease is fresh), runs them, and records each end until it lands.

use std::time::Duration;

use super::JobRunner;
use crate::runs::outcome::not_run;
use crate::runs::run::{Caller, count_job};
use crate::store::{FailedStatus, JobEnd, JobFailure, JobOutcome, JobRecord, NewJob};
use crate::time::now_us;

impl JobRunner {
    /// Claims as many waiting jobs as there are free slots, until stopped; sleeps until
    /// woken (a job queued here or announced by another node, a slot freed) or the idle poll.
    pub(super) async fn dispatch(&self) {
        let inner = &self.inner;
        loop {
            let free = inner.executor.free_slots();
            // A node whose heartbeat is failing claims nothing: others may take it back.
            if free > 0 && inner.lease.fresh() {
                let skip = inner.executor.saturated_apps();
                let started = std::time::Instant::now();
                let claimed = inner.store.claim_jobs(inner.lease.node(), free, &skip, now_us()).await;
                inner.executor.metrics().store_call("claim_jobs", started.elapsed().as_secs_f64());
                match claimed {
                    Ok(jobs) => {
                        let claimed = jobs.len();
                        inner.executor.metrics().claimed(claimed);
                        for job in jobs {
                            let runner = self.clone();
                            inner.tasks.spawn(async move { runner.run_claimed(job).await });
                        }
                        if claimed == free {
                            tokio::task::yield_now().await;
                            continue;
                        }
                    }
                    Err(error) => tracing::error!(%error, "claiming waiting jobs failed"),
                }
            }
            tokio::select! {
                () = inner.stop.cancelled() => return,
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(inner.config.idle_poll) => {}
            }
        }
    }

    /// Runs one claimed job under its app's admission, records its end, and wakes the
    /// dispatcher for the slot it frees.
    async fn run_claimed(&self, job: JobRecord) {
        let inner = &self.inner;
        let (id, app_key, service_type) = (job.id, job.app_key, job.service_type);
        let outcome = match inner.functions.module(&job.module_sha256).await {
            Ok(module) => {
                let ticket = inner.executor.enter(app_key);
                self.execute(ticket, module, NewJob::from(job), Caller::Job).await.map(|(_, outcome)| outcome)
            }
            Err(error) => Err(not_run(FailedStatus::ScheduleFailed, "ScheduleFailed", error.to_string(), now_us())),
        };
        let outcome = outcome.unwrap_or_else(|unrun| {
            count_job(inner.executor.metrics(), Caller::Job, service_type, &unrun);
            unrun
        });
        self.record_end(id, outcome).await;
        inner.wake.notify_one();
    }

    /// Writes a claimed job's end, retrying until it lands: the whole outcome a few
    /// times, then only its status and why the rest was not stored (a smaller write, more
    /// likely to fit a full disk). A job whose end never lands before the server stops
    /// stays `executing` and runs again at the next start.
    async fn record_end(&self, id: i64, outcome: JobOutcome) {
        let store = &self.inner.store;
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0u32;
        loop {
            let write = if attempt < FULL_OUTCOME_ATTEMPTS {
                store.finish_job(self.inner.lease.node(), id, outcome.clone()).await
            } else {
                store.finish_job(self.inner.lease.node(), id, unstored(&outcome, attempt)).await
            };
            let Err(error) = write else { return };
            tracing::error!(job = id, attempt, %error, "recording a finished job failed; retrying");
            attempt += 1;
            tokio::select! {
                () = self.inner.stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_RECORD_DELAY);
        }
    }
}

/// Attempts at storing a job's whole outcome before only its failure is stored.
const FULL_OUTCOME_ATTEMPTS: u32 = 5;
/// Longest pause between attempts at recording a job's end.
const MAX_RECORD_DELAY: Duration = Duration::from_secs(5);

/// The outcome stored when the whole one could not be: the job failed, its output and
/// log are gone, and the error says so.
fn unstored(outcome: &JobOutcome, attempts: u32) -> JobOutcome {
    let message = format!(
        "the job ended ({}) but its result could not be stored after {attempts} attempts",
        outcome.status().as_str()
    );
    let result = Err(JobFailure::new(FailedStatus::ExecutionFailed, "ResultNotStored", message));
    JobOutcome { end: JobEnd { result, ..outcome.end.clone() }, log: String::new() }
}
