//! Bounded execution: at most `max_concurrency` guests run at once, on blocking threads
//! (host functions are synchronous), and at most `max_queue` more wait for a slot. Past
//! that, callers are refused at once instead of piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Refusal because every slot and queue place is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many invocations in flight ({0} running or queued); try again later")]
pub struct Throttled(pub usize);

/// Runs invocations with bounded concurrency and a bounded queue.
#[derive(Debug)]
pub struct Executor {
    slots: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    capacity: usize,
}

/// A running slot taken without waiting; freed on drop.
#[derive(Debug)]
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

/// A place in the executor, taken before the work starts; freed on drop.
#[derive(Debug)]
pub struct Ticket {
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Executor {
    /// An executor with `max_concurrency` slots and `max_queue` waiting places.
    pub fn new(max_concurrency: usize, max_queue: usize) -> Self {
        let max_concurrency = max_concurrency.max(1);
        Self {
            slots: Arc::new(Semaphore::new(max_concurrency)),
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: max_concurrency + max_queue,
        }
    }

    /// Takes a place, or refuses at once when running + queued is at capacity.
    pub fn try_enter(&self) -> Result<Ticket, Throttled> {
        let mut current = self.in_flight.load(Ordering::Acquire);
        loop {
            if current >= self.capacity {
                return Err(Throttled(current));
            }
            match self.in_flight.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(Ticket { in_flight: self.in_flight.clone() }),
                Err(actual) => current = actual,
            }
        }
    }

    /// Takes a place even past capacity: for work already accepted (queued async jobs).
    pub fn enter(&self) -> Ticket {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Ticket { in_flight: self.in_flight.clone() }
    }

    /// Waits for a slot, then runs `work` on a blocking thread.
    pub async fn run<T: Send + 'static>(&self, ticket: Ticket, work: impl FnOnce() -> T + Send + 'static) -> T {
        let permit = self.slots.clone().acquire_owned().await;
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            drop(ticket);
            out
        })
        .await;
        match result {
            Ok(out) => out,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// A slot free right now, or `None` when all are taken (the caller then waits in
    /// [`Executor::run`]).
    pub fn try_slot(&self) -> Option<Slot> {
        self.slots.clone().try_acquire_owned().ok().map(Slot)
    }

    /// Runs `work` in `slot` on a blocking thread, frees the slot, then hands the result
    /// to `done` on that same thread: the caller does not wait, and no async task sits
    /// between the guest and whoever `done` tells.
    pub fn spawn_in<T: Send + 'static>(
        slot: Slot,
        ticket: Ticket,
        work: impl FnOnce() -> T + Send + 'static,
        done: impl FnOnce(T) + Send + 'static,
    ) {
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(slot);
            drop(ticket);
            done(out);
        });
    }

    /// Slots free right now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// Invocations running or waiting for a slot.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}
