//! The writes of one live execution. At most one is in flight; transitions made while it
//! commits are gathered into the next one. So the next task never waits for a commit,
//! transitions that come faster than commits share one, and writes land in the order
//! they were made whatever the store (the next is issued only once the last committed).
//! What must not be seen before it is stored (a callback's reply, the end) waits for the
//! write that carries it.

use std::future::Future;
use std::pin::Pin;

use crate::store::{ExecutionEvent, StoreError};

/// A queued store write.
pub(crate) type WriteFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// Told how the write carrying its transition went.
pub(crate) type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// The execution's write in flight and what waits to be written next.
#[derive(Default)]
pub(crate) struct Writes {
    in_flight: Option<(WriteFuture, Vec<Reply>)>,
    events: Vec<ExecutionEvent>,
    replies: Vec<Reply>,
    dirty: bool,
}

impl Writes {
    /// Writes that begin with `first` already in flight (an execution's creation).
    pub(crate) fn starting_with(first: WriteFuture, reply: Reply) -> Self {
        Self { in_flight: Some((first, vec![reply])), ..Self::default() }
    }

    /// Notes a transition: its history, who waits for it to be stored, and whether it
    /// changed anything else (job records to write).
    pub(crate) fn record(&mut self, events: Vec<ExecutionEvent>, reply: Option<Reply>, other_changes: bool) {
        self.dirty |= !events.is_empty() || reply.is_some() || other_changes;
        self.events.extend(events);
        self.replies.extend(reply);
    }

    /// True when a write is in flight.
    pub(crate) fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// True when transitions wait and nothing is in flight: time to issue the next write.
    pub(crate) fn ready_to_issue(&self) -> bool {
        self.in_flight.is_none() && self.dirty
    }

    /// Takes the history waiting to be written; `write` (built from it and the current
    /// state) goes in flight, carrying the replies waiting so far.
    pub(crate) fn issue(&mut self, write: impl FnOnce(Vec<ExecutionEvent>) -> WriteFuture) {
        let events = std::mem::take(&mut self.events);
        let replies = std::mem::take(&mut self.replies);
        self.dirty = false;
        self.in_flight = Some((write(events), replies));
    }

    /// Waits for the write in flight (forever when there is none), tells its waiters, and
    /// on failure also those of transitions not yet written (they never will be here).
    pub(crate) async fn committed(&mut self) -> Result<(), StoreError> {
        let Some((write, _)) = self.in_flight.as_mut() else {
            return std::future::pending().await;
        };
        let result = write.await;
        let replies = self.in_flight.take().map(|(_, replies)| replies).unwrap_or_default();
        for reply in replies {
            reply(result.clone());
        }
        if result.is_err() {
            for reply in self.replies.drain(..) {
                reply(result.clone());
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::sync::oneshot;

    use super::*;

    fn event(seq: i64) -> ExecutionEvent {
        ExecutionEvent { seq, at: 0, kind: "TaskSucceeded".into(), node: None, detail: serde_json::json!({}) }
    }

    /// A reply that notes what it was told in `log`.
    fn reply(log: &Arc<Mutex<Vec<String>>>, name: &'static str) -> Reply {
        let log = log.clone();
        Box::new(move |r| log.lock().unwrap().push(format!("{name}:{}", r.is_ok())))
    }

    /// A write that completes when `gate` is sent to, after noting which events it carried.
    fn gated(
        carried: &Arc<Mutex<Vec<Vec<i64>>>>,
        gate: oneshot::Receiver<Result<(), StoreError>>,
    ) -> impl FnOnce(Vec<ExecutionEvent>) -> WriteFuture {
        let carried = carried.clone();
        move |events| {
            carried.lock().unwrap().push(events.iter().map(|e| e.seq).collect());
            Box::pin(async move { gate.await.unwrap() })
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().unwrap()
    }

    #[test]
    fn transitions_made_while_a_write_commits_share_the_next_write() {
        let (log, carried) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let mut writes = Writes::default();
        assert!(!writes.ready_to_issue(), "nothing recorded, nothing to write");
        writes.record(vec![event(1)], Some(reply(&log, "a")), false);
        let (first, gate1) = oneshot::channel();
        writes.issue(gated(&carried, gate1));
        writes.record(vec![event(2)], Some(reply(&log, "b")), false);
        writes.record(vec![event(3)], None, false);
        assert!(!writes.ready_to_issue(), "one write in flight at a time");
        first.send(Ok(())).unwrap();
        rt().block_on(writes.committed()).unwrap();
        assert_eq!(*log.lock().unwrap(), ["a:true"], "b waits for the write that carries it");
        assert!(writes.ready_to_issue());
        let (second, gate2) = oneshot::channel();
        writes.issue(gated(&carried, gate2));
        second.send(Ok(())).unwrap();
        rt().block_on(writes.committed()).unwrap();
        assert_eq!(*carried.lock().unwrap(), [vec![1], vec![2, 3]]);
        assert_eq!(*log.lock().unwrap(), ["a:true", "b:true"]);
        assert!(!writes.in_flight() && !writes.ready_to_issue());
    }

    #[test]
    fn a_failed_write_fails_its_waiters_and_those_of_unwritten_transitions() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (gate, first) = oneshot::channel();
        let mut writes = Writes::starting_with(Box::pin(async move { first.await.unwrap() }), reply(&log, "created"));
        writes.record(vec![event(1)], Some(reply(&log, "callback")), false);
        gate.send(Err(StoreError::Database("disk full".into()))).unwrap();
        let result = rt().block_on(writes.committed());
        assert_eq!(result, Err(StoreError::Database("disk full".into())));
        assert_eq!(*log.lock().unwrap(), ["created:false", "callback:false"]);
        assert!(!writes.in_flight());
    }

    #[test]
    fn job_records_alone_make_a_write() {
        let mut writes = Writes::default();
        writes.record(Vec::new(), None, true);
        assert!(writes.ready_to_issue());
    }
}
