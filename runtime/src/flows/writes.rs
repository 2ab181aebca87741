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

/// Transitions recorded and not yet written: their history and who waits for them.
#[derive(Default)]
pub(crate) struct Pending {
    events: Vec<ExecutionEvent>,
    replies: Vec<Reply>,
    dirty: bool,
}

impl Pending {
    /// Notes a transition: its history, who waits for it to be stored, and whether it
    /// changed anything else (job records to write).
    pub(crate) fn record(&mut self, events: Vec<ExecutionEvent>, reply: Option<Reply>, other_changes: bool) {
        self.dirty |= !events.is_empty() || reply.is_some() || other_changes;
        self.events.extend(events);
        self.replies.extend(reply);
    }

    /// True when something waits to be written.
    pub(crate) fn dirty(&self) -> bool {
        self.dirty
    }

    /// Takes the history and the waiters for the next write.
    pub(crate) fn take(&mut self) -> (Vec<ExecutionEvent>, Vec<Reply>) {
        self.dirty = false;
        (std::mem::take(&mut self.events), std::mem::take(&mut self.replies))
    }

    /// Tells the waiters that their transitions will not be written here.
    pub(crate) fn fail(&mut self, error: &StoreError) {
        for reply in self.replies.drain(..) {
            reply(Err(error.clone()));
        }
    }
}

/// The write in flight and who waits for it.
pub(crate) struct InFlight {
    write: WriteFuture,
    replies: Vec<Reply>,
}

impl InFlight {
    /// `write`, waited for by `replies`.
    pub(crate) fn new(write: WriteFuture, replies: Vec<Reply>) -> Self {
        Self { write, replies }
    }

    /// Waits for the write and tells its waiters. Cancel-safe: dropped before the end,
    /// the write stays in flight and a later call goes on waiting for it.
    pub(crate) async fn committed(&mut self) -> Result<(), StoreError> {
        let result = (&mut self.write).await;
        for reply in self.replies.drain(..) {
            reply(result.clone());
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

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().unwrap()
    }

    #[test]
    fn transitions_recorded_while_a_write_commits_go_into_the_next_one() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut pending = Pending::default();
        assert!(!pending.dirty(), "nothing recorded, nothing to write");
        pending.record(vec![event(1)], Some(reply(&log, "a")), false);
        let (events, replies) = pending.take();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
        let (gate, first) = oneshot::channel();
        let mut in_flight = InFlight::new(Box::pin(async move { first.await.unwrap() }), replies);
        pending.record(vec![event(2)], Some(reply(&log, "b")), false);
        pending.record(vec![event(3)], None, false);
        gate.send(Ok(())).unwrap();
        rt().block_on(in_flight.committed()).unwrap();
        assert_eq!(*log.lock().unwrap(), ["a:true"], "b waits for the write that carries it");
        let (events, replies) = pending.take();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        let mut second = InFlight::new(Box::pin(async { Ok(()) }), replies);
        rt().block_on(second.committed()).unwrap();
        assert_eq!(*log.lock().unwrap(), ["a:true", "b:true"]);
        assert!(!pending.dirty());
    }

    #[test]
    fn a_failed_write_fails_its_waiters_and_those_of_unwritten_transitions() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let error = StoreError::Database("disk full".into());
        let failing = error.clone();
        let mut in_flight = InFlight::new(Box::pin(async move { Err(failing) }), vec![reply(&log, "created")]);
        let mut pending = Pending::default();
        pending.record(vec![event(1)], Some(reply(&log, "callback")), false);
        assert_eq!(rt().block_on(in_flight.committed()), Err(error.clone()));
        pending.fail(&error);
        assert_eq!(*log.lock().unwrap(), ["created:false", "callback:false"]);
    }

    #[test]
    fn job_records_alone_make_a_write() {
        let mut pending = Pending::default();
        pending.record(Vec::new(), None, true);
        assert!(pending.dirty());
    }
}
