//! The scheduler: pure logic. An execution's state plus one event gives the next state,
//! history entries and a list of actions (run a task, set a timer, report the end); the
//! driver does all I/O and persists what each transition changed (`persist.rs`), so a
//! restarted server resumes from the last persisted state (see Restate's state machine in
//! STYLE.md for the pattern).

mod children;
mod enter;
mod finish;
mod persist;
pub mod state;
mod task;
#[cfg(test)]
mod tests;
mod tracked;

use serde_json::{Value as Json, json};

use super::graph::{Block, BlockMode, ChoiceTarget, FlowGraph, Node, NodeKind, TaskSpec};
use state::{BlockStep, ChildBlock};
pub use state::{ErrorInfo, ExecState, ExecStatus, TaskPhase, TaskState, TaskStatus, TimerPurpose};

/// Something that happened to an execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The execution was accepted: enter the first tasks.
    Start,
    /// A task attempt produced its output (a sync call's response, a function's result, a
    /// finish callback).
    TaskSucceeded {
        /// Task key.
        key: String,
        /// Attempt it answers.
        attempt: u32,
        /// Its output.
        output: Json,
    },
    /// A task attempt failed.
    TaskFailed {
        /// Task key.
        key: String,
        /// Attempt it answers.
        attempt: u32,
        /// Why.
        error: ErrorInfo,
    },
    /// An async task's call was accepted; it now waits for its finish callback (a restart
    /// does not call it again).
    TaskAccepted {
        /// Task key.
        key: String,
        /// Attempt.
        attempt: u32,
    },
    /// A timer set by [`Action::SetTimer`] fired.
    TimerFired {
        /// Task key.
        key: String,
        /// The timer's id.
        timer: u64,
    },
    /// A client stopped the execution.
    Stop {
        /// Why, for the record.
        cause: String,
    },
    /// The execution's deadline passed.
    TimedOut,
    /// The server restarted: re-dispatch interrupted work and re-arm timers.
    Recover,
}

/// Something the driver must do.
#[derive(Debug, Clone)]
pub enum Action {
    /// Run one attempt of a task and report [`Event::TaskSucceeded`] / [`Event::TaskFailed`].
    Run(TaskRun),
    /// Report [`Event::TimerFired`] at `at` (µs since the epoch).
    SetTimer {
        /// Task key.
        key: String,
        /// Timer id.
        timer: u64,
        /// When.
        at: i64,
    },
    /// The execution ended (status, output and error are in the state).
    Finished,
}

/// One attempt of a task to run.
#[derive(Debug, Clone)]
pub struct TaskRun {
    /// Task key.
    pub key: String,
    /// Attempt number (1 for the first).
    pub attempt: u32,
    /// What to call.
    pub task: TaskSpec,
    /// The mapped input.
    pub input: Json,
    /// Longest the attempt may take.
    pub timeout_secs: Option<f64>,
}

/// What `$context.task.token` reads in a `waitForCallback` task's input mappings (FDL's
/// `$context` is `$.execution`): the host puts the task's real token in its place before
/// the call (`flows/task_tokens.rs`), so the scheduler stays free of secrets.
pub const TASK_TOKEN_PLACEHOLDER: &str = "\u{0}cloudexec:task-token";

/// Applies `event` to `state` at time `now` (µs since the epoch) and returns what to do.
/// New history entries are appended to `state.history`.
pub fn step(graph: &FlowGraph, state: &mut ExecState, event: Event, now: i64) -> Vec<Action> {
    let mut s = Sched {
        graph,
        st: state,
        now,
        actions: Vec::new(),
        filling: Vec::new(),
        queue: std::collections::VecDeque::new(),
    };
    if s.st.status.is_terminal() {
        return Vec::new();
    }
    match event {
        Event::Start => s.start(),
        Event::TaskSucceeded { key, attempt, output } => s.on_success(&key, attempt, output),
        Event::TaskFailed { key, attempt, error } => s.on_failure(&key, attempt, error),
        Event::TaskAccepted { key, attempt } => s.on_accepted(&key, attempt),
        Event::TimerFired { key, timer } => s.on_timer(&key, timer),
        Event::Stop { cause } => s.end(ExecStatus::Stopped, None, Some(ErrorInfo::new("Stopped", cause))),
        Event::TimedOut => s.end(
            ExecStatus::TimedOut,
            None,
            Some(ErrorInfo::new("States.Timeout", "the execution did not finish before its deadline")),
        ),
        Event::Recover => s.recover(),
    }
    s.drain_queue();
    s.pump();
    if s.st.seq > MAX_HISTORY_EVENTS && !s.st.status.is_terminal() {
        let cause = format!(
            "the execution recorded more than {MAX_HISTORY_EVENTS} history events (endless retries or a loop?)"
        );
        s.end(ExecStatus::Failed, None, Some(ErrorInfo::new("States.Runtime", cause)));
    }
    s.actions
}

/// The scheduler working on one event.
struct Sched<'a> {
    graph: &'a FlowGraph,
    st: &'a mut ExecState,
    now: i64,
    actions: Vec<Action>,
    /// Containers whose children are being opened right now.
    filling: Vec<String>,
    /// Nodes to enter, in order: entering is a loop, not recursion, so long chains and
    /// state-machine loops cannot overflow the stack.
    queue: std::collections::VecDeque<(usize, usize)>,
}

/// Most nodes one event may enter: a state-machine loop of states that never wait would
/// otherwise spin forever.
const MAX_ENTERED_PER_EVENT: usize = 100_000;
/// Most task records one execution keeps (each with its input and output): past it the
/// execution fails instead of growing without bound.
pub const MAX_TASK_RECORDS: usize = 25_000;
/// Most history events one execution records: past it (endless retries, a loop over a
/// task that never ends it) the execution fails instead of writing for ever.
pub const MAX_HISTORY_EVENTS: i64 = 100_000;
/// Most scopes (Map/foreach iterations, Parallel branches, choice blocks) one execution opens.
pub const MAX_SCOPES: usize = 10_000;

static EMPTY_BLOCK: Block = Block { mode: BlockMode::Dag, nodes: Vec::new(), start: Vec::new(), upstreams: Vec::new() };

/// The block a scope path leads to (an empty block if the path does not fit the graph,
/// which only a corrupted state could cause).
fn resolve<'g>(root: &'g Block, path: &[BlockStep]) -> &'g Block {
    let mut block = root;
    for (node, child) in path {
        let Some(next) = block.nodes.get(*node).and_then(|n| child_block(n, *child)) else {
            return &EMPTY_BLOCK;
        };
        block = next;
    }
    block
}

/// The nested block `child` of a container node.
fn child_block(node: &Node, child: ChildBlock) -> Option<&Block> {
    let target = match (&node.kind, child) {
        (NodeKind::Foreach(f), ChildBlock::ForeachBody) => return Some(&f.block),
        (NodeKind::Parallel { branches }, ChildBlock::Branch(i)) => return branches.get(i),
        (NodeKind::Choice(c), ChildBlock::ChoiceRule(i)) => &c.rules.get(i)?.target,
        (NodeKind::Choice(c), ChildBlock::ChoiceDefault) => c.default.as_ref()?,
        _ => return None,
    };
    match target {
        ChoiceTarget::Block(block) => Some(block),
        ChoiceTarget::Next(_) => None,
    }
}

impl<'a> Sched<'a> {
    fn block(&self, scope: usize) -> &'a Block {
        resolve(&self.graph.root, &self.st.scopes[scope].path)
    }

    fn node(&self, scope: usize, node: usize) -> &'a Node {
        &self.block(scope).nodes[node]
    }

    fn start(&mut self) {
        self.st.status = ExecStatus::Running;
        let input = self.st.scopes[0].data.clone();
        self.st.record(self.now, "ExecutionStarted", None, json!({ "input": input }));
        self.open_scope(0);
    }

    /// Ends the execution: records the outcome, closes every scope, reports the end.
    fn end(&mut self, status: ExecStatus, output: Option<Json>, error: Option<ErrorInfo>) {
        self.st.status = status;
        self.st.output = output.clone();
        self.st.error = error.clone();
        for scope in self.st.scopes.iter_mut() {
            scope.closed = true;
        }
        self.st.ready.clear();
        let kind = format!("Execution{}", status.as_str());
        self.st.record(self.now, &kind, None, json!({ "output": output, "error": error }));
        self.actions.push(Action::Finished);
    }

    /// Asks for `node` of `scope` to be entered once the current step is done.
    pub(super) fn enter(&mut self, scope: usize, node: usize) {
        self.queue.push_back((scope, node));
    }

    fn drain_queue(&mut self) {
        let mut entered = 0;
        while let Some((scope, node)) = self.queue.pop_front() {
            if self.st.status.is_terminal() {
                self.queue.clear();
                return;
            }
            if self.st.scopes[scope].closed {
                continue;
            }
            entered += 1;
            if entered > MAX_ENTERED_PER_EVENT {
                let cause = format!(
                    "more than {MAX_ENTERED_PER_EVENT} states were entered without waiting for a task (an endless loop?)"
                );
                self.end(ExecStatus::Failed, None, Some(ErrorInfo::new("States.Runtime", cause)));
                return;
            }
            self.enter_now(scope, node);
        }
    }

    /// Dispatches ready tasks while the execution has free slots.
    fn pump(&mut self) {
        while self.st.running < self.st.max_running && !self.st.status.is_terminal() {
            let Some(key) = self.st.ready.pop_front() else { break };
            if self.st.tasks.get(&key).is_some_and(|t| t.status() == TaskStatus::Ready) {
                self.dispatch(&key);
            }
        }
    }

    fn next_timer(&mut self, key: &str, at: i64, purpose: TimerPurpose) {
        self.st.timer_seq += 1;
        let id = self.st.timer_seq;
        if let Some(running) = self.st.tasks.get_mut(key).and_then(TaskState::running_mut) {
            running.timer = Some(state::Timer { id, at, purpose });
        }
        self.actions.push(Action::SetTimer { key: key.to_string(), timer: id, at });
    }

    /// After a restart: attempts that were running are retried per their retry policy
    /// (an attempt without a policy runs again once: at-least-once); async tasks that
    /// were accepted keep waiting for their callback; timers are re-armed.
    fn recover(&mut self) {
        // States stored before the count existed (or any drift): count again.
        for scope in self.st.scopes.iter_mut() {
            scope.terminal_marks = 0;
        }
        for task in self.st.tasks.values().filter(|t| t.status().is_terminal()) {
            if let Some(scope) = self.st.scopes.get_mut(task.scope) {
                scope.terminal_marks += 1;
            }
        }
        let keys: Vec<String> = self.st.tasks.keys().cloned().collect();
        for key in keys {
            let Some(task) = self.st.tasks.get(&key).cloned() else { continue };
            if self.st.scopes[task.scope].closed {
                continue;
            }
            if let Some(timer) = task.timer() {
                self.actions.push(Action::SetTimer { key: key.clone(), timer: timer.id, at: timer.at });
            }
            if task.running().is_some_and(|r| r.attempt == state::Attempt::InFlight) {
                let error = ErrorInfo::new("States.Interrupted", "the server stopped while this attempt ran");
                let retry = self.node(task.scope, task.node).retry.is_empty();
                self.release(&key);
                if retry {
                    self.st.record(self.now, "TaskRetried", Some(&key), json!({ "error": error, "delay_secs": 0 }));
                    self.dispatch(&key);
                } else {
                    self.attempt_failed(&key, error);
                }
            }
        }
        self.st.running = self.st.tasks.values().filter(|t| t.in_flight()).count();
    }
}

/// The graph node a task runs (`None` only if the state does not fit the graph).
pub fn node_of<'g>(graph: &'g FlowGraph, state: &ExecState, task: &TaskState) -> Option<&'g Node> {
    let scope = state.scopes.get(task.scope)?;
    resolve(&graph.root, &scope.path).nodes.get(task.node)
}

/// The block scope `scope` runs.
pub fn block_of<'g>(graph: &'g FlowGraph, state: &ExecState, scope: usize) -> &'g Block {
    state.scopes.get(scope).map_or(&EMPTY_BLOCK, |s| resolve(&graph.root, &s.path))
}
