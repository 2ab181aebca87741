//! The threads guests run on. Guests need plain threads (host functions block, and WASI's
//! sync bindings enter a Tokio runtime, which a worker thread cannot), and handing work
//! to a sleeping thread costs a futex wake-up on both sides: on this VM 20–190 µs, the
//! largest part of a sync call. So a thread that finishes its work looks for more for a
//! short while before it sleeps: under load the next call finds it awake and nobody
//! sleeps or wakes. At most [`MAX_SPINNING`] threads look at once, and each yields the
//! CPU while it looks, so an idle server spends next to nothing on it.
//!
//! Threads are made as needed (the executor's slots bound how many run at once) and end
//! after [`IDLE_EXIT`] without work. Each enters the Tokio runtime it was made from, as
//! `spawn_blocking`'s threads do, so work can spawn tasks and WASI can block on it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Work for a guest thread.
pub(crate) type Work = Box<dyn FnOnce() + Send>;

/// How long a thread that ran out of work looks for more before it sleeps.
const SPIN: Duration = Duration::from_micros(50);
/// Threads looking for work at once; the others sleep.
const MAX_SPINNING: usize = 1;
/// A thread without work for this long ends.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// A pool of guest threads.
#[derive(Debug, Default)]
pub(crate) struct GuestThreads {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Length of the queue, read without the lock by looking threads.
    queued: AtomicUsize,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Work>,
    /// Threads looking for work.
    spinning: usize,
    /// Threads asleep and not yet told to wake.
    sleeping: usize,
    /// Wake-ups sent and not yet taken by a sleeper.
    wakeups: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("queued", &self.queue.len()).field("sleeping", &self.sleeping).finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl GuestThreads {
    /// Runs `work` on a guest thread: one looking for work takes it, else a sleeping one
    /// is woken, else a new one is made.
    pub(crate) fn spawn(&self, work: Work) {
        let mut state = self.shared.lock();
        state.queue.push_back(work);
        self.shared.queued.fetch_add(1, Ordering::Release);
        if state.queue.len() <= state.spinning {
            return;
        }
        if state.sleeping > 0 {
            state.sleeping -= 1;
            state.wakeups += 1;
            drop(state);
            self.shared.wake.notify_one();
            return;
        }
        drop(state);
        let shared = self.shared.clone();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let spawned = std::thread::Builder::new().name("cloudexec-guest".into()).spawn(move || {
            let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
            serve(&shared);
        });
        if let Err(error) = spawned {
            // The work stays queued for the next thread that looks.
            tracing::error!(%error, "cannot start a guest thread");
        }
    }
}

/// A guest thread's life: run what is queued, look for more a while, sleep, and end
/// after [`IDLE_EXIT`] without work.
fn serve(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(work) = state.queue.pop_front() {
            shared.queued.fetch_sub(1, Ordering::Release);
            drop(state);
            work();
            state = shared.lock();
            continue;
        }
        if state.spinning < MAX_SPINNING {
            state.spinning += 1;
            drop(state);
            let until = Instant::now() + SPIN;
            while shared.queued.load(Ordering::Acquire) == 0 && Instant::now() < until {
                std::thread::yield_now();
            }
            state = shared.lock();
            state.spinning -= 1;
            if !state.queue.is_empty() {
                continue;
            }
        }
        state.sleeping += 1;
        let (woken, waited) = shared.wake.wait_timeout(state, IDLE_EXIT).unwrap_or_else(|p| p.into_inner());
        state = woken;
        if state.wakeups > 0 {
            state.wakeups -= 1;
        } else {
            state.sleeping = state.sleeping.saturating_sub(1);
            if waited.timed_out() && state.queue.is_empty() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn every_work_runs_whether_threads_look_sleep_or_are_new() {
        let pool = GuestThreads::default();
        let (tx, rx) = mpsc::channel();
        for round in 0..4 {
            for i in 0..50 {
                let tx = tx.clone();
                pool.spawn(Box::new(move || tx.send((round, i)).unwrap()));
            }
            let got: Vec<_> = (0..50).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
            assert_eq!(got.len(), 50);
            // Now every thread has looked for work and gone to sleep: the next round wakes them.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn work_that_waits_for_other_work_gets_a_thread_of_its_own() {
        let pool = Arc::new(GuestThreads::default());
        let (tx, rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        pool.spawn(Box::new(move || done_tx.send(rx.recv_timeout(Duration::from_secs(10)).is_ok()).unwrap()));
        pool.spawn(Box::new(move || tx.send(()).unwrap()));
        assert!(done_rx.recv_timeout(Duration::from_secs(15)).unwrap());
    }
}
