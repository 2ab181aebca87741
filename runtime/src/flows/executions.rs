//! Executions of the flows service: start (async, sync, idempotent by name), status,
//! history, stop and the finish callback.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::graph::FlowGraph;
use super::running::{Ended, Exit, Running};
use super::scheduler::{Action, ErrorInfo, Event, ExecState, step};
use super::service::{ExecutionDetail, Flows, StartExecution, Started, check_name, execution_not_found};
use super::signals::{Outcome, STOP_WAIT};
use super::task_tokens::TaskTarget;
use super::writes::InFlight;
use crate::egress::check_url;
use crate::error::ServiceError;
use crate::ids::new_id;
use crate::store::{ExecutionEvent, ExecutionRecord, FlowRecord, StateDoc, StoreError};
use crate::time::now_us;

impl Flows {
    /// Starts an execution of the flow's latest version (or returns the running one of
    /// the same name).
    pub async fn start(&self, app_key: i64, flow_name: &str, req: StartExecution) -> Result<Started, ServiceError> {
        if let Some(url) = &req.callback_url {
            check_url("callback_url", url).map_err(|e| ServiceError::InvalidArgument(e.0))?;
        }
        super::headers::check(&req.headers)?;
        crate::flows::data::check_limits(&req.input)
            .map_err(|e| ServiceError::InvalidArgument(format!("the execution input is refused: {}", e.0)))?;
        let flow = self.get(app_key, flow_name, None).await?;
        if let Some(name) = &req.name {
            check_name("execution name", name)?;
            if let Some(started) = self.existing(&flow, name).await? {
                return Ok(started);
            }
        }
        let graph = self.graph(&flow)?;
        let (record, state, actions, history) = self.first_transition(app_key, &flow, &graph, &req)?;
        let run = Running {
            id: record.id.clone(),
            app_key,
            graph,
            state,
            callback_url: record.callback_url.clone(),
            deadline_at: record.deadline_at,
            jobs: Vec::new(),
            // Set when the `Start` step already ended it (the creation stores that end).
            finished_at: record.finished_at,
        };
        if req.name.is_some() {
            // A named start may lose a race for its name: nothing runs before it is stored.
            match self.store.create_execution(record.clone(), history).await {
                Ok(()) => {}
                Err(StoreError::AlreadyExists { .. }) => {
                    let name = req.name.as_deref().unwrap_or_default();
                    return self
                        .existing(&flow, name)
                        .await?
                        .ok_or_else(|| ServiceError::Internal("execution vanished".into()));
                }
                Err(e) => return Err(e.into()),
            }
            let done = self.driver.launch(run, actions, None, None);
            return Ok(Started { record, existing: false, done: Some(done) });
        }
        // Unnamed: the first tasks start while the creation commits; the driver writes
        // nothing else before it, and the caller hears of the execution only once stored.
        let store = self.store.clone();
        let (created, stored) = tokio::sync::oneshot::channel();
        let row = record.clone();
        let creation = InFlight::new(
            Box::pin(async move { store.create_execution(row, history).await }),
            vec![Box::new(move |result| drop(created.send(result)))],
        );
        let done = self.driver.launch(run, actions, None, Some(creation));
        match stored.await {
            Ok(Ok(())) => Ok(Started { record, existing: false, done: Some(done) }),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(ServiceError::Internal("the flow driver stopped before the execution was stored".into())),
        }
    }

    /// The new execution's record and state after its `Start` event, the actions it asks
    /// for and its first history.
    fn first_transition(
        &self,
        app_key: i64,
        flow: &FlowRecord,
        graph: &FlowGraph,
        req: &StartExecution,
    ) -> Result<(ExecutionRecord, ExecState, Vec<Action>, Vec<ExecutionEvent>), ServiceError> {
        let input = match &req.input {
            Json::Null => json!({}),
            Json::Object(o) => Json::Object(o.clone()),
            other => {
                return Err(ServiceError::InvalidArgument(format!("the input must be a JSON object, not {other}")));
            }
        };
        let mut context = graph.default_context.clone();
        if let Json::Object(given) = &input {
            context.extend(given.clone());
        }
        let now = now_us();
        let mut state = ExecState::new(Json::Object(context), self.driver.config().max_running_per_execution);
        state.headers = req.headers.clone();
        let actions = step(graph, &mut state, Event::Start, now);
        let history = state.drain_history();
        let deadlines = [
            graph.timeout_secs.map(|s| now + (s * 1e6) as i64),
            req.timeout.map(|t| now + i64::try_from(t.as_micros()).unwrap_or(i64::MAX / 2)),
        ];
        let record = ExecutionRecord {
            id: new_id()?,
            app_key,
            flow_id: flow.id,
            flow_name: flow.name.clone(),
            flow_version: flow.version,
            name: req.name.clone(),
            status: state.status,
            input,
            output: state.output.clone(),
            error: state.error.as_ref().map(|e| json!(e)),
            // An execution that reports to a waiting task keeps that task as its callback.
            callback_url: req.report_to.as_ref().map(TaskTarget::as_callback).or_else(|| req.callback_url.clone()),
            state: state.take_changes().map_err(|e| ServiceError::Internal(e.to_string()))?,
            created_at: now,
            finished_at: state.status.is_terminal().then_some(now),
            deadline_at: deadlines.into_iter().flatten().min(),
            owner: Some(self.driver.node().to_string()),
        };
        Ok((record, state, actions, history))
    }

    /// The running execution named `name`, or `ExecutionAlreadyExists` when it ended.
    async fn existing(&self, flow: &FlowRecord, name: &str) -> Result<Option<Started>, ServiceError> {
        let Some(record) = self.store.get_execution_by_name(flow.id, name).await? else { return Ok(None) };
        if !record.status.is_terminal() {
            return Ok(Some(Started { record, existing: true, done: None }));
        }
        Err(ServiceError::AlreadyExists {
            kind: "Execution",
            what: format!("execution {name:?} of flow {:?}", flow.name),
        })
    }

    /// Starts an execution and waits for its end, at most `wait`; past it the execution
    /// times out (`TimedOut`). Answers the execution with its state and graph.
    pub async fn run_sync(
        &self,
        app_key: i64,
        flow_name: &str,
        mut req: StartExecution,
        wait: Duration,
    ) -> Result<ExecutionDetail, ServiceError> {
        req.timeout = Some(req.timeout.map_or(wait, |t| t.min(wait)));
        let started = self.start(app_key, flow_name, req).await?;
        let id = started.record.id.clone();
        let done = started.done.clone().or_else(|| self.driver.done_signal(&id));
        if let Some(mut done) = done {
            let grace = Duration::from_secs(5);
            let ended = {
                let waited = tokio::time::timeout(wait + grace, done.wait_for(|e| !matches!(e, Exit::Running))).await;
                // The driver hands over the state its last transition stored: no read-back.
                match waited {
                    Ok(Ok(exit)) => match &*exit {
                        Exit::Ended(ended) => Some((ended_record(started.record.clone(), ended), ended.state.clone())),
                        _ => None,
                    },
                    _ => None,
                }
            };
            if let Some((record, state)) = ended {
                let graph = self.graph_of(&record).await?;
                return Ok(ExecutionDetail { record, state, graph });
            }
        }
        let record = self.store.get_execution(app_key, &id).await?.ok_or_else(|| execution_not_found(&id))?;
        self.detail_of(record).await
    }

    /// An execution of the app.
    pub async fn execution(&self, app_key: i64, id: &str) -> Result<ExecutionRecord, ServiceError> {
        self.store.get_execution(app_key, id).await?.ok_or_else(|| execution_not_found(id))
    }

    /// An execution of a flow (by the flow's id) by its unique name.
    pub async fn execution_by_name(
        &self,
        app_key: i64,
        flow_id: i64,
        name: &str,
    ) -> Result<Option<ExecutionRecord>, ServiceError> {
        Ok(self.store.get_execution_by_name(flow_id, name).await?.filter(|e| e.app_key == app_key))
    }

    /// An execution with its state and graph.
    pub async fn detail(&self, app_key: i64, id: &str) -> Result<ExecutionDetail, ServiceError> {
        self.detail_of(self.execution(app_key, id).await?).await
    }

    /// The detail of a record already read.
    pub async fn detail_of(&self, record: ExecutionRecord) -> Result<ExecutionDetail, ServiceError> {
        let graph = self.graph_of(&record).await?;
        let state = ExecState::from_doc(&record.state)
            .map_err(|e| ServiceError::Internal(format!("execution {} state: {e}", record.id)))?;
        Ok(ExecutionDetail { record, state, graph })
    }

    /// History events with `seq > after`, at most `limit`.
    pub async fn history(
        &self,
        app_key: i64,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ExecutionEvent>, ServiceError> {
        self.execution(app_key, id).await?;
        Ok(self.store.list_execution_events(id, after, limit).await?)
    }

    /// Stops a running execution and waits (briefly) until the stop is stored. An
    /// execution another node drives is stopped through a signal to it.
    pub async fn stop(&self, app_key: i64, id: &str, cause: &str) -> Result<ExecutionRecord, ServiceError> {
        let record = self.execution(app_key, id).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        let Some(mut done) = self.driver.done_signal(id) else { return self.signal_stop(record, cause).await };
        if self.driver.send(id, Event::Stop { cause: cause.to_string() }) {
            let _ = tokio::time::timeout(STOP_WAIT, done.wait_for(|e| !matches!(e, Exit::Running))).await;
        }
        self.execution(app_key, id).await
    }

    /// The waiting task `token` names, if it is a valid token of app `app_key`.
    pub fn task_target(&self, app_key: i64, token: &str) -> Result<TaskTarget, ServiceError> {
        self.tokens.verify(token, app_key)
    }

    /// Finishes the waiting task `token` names with `result` (seed 003's
    /// `ReportTaskSucceeded` / `ReportTaskFailed`).
    pub async fn report_task(
        &self,
        app_key: i64,
        token: &str,
        result: Result<Json, ErrorInfo>,
    ) -> Result<(), ServiceError> {
        let target = self.task_target(app_key, token)?;
        self.finish_task(&target.execution, &target.task, result).await
    }

    /// A task's result from its finish callback. The execution id is the capability: the
    /// callback carries no token (external workers call it), so an unknown id, an ended
    /// execution and an unknown task are all 404s, and a task that waits for nothing is 409.
    /// An execution another node drives gets it through a signal to that node.
    pub async fn finish_task(&self, id: &str, task: &str, result: Result<Json, ErrorInfo>) -> Result<(), ServiceError> {
        if !self.driver.is_live(id) {
            return self.signal_finish(id, task, result).await;
        }
        Outcome::of(self.driver.callback(id, task, result).await).answer(id)
    }
}

/// The stored record of an execution that ended: its start record with the final status
/// (the state travels beside it, typed).
fn ended_record(mut record: ExecutionRecord, ended: &Ended) -> ExecutionRecord {
    let state = &ended.state;
    record.status = state.status;
    record.output = state.output.clone();
    record.error = state.error.as_ref().map(|e| json!(e));
    record.finished_at = Some(ended.finished_at);
    record.state = StateDoc::default();
    record
}
