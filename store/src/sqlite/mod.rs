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
mod deliveries;
mod executions;
mod flows;
mod functions;
mod jobs;
mod listings;
mod overview;
mod rows;
mod schema;
mod signals;
mod trait_impl;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::StoreError;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;
/// Size of the write that probes whether a full store takes writes again.
const PROBE_BYTES: i64 = 256 * 1024;
/// Read connections kept open.
const READERS: usize = 4;

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: given the writer's connection (or `None` when no transaction could be
/// begun), it runs and reports its error, if any (its changes are then undone), and how
/// to tell its caller.
type WriteOp = Box<dyn FnOnce(Option<&Connection>) -> (Option<StoreError>, Completion) + Send>;

/// The SQLite implementation of [`super::Store`].
pub struct SqliteStore {
    writer: Mutex<Option<mpsc::Sender<WriteOp>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<checkpoint::Checkpointer>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: std::path::PathBuf,
    /// False since a write failed for want of space, until a probe write succeeds again.
    writable: Arc<AtomicBool>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

/// A database error as a [`StoreError`]: a full database or disk is [`StoreError::Full`]
/// (clients get a 503 saying so), a missing referenced row [`StoreError::NotFound`].
fn db_error(e: impl std::fmt::Display + 'static) -> StoreError {
    use rusqlite::ffi::{ErrorCode, SQLITE_CONSTRAINT_FOREIGNKEY};
    let sql = (&e as &dyn std::any::Any).downcast_ref::<rusqlite::Error>().and_then(rusqlite::Error::sqlite_error);
    match sql {
        Some(f) if f.code == ErrorCode::DiskFull => StoreError::Full(e.to_string()),
        Some(f) if f.extended_code == SQLITE_CONSTRAINT_FOREIGNKEY => {
            StoreError::NotFound("a row it refers to (deleted meanwhile)".into())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// Tells a write that could not be queued why, without running it.
fn refuse(op: WriteOp, why: &str) {
    let (_, completion) = op(None);
    completion(Err(db_error(why.to_string())));
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

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteOptions {
    /// Largest the database file may grow; past it writes fail with [`StoreError::Full`].
    pub max_bytes: Option<u64>,
}

impl SqliteStore {
    /// Opens (or creates) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with settings.
    pub fn open_with(path: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        let mut writer_conn = open(path).map_err(db_error)?;
        schema::migrate(&mut writer_conn).map_err(db_error)?;
        writer_conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES).map_err(db_error)?;
        let checkpointer = checkpoint::Checkpointer::spawn(open(path).map_err(db_error)?).map_err(db_error)?;
        let readers = (0..READERS).map(|_| open(path)).collect::<rusqlite::Result<Vec<_>>>().map_err(db_error)?;
        if let Some(max_bytes) = options.max_bytes {
            let page_size: i64 = writer_conn.query_row("PRAGMA page_size", [], |r| r.get(0)).map_err(db_error)?;
            let pages = i64::try_from(max_bytes).unwrap_or(i64::MAX) / page_size.max(1);
            writer_conn
                .query_row(&format!("PRAGMA max_page_count = {}", pages.max(1)), [], |_| Ok(()))
                .map_err(db_error)?;
        }
        let (tx, rx) = mpsc::channel::<WriteOp>();
        let writable = Arc::new(AtomicBool::new(true));
        let flag = writable.clone();
        let thread = std::thread::Builder::new()
            .name("cloudexec-sqlite-writer".into())
            .spawn(move || writer::write_loop(writer_conn, rx, &flag))
            .map_err(db_error)?;
        Ok(Self {
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(Mutex::new(readers)),
            path: path.to_path_buf(),
            writable,
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
        self.write_then(f, move |result| {
            let _ = tx.send(result);
        });
        rx.await.map_err(|_| db_error("the writer dropped a write"))?
    }

    /// Queues `f` for the writer's next transaction; `done` hears its result once the
    /// transaction is over, on the writer's thread (or at once when the store is closed).
    /// Callable from any thread, async or not.
    fn write_then<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        done: impl FnOnce(Result<R, StoreError>) + Send + 'static,
    ) {
        let op: WriteOp = Box::new(move |conn| {
            let result = conn.map_or_else(|| Err(db_error("could not begin a transaction")), f);
            let failed = result.as_ref().err().cloned();
            let completion: Completion = Box::new(move |commit| done(commit.and(result)));
            (failed, completion)
        });
        let sender = self.writer.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(sender) = sender else {
            return refuse(op, "the store is closed");
        };
        if let Err(mpsc::SendError(op)) = sender.send(op) {
            refuse(op, "the writer has stopped");
        }
    }

    /// Whether writes go through; after one failed for want of space, a probe write says
    /// whether they go through again (space was freed).
    async fn writable(&self) -> Result<(), StoreError> {
        if self.writable.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.write(|c| {
            c.execute("INSERT INTO health_probe (id, pad) VALUES (1, zeroblob(?1))", [PROBE_BYTES])
                .and_then(|_| c.execute("DELETE FROM health_probe", []))
                .map(drop)
                .map_err(db_error)
        })
        .await?;
        self.writable.store(true, Ordering::SeqCst);
        Ok(())
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
