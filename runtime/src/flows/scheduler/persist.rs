//! An execution's state as the store keeps it: a small head (status, counters, the ready
//! queue, the output) and one part per scope, task record, container, container's child
//! list and child result. A write carries the head and the parts changed since the last
//! one, so a step of a long flow costs what it touched, not what the flow has done.
//!
//! Part names: `s:<scope id>`, `t:<task key>`, `c:<task key>` (a container's progress),
//! `cp:<task key>` (its child list, written once), `cr:<slot>:<task key>` (one result).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::de::Error as _;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::state::{Children, ErrorInfo, ExecState, ExecStatus, PendingChild, Scope, TaskState};
use super::tracked::{Changed, Indexed};
use crate::store::StateDoc;

/// An execution with at most this many task records and scopes together is written as
/// one document: for a small state that costs less than a head and several parts (each
/// an upsert); past it, it is written in parts from then on.
const WHOLE_STATE_MAX_ENTRIES: usize = 64;

/// The state without its scopes, tasks and children. Read back as an [`ExecState`], whose
/// collections default to empty (and a whole state reads back whole).
#[derive(Serialize)]
struct Head<'a> {
    parts: bool,
    data_bytes: usize,
    status: ExecStatus,
    ready: &'a VecDeque<String>,
    running: usize,
    max_running: usize,
    seq: i64,
    timer_seq: u64,
    output: &'a Option<Json>,
    error: &'a Option<ErrorInfo>,
    #[serde(skip_serializing_if = "no_headers")]
    headers: &'a BTreeMap<String, String>,
}

fn no_headers(headers: &&BTreeMap<String, String>) -> bool {
    headers.is_empty()
}

/// A container's progress without its child list and results.
#[derive(Serialize, Deserialize)]
struct ChildrenHead {
    opened: usize,
    running: BTreeSet<usize>,
    max_concurrency: usize,
    chosen_next: Vec<usize>,
    slots: usize,
}

impl ExecState {
    /// The head and the parts changed since the last call (everything, the first time);
    /// a small state is the head alone, whole.
    pub fn take_changes(&mut self) -> Result<StateDoc, serde_json::Error> {
        if !self.parts {
            if self.tasks.len() + self.scopes.len() <= WHOLE_STATE_MAX_ENTRIES {
                return self.whole();
            }
            // From now on in parts, starting with every one of them.
            self.parts = true;
            self.scopes.mark_all();
            self.tasks.mark_all();
            self.children.mark_all();
        }
        let head = serde_json::to_string(&Head {
            parts: true,
            data_bytes: self.data_bytes,
            status: self.status,
            ready: &self.ready,
            running: self.running,
            max_running: self.max_running,
            seq: self.seq,
            timer_seq: self.timer_seq,
            output: &self.output,
            error: &self.error,
            headers: &self.headers,
        })?;
        let mut parts = Vec::new();
        let scopes: Vec<usize> = match self.scopes.take_changed() {
            Changed::All => (0..self.scopes.len()).collect(),
            Changed::Some(ids) => ids.into_iter().collect(),
        };
        for id in scopes {
            if let Some(scope) = self.scopes.get(id) {
                parts.push((format!("s:{id}"), serde_json::to_string(scope)?));
            }
        }
        let tasks: Vec<String> = match self.tasks.take_changed() {
            Changed::All => self.tasks.keys().cloned().collect(),
            Changed::Some(keys) => keys.into_iter().collect(),
        };
        for key in tasks {
            if let Some(task) = self.tasks.get(&key) {
                parts.push((format!("t:{key}"), serde_json::to_string(task)?));
            }
        }
        let containers: Vec<String> = match self.children.take_changed() {
            Changed::All => self.children.keys().cloned().collect(),
            Changed::Some(keys) => keys.into_iter().collect(),
        };
        for key in containers {
            if let Some(children) = self.children.get_mut_quietly(&key) {
                children_parts(&key, children, &mut parts)?;
            }
        }
        Ok(StateDoc { head, parts })
    }

    /// The whole state as the head, no parts; what changed is forgotten.
    fn whole(&mut self) -> Result<StateDoc, serde_json::Error> {
        self.scopes.take_changed();
        self.tasks.take_changed();
        self.children.take_changed();
        let keys: Vec<String> = self.children.keys().cloned().collect();
        for key in keys {
            if let Some(children) = self.children.get_mut_quietly(&key) {
                children.changed_results.clear();
            }
        }
        Ok(StateDoc { head: serde_json::to_string(self)?, parts: Vec::new() })
    }

    /// The state a [`StateDoc`] holds (every part counts as changed: the first write after
    /// a load stores it whole, which also rewrites an old whole-state row as parts).
    pub fn from_doc(doc: &StateDoc) -> Result<Self, serde_json::Error> {
        let mut state: ExecState = serde_json::from_str(&doc.head)?;
        let mut scopes = BTreeMap::new();
        let mut heads = BTreeMap::new();
        let mut lists: BTreeMap<&str, Vec<PendingChild>> = BTreeMap::new();
        let mut results: BTreeMap<&str, Vec<(usize, Json)>> = BTreeMap::new();
        for (name, body) in &doc.parts {
            match name.split_once(':') {
                Some(("s", id)) => {
                    scopes.insert(parse_index(id)?, serde_json::from_str::<Scope>(body)?);
                }
                Some(("t", key)) => state.tasks.insert(key.to_string(), serde_json::from_str::<TaskState>(body)?),
                Some(("c", key)) => {
                    heads.insert(key, serde_json::from_str::<ChildrenHead>(body)?);
                }
                Some(("cp", key)) => {
                    lists.insert(key, serde_json::from_str(body)?);
                }
                Some(("cr", rest)) => {
                    let (slot, key) = rest.split_once(':').ok_or_else(|| unknown(name))?;
                    results.entry(key).or_default().push((parse_index(slot)?, serde_json::from_str(body)?));
                }
                _ => return Err(unknown(name)),
            }
        }
        if !scopes.is_empty() {
            if scopes.keys().enumerate().any(|(i, id)| i != *id) {
                return Err(serde_json::Error::custom("the stored scopes are not numbered 0, 1, 2, …"));
            }
            state.scopes = Indexed::from(scopes.into_values().collect::<Vec<_>>());
        }
        for (key, head) in heads {
            let mut children = Children {
                pending: lists.remove(key).unwrap_or_default(),
                opened: head.opened,
                running: head.running,
                results: vec![None; head.slots],
                max_concurrency: head.max_concurrency,
                chosen_next: head.chosen_next,
                ..Children::default()
            };
            for (slot, value) in results.remove(key).unwrap_or_default() {
                if let Some(result) = children.results.get_mut(slot) {
                    *result = Some(value);
                }
            }
            state.children.insert(key.to_string(), children);
        }
        Ok(state)
    }
}

/// A container's parts: its progress always; its child list and every result the first
/// time; later only the results set since.
fn children_parts(key: &str, children: &mut Children, parts: &mut Vec<(String, String)>) -> serde_json::Result<()> {
    let head = ChildrenHead {
        opened: children.opened,
        running: children.running.clone(),
        max_concurrency: children.max_concurrency,
        chosen_next: children.chosen_next.clone(),
        slots: children.results.len(),
    };
    parts.push((format!("c:{key}"), serde_json::to_string(&head)?));
    let slots: Vec<usize> = if children.pending_stored {
        std::mem::take(&mut children.changed_results)
    } else {
        parts.push((format!("cp:{key}"), serde_json::to_string(&children.pending)?));
        children.pending_stored = true;
        children.changed_results.clear();
        (0..children.results.len()).collect()
    };
    for slot in slots {
        if let Some(Some(value)) = children.results.get(slot) {
            parts.push((format!("cr:{slot}:{key}"), serde_json::to_string(value)?));
        }
    }
    Ok(())
}

fn parse_index(text: &str) -> Result<usize, serde_json::Error> {
    text.parse().map_err(|_| serde_json::Error::custom(format!("{text:?} is not an index")))
}

fn unknown(name: &str) -> serde_json::Error {
    serde_json::Error::custom(format!("unknown state part {name:?}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::{Action, Event, ExecState, ExecStatus, step};
    use crate::flows::definition::parse;
    use crate::store::StateDoc;

    /// What the store keeps of one execution: the last head and the last body of each part.
    #[derive(Default)]
    struct Stored {
        head: String,
        parts: BTreeMap<String, String>,
    }

    impl Stored {
        /// Applies a write; answers how many parts it carried.
        fn write(&mut self, state: &mut ExecState) -> usize {
            state.drain_history();
            let doc = state.take_changes().unwrap();
            self.head = doc.head;
            let count = doc.parts.len();
            self.parts.extend(doc.parts);
            count
        }

        fn read(&self) -> ExecState {
            let doc = StateDoc { head: self.head.clone(), parts: self.parts.clone().into_iter().collect() };
            ExecState::from_doc(&doc).unwrap()
        }
    }

    const FOREACH: &str = "dagName: f\ntasks:\n  - name: each\n    category: foreach\n    \
        iterationMapping: {collection: $.context.items, item: it}\n    synchronization: {maxConcurrency: 2}\n    \
        tasks:\n      - {name: call, category: function, resourceName: http://x, pattern: task_sync}\n";

    /// Every step's write, applied to what was stored, reads back as the live state; and a
    /// step in the middle of a long foreach writes a handful of parts, not the whole run.
    #[test]
    fn the_parts_written_step_by_step_read_back_as_the_state() {
        let graph = parse(FOREACH).unwrap();
        let mut state = ExecState::new(json!({"items": (0..200).collect::<Vec<_>>()}), 8);
        state.headers.insert("tenantid".into(), "user1".into());
        let mut stored = Stored::default();
        let mut actions = step(&graph, &mut state, Event::Start, 0);
        assert_eq!(stored.write(&mut state), 0, "a small state is written whole");
        assert_eq!(stored.read(), state);
        let mut most = 0;
        let mut now = 1;
        while let Some(run) = actions.iter().find_map(|a| match a {
            Action::Run(run) => Some(run.clone()),
            _ => None,
        }) {
            actions.retain(|a| !matches!(a, Action::Run(r) if r.key == run.key));
            let output = json!({"seen": run.input});
            actions.extend(step(
                &graph,
                &mut state,
                Event::TaskSucceeded { key: run.key, attempt: run.attempt, output },
                now,
            ));
            now += 1;
            let in_parts = state.parts;
            let written = stored.write(&mut state);
            if in_parts && state.status == ExecStatus::Running {
                most = most.max(written);
            }
            assert_eq!(stored.read(), state, "after step {now}");
        }
        assert_eq!(state.status, ExecStatus::Succeeded);
        assert!(state.parts, "it grew past a whole document's size");
        assert!((1..=10).contains(&most), "a step wrote {most} parts");
        let results = state.output.as_ref().and_then(|o| o.get("each")).cloned();
        assert!(results.is_some() || state.tasks["each"].output().is_some());
    }

    /// Rows written before the parts existed hold the whole state in the head.
    #[test]
    fn an_old_whole_state_row_reads_back_and_its_first_write_carries_everything() {
        let graph = parse(FOREACH).unwrap();
        let mut state = ExecState::new(json!({"items": [1, 2, 3]}), 8);
        step(&graph, &mut state, Event::Start, 0);
        state.drain_history();
        let whole = StateDoc { head: serde_json::to_string(&state).unwrap(), parts: Vec::new() };
        let mut loaded = ExecState::from_doc(&whole).unwrap();
        assert_eq!(loaded, state);
        let mut stored = Stored::default();
        stored.write(&mut loaded);
        assert_eq!(stored.read(), state);
    }

    #[test]
    fn an_unknown_part_is_an_error_not_a_silent_loss() {
        let doc = StateDoc {
            head: serde_json::to_string(&ExecState::new(json!({}), 1)).unwrap(),
            parts: vec![("x:1".into(), "{}".into())],
        };
        assert!(ExecState::from_doc(&doc).unwrap_err().to_string().contains("unknown state part"));
    }
}
