//! Engine configuration: allocator, pool sizes, epoch tick, module caps.

use std::path::PathBuf;
use std::time::Duration;

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

use super::limits::PERSONAL_PLAN_MEMORY;

/// How often the epoch ticker advances; deadlines are accurate to about one tick.
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(10);
/// Component instances the pooling allocator reserves slots for. Each live invocation
/// uses one (a bin calling a function uses two); past it, instantiation fails cleanly.
pub const DEFAULT_POOL_INSTANCES: u32 = 256;
/// Largest module accepted: 32 MiB, well above a Rust guest (100 KB – 5 MB).
pub const DEFAULT_MAX_MODULE_BYTES: usize = 32 << 20;
/// Components at least this large are compiled by Winch first (see [`crate::tiers`]) when
/// tiering is on: Cranelift compiles about 4.5 MB of component per second on these
/// cores, so smaller ones are ready in under half a second anyway.
pub const DEFAULT_BASELINE_TIER_MIN_BYTES: usize = 2 << 20;
/// Wasm stack a guest may use before deep recursion traps with a stack overflow.
pub const DEFAULT_MAX_WASM_STACK: usize = 1 << 20;
/// Bytes of each linear memory and table reset with `memset` instead of `madvise` when
/// a slot is freed. An `madvise` on a multi-threaded process makes the kernel flush the
/// TLB of every other CPU running it (an IPI each, costly in VMs), and the next guest in
/// the slot page-faults its memory back in; a small guest touches far less than this.
/// With the Linux `PAGEMAP_SCAN` ioctl (6.7+) only the pages actually touched are reset.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;
/// Core instances one Rust component is made of (main module plus shims), with room.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;

/// Which instance allocator the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocator {
    /// Pooling, falling back to on-demand when the pool cannot be reserved (as `wasmtime serve` does).
    #[default]
    Auto,
    /// Pooling only; engine creation fails if the pool cannot be reserved.
    Pooling,
    /// On-demand allocation (slower instantiation, no up-front reservation).
    OnDemand,
}

/// Settings of one [`Engine`](super::Engine).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where compiled modules are cached on disk; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Instance allocator.
    pub allocator: Allocator,
    /// Component instances the pool holds.
    pub pool_instances: u32,
    /// The largest memory any plan may grant, which sizes pool slots.
    pub max_memory_bytes: u64,
    /// Largest module accepted, in bytes.
    pub max_module_bytes: usize,
    /// Epoch tick interval.
    pub epoch_tick: Duration,
    /// Tiered compilation: components of at least this many bytes run Winch's code
    /// until Cranelift's is ready. `None` (the default, right for one-shot processes
    /// such as the CLI, which cache Cranelift's code on disk once) compiles with
    /// Cranelift only; the server turns it on.
    pub baseline_tier_min_bytes: Option<usize>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            allocator: Allocator::Auto,
            pool_instances: DEFAULT_POOL_INSTANCES,
            max_memory_bytes: PERSONAL_PLAN_MEMORY,
            max_module_bytes: DEFAULT_MAX_MODULE_BYTES,
            epoch_tick: DEFAULT_EPOCH_TICK,
            baseline_tier_min_bytes: None,
        }
    }
}

impl EngineConfig {
    /// The wasmtime configuration, with or without the pooling allocator.
    pub(crate) fn wasmtime_config(&self, pooling: bool) -> Config {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .memory_init_cow(true)
            .max_wasm_stack(DEFAULT_MAX_WASM_STACK);
        if pooling {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(self.pool_config()));
        }
        config
    }

    /// The baseline tier's configuration: Winch, on-demand allocation (its code only runs
    /// until Cranelift's is ready, so it does not get a pool reservation of its own), the
    /// same sandbox settings otherwise.
    pub(crate) fn baseline_config(&self) -> Config {
        let mut config = self.wasmtime_config(false);
        config.strategy(Strategy::Winch);
        config
    }

    fn pool_config(&self) -> PoolingAllocationConfig {
        let instances = self.pool_instances;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
            .total_memories(instances.saturating_mul(2))
            .max_memories_per_component(2)
            .total_tables(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .max_tables_per_component(CORE_INSTANCES_PER_COMPONENT)
            .max_memory_size(usize::try_from(self.max_memory_bytes).unwrap_or(usize::MAX))
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES)
            .pagemap_scan(Enabled::Auto);
        pool
    }
}
