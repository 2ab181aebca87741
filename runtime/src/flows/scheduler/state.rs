//! An execution's whole state, as the scheduler keeps it. The store keeps a small one as
//! one document and a larger one as a head and parts (`persist.rs`), where a transition
//! writes the head and the parts it changed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::tracked::{Indexed, Keyed};
use crate::store::ExecutionEvent;

pub use super::task::{Attempt, Running, TaskEnd, TaskPhase, TaskState};
pub use crate::store::ExecStatus;

/// A task's status (seed 002's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Not reached (yet).
    NotStarted,
    /// Ready, waiting for a free slot of the execution.
    Ready,
    /// Dispatched, waiting for a retry, a timer or its children.
    Running,
    /// Ended well.
    Succeed,
    /// Ended badly (tolerated, caught, or failing the flow).
    Failed,
    /// Not run: its branch was not chosen, or a `return` ended it.
    Skipped,
}

impl TaskStatus {
    /// The displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "NOT_STARTED",
            Self::Ready => "READY",
            Self::Running => "RUNNING",
            Self::Succeed => "SUCCEED",
            Self::Failed => "FAILED",
            Self::Skipped => "SKIPPED",
        }
    }

    /// True once the task will not change again (until a state-machine loop re-enters it).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeed | Self::Failed | Self::Skipped)
    }
}

/// An error as flows report it: a name retry/catch rules match on, and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// e.g. `HTTP.500`, `States.Timeout`, a guest's own code.
    pub error: String,
    /// Human-readable detail.
    pub cause: String,
}

impl ErrorInfo {
    /// An error named `error` with `cause`.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: cause.into() }
    }
}

/// Why a timer was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerPurpose {
    /// Run the next attempt.
    Retry,
    /// A Wait state ends.
    Wait,
    /// The running attempt times out.
    Timeout,
}

/// A pending timer of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Identifies the timer; a fired timer whose id no longer matches is stale.
    pub id: u64,
    /// µs since the epoch.
    pub at: i64,
    /// What happens when it fires.
    pub purpose: TimerPurpose,
}

/// What a scope is running for its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeParent {
    /// The parent scope.
    pub scope: usize,
    /// The container node there.
    pub node: usize,
    /// Iteration or branch index.
    pub slot: usize,
}

/// Which child block of a container node a scope runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildBlock {
    /// The foreach / Map body.
    ForeachBody,
    /// Parallel branch `i`.
    Branch(usize),
    /// Choice rule `i`'s block.
    ChoiceRule(usize),
    /// The choice's default block.
    ChoiceDefault,
}

/// One step on the way from the root block to a nested one.
pub type BlockStep = (usize, ChildBlock);

/// A running instance of a block: the root, or one iteration/branch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scope {
    /// How to find the block from the root.
    pub path: Vec<BlockStep>,
    /// The container it runs for; `None` for the root.
    pub parent: Option<ScopeParent>,
    /// Prepended to node names to form task keys (`""`, `foreachNode_0-`).
    pub prefix: String,
    /// DAG: the shared context. State machine: the data passed between states.
    pub data: Json,
    /// Per node: live and skip tokens received (DAG joins).
    pub tokens: Vec<(u32, u32)>,
    /// Set once the scope ended (well or not); later events inside it are ignored.
    pub closed: bool,
    /// Times a task of this scope became finished or skipped: a DAG scope can only be
    /// done once this reaches its node count, so the full check runs only then (a long
    /// DAG would otherwise scan every node at every step). Recounted after a restart.
    #[serde(default)]
    pub terminal_marks: usize,
}

/// A container node's progress over its children.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Children {
    /// Items (foreach) or branch contexts (parallel/choice), in order. Those before
    /// `opened` run or ran (their data moved into their scope); the list is stored once,
    /// when the container opens.
    pub pending: Vec<PendingChild>,
    /// How many of `pending` were opened (or dropped, once the container failed).
    #[serde(default)]
    pub opened: usize,
    /// Children running now (scope ids; a set: thousands may run at once).
    pub running: BTreeSet<usize>,
    /// Results by slot.
    pub results: Vec<Option<Json>>,
    /// Children at once (0 = no limit).
    pub max_concurrency: usize,
    /// A choice's chosen successors, passed live tokens once its blocks end.
    pub chosen_next: Vec<usize>,
    /// Result slots set since the last write.
    #[serde(skip)]
    pub(crate) changed_results: Vec<usize>,
    /// `pending` was written (it never changes after the container opens).
    #[serde(skip)]
    pub(crate) pending_stored: bool,
}

impl Children {
    /// Children not opened yet.
    pub fn left(&self) -> usize {
        self.pending.len().saturating_sub(self.opened)
    }

    /// The next child to open, its data moved out of the list.
    pub fn open_next(&mut self) -> Option<PendingChild> {
        let next = self.pending.get_mut(self.opened)?;
        self.opened += 1;
        Some(PendingChild { slot: next.slot, block: next.block, data: std::mem::take(&mut next.data) })
    }

    /// Opens no more children (the container failed); frees their data.
    pub fn drop_pending(&mut self) {
        for child in self.pending.iter_mut().skip(self.opened) {
            child.data = Json::Null;
        }
        self.opened = self.pending.len();
    }

    /// Records slot `slot`'s result.
    pub fn set_result(&mut self, slot: usize, value: Json) {
        if let Some(result) = self.results.get_mut(slot) {
            *result = Some(value);
            self.changed_results.push(slot);
        }
    }
}

impl PartialEq for Children {
    /// What is stored; not what the next write has to carry.
    fn eq(&self, other: &Self) -> bool {
        (self.opened, &self.running, &self.results, self.max_concurrency, &self.chosen_next)
            == (other.opened, &other.running, &other.results, other.max_concurrency, &other.chosen_next)
            && self.pending[self.opened.min(self.pending.len())..]
                == other.pending[other.opened.min(other.pending.len())..]
    }
}

/// A child scope not opened yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingChild {
    /// Its index among the container's results.
    pub slot: usize,
    /// Which block it runs.
    pub block: ChildBlock,
    /// The data it starts with.
    pub data: Json,
}

/// Everything about one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecState {
    /// Stored as a head and parts (see `persist.rs`); until then, as one document.
    #[serde(default)]
    pub parts: bool,
    /// Estimated bytes of data copied into scopes and their results so far, against
    /// [`crate::flows::data::MAX_EXECUTION_DATA_BYTES`].
    #[serde(default)]
    pub data_bytes: usize,
    /// Where it is.
    pub status: ExecStatus,
    /// Scope 0 is the root.
    #[serde(default)]
    pub scopes: Indexed<Scope>,
    /// Tasks by key.
    #[serde(default)]
    pub tasks: Keyed<TaskState>,
    /// Containers' children, by task key.
    #[serde(default)]
    pub children: Keyed<Children>,
    /// Tasks ready but not yet dispatched (execution concurrency limit reached).
    pub ready: VecDeque<String>,
    /// Tasks dispatched and not yet answered.
    pub running: usize,
    /// Most tasks dispatched at once.
    pub max_running: usize,
    /// Last history sequence number used.
    pub seq: i64,
    /// Last timer id used.
    pub timer_seq: u64,
    /// The output, once succeeded.
    pub output: Option<Json>,
    /// The error, once failed, stopped or timed out.
    pub error: Option<ErrorInfo>,
    /// Headers the execution was started with (seed 004's `headers`): HTTP tasks send
    /// them, and mappings read them as `$.headers.<name>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// History events not yet persisted; the driver drains them.
    #[serde(skip)]
    pub history: Vec<ExecutionEvent>,
}

impl ExecState {
    /// A fresh state for an execution whose context starts as `input`.
    pub fn new(input: Json, max_running: usize) -> Self {
        let root = Scope { data: input, ..Scope::default() };
        Self {
            parts: false,
            data_bytes: 0,
            status: ExecStatus::Starting,
            scopes: Indexed::from(vec![root]),
            tasks: Keyed::default(),
            children: Keyed::default(),
            ready: VecDeque::new(),
            running: 0,
            max_running: max_running.max(1),
            seq: 0,
            timer_seq: 0,
            output: None,
            error: None,
            headers: BTreeMap::new(),
            history: Vec::new(),
        }
    }

    /// Appends a history event.
    pub fn record(&mut self, at: i64, kind: &str, node: Option<&str>, detail: Json) {
        self.seq += 1;
        self.history.push(ExecutionEvent {
            seq: self.seq,
            at,
            kind: kind.into(),
            node: node.map(str::to_string),
            detail,
        });
    }

    /// Takes the events not yet persisted.
    pub fn drain_history(&mut self) -> Vec<ExecutionEvent> {
        std::mem::take(&mut self.history)
    }

    /// The key of node `node` in scope `scope`.
    pub fn key_of(&self, scope: usize, name: &str) -> String {
        format!("{}{}", self.scopes[scope].prefix, name)
    }
}
