//! Container nodes: choice branches with nested blocks, foreach / Map iterations and
//! Parallel branches each run as a child scope; the container ends when they all have.

use serde_json::{Value as Json, json};

use super::enter::condition_doc;
use super::state::{ChildBlock, Children, ErrorInfo, PendingChild, Scope, ScopeParent};
use super::{MAX_SCOPES, Sched};
use crate::flows::data::{MAX_EXECUTION_DATA_BYTES, estimate};
use crate::flows::graph::{ChoiceTarget, ForeachOutput, NodeKind};

impl Sched<'_> {
    /// A choice: evaluates its rules and runs what the chosen ones name.
    pub(super) fn enter_choice(&mut self, key: &str, scope: usize, index: usize, input: &Json) {
        let node = self.node(scope, index);
        let NodeKind::Choice(choice) = &node.kind else { return };
        let doc = condition_doc(node, &self.st.scopes[scope].data, input);
        let mut chosen: Vec<(ChildBlock, &ChoiceTarget)> = Vec::new();
        for (i, rule) in choice.rules.iter().enumerate() {
            match rule.condition.eval(&doc) {
                Ok(true) => {
                    chosen.push((ChildBlock::ChoiceRule(i), &rule.target));
                    if choice.first_match || rule.stop {
                        break;
                    }
                }
                Ok(false) => {}
                Err(e) => return self.fail_final(key, ErrorInfo::new("States.ConditionError", e.0)),
            }
        }
        if chosen.is_empty()
            && let Some(default) = &choice.default
        {
            chosen.push((ChildBlock::ChoiceDefault, default));
        }
        let sequence = self.block(scope).mode == crate::flows::graph::BlockMode::Sequence;
        if chosen.is_empty() && sequence && node.next.is_empty() {
            let cause = format!("no choice of {:?} matched and it has no default", node.name);
            return self.fail_final(key, ErrorInfo::new("States.NoChoiceMatched", cause));
        }
        let mut next = Vec::new();
        let mut blocks = Vec::new();
        for (child, target) in chosen {
            match target {
                ChoiceTarget::Next(targets) => next.extend(targets.iter().copied()),
                ChoiceTarget::Block(_) => blocks.push(child),
            }
        }
        if blocks.is_empty() {
            return self.finish_ok(key, input.clone(), next);
        }
        let pending = blocks
            .into_iter()
            .enumerate()
            .map(|(slot, block)| PendingChild { slot, block, data: input.clone() })
            .collect();
        self.open_children(key, scope, index, Children { pending, chosen_next: next, ..Children::default() });
    }

    /// A foreach / Map: one child per collection item, at most `max_concurrency` at once.
    pub(super) fn enter_foreach(&mut self, key: &str, scope: usize, index: usize, input: &Json) {
        let node = self.node(scope, index);
        let NodeKind::Foreach(spec) = &node.kind else { return };
        let doc = condition_doc(node, &self.st.scopes[scope].data, input);
        let items = match spec.collection.eval(&doc) {
            Some(Json::Array(items)) => items,
            other => {
                let cause = format!("the collection is not an array (found {})", other.unwrap_or(Json::Null));
                return self.fail_final(key, ErrorInfo::new("States.InvalidCollection", cause));
            }
        };
        let mut pending = Vec::new();
        for (slot, item) in items.into_iter().enumerate() {
            let data = match &spec.item_key {
                None => item,
                Some(item_key) => {
                    let mut data = if input.is_object() { input.clone() } else { json!({}) };
                    data[item_key.as_str()] = item;
                    if let Some(index_key) = &spec.index_key {
                        data[index_key.as_str()] = json!(slot);
                    }
                    data
                }
            };
            if !self.charge(&data) {
                return self.fail_final(key, over_budget("iterations' data"));
            }
            pending.push(PendingChild { slot, block: ChildBlock::ForeachBody, data });
        }
        let children = Children { pending, max_concurrency: spec.max_concurrency, ..Children::default() };
        self.open_children(key, scope, index, children);
    }

    /// A Parallel: every branch on a copy of the input.
    pub(super) fn open_branches(&mut self, key: &str, scope: usize, index: usize, input: &Json, count: usize) {
        let mut pending = Vec::new();
        for slot in 0..count {
            if !self.charge(input) {
                return self.fail_final(key, over_budget("branches' data"));
            }
            pending.push(PendingChild { slot, block: ChildBlock::Branch(slot), data: input.clone() });
        }
        self.open_children(key, scope, index, Children { pending, ..Children::default() });
    }

    /// Counts `data`'s size against the execution's data budget; false once it would
    /// pass it. Children are built one at a time and building stops there, so no more
    /// than the budget is ever copied. Task inputs and outputs count too: they are copies
    /// the execution keeps (a 2,000-task DAG whose tasks each took an 8 MiB context as
    /// input would otherwise hold 16 GB).
    pub(super) fn charge(&mut self, data: &Json) -> bool {
        let left = MAX_EXECUTION_DATA_BYTES.saturating_sub(self.st.data_bytes);
        match estimate(data, left) {
            Ok(bytes) => {
                self.st.data_bytes += bytes;
                true
            }
            Err(_) => false,
        }
    }

    fn open_children(&mut self, key: &str, scope: usize, index: usize, mut children: Children) {
        // The root scope is not an iteration or branch: 10,000 iterations may open.
        if self.st.scopes.len() - 1 + children.pending.len() > MAX_SCOPES {
            let cause = format!(
                "{} iterations or branches would pass the {MAX_SCOPES} an execution may open",
                children.pending.len()
            );
            return self.fail_final(key, ErrorInfo::new("States.Runtime", cause));
        }
        children.results = vec![None; children.pending.len()];
        self.st.children.insert(key.to_string(), children);
        self.fill_children(key, scope, index);
    }

    /// Opens pending children up to the container's limit; ends it when none remain.
    fn fill_children(&mut self, key: &str, scope: usize, index: usize) {
        // Children that end at once report back into this loop rather than recursing.
        if self.filling.iter().any(|k| k == key) {
            return;
        }
        self.filling.push(key.to_string());
        self.fill_loop(key, scope, index);
        self.filling.retain(|k| k != key);
        let Some(children) = self.st.children.get(key) else { return };
        let running = self.st.tasks.get(key).is_some_and(|t| t.status() == super::TaskStatus::Running);
        if running && children.running.is_empty() && children.left() == 0 && !self.st.scopes[scope].closed {
            self.children_done(key, scope, index);
        }
    }

    fn fill_loop(&mut self, key: &str, scope: usize, index: usize) {
        loop {
            let Some(children) = self.st.children.get_mut(key) else { return };
            let limit = if children.max_concurrency == 0 { usize::MAX } else { children.max_concurrency };
            if children.running.len() >= limit {
                return;
            }
            let Some(child) = children.open_next() else { return };
            let id = self.st.scopes.len();
            children.running.insert(id);
            let mut path = self.st.scopes[scope].path.clone();
            path.push((index, child.block));
            let parent = ScopeParent { scope, node: index, slot: child.slot };
            let prefix = format!("{key}_{}-", child.slot);
            let new = Scope { path, parent: Some(parent), prefix, data: child.data, ..Scope::default() };
            self.st.scopes.push(new);
            self.st.record(self.now, "IterationStarted", Some(key), json!({ "slot": child.slot }));
            self.open_scope(id);
            if self.st.scopes[scope].closed {
                return;
            }
        }
    }

    /// A child scope ended.
    pub(super) fn child_done(&mut self, parent: ScopeParent, child: usize, result: Result<Json, ErrorInfo>) {
        if self.st.scopes[parent.scope].closed {
            return;
        }
        let node = self.node(parent.scope, parent.node);
        let key = self.st.key_of(parent.scope, &node.name);
        let Some(children) = self.st.children.get_mut(&key) else { return };
        children.running.remove(&child);
        match result {
            Ok(value) => {
                let left = MAX_EXECUTION_DATA_BYTES.saturating_sub(self.st.data_bytes);
                let Ok(bytes) = estimate(&value, left) else {
                    let running = std::mem::take(&mut children.running);
                    children.drop_pending();
                    for scope in running {
                        self.st.scopes[scope].closed = true;
                    }
                    return self.fail_final(&key, over_budget("iterations' and branches' results"));
                };
                self.st.data_bytes += bytes;
                children.set_result(parent.slot, value);
                self.fill_children(&key, parent.scope, parent.node);
            }
            Err(error) => {
                let running = std::mem::take(&mut children.running);
                children.drop_pending();
                for scope in running {
                    self.st.scopes[scope].closed = true;
                }
                self.fail_final(&key, error);
            }
        }
    }

    /// Every child ended well: the container's output is built from their results.
    fn children_done(&mut self, key: &str, scope: usize, index: usize) {
        let Some(children) = self.st.children.get(key) else { return };
        let results: Vec<Json> = children.results.iter().map(|r| r.clone().unwrap_or(Json::Null)).collect();
        let next = children.chosen_next.clone();
        let node = self.node(scope, index);
        let output = match &node.kind {
            NodeKind::Foreach(spec) if spec.output == ForeachOutput::SubContext => json!({ "sub_context": results }),
            NodeKind::Choice(_) => match results.len() {
                0 => self.st.tasks.get(key).and_then(|t| t.input.clone()).unwrap_or(Json::Null),
                1 => results.into_iter().next().unwrap_or(Json::Null),
                _ => Json::Array(results),
            },
            _ => Json::Array(results),
        };
        self.finish_ok(key, output, next);
    }
}

/// The error of a task whose data would pass the execution's data budget.
pub(super) fn over_budget(what: &str) -> ErrorInfo {
    let cause = format!("the {what} would pass the {} MiB one execution may copy", MAX_EXECUTION_DATA_BYTES >> 20);
    ErrorInfo::new("States.DataLimitExceeded", cause)
}
