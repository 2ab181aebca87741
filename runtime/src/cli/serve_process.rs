//! What a serving process sets up for itself before its threads start.
//!
//! Open-file descriptors: every connection and every outbound call holds one. Linux grows
//! a process's descriptor table by doubling it, and while a process with several threads
//! grows it, the growing thread waits for an RCU grace period and every other thread that
//! opens a descriptor (an `accept`) waits behind it: `/healthz` stalled 10-20 ms at each
//! doubling while a Map opened 3,072 connections (BENCHMARKS.md). So `serve` grows the
//! table once, to what its limits can use, and raises the soft limit of open files (toward
//! the hard one) so those limits can be reached at all.
//!
//! Transparent huge pages: mimalloc asks for them, and they made a Map's memory growth 37
//! MiB larger (+160 MiB against +123) for no throughput gain (BENCHMARKS.md); a fault on
//! one may also wait for the kernel to compact memory. `serve` turns them off for itself.

/// Prepares the process to serve `max_connections` connections and `max_outbound_calls`
/// calls at once.
pub(super) fn prepare(max_connections: usize, max_outbound_calls: usize) {
    make_room(max_connections, max_outbound_calls);
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(%error, "transparent huge pages stay as the system sets them");
    }
}

/// Descriptors for everything but connections and outbound calls: the database and its
/// WAL, pooled readers, the module cache, the runtimes' own.
const OTHER_DESCRIPTORS: u64 = 1024;

/// Makes room for `max_connections` connections and `max_outbound_calls` calls at once.
fn make_room(max_connections: usize, max_outbound_calls: usize) {
    let want = u64::try_from(max_connections.saturating_add(max_outbound_calls))
        .unwrap_or(u64::MAX)
        .saturating_add(OTHER_DESCRIPTORS);
    #[cfg(target_os = "linux")]
    {
        let limit = raise_limit(want);
        grow_table(want.min(limit));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = want;
}

/// Raises the soft limit of open files to `want` (at most the hard limit) and returns the
/// soft limit in force.
#[cfg(target_os = "linux")]
fn raise_limit(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let soft = current.unwrap_or(u64::MAX);
    if soft >= want {
        return soft;
    }
    let target = maximum.map_or(want, |hard| hard.min(want));
    if target < want {
        tracing::warn!(
            hard_limit = target,
            wanted = want,
            "the hard limit of open files is below what --max-connections and --max-outbound-calls can use: past it, connections and calls fail with 'too many open files'"
        );
    }
    match setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum }) {
        Ok(()) => target,
        Err(error) => {
            tracing::warn!(%error, soft_limit = soft, "the soft limit of open files could not be raised");
            soft
        }
    }
}

/// Grows the descriptor table to hold descriptors below `size`: a descriptor is
/// duplicated to number `size - 1` and closed again (the table never shrinks).
#[cfg(target_os = "linux")]
fn grow_table(size: u64) {
    let highest = i32::try_from(size.saturating_sub(1)).unwrap_or(i32::MAX);
    let grown = std::fs::File::open("/dev/null")
        .and_then(|null| rustix::io::fcntl_dupfd_cloexec(&null, highest).map_err(std::io::Error::from));
    if let Err(error) = grown {
        tracing::debug!(%error, size, "the descriptor table was not grown ahead");
    }
}
