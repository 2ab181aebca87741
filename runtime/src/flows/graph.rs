//! The one validated graph both definition formats compile to. The scheduler reads only
//! this: a DAG YAML (seed 002), a state-machine spec (seed 003) and an old-format FDL
//! flow all become [`FlowGraph`]s, so each feature is implemented once.

use serde_json::Value as Json;

use super::data::{Condition, Mapping, Path, Source};

/// Which text format a flow was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowFormat {
    /// Rill-Flow-style DAG YAML (`type: flow`, `tasks:`).
    Dag,
    /// `Type: StateMachine`, `SpecVersion: v1`, `StartAt`, `States`.
    StateMachine,
    /// Old serverless-workflow FDL (`version`, `type: flow`, `steps:`).
    Fdl,
}

impl FlowFormat {
    /// The name stored and shown for the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dag => "dag",
            Self::StateMachine => "state_machine",
            Self::Fdl => "fdl",
        }
    }
}

/// A parsed, validated flow definition.
#[derive(Debug, Clone)]
pub struct FlowGraph {
    /// The format it was written in.
    pub format: FlowFormat,
    /// `dagName` (or legacy `service`), `Name` or `name`; may be empty when the text has none.
    pub name: String,
    /// `workspace` (or legacy `namespace`) of a DAG.
    pub workspace: Option<String>,
    /// The top-level tasks or states.
    pub root: Block,
    /// Values the context starts with before the execution input is merged over them
    /// (DAG `defaultContext`; string values holding JSON stay strings).
    pub default_context: serde_json::Map<String, Json>,
    /// Whole-execution timeout (DAG `timer.timeoutInSeconds`, state machine `TimeoutSeconds`).
    pub timeout_secs: Option<f64>,
}

/// How a block's nodes become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockMode {
    /// DAG: a node runs when every upstream has finished and at least one of them passed
    /// it a live token; all nodes run on one shared context; the block ends when every
    /// node is finished or skipped.
    Dag,
    /// State machine: one state is active at a time, starting at `start[0]`; a state's
    /// output becomes the data the next state gets; cycles are allowed; the block ends at
    /// a state with no `next` (`End: true`), `Succeed` or `Fail`.
    Sequence,
}

/// A list of nodes that run together: the whole flow, or the body of a foreach/Map
/// iteration, a Parallel branch or a DAG choice branch.
#[derive(Debug, Clone)]
pub struct Block {
    /// DAG or state-machine readiness.
    pub mode: BlockMode,
    /// The nodes, in the order they were written.
    pub nodes: Vec<Node>,
    /// Indices into `nodes` of where the block starts: the DAG roots (no upstream), or the
    /// one `StartAt` state.
    pub start: Vec<usize>,
    /// For each node, the nodes that list it among their successors, computed once so a
    /// step never scans the block (a long chain would make every step cost its length).
    pub upstreams: Vec<Vec<usize>>,
}

impl Block {
    /// A block over `nodes`, with its upstream lists; `start` is given, or, when `None`,
    /// the nodes without an upstream (the DAG roots).
    pub fn new(mode: BlockMode, nodes: Vec<Node>, start: Option<Vec<usize>>) -> Self {
        let mut upstreams = vec![Vec::new(); nodes.len()];
        for (from, node) in nodes.iter().enumerate() {
            for to in node.successors() {
                if let Some(list) = upstreams.get_mut(to) {
                    list.push(from);
                }
            }
        }
        let start = start.unwrap_or_else(|| (0..nodes.len()).filter(|&i| upstreams[i].is_empty()).collect());
        Self { mode, nodes, start, upstreams }
    }

    /// How many nodes the block holds, those of nested blocks included.
    pub fn task_count(&self) -> usize {
        self.nodes.iter().map(|n| 1 + n.kind.child_blocks().map(Block::task_count).sum::<usize>()).sum()
    }

    /// The index of the node named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Indices of the nodes that list `index` among their successors (including choice
    /// targets).
    pub fn upstream_of(&self, index: usize) -> &[usize] {
        self.upstreams.get(index).map_or(&[], Vec::as_slice)
    }
}

/// One task or state.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique within its block.
    pub name: String,
    /// What it does.
    pub kind: NodeKind,
    /// Successors (indices in the same block). For a DAG these fan out; for a state
    /// machine there is at most one (`Next`), and none means `End`.
    pub next: Vec<usize>,
    /// How its input is built from the context and its output is written back.
    pub data: DataFlow,
    /// Retry rules, the first whose errors match a failure applies.
    pub retry: Vec<RetryRule>,
    /// Catch rules, tried in order once retries are exhausted.
    pub catch: Vec<CatchRule>,
    /// DAG `tolerance: true`: a failure marks the task FAILED but does not fail the flow,
    /// and its successors still run.
    pub tolerance: bool,
    /// Longest one attempt may run (task `timeline.timeoutInSeconds` / `TimeoutSeconds`).
    pub timeout_secs: Option<f64>,
    /// DAG `degrade`: skip the task and/or what follows it.
    pub degrade: Degrade,
    /// The task as written, converted to JSON, shown in execution status (`task`).
    pub definition: Json,
}

/// A DAG task's `degrade: {current, followings}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Degrade {
    /// The task is SKIPPED instead of run; its successors still run (unless `followings`).
    pub current: bool,
    /// The task's successors get skip tokens: they are SKIPPED unless another upstream
    /// passes them a live one.
    pub followings: bool,
}

impl Node {
    /// Every successor index: `next` plus the targets of choice rules and the default.
    pub fn successors(&self) -> Vec<usize> {
        let mut all = self.next.clone();
        if let NodeKind::Choice(choice) = &self.kind {
            for target in choice.rules.iter().map(|r| &r.target).chain(choice.default.as_ref()) {
                if let ChoiceTarget::Next(next) = target {
                    all.extend(next.iter().copied());
                }
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// What a node does.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Runs a cloud function in-process or calls an HTTP endpoint.
    Task(TaskSpec),
    /// Passes data on; an optional fixed `Result` (state machine `Result`) becomes its output.
    Pass {
        /// The fixed output, if any.
        result: Option<Json>,
    },
    /// DAG `return`: when every condition holds over its input, the node succeeds and
    /// everything downstream of it is skipped; otherwise the node is skipped and its
    /// successors run.
    Return {
        /// JSONPath filter conditions (all must match).
        conditions: Vec<Condition>,
    },
    /// DAG `choice`/`switch` and state-machine `Choice`.
    Choice(ChoiceSpec),
    /// DAG `foreach` and state-machine `Map`: the block runs once per collection item.
    Foreach(Box<ForeachSpec>),
    /// State-machine `Parallel`: every branch runs on a copy of the input; the output is
    /// the array of branch outputs.
    Parallel {
        /// The branches.
        branches: Vec<Block>,
    },
    /// Waits, then passes its input on.
    Wait(WaitSpec),
    /// Ends its block successfully.
    Succeed,
    /// Ends its block with an error.
    Fail {
        /// The error name (`Error`/`Code`).
        error: String,
        /// The message (`Cause`/`Detail`).
        cause: String,
    },
    /// A node kind the definition language has but cloudexec does not run yet (e.g. DAG
    /// `suspense`, sub-flows). It parses and validates; running it fails the task with a
    /// message naming the kind.
    Unsupported {
        /// The category or type as written.
        kind: String,
    },
}

impl NodeKind {
    /// The blocks nested in a container node (foreach/Map body, Parallel branches, DAG
    /// choice branches).
    pub fn child_blocks(&self) -> impl Iterator<Item = &Block> {
        let mut blocks: Vec<&Block> = Vec::new();
        match self {
            NodeKind::Foreach(spec) => blocks.push(&spec.block),
            NodeKind::Parallel { branches } => blocks.extend(branches),
            NodeKind::Choice(choice) => {
                for target in choice.rules.iter().map(|r| &r.target).chain(choice.default.as_ref()) {
                    if let ChoiceTarget::Block(block) = target {
                        blocks.push(block);
                    }
                }
            }
            _ => {}
        }
        blocks.into_iter()
    }
}

/// A function or HTTP task.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Where it runs.
    pub resource: Resource,
    /// Whether the result comes in the response or through a finish callback.
    pub pattern: TaskPattern,
    /// HTTP method for URL resources (DAG `requestType`; default POST).
    pub method: HttpMethod,
    /// DAG `successConditions`: when present, all must match the output for success.
    pub success_conditions: Vec<Condition>,
}

/// Where a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An HTTP(S) endpoint; the mapped input is sent, the response is the output.
    Http {
        /// The URL, query string included.
        url: String,
    },
    /// A cloud function of the flow's app (`function://name` or a bare function name in
    /// the state-machine spec's `Resource`), run in-process with its own job record.
    Function {
        /// The function's name.
        name: String,
    },
    /// A resource scheme cloudexec does not call (e.g. `chatgpt://`, `rillflow://`,
    /// `acs:fc:...`, `olympicene::...`); running it fails the task with this text.
    Unsupported {
        /// The resource as written.
        resource: String,
    },
}

/// How a task's result arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPattern {
    /// `task_sync`: the call's response is the output.
    Sync,
    /// `task_async` / `waitForCallback` / `WaitForCustomCallback`: the call starts the work;
    /// the output arrives through the finish callback.
    Async,
}

/// HTTP method of a URL task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// POST the input as a JSON body (default).
    Post,
    /// GET with `input.query` as the query string.
    Get,
}

/// A branch decision.
#[derive(Debug, Clone)]
pub struct ChoiceSpec {
    /// The conditional branches in order.
    pub rules: Vec<ChoiceRule>,
    /// Taken when no rule matches (`condition: default`, `Default`, `default:`).
    pub default: Option<ChoiceTarget>,
    /// State machine `Choice` and DAG `switch` cases with `break: true` stop at the first
    /// match; DAG `switch` without `break` fires every matching case.
    pub first_match: bool,
}

/// One branch of a choice.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    /// When it is taken.
    pub condition: Condition,
    /// Whether this rule stops evaluation when it matches (DAG `switch` `break: true`).
    pub stop: bool,
    /// What runs.
    pub target: ChoiceTarget,
}

/// What a choice branch runs.
#[derive(Debug, Clone)]
pub enum ChoiceTarget {
    /// Successor nodes in the same block; the non-chosen successors are skipped (DAG) or
    /// never entered (state machine).
    Next(Vec<usize>),
    /// A nested block (DAG `choice` `tasks`, FDL `steps`) run on a sub-context built from
    /// the choice's input; its final context is the choice's output.
    Block(Block),
}

/// A loop over a collection.
#[derive(Debug, Clone)]
pub struct ForeachSpec {
    /// Where the collection is read from, evaluated over `{context, input}` (DAG
    /// `iterationMapping.collection`, state machine `ItemsPath`).
    pub collection: Source,
    /// Context key the item is stored under in each iteration (DAG `item`); `None` means the
    /// item itself is the iteration's data (state machine `Map`).
    pub item_key: Option<String>,
    /// Context key for the iteration index (DAG `iterationMapping.index`).
    pub index_key: Option<String>,
    /// Iterations running at once (DAG `synchronization.maxConcurrency`, `MaxConcurrency`);
    /// 0 means no limit beyond the execution's.
    pub max_concurrency: usize,
    /// The body.
    pub block: Block,
    /// DAG foreach outputs `{"sub_context": [...]}`; state machine Map outputs the array.
    pub output: ForeachOutput,
}

/// How a foreach/Map presents its iterations' results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeachOutput {
    /// `{"sub_context": [iteration contexts]}` (DAG).
    SubContext,
    /// `[iteration outputs]` (state machine / FDL).
    Array,
}

/// How long a Wait state waits.
#[derive(Debug, Clone)]
pub enum WaitSpec {
    /// A fixed number of seconds.
    Seconds(f64),
    /// Seconds read from the input (`SecondsPath`).
    SecondsPath(Path),
}

/// How a node's input is built and its output written back.
#[derive(Debug, Clone)]
pub enum DataFlow {
    /// DAG / FDL style: `input` starts as `{}` and each input mapping sets one target
    /// (`$.input...`) from a source over `{context, input}`; output mappings set targets
    /// (`$.context...`) from sources over `{context, input, output}`.
    Mappings {
        /// `inputMappings`.
        input: Vec<Mapping>,
        /// `outputMappings`.
        output: Vec<Mapping>,
    },
    /// State-machine style over the data flowing between states.
    Paths(PathFlow),
}

/// State-machine data paths (AWS-style names; CloudFlow's `InputConstructor` and
/// `OutputConstructor` map to `parameters` and `result_selector`).
#[derive(Debug, Clone, Default)]
pub struct PathFlow {
    /// Selects the part of the data the state gets (`InputPath`, default `$`).
    pub input_path: Option<Path>,
    /// A template whose `key.$` entries are paths over the selected input (`Parameters`,
    /// `InputConstructor`).
    pub parameters: Option<Json>,
    /// A template over the task result (`ResultSelector`, `OutputConstructor`).
    pub result_selector: Option<Json>,
    /// Where the result goes in the data: `None` replaces the data (`$`), `Some(path)`
    /// sets it there (`ResultPath`).
    pub result_path: Option<Path>,
    /// `ResultPath: null`: the result is dropped and the input passes through.
    pub discard_result: bool,
    /// Selects what is passed on (`OutputPath`, default `$`).
    pub output_path: Option<Path>,
}

/// When and how to retry a failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryRule {
    /// Error names it applies to; empty or `FnF.ALL`/`States.ALL` means every error.
    pub errors: Vec<String>,
    /// Retries after the first attempt (DAG `maxRetryTimes`; `MaxAttempts`).
    pub max_retries: u32,
    /// Wait before the first retry, in seconds.
    pub interval_secs: f64,
    /// Each later wait is the previous one times this (`multiplier`, `BackoffRate`).
    pub backoff_rate: f64,
    /// Cap on one wait (`MaxBackoffSeconds`, `maxIntervalSeconds`).
    pub max_interval_secs: Option<f64>,
}

/// Where a failure goes once retries are exhausted.
#[derive(Debug, Clone, PartialEq)]
pub struct CatchRule {
    /// Error names it applies to; empty or `*.ALL` means every error.
    pub errors: Vec<String>,
    /// The node to go to (same block).
    pub next: usize,
    /// Where the error object `{error, cause}` is put in the data (`ResultPath`); `None` replaces it.
    pub result_path: Option<Path>,
}

/// True when an error named `error` is covered by `errors` (empty, or an `ALL` wildcard,
/// covers everything).
pub fn error_matches(errors: &[String], error: &str) -> bool {
    errors.is_empty() || errors.iter().any(|e| e == error || e == "FnF.ALL" || e == "States.ALL" || e == "ALL")
}
