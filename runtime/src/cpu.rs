//! CPU-heavy work a request brings (parsing a flow definition, compiling a module) runs
//! here: on blocking threads, never on the async workers that serve every other request,
//! and at most a few at once, so a burst of huge uploads queues instead of taking every
//! core and thread.

use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;

use crate::error::ServiceError;

/// How many such jobs run at once: one per core, at least two.
fn permits() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

static POOL: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(permits())));

/// Runs `work` on a blocking thread once one of the pool's permits is free.
pub async fn run<T, F>(work: F) -> Result<T, ServiceError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let permit = POOL.clone().acquire_owned().await.map_err(|e| ServiceError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("a background task failed: {e}")))
}
