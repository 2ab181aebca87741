//! WAL checkpoints off the writer's path. SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, so that commit, and every write queued behind it,
//! waits while pages are copied into the database file and synced: milliseconds, the
//! slowest writes the store makes. Here a thread of its own checkpoints every interval
//! in PASSIVE mode (it never blocks the writer or readers); the writer keeps a much
//! higher automatic threshold only as a backstop, should this thread fall behind.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL pages past which the writer checkpoints on its own (SQLite's default is 1,000).
pub(super) const BACKSTOP_PAGES: i64 = 10_000;

/// The checkpoint thread; stopped (and joined) by [`Checkpointer::stop`].
pub(super) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing on `conn`, a connection of its own.
    pub(super) fn spawn(conn: Connection) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cloudexec-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &stopped))?;
        Ok(Self { stop, thread })
    }

    /// Stops the thread and waits for it.
    pub(super) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        // (busy, frames in the WAL, frames checkpointed); busy only means another
        // checkpoint was running, and the next interval tries again.
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(error) = result {
            tracing::warn!(%error, "checkpointing the WAL failed");
        }
    }
}
