//! Finish callbacks and stops that reach a node which does not drive the execution. They
//! are stored as signals; the owning node takes them at once when the store tells it (a
//! PostgreSQL NOTIFY; at worst within [`SIGNAL_POLL`]), acts as if
//! they had reached it, and stores the outcome, which the asking node reads back and
//! answers with. So `POST /flow/finish.json`, `/v1/executions/{id}/tasks/{task}/finish`
//! and a stop work on any node. A signal stays stored while its execution has no live
//! owner (the owner died and no node took it over yet): the asking node then answers that
//! the callback is queued, and the next owner takes it once it resumes the execution.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use tokio::task::JoinSet;

use super::running::CallbackError;
use super::scheduler::{ErrorInfo, Event};
use super::service::{Flows, execution_not_found};
use crate::error::ServiceError;
use crate::store::{ExecutionRecord, ExecutionSignal, SignalKind, StoreError};
use crate::time::now_us;

/// How often the owning node looks for signals when nothing woke it (a signal stored on
/// this node wakes it at once, one stored on another node through the store's notice).
pub(super) const SIGNAL_POLL: Duration = Duration::from_secs(1);
/// How long the asking node waits for the owner's outcome before answering "queued".
const OUTCOME_WAIT: Duration = Duration::from_secs(5);
/// How often it looks.
const OUTCOME_POLL: Duration = Duration::from_millis(20);
/// How long a stop waits for the execution to end.
pub(super) const STOP_WAIT: Duration = Duration::from_secs(10);

/// What became of a finish callback, wherever it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(super) enum Outcome {
    /// Taken and stored.
    Done,
    /// The execution is not live on its owner (ended, deleted, or paused).
    NotRunning,
    /// No task of that name.
    UnknownTask { message: String },
    /// The task waits for no result.
    NotWaiting { message: String },
    /// The result could not be stored.
    Failed { message: String },
}

impl Outcome {
    /// The outcome of a callback given to the driver (`None`: not live there).
    pub(super) fn of(answer: Option<Result<(), CallbackError>>) -> Self {
        match answer {
            Some(Ok(())) => Self::Done,
            None | Some(Err(CallbackError::Gone)) => Self::NotRunning,
            Some(Err(e @ CallbackError::UnknownTask { .. })) => Self::UnknownTask { message: e.to_string() },
            Some(Err(e @ CallbackError::NotWaiting { .. })) => Self::NotWaiting { message: e.to_string() },
            Some(Err(CallbackError::Store(message))) => Self::Failed { message },
        }
    }

    /// The answer to the caller of execution `id`'s callback.
    pub(super) fn answer(self, id: &str) -> Result<(), ServiceError> {
        match self {
            Self::Done => Ok(()),
            Self::NotRunning => {
                Err(ServiceError::NotFound { kind: "Execution", what: format!("running execution {id:?}") })
            }
            Self::UnknownTask { message } => Err(ServiceError::NotFound { kind: "Task", what: message }),
            Self::NotWaiting { message } => Err(ServiceError::Conflict { code: "TaskNotWaiting", message }),
            Self::Failed { message } => Err(ServiceError::Internal(message)),
        }
    }
}

pub(super) fn finish_body(result: Result<Json, ErrorInfo>) -> Json {
    match result {
        Ok(output) => json!({ "output": output }),
        Err(error) => json!({ "error": error }),
    }
}

fn finish_result(body: &Json) -> Result<Result<Json, ErrorInfo>, String> {
    match (body.get("output"), body.get("error")) {
        (_, Some(error)) => Err(serde_json::from_value(error.clone()).map_err(|e| e.to_string())?),
        (Some(output), None) => Ok(Ok(output.clone())),
        (None, None) => Err("a finish signal carries neither output nor error".into()),
    }
}

impl Flows {
    /// Stores a finish callback for the node driving execution `id` and answers with what
    /// that node made of it (or "queued" when no node drives it right now).
    pub(super) async fn signal_finish(
        &self,
        id: &str,
        task: &str,
        result: Result<Json, ErrorInfo>,
    ) -> Result<(), ServiceError> {
        let signal = ExecutionSignal {
            id: 0,
            execution_id: id.to_string(),
            kind: SignalKind::Finish,
            task: Some(task.to_string()),
            body: finish_body(result),
            created_at: now_us(),
        };
        let seq = match self.store.add_signal(signal).await {
            Ok(seq) => {
                self.wake_for_signals();
                seq
            }
            Err(StoreError::NotFound(_)) => return Outcome::NotRunning.answer(id),
            Err(e) => return Err(e.into()),
        };
        let waited = tokio::time::timeout(OUTCOME_WAIT, async {
            loop {
                if let Some(outcome) = self.store.take_signal_outcome(seq).await? {
                    return Ok::<_, ServiceError>(outcome);
                }
                tokio::time::sleep(OUTCOME_POLL).await;
            }
        })
        .await;
        match waited {
            Ok(outcome) => serde_json::from_value::<Outcome>(outcome?)
                .map_err(|e| ServiceError::Internal(format!("a stored signal outcome does not parse: {e}")))?
                .answer(id),
            Err(_) => {
                tracing::info!(execution = %id, task, "no node drives the execution right now; the callback is queued for the next one");
                Ok(())
            }
        }
    }

    /// Stores a stop for the node driving `record`'s execution and waits (briefly) for
    /// the execution to end.
    pub(super) async fn signal_stop(
        &self,
        record: ExecutionRecord,
        cause: &str,
    ) -> Result<ExecutionRecord, ServiceError> {
        let signal = ExecutionSignal {
            id: 0,
            execution_id: record.id.clone(),
            kind: SignalKind::Stop,
            task: None,
            body: json!({ "cause": cause }),
            created_at: now_us(),
        };
        match self.store.add_signal(signal).await {
            Ok(_) => self.wake_for_signals(),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let (app_key, id) = (record.app_key, record.id);
        let _ = tokio::time::timeout(STOP_WAIT, async {
            loop {
                match self.store.get_execution(app_key, &id).await {
                    Ok(Some(x)) if !x.status.is_terminal() => tokio::time::sleep(OUTCOME_POLL * 5).await,
                    _ => return,
                }
            }
        })
        .await;
        self.store.get_execution(app_key, &id).await?.ok_or_else(|| execution_not_found(&id))
    }

    /// Takes the signals stored for executions this node drives: acts on each and stores
    /// its outcome. Returns how many it took.
    pub(super) async fn take_signals(&self) -> Result<usize, ServiceError> {
        let signals = self.store.open_signals(self.driver.node()).await?;
        let count = signals.len();
        let mut acting = JoinSet::new();
        for signal in signals {
            let flows = self.clone();
            acting.spawn(async move {
                let outcome = flows.act_on(&signal).await;
                let outcome = serde_json::to_value(outcome).unwrap_or_else(|_| json!({"outcome": "not_running"}));
                if let Err(error) = flows.store.settle_signal(signal.id, outcome).await {
                    tracing::error!(%error, signal = signal.id, "storing a signal's outcome failed");
                }
            });
        }
        while acting.join_next().await.is_some() {}
        Ok(count)
    }

    async fn act_on(&self, signal: &ExecutionSignal) -> Outcome {
        let id = &signal.execution_id;
        match signal.kind {
            SignalKind::Finish => match finish_result(&signal.body) {
                Ok(result) => {
                    let task = signal.task.as_deref().unwrap_or_default();
                    Outcome::of(self.driver.callback(id, task, result).await)
                }
                Err(message) => Outcome::Failed { message },
            },
            SignalKind::Stop => {
                let cause = signal.body["cause"].as_str().unwrap_or("stopped").to_string();
                if self.driver.send(id, Event::Stop { cause }) { Outcome::Done } else { Outcome::NotRunning }
            }
        }
    }
}
