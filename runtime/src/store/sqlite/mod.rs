//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes go through one writer thread that commits whatever is queued as one
//! transaction (group commit), each write in its own savepoint; with WAL and
//! `synchronous = NORMAL` a commit does not wait for fsync, so callers wait microseconds,
//! and a process crash loses nothing that was committed (a power loss may lose the last
//! commits). Reads use a small pool of connections and never block the writer, and WAL
//! checkpoints run on a thread of their own (`checkpoint.rs`).

mod apps;
mod bins;
mod checkpoint;
mod executions;
mod flows;
mod functions;
mod jobs;
mod rows;
mod schema;
mod trait_impl;

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::StoreError;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;
/// Read connections kept open.
const READERS: usize = 4;

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: given the writer's connection (or `None` when no transaction could be
/// begun), it runs and reports whether to keep its changes and how to tell its caller.
type WriteOp = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;

/// The SQLite implementation of [`super::Store`].
pub struct SqliteStore {
    writer: Mutex<Option<mpsc::Sender<WriteOp>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<checkpoint::Checkpointer>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: std::path::PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn db_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (or creates) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer_conn = open(path).map_err(db_error)?;
        schema::migrate(&mut writer_conn).map_err(db_error)?;
        writer_conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES).map_err(db_error)?;
        let checkpointer = checkpoint::Checkpointer::spawn(open(path).map_err(db_error)?).map_err(db_error)?;
        let readers = (0..READERS).map(|_| open(path)).collect::<rusqlite::Result<Vec<_>>>().map_err(db_error)?;
        let (tx, rx) = mpsc::channel::<WriteOp>();
        let thread = std::thread::Builder::new()
            .name("cloudexec-sqlite-writer".into())
            .spawn(move || write_loop(writer_conn, rx))
            .map_err(db_error)?;
        Ok(Self {
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(Mutex::new(readers)),
            path: path.to_path_buf(),
        })
    }

    /// Stops accepting writes, commits what is queued and waits for the writer to end.
    pub fn close(&self) {
        drop(self.writer.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(thread) = self.writer_thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
        if let Some(checkpointer) = self.checkpointer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            checkpointer.stop();
        }
    }

    /// Runs `f` in the writer's next transaction and returns its result once committed.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = oneshot::channel();
        let op: WriteOp = Box::new(move |conn| {
            let result = conn.map_or_else(|| Err(db_error("could not begin a transaction")), f);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, completion)
        });
        let sender = self.writer.lock().unwrap_or_else(|p| p.into_inner()).clone();
        sender
            .ok_or_else(|| db_error("the store is closed"))?
            .send(op)
            .map_err(|_| db_error("the writer has stopped"))?;
        rx.await.map_err(|_| db_error("the writer dropped a write"))?
    }

    /// Runs `f` on a pooled read connection, off the async threads.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match conn {
                Some(conn) => conn,
                None => open(&path)?,
            };
            let result = f(&conn);
            let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < READERS {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(db_error)?
        .map_err(db_error)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// Runs a statement from the connection's statement cache (the writer's transaction
/// control runs thousands of times a second; parsing it each time shows).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// The writer thread: takes what is queued, runs each op in a savepoint (so one failing
/// write does not undo the others), commits once, then tells every op how it went.
fn write_loop(conn: Connection, rx: mpsc::Receiver<WriteOp>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let begun = exec(&conn, "BEGIN IMMEDIATE").map_err(db_error);
        let mut completions = Vec::with_capacity(batch.len());
        for op in batch {
            if begun.is_err() {
                completions.push(op(None).1);
                continue;
            }
            let _ = exec(&conn, "SAVEPOINT op");
            let (ok, completion) = op(Some(&conn));
            if !ok {
                let _ = exec(&conn, "ROLLBACK TO op");
            }
            let _ = exec(&conn, "RELEASE op");
            completions.push(completion);
        }
        let committed = begun.and_then(|()| exec(&conn, "COMMIT").map_err(db_error));
        if committed.is_err() {
            let _ = exec(&conn, "ROLLBACK");
        }
        for completion in completions {
            completion(committed.clone());
        }
    }
}
