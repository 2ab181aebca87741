//! The bound on waiting async jobs (`RunnerConfig::max_waiting_jobs`). Counting the
//! waiting jobs at every submission costs a scan that grows with the backlog, and on
//! PostgreSQL a round trip; so the count is read from the store at most every
//! [`REFRESH`] and counted up locally in between. All nodes together may pass the bound by
//! what they accept within one refresh: it is a brake on a runaway backlog, not a quota.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ServiceError;
use crate::store::Store;

/// How old the count may get before it is read again.
const REFRESH: Duration = Duration::from_millis(100);

/// The waiting jobs as last counted, and when.
pub(super) struct Backlog {
    store: Arc<dyn Store>,
    limit: i64,
    counted: Mutex<Option<(Instant, i64)>>,
}

impl Backlog {
    pub(super) fn new(store: Arc<dyn Store>, limit: i64) -> Self {
        Self { store, limit, counted: Mutex::new(None) }
    }

    /// Takes a place for one more waiting job; `Err(waiting)` when the bound is reached.
    pub(super) async fn admit(&self) -> Result<Result<(), i64>, ServiceError> {
        let fresh = |c: &Option<(Instant, i64)>| c.is_some_and(|(at, _)| at.elapsed() < REFRESH);
        if !fresh(&self.lock()) {
            let waiting = self.store.count_waiting().await?;
            *self.lock() = Some((Instant::now(), waiting));
        }
        let mut counted = self.lock();
        let Some((_, waiting)) = counted.as_mut() else { return Ok(Ok(())) };
        if *waiting >= self.limit {
            return Ok(Err(*waiting));
        }
        *waiting += 1;
        Ok(Ok(()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, i64)>> {
        self.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
