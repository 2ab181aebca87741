//! The writer thread: group commit with a savepoint per write, and no half-applied batch.
//! When SQLite rolls the whole transaction back under a write (a full disk, an I/O
//! error), every write of the batch fails, none is run outside the transaction, and the
//! store reports itself unwritable until a commit succeeds again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use super::{MAX_BATCH, WriteOp, db_error};
use crate::StoreError;

/// Runs a statement from the connection's statement cache (the writer's transaction
/// control runs thousands of times a second; parsing it each time shows).
fn exec(conn: &Connection, sql: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute([])).map(drop).map_err(db_error)
}

/// Takes what is queued, runs each write in a savepoint (so one failing write does not
/// undo the others), commits once, then tells every write how it went.
pub(super) fn write_loop(conn: Connection, rx: mpsc::Receiver<WriteOp>, writable: &AtomicBool) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, writable);
    }
}

/// One transaction over `batch`; every completion hears the transaction's fate. When a
/// write or the commit failed for want of space, `writable` is cleared before any caller
/// hears of it (only a probe that writes again, `SqliteStore::writable`, sets it: a small
/// write that fits says nothing about the space a larger one needs).
fn run_batch(conn: &Connection, batch: Vec<WriteOp>, writable: &AtomicBool) {
    let mut full = false;
    let mut outcome = exec(conn, "BEGIN IMMEDIATE");
    let mut completions = Vec::with_capacity(batch.len());
    for op in batch {
        if outcome.is_err() {
            completions.push(op(None).1);
            continue;
        }
        let _ = exec(conn, "SAVEPOINT op");
        let (failed, completion) = op(Some(conn));
        completions.push(completion);
        full |= matches!(failed, Some(StoreError::Full(_)));
        if conn.is_autocommit() {
            // SQLite rolled the transaction back under this write: what the batch did is
            // gone, and the writes after it must not run on their own.
            outcome = Err(failed.unwrap_or_else(|| StoreError::Database("the transaction was rolled back".into())));
            continue;
        }
        if failed.is_some() {
            let _ = exec(conn, "ROLLBACK TO op");
        }
        let _ = exec(conn, "RELEASE op");
    }
    if outcome.is_ok() {
        outcome = exec(conn, "COMMIT");
    }
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    if full || matches!(outcome, Err(StoreError::Full(_))) {
        writable.store(false, Ordering::SeqCst);
    }
    for completion in completions {
        completion(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    type Heard = Arc<Mutex<Vec<Result<(), StoreError>>>>;

    /// A write running `sql`; what its completion hears goes into `heard`.
    fn op(sql: &'static str, heard: &Heard) -> WriteOp {
        let heard = heard.clone();
        Box::new(move |conn| {
            let failed = conn.and_then(|c| c.execute_batch(sql).err()).map(db_error);
            let completion: super::super::Completion = Box::new(move |commit| {
                heard.lock().unwrap_or_else(|p| p.into_inner()).push(commit);
            });
            (failed, completion)
        })
    }

    fn rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap_or(-1)
    }

    #[test]
    fn a_batch_whose_transaction_was_rolled_back_fails_whole_and_runs_nothing_outside_it() {
        let conn = Connection::open_in_memory().expect("opens");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").expect("table");
        let heard: Heard = Arc::default();
        // The middle write loses the transaction, as SQLite does on a full disk.
        let batch = vec![
            op("INSERT INTO t VALUES (1)", &heard),
            op("ROLLBACK", &heard),
            op("INSERT INTO t VALUES (3)", &heard),
        ];
        run_batch(&conn, batch, &AtomicBool::new(true));
        assert_eq!(rows(&conn), 0, "nothing of the batch is kept, and the last write did not run on its own");
        let heard = heard.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(heard.len(), 3);
        assert!(heard.iter().all(Result::is_err), "{heard:?}");
        assert!(conn.is_autocommit());
    }

    #[test]
    fn a_failing_write_is_undone_alone_and_the_others_commit() {
        let conn = Connection::open_in_memory().expect("opens");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").expect("table");
        let heard: Heard = Arc::default();
        let batch = vec![
            op("INSERT INTO t VALUES (1)", &heard),
            op("INSERT INTO t VALUES (2); INSERT INTO nowhere VALUES (1)", &heard),
            op("INSERT INTO t VALUES (3)", &heard),
        ];
        run_batch(&conn, batch, &AtomicBool::new(true));
        assert_eq!(rows(&conn), 2);
        assert!(heard.lock().unwrap_or_else(|p| p.into_inner()).iter().all(Result::is_ok));
    }
}
