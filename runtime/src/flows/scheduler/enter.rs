//! Entering nodes: building a node's input and starting what its kind does.

use serde_json::{Value as Json, json};

use super::children::over_budget;
use super::state::{Attempt, ErrorInfo, ExecStatus, Running, TaskEnd, TaskPhase, TaskState, TimerPurpose};
use super::{Action, MAX_TASK_RECORDS, Sched, TaskRun};
use crate::flows::data::{Condition, apply_mappings, fill_template};
use crate::flows::graph::{BlockMode, DataFlow, Node, NodeKind, Resource, WaitSpec};

/// The document conditions and collections of `node` are evaluated over: `{context,
/// input}` for mapping-style nodes, the input itself for state-machine nodes.
pub(super) fn condition_doc(node: &Node, context: &Json, input: &Json) -> Json {
    match node.data {
        DataFlow::Mappings { .. } => json!({ "context": context, "input": input }),
        DataFlow::Paths(_) => input.clone(),
    }
}

/// All of `conditions` hold over `doc`.
pub(super) fn all_hold(conditions: &[Condition], doc: &Json) -> Result<bool, ErrorInfo> {
    for condition in conditions {
        let holds = condition.eval(doc).map_err(|e| ErrorInfo::new("States.ConditionError", e.0))?;
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(super) fn secs_to_us(secs: f64) -> i64 {
    (secs.max(0.0) * 1e6).min(i64::MAX as f64 / 2.0) as i64
}

impl Sched<'_> {
    /// Enters a scope's start nodes (an empty block ends at once).
    pub(super) fn open_scope(&mut self, scope: usize) {
        let block = self.block(scope);
        self.st.scopes[scope].tokens = vec![(0, 0); block.nodes.len()];
        if block.nodes.is_empty() || block.start.is_empty() {
            self.close_scope_ok(scope);
            return;
        }
        match block.mode {
            BlockMode::Dag => {
                for &start in &block.start {
                    self.enter(scope, start);
                }
            }
            BlockMode::Sequence => self.enter(scope, block.start[0]),
        }
    }

    /// The input of `node` from the scope's current data.
    fn build_input(&self, scope: usize, node: &Node) -> Result<Json, ErrorInfo> {
        let data = &self.st.scopes[scope].data;
        let mapping_error = |e: crate::flows::data::DataError| ErrorInfo::new("States.MappingError", e.0);
        match &node.data {
            DataFlow::Mappings { input, .. } => {
                if input.is_empty() {
                    // FDL: a step without inputMappings gets the whole flow data.
                    let fdl = self.graph.format == crate::flows::graph::FlowFormat::Fdl;
                    return Ok(if fdl { data.clone() } else { json!({}) });
                }
                let mut doc = json!({ "context": data, "input": {} });
                if !self.st.headers.is_empty() {
                    doc["headers"] = json!(self.st.headers);
                }
                if waits_for_callback(node) {
                    doc["execution"] = json!({ "task": { "token": super::TASK_TOKEN_PLACEHOLDER } });
                }
                apply_mappings(input, &mut doc).map_err(mapping_error)?;
                Ok(doc.get_mut("input").map(Json::take).unwrap_or(Json::Null))
            }
            DataFlow::Paths(paths) => {
                let selected = match &paths.input_path {
                    Some(path) => path.select(data).unwrap_or(Json::Null),
                    None => data.clone(),
                };
                match &paths.parameters {
                    Some(template) => fill_template(template, &selected).map_err(mapping_error),
                    None => Ok(selected),
                }
            }
        }
    }

    /// Enters `node` of `scope`: records it and starts what its kind does.
    pub(super) fn enter_now(&mut self, scope: usize, index: usize) {
        let node = self.node(scope, index);
        let key = self.st.key_of(scope, &node.name);
        if node.degrade.current {
            return self.degrade(&key, scope, index);
        }
        if self.st.tasks.len() >= MAX_TASK_RECORDS && !self.st.tasks.contains_key(&key) {
            let cause = format!(
                "the execution reached {MAX_TASK_RECORDS} task records, the most one execution may keep \
                 (a Map or foreach over too many items, or a loop over ever new tasks?)"
            );
            return self.end(ExecStatus::Failed, None, Some(ErrorInfo::new("States.Runtime", cause)));
        }
        let input = self.build_input(scope, node).and_then(|input| match self.charge(&input) {
            true => Ok(input),
            false => Err(over_budget("tasks' inputs")),
        });
        let task = TaskState::entered(&node.name, scope, index, input.as_ref().ok().cloned(), self.now);
        self.st.tasks.insert(key.clone(), task);
        self.st.record(self.now, "StateEntered", Some(&key), json!({ "input": input.as_ref().ok() }));
        let input = match input {
            Ok(input) => input,
            Err(error) => return self.fail_final(&key, error),
        };
        match &node.kind {
            NodeKind::Task(spec) => match &spec.resource {
                Resource::Unsupported { resource } => self.fail_final(
                    &key,
                    ErrorInfo::new("Unsupported", format!("resource {resource:?} is not supported by cloudexec")),
                ),
                _ => self.dispatch(&key),
            },
            NodeKind::Pass { result } => self.finish_ok(&key, result.clone().unwrap_or(input), Vec::new()),
            NodeKind::Return { conditions } => self.enter_return(&key, scope, node, conditions, &input),
            NodeKind::Choice(_) => self.enter_choice(&key, scope, index, &input),
            NodeKind::Foreach(_) => self.enter_foreach(&key, scope, index, &input),
            NodeKind::Parallel { branches } => {
                let count = branches.len();
                self.open_branches(&key, scope, index, &input, count);
            }
            NodeKind::Wait(wait) => self.enter_wait(&key, wait, &input),
            NodeKind::Succeed => self.finish_ok(&key, input, Vec::new()),
            NodeKind::Fail { error, cause } => self.fail_final(&key, ErrorInfo::new(error.clone(), cause.clone())),
            NodeKind::Unsupported { kind } => self.fail_final(
                &key,
                ErrorInfo::new("Unsupported", format!("{kind:?} tasks are not supported by cloudexec")),
            ),
        }
    }

    /// `degrade.current`: the task is SKIPPED without running; what follows it runs
    /// (choice cases are not evaluated, so their targets are skipped).
    fn degrade(&mut self, key: &str, scope: usize, index: usize) {
        let node = self.node(scope, index);
        self.st.tasks.insert(key.to_string(), TaskState::unentered(&node.name, scope, index, self.now));
        self.st.record(self.now, "TaskDegraded", Some(key), Json::Null);
        self.mark(key, TaskEnd::Skipped);
        let live = super::finish::live_next(node, &[]);
        let skip: Vec<usize> = node.successors().into_iter().filter(|s| !live.contains(s)).collect();
        self.send_tokens(scope, node, &live, &skip);
    }

    /// A `return`: when its conditions hold it succeeds and skips what follows; otherwise
    /// it is skipped and what follows runs.
    fn enter_return(&mut self, key: &str, scope: usize, node: &Node, conditions: &[Condition], input: &Json) {
        let doc = condition_doc(node, &self.st.scopes[scope].data, input);
        match all_hold(conditions, &doc) {
            Ok(true) => {
                self.mark(key, TaskEnd::Succeed(input.clone()));
                self.send_tokens(scope, node, &[], &node.successors());
            }
            Ok(false) => {
                self.mark(key, TaskEnd::Skipped);
                self.send_tokens(scope, node, &node.next, &[]);
            }
            Err(error) => self.fail_final(key, error),
        }
    }

    fn enter_wait(&mut self, key: &str, wait: &WaitSpec, input: &Json) {
        let seconds = match wait {
            WaitSpec::Seconds(s) => *s,
            WaitSpec::SecondsPath(path) => match path.select(input).and_then(|v| v.as_f64()) {
                Some(s) => s,
                None => {
                    let cause = format!("SecondsPath {} does not select a number", path.as_str());
                    return self.fail_final(key, ErrorInfo::new("States.Runtime", cause));
                }
            },
        };
        self.next_timer(key, self.now + secs_to_us(seconds), TimerPurpose::Wait);
    }

    /// Starts the next attempt of a task, or queues it when the execution is at its limit.
    pub(super) fn dispatch(&mut self, key: &str) {
        if self.st.running >= self.st.max_running {
            if let Some(task) = self.st.tasks.get_mut(key) {
                task.phase = TaskPhase::Ready { last_error: task.take_last_error() };
            }
            self.st.ready.push_back(key.to_string());
            return;
        }
        let Some(task) = self.st.tasks.get_mut(key) else { return };
        let last_error = task.take_last_error();
        task.phase = TaskPhase::Running(Running { attempt: Attempt::InFlight, timer: None, last_error });
        task.attempt += 1;
        let (scope, index, attempt, input) = (task.scope, task.node, task.attempt, task.input.clone());
        self.st.running += 1;
        let node = self.node(scope, index);
        let NodeKind::Task(spec) = &node.kind else { return };
        self.st.record(
            self.now,
            "TaskStarted",
            Some(key),
            json!({ "attempt": attempt, "resource": resource_text(&spec.resource) }),
        );
        let input = input.unwrap_or(Json::Null);
        self.actions.push(Action::Run(TaskRun {
            key: key.to_string(),
            attempt,
            task: spec.clone(),
            input,
            timeout_secs: node.timeout_secs,
        }));
        if let Some(timeout) = node.timeout_secs {
            self.next_timer(key, self.now + secs_to_us(timeout), TimerPurpose::Timeout);
        }
    }

    /// Ends a task now (a task that already ended is ended again, as a state-machine
    /// loop that re-enters it does), counting the scope's ended tasks.
    pub(super) fn mark(&mut self, key: &str, end: TaskEnd) {
        let now = self.now;
        let skipped = end == TaskEnd::Skipped;
        if let Some(task) = self.st.tasks.get_mut(key) {
            if !task.status().is_terminal()
                && let Some(scope) = self.st.scopes.get_mut(task.scope)
            {
                scope.terminal_marks += 1;
            }
            task.end(end, now);
        }
        if skipped {
            self.st.record(now, "TaskSkipped", Some(key), Json::Null);
        }
    }
}

/// How a resource is shown in history.
pub(super) fn resource_text(resource: &Resource) -> String {
    match resource {
        Resource::Http { url } => url.clone(),
        Resource::Function { name } => format!("function://{name}"),
        Resource::Unsupported { resource } => resource.clone(),
    }
}

/// True for a task whose result comes later by a callback (it has a task token).
fn waits_for_callback(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Task(spec) if spec.pattern == crate::flows::graph::TaskPattern::Async)
}
