//! Tiered compilation. Interpreter-based components (Python, JavaScript) are tens of MB,
//! and Cranelift takes seconds to compile them; Winch, wasmtime's baseline compiler,
//! compiles about three times faster into slower code. A large component is therefore
//! first compiled by Winch, so its first call does not wait for Cranelift, and
//! Cranelift's code is compiled on one background thread and swapped in when ready.
//! Calls already running keep the code they started with.

use std::sync::RwLock;
use std::sync::mpsc;

/// Which compiler produced the code a module runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Winch's code, while Cranelift's is being compiled.
    Baseline,
    /// Cranelift's code: the module's final form.
    Optimized,
}

impl Tier {
    /// The name shown to users: `baseline` or `optimized`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        }
    }
}

/// A pre-instantiated component whose code may be replaced once by its optimized form.
pub(crate) struct Tiered<P> {
    current: RwLock<(P, Tier)>,
}

impl<P: Clone> Tiered<P> {
    pub(crate) fn new(pre: P, tier: Tier) -> Self {
        Self { current: RwLock::new((pre, tier)) }
    }

    /// The code to instantiate now (a cheap clone of a few `Arc`s).
    pub(crate) fn current(&self) -> P {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).0.clone()
    }

    /// The tier of [`Tiered::current`].
    pub(crate) fn tier(&self) -> Tier {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).1
    }

    /// Replaces the baseline code with the optimized code; the baseline code is freed
    /// when the last call using it ends.
    pub(crate) fn promote(&self, optimized: P) {
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = (optimized, Tier::Optimized);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// One background thread compiling optimized code, one component at a time, so at most
/// one Cranelift compile competes with the calls being served (wasmtime still spreads
/// that one compile over the cores it has). The thread ends when the engine is dropped;
/// it is not joined, as the last reference to the engine may be dropped on it.
pub(crate) struct Optimizer {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer").finish_non_exhaustive()
    }
}

impl Optimizer {
    pub(crate) fn start() -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("cloudexec-optimize".into()).spawn(move || {
            while let Ok(job) = jobs.recv() {
                job();
            }
        })?;
        Ok(Self { queue })
    }

    /// Queues `job`; it runs after the jobs queued before it.
    pub(crate) fn submit(&self, job: Job) {
        if self.queue.send(job).is_err() {
            tracing::warn!("the optimizer thread is gone; a module stays on its baseline code");
        }
    }
}
