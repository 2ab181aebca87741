//! Group commit on PostgreSQL. A sync invocation writes one finished job, an async one a
//! waiting job and later its end; a transaction each would cost a WAL flush and several
//! round trips per call. Such writes queue here instead: whatever is queued when a writer
//! is free goes into one statement (one round trip, one flush at its commit), prepared
//! once per connection. Up to [`MAX_IN_FLIGHT`] batches commit at once. A batch that
//! fails is written again one item at a time, so only the item at fault fails.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{StoreError, StoreResult};

/// Most items in one statement.
const MAX_BATCH: usize = 256;
/// Batches committing at once: measured on 2 cores (scripts/bench-postgres.sh), 2 gave
/// 14.9k sync invokes/s, 1 gave 13.0k, 4 gave 11.2k, 8 gave 9.7k: fewer, larger batches
/// cost the database less CPU per job, one alone leaves the connection idle between them.
const MAX_IN_FLIGHT: usize = 2;

/// Told what became of one queued item, once its batch committed.
pub(super) type Done = Box<dyn FnOnce(StoreResult<i64>) + Send>;

/// A kind of write that commits many items with one statement.
#[async_trait]
pub(super) trait BatchWrite: Send + Sync + 'static {
    /// One queued item.
    type Item: Send + Sync + 'static;
    /// Writes `items` in one statement; one result per item, in order.
    async fn commit(&self, pool: &Pool, items: &[&Self::Item]) -> StoreResult<Vec<i64>>;
}

struct Queued<T> {
    item: T,
    done: Done,
}

/// The queue of one kind of write and its writer task.
pub(super) struct Batcher<W: BatchWrite> {
    queue: mpsc::UnboundedSender<Queued<W::Item>>,
}

impl<W: BatchWrite> Batcher<W> {
    /// Starts the writer on the current runtime.
    pub(super) fn start(pool: Pool, write: W) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, Arc::new(write), rx));
        Self { queue }
    }

    /// Queues an item; `done` hears its result once committed (from any thread).
    pub(super) fn submit(&self, item: W::Item, done: Done) {
        if let Err(refused) = self.queue.send(Queued { item, done }) {
            (refused.0.done)(Err(StoreError::Database("the store's writer has stopped".into())));
        }
    }

    /// Writes an item and waits for its commit.
    pub(super) async fn write(&self, item: W::Item) -> StoreResult<i64> {
        let (tx, rx) = oneshot::channel();
        self.submit(item, Box::new(move |written| drop(tx.send(written))));
        rx.await.map_err(|_| StoreError::Database("the store's writer has stopped".into()))?
    }
}

async fn run<W: BatchWrite>(pool: Pool, write: Arc<W>, mut queue: mpsc::UnboundedReceiver<Queued<W::Item>>) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        // Waiting for a free writer lets more items join this batch.
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(queued) => batch.push(queued),
                Err(_) => break,
            }
        }
        let (pool, write) = (pool.clone(), write.clone());
        tokio::spawn(async move {
            commit_batch(&pool, &*write, batch).await;
            drop(permit);
        });
    }
}

async fn commit_batch<W: BatchWrite>(pool: &Pool, write: &W, batch: Vec<Queued<W::Item>>) {
    let items: Vec<&W::Item> = batch.iter().map(|q| &q.item).collect();
    let results = write.commit(pool, &items).await;
    drop(items);
    match results {
        Ok(results) if results.len() == batch.len() => {
            for (queued, result) in batch.into_iter().zip(results) {
                (queued.done)(Ok(result));
            }
        }
        Ok(results) => {
            let error = StoreError::Database(format!("{} items written, {} results", batch.len(), results.len()));
            for queued in batch {
                (queued.done)(Err(error.clone()));
            }
        }
        Err(_) if batch.len() > 1 => {
            for queued in batch {
                let result = write.commit(pool, &[&queued.item]).await;
                let one = result.and_then(|r| {
                    r.first().copied().ok_or_else(|| StoreError::Database("a write returned no result".into()))
                });
                (queued.done)(one);
            }
        }
        Err(error) => {
            for queued in batch {
                (queued.done)(Err(error.clone()));
            }
        }
    }
}
