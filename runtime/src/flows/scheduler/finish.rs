//! Ending nodes: results, retries, catches, tolerance, token passing and scope ends.

use serde_json::{Value as Json, json};

use super::Sched;
use super::children::over_budget;
use super::enter::all_hold;
use super::state::{Attempt, ErrorInfo, ExecStatus, TaskEnd, TaskState, TimerPurpose};
use crate::flows::data::apply_mappings;
use crate::flows::graph::{BlockMode, ChoiceTarget, DataFlow, Node, NodeKind, error_matches};

/// The `next` successors of a node that stay live when it ends well. For a choice, a
/// `next` entry that is also some case's target runs only if a chosen case names it
/// (`chosen`): as in Rill Flow's switch, the targets of cases that did not match are
/// skipped unless a matching case names them too, even when `next` lists them.
pub(super) fn live_next(node: &Node, chosen: &[usize]) -> Vec<usize> {
    let NodeKind::Choice(choice) = &node.kind else { return node.next.clone() };
    let case_targets: Vec<usize> = choice
        .rules
        .iter()
        .map(|r| &r.target)
        .chain(choice.default.as_ref())
        .filter_map(|t| match t {
            ChoiceTarget::Next(next) => Some(next.iter().copied()),
            ChoiceTarget::Block(_) => None,
        })
        .flatten()
        .collect();
    node.next.iter().copied().filter(|n| !case_targets.contains(n) || chosen.contains(n)).collect()
}

impl Sched<'_> {
    /// The task `key` if `attempt` is its current, in-flight attempt in a live scope.
    fn live_attempt(&self, key: &str, attempt: u32) -> bool {
        self.st.tasks.get(key).is_some_and(|t| t.in_flight() && t.attempt == attempt && !self.st.scopes[t.scope].closed)
    }

    /// Frees the execution slot an in-flight attempt held.
    pub(super) fn release(&mut self, key: &str) {
        if let Some(running) = self.st.tasks.get_mut(key).and_then(TaskState::running_mut)
            && running.attempt != Attempt::Idle
        {
            running.attempt = Attempt::Idle;
            self.st.running = self.st.running.saturating_sub(1);
        }
    }

    pub(super) fn on_accepted(&mut self, key: &str, attempt: u32) {
        if self.live_attempt(key, attempt)
            && let Some(running) = self.st.tasks.get_mut(key).and_then(TaskState::running_mut)
        {
            running.attempt = Attempt::AwaitingCallback;
            self.st.record(self.now, "TaskAwaitingCallback", Some(key), json!({ "attempt": attempt }));
        }
    }

    /// Takes an attempt's answer: frees its slot and says whether it still counts (a
    /// stale attempt, or one in a scope that already ended, does not).
    fn accept_answer(&mut self, key: &str, attempt: u32) -> bool {
        let Some(task) = self.st.tasks.get(key) else { return false };
        if !task.in_flight() || task.attempt != attempt {
            return false;
        }
        let counts = self.live_attempt(key, attempt);
        self.release(key);
        counts
    }

    pub(super) fn on_success(&mut self, key: &str, attempt: u32, output: Json) {
        if !self.accept_answer(key, attempt) {
            return;
        }
        if let Err(e) = crate::flows::data::check_limits(&output)
            .and_then(|()| crate::flows::data::estimate(&output, crate::flows::data::MAX_ANSWER_BYTES).map(drop))
        {
            // Kept in the task record and its history, an answer past the limits could not
            // be read back after a restart.
            return self
                .attempt_failed(key, ErrorInfo::new("States.DataLimitExceeded", format!("the answer: {}", e.0)));
        }
        let Some(task) = self.st.tasks.get(key) else { return };
        let node = self.node(task.scope, task.node);
        if let NodeKind::Task(spec) = &node.kind
            && !spec.success_conditions.is_empty()
        {
            let doc = json!({ "output": output });
            match all_hold(&spec.success_conditions, &doc) {
                Ok(true) => {}
                Ok(false) => {
                    let error = ErrorInfo::new(
                        "SuccessConditionsNotMet",
                        format!("the output {output} does not meet the task's successConditions"),
                    );
                    return self.attempt_failed(key, error);
                }
                Err(error) => return self.attempt_failed(key, error),
            }
        }
        self.st.record(self.now, "TaskSucceeded", Some(key), json!({ "attempt": attempt, "output": output }));
        self.finish_ok(key, output, Vec::new());
    }

    pub(super) fn on_failure(&mut self, key: &str, attempt: u32, error: ErrorInfo) {
        if !self.accept_answer(key, attempt) {
            return;
        }
        self.attempt_failed(key, error);
    }

    pub(super) fn on_timer(&mut self, key: &str, timer: u64) {
        let Some(task) = self.st.tasks.get(key) else { return };
        let Some(pending) = task.timer().cloned() else { return };
        if pending.id != timer || self.st.scopes[task.scope].closed {
            return;
        }
        let input = task.input.clone().unwrap_or(Json::Null);
        if let Some(running) = self.st.tasks.get_mut(key).and_then(TaskState::running_mut) {
            running.timer = None;
        }
        match pending.purpose {
            TimerPurpose::Retry => self.dispatch(key),
            TimerPurpose::Wait => self.finish_ok(key, input, Vec::new()),
            TimerPurpose::Timeout => {
                self.release(key);
                self.attempt_failed(
                    key,
                    ErrorInfo::new("States.Timeout", "the task did not finish within its timeout"),
                );
            }
        }
    }

    /// An attempt failed: retry per the first matching rule, or fail the task.
    pub(super) fn attempt_failed(&mut self, key: &str, error: ErrorInfo) {
        let Some(task) = self.st.tasks.get(key) else { return };
        let (attempt, node) = (task.attempt, self.node(task.scope, task.node));
        self.st.record(self.now, "TaskFailed", Some(key), json!({ "attempt": attempt, "error": error }));
        let rule = node.retry.iter().find(|r| error_matches(&r.errors, &error.error));
        let Some(rule) = rule.filter(|r| attempt <= r.max_retries) else {
            return self.fail_final(key, error);
        };
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let mut delay = rule.interval_secs * rule.backoff_rate.max(0.0).powi(exponent);
        if let Some(cap) = rule.max_interval_secs {
            delay = delay.min(cap);
        }
        if let Some(running) = self.st.tasks.get_mut(key).and_then(TaskState::running_mut) {
            running.last_error = Some(error.clone());
        }
        self.st.record(
            self.now,
            "TaskRetried",
            Some(key),
            json!({ "attempt": attempt + 1, "delay_secs": delay, "error": error }),
        );
        if delay > 0.0 {
            let at = self.now.saturating_add(super::enter::secs_to_us(delay));
            self.next_timer(key, at, TimerPurpose::Retry);
        } else {
            self.dispatch(key);
        }
    }

    /// The task failed for good: a catch rule, tolerance, or the scope fails.
    pub(super) fn fail_final(&mut self, key: &str, error: ErrorInfo) {
        self.release(key);
        let Some(task) = self.st.tasks.get(key) else { return };
        let (scope, index) = (task.scope, task.node);
        self.mark(key, TaskEnd::Failed(error.clone()));
        self.st.record(self.now, "StateExited", Some(key), json!({ "status": "FAILED", "error": error }));
        let node = self.node(scope, index);
        if let Some(rule) = node.catch.iter().find(|r| error_matches(&r.errors, &error.error)) {
            let caught = json!({ "error": error.error, "cause": error.cause });
            let data = &mut self.st.scopes[scope].data;
            match &rule.result_path {
                Some(path) => {
                    if let Err(e) = path.set(data, caught) {
                        return self.fail_scope(scope, ErrorInfo::new("States.MappingError", e.0));
                    }
                }
                None => *data = caught,
            }
            if let Err(error) = checked_data(data) {
                return self.fail_scope(scope, error);
            }
            self.st.record(
                self.now,
                "TaskCaught",
                Some(key),
                json!({ "next": self.block(scope).nodes[rule.next].name }),
            );
            let next = rule.next;
            return self.enter(scope, next);
        }
        if node.tolerance {
            let next = node.next.clone();
            return self.send_tokens(scope, node, &next, &[]);
        }
        let cause = format!("task {key:?} failed: {}", error.cause);
        self.fail_scope(scope, ErrorInfo::new(error.error, cause));
    }

    /// The node ended well with `output`: writes its output back and moves on.
    /// `extra_live` are chosen successors besides `next` (a choice's branches).
    pub(super) fn finish_ok(&mut self, key: &str, output: Json, extra_live: Vec<usize>) {
        let Some(task) = self.st.tasks.get(key) else { return };
        let (scope, index, input) = (task.scope, task.node, task.input.clone().unwrap_or(Json::Null));
        let node = self.node(scope, index);
        if !self.charge(&output) {
            return self.fail_final(key, over_budget("tasks' outputs"));
        }
        if let Err(error) = self.write_output(scope, node, input, &output) {
            return self.fail_final(key, error);
        }
        self.mark(key, TaskEnd::Succeed(output));
        self.st.record(self.now, "StateExited", Some(key), json!({ "status": "SUCCEED" }));
        let mut live = live_next(node, &extra_live);
        live.extend(extra_live);
        let skip: Vec<usize> = node.successors().into_iter().filter(|s| !live.contains(s)).collect();
        self.send_tokens(scope, node, &live, &skip);
    }

    /// Applies the node's output to the scope's data, which must stay within the data
    /// limits (a loop that nests its data one level deeper each time, or doubles it, would
    /// otherwise take the server's memory or stack); past them the data is dropped and
    /// the task fails with `States.DataLimitExceeded`.
    fn write_output(&mut self, scope: usize, node: &Node, input: Json, output: &Json) -> Result<(), ErrorInfo> {
        self.apply_output(scope, node, input, output)?;
        checked_data(&mut self.st.scopes[scope].data)
    }

    /// Applies the node's output mappings / result path to the scope's data.
    fn apply_output(&mut self, scope: usize, node: &Node, input: Json, output: &Json) -> Result<(), ErrorInfo> {
        let mapping_error = |e: crate::flows::data::DataError| ErrorInfo::new("States.MappingError", e.0);
        let data = &mut self.st.scopes[scope].data;
        match &node.data {
            DataFlow::Mappings { output: mappings, .. } => {
                if mappings.is_empty() {
                    // FDL: a step without outputMappings merges its output into the flow data.
                    if self.graph.format == crate::flows::graph::FlowFormat::Fdl
                        && let (Some(data), Some(output)) = (data.as_object_mut(), output.as_object())
                    {
                        data.extend(output.clone());
                    }
                    return Ok(());
                }
                let mut doc = json!({ "context": data.take(), "input": input, "output": output });
                let applied = apply_mappings(mappings, &mut doc);
                *data = doc.get_mut("context").map(Json::take).unwrap_or(Json::Null);
                applied.map_err(mapping_error)
            }
            DataFlow::Paths(paths) => {
                let result = match &paths.result_selector {
                    Some(template) => crate::flows::data::fill_template(template, output).map_err(mapping_error)?,
                    None => output.clone(),
                };
                if !paths.discard_result {
                    match &paths.result_path {
                        Some(path) => path.set(data, result).map_err(mapping_error)?,
                        None => *data = result,
                    }
                }
                if let Some(path) = &paths.output_path {
                    *data = path.select(data).unwrap_or(Json::Null);
                }
                Ok(())
            }
        }
    }

    /// Passes tokens on from `node`: DAG successors count them (a join runs once all its
    /// upstreams reported, unless all were skips); a state machine enters its first live
    /// target, or ends the scope when there is none.
    pub(super) fn send_tokens(&mut self, scope: usize, node: &Node, live: &[usize], skip: &[usize]) {
        let block = self.block(scope);
        if block.mode == BlockMode::Sequence {
            match live.first() {
                Some(&next) => self.enter(scope, next),
                None => self.sequence_end(scope, node),
            }
            return;
        }
        // `degrade.followings`: every successor gets a skip token.
        let live = if node.degrade.followings { &[][..] } else { live };
        let skip: Vec<usize> = if node.degrade.followings { node.successors() } else { skip.to_vec() };
        for (&target, is_live) in live.iter().map(|t| (t, true)).chain(skip.iter().map(|t| (t, false))) {
            if self.st.scopes[scope].closed {
                return;
            }
            self.token(scope, target, is_live);
        }
        self.check_dag_done(scope);
    }

    /// A state machine reached a state with nowhere to go: `Fail` fails the scope (it was
    /// already failed); anything else ends it well.
    fn sequence_end(&mut self, scope: usize, node: &Node) {
        if !matches!(node.kind, NodeKind::Fail { .. }) {
            self.close_scope_ok(scope);
        }
    }

    /// Counts a token for `target`; a node whose upstreams all reported runs (one live
    /// token) or is skipped, and a skip passes skip tokens on. A worklist, not recursion,
    /// so a long chain of skipped tasks cannot overflow the stack.
    fn token(&mut self, scope: usize, target: usize, live: bool) {
        let mut pending = vec![(target, live)];
        while let Some((target, live)) = pending.pop() {
            let upstream = self.block(scope).upstream_of(target).len() as u32;
            let tokens = &mut self.st.scopes[scope].tokens[target];
            if live {
                tokens.0 += 1;
            } else {
                tokens.1 += 1;
            }
            let (l, s) = *tokens;
            if l + s < upstream.max(1) {
                continue;
            }
            if l > 0 {
                self.enter(scope, target);
                continue;
            }
            let node = self.node(scope, target);
            let key = self.st.key_of(scope, &node.name);
            self.st.tasks.insert(key.clone(), TaskState::unentered(&node.name, scope, target, self.now));
            self.mark(&key, TaskEnd::Skipped);
            pending.extend(node.successors().into_iter().rev().map(|next| (next, false)));
        }
    }

    /// Ends a DAG scope well once every node in it is finished or skipped.
    fn check_dag_done(&mut self, scope: usize) {
        if self.st.scopes[scope].closed {
            return;
        }
        let block = self.block(scope);
        if self.st.scopes[scope].terminal_marks < block.nodes.len() {
            return;
        }
        let prefix = &self.st.scopes[scope].prefix;
        let done = block.nodes.iter().all(|n| {
            self.st
                .tasks
                .get(&format!("{prefix}{}", n.name))
                .is_some_and(|t| t.status().is_terminal() && t.scope == scope)
        });
        if done {
            self.close_scope_ok(scope);
        }
    }

    /// The scope ended well: its data is its result.
    pub(super) fn close_scope_ok(&mut self, scope: usize) {
        let s = &mut self.st.scopes[scope];
        if s.closed {
            return;
        }
        s.closed = true;
        // A closed scope's data is never read again: hand it on instead of copying it.
        let result = std::mem::take(&mut s.data);
        match s.parent.clone() {
            None => self.end(ExecStatus::Succeeded, Some(result), None),
            Some(parent) => self.child_done(parent, scope, Ok(result)),
        }
    }

    /// The scope failed: the execution fails, or the container that opened it.
    pub(super) fn fail_scope(&mut self, scope: usize, error: ErrorInfo) {
        let s = &mut self.st.scopes[scope];
        if s.closed {
            return;
        }
        s.closed = true;
        match s.parent.clone() {
            None => self.end(ExecStatus::Failed, None, Some(error)),
            Some(parent) => self.child_done(parent, scope, Err(error)),
        }
    }
}

/// `Ok` when `data` is within the data limits; otherwise it is dropped (it must not be
/// stored or walked) and the error says which limit it passed.
fn checked_data(data: &mut Json) -> Result<(), ErrorInfo> {
    crate::flows::data::check_limits(data).map_err(|e| {
        *data = Json::Null;
        ErrorInfo::new("States.DataLimitExceeded", e.0)
    })
}
