//! One task record, typed by where the task is: only a running task has an attempt in
//! flight or a timer, only a succeeded one an output, only a failed one its final error,
//! and every ended one its end time. Stored, it keeps the flat shape records always had
//! ([`StoredTask`]), so executions written before read back; a stored record whose
//! fields do not fit its status fails the read, naming what is wrong.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::state::{ErrorInfo, TaskStatus, Timer};

/// What an attempt of a running task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attempt {
    /// None in flight: the task waits for a timer (a retry, a Wait) or its children.
    #[default]
    Idle,
    /// Dispatched, not answered yet (it holds one of the execution's slots).
    InFlight,
    /// An async task's call was accepted; it waits for the finish callback (and still
    /// holds its slot).
    AwaitingCallback,
}

/// A running task's work.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Running {
    /// The current attempt.
    pub attempt: Attempt,
    /// A pending timer.
    pub timer: Option<Timer>,
    /// The last attempt's error while the task is retried.
    pub last_error: Option<ErrorInfo>,
}

/// Where a task is, with what that place has.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskPhase {
    /// Waiting for a free slot of the execution, `last_error` from the attempt before.
    Ready {
        /// The last attempt's error, when this is a retry.
        last_error: Option<ErrorInfo>,
    },
    /// Entered and working.
    Running(Running),
    /// Ended well.
    Succeed {
        /// What it produced.
        output: Json,
        /// µs since the epoch.
        finished_at: i64,
    },
    /// Ended badly (tolerated, caught, or failing the flow).
    Failed {
        /// Why.
        error: ErrorInfo,
        /// µs since the epoch.
        finished_at: i64,
    },
    /// Not run: its branch was not chosen, or a `return` ended it.
    Skipped {
        /// µs since the epoch.
        finished_at: i64,
    },
}

/// How a task ends.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEnd {
    /// With an output.
    Succeed(Json),
    /// With an error.
    Failed(ErrorInfo),
    /// Without running.
    Skipped,
}

/// One task (a node entered in some scope), as shown to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredTask", into = "StoredTask")]
pub struct TaskState {
    /// The node's own name.
    pub name: String,
    /// Scope that holds it.
    pub scope: usize,
    /// Node index in the scope's block.
    pub node: usize,
    /// Attempts started (1 for the first).
    pub attempt: u32,
    /// The input it got.
    pub input: Option<Json>,
    /// When it was entered, µs since the epoch (none for a task skipped unentered).
    pub started_at: Option<i64>,
    /// Where it is.
    pub phase: TaskPhase,
}

impl TaskState {
    /// A task entered now with `input`.
    pub fn entered(name: &str, scope: usize, node: usize, input: Option<Json>, now: i64) -> Self {
        let phase = TaskPhase::Running(Running::default());
        Self { name: name.to_string(), scope, node, attempt: 0, input, started_at: Some(now), phase }
    }

    /// A task about to be ended without being entered (skipped): no start, no input.
    pub fn unentered(name: &str, scope: usize, node: usize, now: i64) -> Self {
        Self { started_at: None, ..Self::entered(name, scope, node, None, now) }
    }

    /// Its status.
    pub fn status(&self) -> TaskStatus {
        match &self.phase {
            TaskPhase::Ready { .. } => TaskStatus::Ready,
            TaskPhase::Running(_) => TaskStatus::Running,
            TaskPhase::Succeed { .. } => TaskStatus::Succeed,
            TaskPhase::Failed { .. } => TaskStatus::Failed,
            TaskPhase::Skipped { .. } => TaskStatus::Skipped,
        }
    }

    /// The running task's work.
    pub fn running(&self) -> Option<&Running> {
        match &self.phase {
            TaskPhase::Running(running) => Some(running),
            _ => None,
        }
    }

    /// The running task's work, to change.
    pub fn running_mut(&mut self) -> Option<&mut Running> {
        match &mut self.phase {
            TaskPhase::Running(running) => Some(running),
            _ => None,
        }
    }

    /// An attempt dispatched and not answered (it counts against the execution's limit).
    pub fn in_flight(&self) -> bool {
        self.running().is_some_and(|r| r.attempt != Attempt::Idle)
    }

    /// Its pending timer.
    pub fn timer(&self) -> Option<&Timer> {
        self.running().and_then(|r| r.timer.as_ref())
    }

    /// Its output, once it succeeded.
    pub fn output(&self) -> Option<&Json> {
        match &self.phase {
            TaskPhase::Succeed { output, .. } => Some(output),
            _ => None,
        }
    }

    /// Why it failed, or the last attempt's error while it is retried.
    pub fn error(&self) -> Option<&ErrorInfo> {
        match &self.phase {
            TaskPhase::Failed { error, .. } => Some(error),
            TaskPhase::Ready { last_error } => last_error.as_ref(),
            TaskPhase::Running(running) => running.last_error.as_ref(),
            _ => None,
        }
    }

    /// When it ended.
    pub fn finished_at(&self) -> Option<i64> {
        match &self.phase {
            TaskPhase::Succeed { finished_at, .. }
            | TaskPhase::Failed { finished_at, .. }
            | TaskPhase::Skipped { finished_at } => Some(*finished_at),
            _ => None,
        }
    }

    /// Ends the task at `now`.
    pub fn end(&mut self, end: TaskEnd, now: i64) {
        self.phase = match end {
            TaskEnd::Succeed(output) => TaskPhase::Succeed { output, finished_at: now },
            TaskEnd::Failed(error) => TaskPhase::Failed { error, finished_at: now },
            TaskEnd::Skipped => TaskPhase::Skipped { finished_at: now },
        };
    }

    /// The error a new attempt carries over from the one before.
    pub fn take_last_error(&mut self) -> Option<ErrorInfo> {
        match &mut self.phase {
            TaskPhase::Ready { last_error } => last_error.take(),
            TaskPhase::Running(running) => running.last_error.take(),
            _ => None,
        }
    }
}

/// A task record as stored: the flat shape of every version so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTask {
    name: String,
    scope: usize,
    node: usize,
    status: TaskStatus,
    attempt: u32,
    input: Option<Json>,
    output: Option<Json>,
    error: Option<ErrorInfo>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    timer: Option<Timer>,
    awaiting_callback: bool,
    in_flight: bool,
}

impl From<TaskState> for StoredTask {
    fn from(t: TaskState) -> Self {
        let (status, finished_at) = (t.status(), t.finished_at());
        let (in_flight, awaiting_callback) = match t.running().map(|r| r.attempt) {
            Some(Attempt::InFlight) => (true, false),
            Some(Attempt::AwaitingCallback) => (true, true),
            _ => (false, false),
        };
        let (output, error, timer) = match t.phase {
            TaskPhase::Ready { last_error } => (None, last_error, None),
            TaskPhase::Running(r) => (None, r.last_error, r.timer),
            TaskPhase::Succeed { output, .. } => (Some(output), None, None),
            TaskPhase::Failed { error, .. } => (None, Some(error), None),
            TaskPhase::Skipped { .. } => (None, None, None),
        };
        Self {
            name: t.name,
            scope: t.scope,
            node: t.node,
            status,
            attempt: t.attempt,
            input: t.input,
            output,
            error,
            started_at: t.started_at,
            finished_at,
            timer,
            awaiting_callback,
            in_flight,
        }
    }
}

impl TryFrom<StoredTask> for TaskState {
    type Error = String;

    fn try_from(s: StoredTask) -> Result<Self, String> {
        let ended = |what: &str| {
            s.finished_at.ok_or_else(|| format!("task {:?} is {} without {what}", s.name, s.status.as_str()))
        };
        let phase = match s.status {
            TaskStatus::NotStarted => return Err(format!("task {:?} is stored as NOT_STARTED", s.name)),
            TaskStatus::Ready => TaskPhase::Ready { last_error: s.error.clone() },
            TaskStatus::Running => {
                let attempt = match (s.in_flight, s.awaiting_callback) {
                    (false, _) => Attempt::Idle,
                    (true, false) => Attempt::InFlight,
                    (true, true) => Attempt::AwaitingCallback,
                };
                TaskPhase::Running(Running { attempt, timer: s.timer.clone(), last_error: s.error.clone() })
            }
            // An output of `null` is stored as `null`, which reads back as none.
            TaskStatus::Succeed => {
                TaskPhase::Succeed { output: s.output.clone().unwrap_or(Json::Null), finished_at: ended("its end")? }
            }
            TaskStatus::Failed => TaskPhase::Failed {
                error: s.error.clone().ok_or_else(|| format!("task {:?} is FAILED without an error", s.name))?,
                finished_at: ended("its end")?,
            },
            TaskStatus::Skipped => TaskPhase::Skipped { finished_at: ended("its end")? },
        };
        Ok(Self {
            name: s.name,
            scope: s.scope,
            node: s.node,
            attempt: s.attempt,
            input: s.input,
            started_at: s.started_at,
            phase,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::flows::scheduler::TimerPurpose;

    fn round_trip(task: &TaskState) -> TaskState {
        serde_json::from_value(serde_json::to_value(task).unwrap()).unwrap()
    }

    #[test]
    fn every_phase_is_stored_flat_and_reads_back_the_same() {
        let mut task = TaskState::entered("A", 0, 1, Some(json!({"x": 1})), 10);
        let running = task.running_mut().unwrap();
        running.attempt = Attempt::AwaitingCallback;
        running.timer = Some(Timer { id: 3, at: 99, purpose: TimerPurpose::Timeout });
        running.last_error = Some(ErrorInfo::new("HTTP.500", "boom"));
        let stored = serde_json::to_value(&task).unwrap();
        assert_eq!((stored["status"].as_str(), stored["in_flight"].as_bool()), (Some("RUNNING"), Some(true)));
        assert_eq!(round_trip(&task), task);
        task.phase = TaskPhase::Ready { last_error: Some(ErrorInfo::new("E", "c")) };
        assert_eq!(round_trip(&task), task);
        for end in [TaskEnd::Succeed(json!(5)), TaskEnd::Failed(ErrorInfo::new("E", "c")), TaskEnd::Skipped] {
            task.end(end, 20);
            assert_eq!(round_trip(&task), task);
            assert_eq!(task.finished_at(), Some(20));
        }
        let mut skipped = TaskState::unentered("B", 0, 2, 7);
        skipped.end(TaskEnd::Skipped, 7);
        assert_eq!(round_trip(&skipped), skipped);
        assert_eq!(skipped.started_at, None);
    }

    #[test]
    fn a_stored_record_that_does_not_fit_its_status_fails_the_read() {
        let base = json!({"name": "A", "scope": 0, "node": 0, "attempt": 1, "input": null, "output": null,
            "error": null, "started_at": 1, "finished_at": null, "timer": null, "awaiting_callback": false,
            "in_flight": false});
        let with = |status: &str| {
            let mut v = base.clone();
            v["status"] = json!(status);
            serde_json::from_value::<TaskState>(v).unwrap_err().to_string()
        };
        assert!(with("FAILED").contains("task \"A\" is FAILED without an error"), "{}", with("FAILED"));
        assert!(with("SUCCEED").contains("SUCCEED without its end"), "{}", with("SUCCEED"));
        assert!(with("NOT_STARTED").contains("stored as NOT_STARTED"));
    }
}
