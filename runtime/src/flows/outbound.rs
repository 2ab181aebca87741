//! Where flows' outbound calls (HTTP tasks, callback URLs) run: one pooled async client,
//! on a runtime of its own, at most `max_calls` in flight. A Map that starts thousands of
//! calls at once queues their connects and writes there, not in front of the requests the
//! server's workers serve (`/healthz` stalled 0.7 s behind 10,000 of them); and the cap
//! bounds the memory and sockets calls hold (about 30 kB and a descriptor each).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::Semaphore;

use super::http_task::{self, HttpCall};
use super::scheduler::ErrorInfo;
use crate::egress::EgressPolicy;

/// Longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Calls in flight at most, by default. Each open connection holds about 30 kB of the
/// client's buffers: 3,072 keep a Map of 10,000 one-second calls under 200 MB of growth
/// (+140 to +151 MiB in BENCHMARKS.md, against +171 to +207 MiB with 4,096) while it still
/// ends in 4.3 s (four waves).
pub const DEFAULT_MAX_CALLS: usize = 3072;

/// The runtime outbound calls run on (`None` if it could not start: they then run on the
/// caller's).
static RUNTIME: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("cloudexec-outbound")
        .enable_all()
        .build()
        .inspect_err(|e| tracing::warn!(error = %e, "no runtime of their own for outbound calls"))
        .ok()
});

/// The flows' way out (one `Arc`: a call hands it to the outbound runtime without
/// copying the egress policy's lists).
#[derive(Debug, Clone)]
pub struct Outbound(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    client: reqwest::Client,
    egress: EgressPolicy,
    slots: Semaphore,
}

impl Outbound {
    /// Calls that pass `egress`, at most `max_calls` at once.
    pub fn new(egress: &EgressPolicy, max_calls: usize) -> Self {
        Self(Arc::new(Parts {
            client: egress.client(CONNECT_TIMEOUT),
            egress: egress.clone(),
            slots: Semaphore::new(max_calls.max(1)),
        }))
    }

    /// Makes the call once a slot is free (in the order they were asked for).
    pub async fn call(&self, call: HttpCall) -> Result<Json, ErrorInfo> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(call, move |answer| drop(tx.send(answer)));
        rx.await.unwrap_or_else(|e| Err(ErrorInfo::new("States.Runtime", format!("the outbound call failed: {e}"))))
    }

    /// Makes the call once a slot is free and hands its answer to `done`, both on the
    /// outbound runtime: the caller's runtime holds nothing while it is under way. `done`
    /// hears of a call that ended without an answer (its task panicked or was dropped) as
    /// a `States.Runtime` error, so no task waits for ever.
    pub fn spawn(&self, call: HttpCall, done: impl FnOnce(Result<Json, ErrorInfo>) + Send + 'static) {
        let this = self.0.clone();
        let mut answer_once = AnswerOnce(Some(Box::new(done)));
        let work = async move {
            let answer = {
                let _slot = this.slots.acquire().await;
                http_task::send(&this.client, &this.egress, &call).await
            };
            answer_once.answer(answer);
        };
        match RUNTIME.as_ref() {
            Some(runtime) => drop(runtime.spawn(work)),
            None => drop(tokio::spawn(work)),
        }
    }
}

/// What hears a call's answer.
type Answer = Box<dyn FnOnce(Result<Json, ErrorInfo>) + Send>;

/// Where a call's answer goes, once; dropped unanswered, it answers with an error.
struct AnswerOnce(Option<Answer>);

impl AnswerOnce {
    fn answer(&mut self, answer: Result<Json, ErrorInfo>) {
        if let Some(done) = self.0.take() {
            done(answer);
        }
    }
}

impl Drop for AnswerOnce {
    fn drop(&mut self) {
        self.answer(Err(ErrorInfo::new("States.Runtime", "the outbound call ended without an answer")));
    }
}
