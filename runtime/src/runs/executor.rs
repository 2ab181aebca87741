//! Bounded execution: at most `max_concurrency` guests run at once, on guest threads
//! (host functions are synchronous), and at most `max_queue` more wait for a slot. Past
//! that, callers are refused at once instead of piling up. Slots and queue places are
//! shared fairly between apps ([`super::admission`]).

use std::sync::Arc;
use std::time::Instant;

use super::admission::{Admission, AppLimits, Place, Refusal, SlotGrant};
use super::guest_threads::GuestThreads;
use super::metrics::Metrics;

/// Runs invocations with bounded concurrency and a bounded queue, fair across apps, and
/// counts them: every guest run, whoever its caller, takes its place here, so the metrics
/// live here too.
#[derive(Debug)]
pub struct Executor {
    admission: Arc<Admission>,
    metrics: Metrics,
    threads: GuestThreads,
}

/// Work queued to run next on this guest thread (see [`Executor::spawn_in`]).
type Continuation = Box<dyn FnOnce() + Send>;

/// What a guest thread will run after the current work's `done`.
enum Next {
    /// Inside a job's `done`: the first work it starts is queued here.
    Accepting,
    /// Queued.
    Queued(Continuation),
}

thread_local! {
    static NEXT: std::cell::RefCell<Option<Next>> = const { std::cell::RefCell::new(None) };
}

/// Runs `job`, then whatever each job's `done` queued to run next on this thread.
fn run_chain(job: Continuation) {
    /// Leaves the thread with nothing queued, even when a job panics.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            NEXT.with(|next| *next.borrow_mut() = None);
        }
    }
    let _clear = Clear;
    let mut job = Some(job);
    while let Some(current) = job.take() {
        NEXT.with(|next| *next.borrow_mut() = None);
        current();
        job = NEXT.with(|next| match next.borrow_mut().take() {
            Some(Next::Queued(queued)) => Some(queued),
            _ => None,
        });
    }
}

/// A running slot of an app; freed on drop.
pub type Slot = SlotGrant;

/// A place of an app in the executor, taken before the work starts; freed on drop.
pub type Ticket = Place;

impl Executor {
    /// An executor with `max_concurrency` slots and `max_queue` waiting places; one app
    /// may hold `app_share` (0–1) of each unless its own limits say otherwise.
    pub fn new(max_concurrency: usize, max_queue: usize, app_share: f64) -> Self {
        let admission = Admission::new(max_concurrency, max_queue, app_share);
        Self { admission, metrics: Metrics::new(), threads: GuestThreads::default() }
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Takes a place for the app, or refuses at once (counted per app): the server or the
    /// app at capacity, or the app's rate limit reached.
    pub fn try_enter(&self, app: i64) -> Result<Ticket, Refusal> {
        self.admission.try_enter(app).inspect_err(|_| self.metrics.throttled(app))
    }

    /// Takes a place even past capacity: for work already accepted (queued async jobs).
    pub fn enter(&self, app: i64) -> Ticket {
        self.admission.enter(app)
    }

    /// Checks the app's rate limit only (async submissions wait in the store); a refusal
    /// is counted.
    pub fn check_rate(&self, app: i64) -> Result<(), Refusal> {
        self.admission.check_rate(app).inspect_err(|_| self.metrics.throttled(app))
    }

    /// Sets an app's limits.
    pub fn set_limits(&self, app: i64, limits: AppLimits) {
        self.admission.set_limits(app, limits);
    }

    /// An app's own limits (`None`: the default).
    pub fn limits(&self, app: i64) -> AppLimits {
        self.admission.limits(app)
    }

    /// `(max_running, max_queue)` of an app without limits of its own.
    pub fn default_limits(&self) -> (usize, usize) {
        self.admission.defaults()
    }

    /// Waits for a slot of the ticket's app, until `deadline` when one is given
    /// (`None` once it passed).
    pub async fn slot(&self, ticket: &Ticket, deadline: Option<Instant>) -> Option<Slot> {
        let waiting = self.admission.slot(ticket.app());
        match deadline {
            None => Some(waiting.await),
            Some(at) => tokio::time::timeout_at(at.into(), waiting).await.ok(),
        }
    }

    /// Waits for a slot of the ticket's app as long as it takes.
    pub async fn wait_slot(&self, ticket: &Ticket) -> Slot {
        self.admission.slot(ticket.app()).await
    }

    /// Waits for a slot, then runs `work` on a guest thread.
    pub async fn run<T: Send + 'static>(&self, ticket: Ticket, work: impl FnOnce() -> T + Send + 'static) -> T {
        let slot = self.admission.slot(ticket.app()).await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let caught = move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        self.spawn_in(slot, ticket, caught, move |out| {
            let _ = tx.send(out);
        });
        match rx.await {
            Ok(Ok(out)) => out,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("a guest thread dropped its work"),
        }
    }

    /// A slot of the app free right now, or `None` when none is (the caller then waits
    /// in [`Executor::run`]).
    pub fn try_slot(&self, app: i64) -> Option<Slot> {
        self.admission.try_slot(app)
    }

    /// Runs `work` in `slot` on a guest thread, frees the slot, then hands the result
    /// to `done` on that same thread: the caller does not wait, and no async task sits
    /// between the guest and whoever `done` tells. When `done` itself starts work this
    /// way, the first such work runs next on the same thread instead of waking another
    /// (a chain of guests, each started by the previous one's answer, stays on one
    /// thread); any more go to other threads.
    pub fn spawn_in<T: Send + 'static>(
        &self,
        slot: Slot,
        ticket: Ticket,
        work: impl FnOnce() -> T + Send + 'static,
        done: impl FnOnce(T) + Send + 'static,
    ) {
        let job: Continuation = Box::new(move || {
            let out = work();
            drop(slot);
            drop(ticket);
            // Only what `done` starts may run next here: work the guest itself waits for
            // must not queue behind it.
            NEXT.with(|next| *next.borrow_mut() = Some(Next::Accepting));
            done(out);
        });
        let queued = NEXT.with(|next| {
            let mut next = next.borrow_mut();
            if matches!(*next, Some(Next::Accepting)) {
                *next = Some(Next::Queued(job));
                None
            } else {
                Some(job)
            }
        });
        if let Some(job) = queued {
            self.threads.spawn(Box::new(move || run_chain(job)));
        }
    }

    /// Slots free right now.
    pub fn free_slots(&self) -> usize {
        self.admission.free_slots()
    }

    /// Apps running their whole share (the dispatcher claims none of their jobs).
    pub fn saturated_apps(&self) -> Vec<i64> {
        self.admission.saturated_apps()
    }

    /// Invocations running or waiting for a slot.
    pub fn in_flight(&self) -> usize {
        self.admission.in_flight()
    }
}

#[cfg(test)]
mod chain_tests {
    use std::sync::mpsc;
    use std::thread::ThreadId;

    use super::*;

    /// Starts work in a free slot of `executor` that reports its thread to `tx`, then
    /// runs `then` in its `done`.
    fn start(
        executor: &Arc<Executor>,
        tx: mpsc::Sender<(&'static str, ThreadId)>,
        name: &'static str,
        then: impl FnOnce() + Send + 'static,
    ) {
        let slot = executor.try_slot(1).expect("a free slot");
        executor.spawn_in(
            slot,
            executor.enter(1),
            move || std::thread::current().id(),
            move |id| {
                tx.send((name, id)).unwrap();
                then();
            },
        );
    }

    #[test]
    fn the_first_work_a_done_starts_runs_next_on_the_same_thread_and_others_elsewhere() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let executor = Arc::new(Executor::new(4, 0, 1.0));
        let (tx, rx) = mpsc::channel();
        let (other_ran, other_done) = mpsc::channel();
        let (waited, wait_result) = mpsc::channel();
        let _guard = rt.enter();
        let (ex, tx2) = (executor.clone(), tx.clone());
        start(&executor, tx, "first", move || {
            let handle = rt_handle();
            let _runtime = handle.enter();
            // `next` waits for `other`: were `other` queued behind it, it would wait in vain.
            start(&ex, tx2.clone(), "next", move || {
                waited.send(other_done.recv_timeout(std::time::Duration::from_secs(5)).is_ok()).unwrap();
            });
            start(&ex, tx2, "other", move || other_ran.send(()).unwrap());
        });
        let mut seen: Vec<(&str, ThreadId)> =
            (0..3).map(|_| rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap()).collect();
        seen.sort_by_key(|(name, _)| *name);
        let [(_, first), (_, next), _] = [seen[0], seen[1], seen[2]];
        assert_eq!(next, first, "the first work started by a done runs on its thread");
        assert!(wait_result.recv_timeout(std::time::Duration::from_secs(10)).unwrap(), "further work runs elsewhere");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(executor.free_slots(), 4, "every slot is given back");
    }

    fn rt_handle() -> tokio::runtime::Handle {
        tokio::runtime::Handle::current()
    }
}
