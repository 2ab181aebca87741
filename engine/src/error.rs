//! What can go wrong when loading or running a guest, as one typed enum.

use std::time::Duration;

/// An error from loading or running a guest. Each variant says what happened, so the
/// HTTP layer and the CLI can map it to a status or an exit code without parsing text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The bytes are not valid WebAssembly; carries the validator's message.
    #[error("invalid module: {0}")]
    InvalidModule(String),
    /// Valid WebAssembly, but a core module where a component is expected.
    #[error(
        "not a component: this is a core WebAssembly module; build the guest for wasm32-wasip2 with the cloudexec SDK"
    )]
    NotAComponent,
    /// A component that does not fit the expected world (missing export, unknown import).
    #[error("component does not fit the `{expected}` world: {detail}")]
    WrongWorld {
        /// The world that was expected: `function` or `bin`.
        expected: &'static str,
        /// What is missing or extra.
        detail: String,
    },
    /// The module is larger than the configured cap.
    #[error("module is {size} bytes, over the {limit}-byte limit")]
    ModuleTooLarge {
        /// Size of the uploaded module.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// The guest ran past its wall-clock deadline and was interrupted.
    #[error("deadline exceeded: the guest ran longer than {} ms", limit.as_millis())]
    DeadlineExceeded {
        /// The deadline it was given.
        limit: Duration,
    },
    /// The guest tried to grow its memory past the plan's cap.
    #[error("memory limit exceeded: the guest tried to use more than {limit_bytes} bytes")]
    MemoryLimitExceeded {
        /// The cap in bytes.
        limit_bytes: u64,
    },
    /// The guest trapped (panic, `unreachable`, stack overflow, out-of-bounds access).
    #[error("guest trapped: {message}")]
    Trap {
        /// The trap, with the guest's panic message when it printed one.
        message: String,
        /// The innermost frames of the wasm backtrace, innermost first.
        backtrace: Vec<String>,
    },
    /// The guest returned its own error value.
    #[error("guest error {code}: {message}")]
    Guest {
        /// The guest's error code.
        code: String,
        /// The guest's message.
        message: String,
    },
    /// Every instance slot of the pooling allocator is in use; try again later.
    #[error("engine at capacity: {0}")]
    Busy(String),
    /// The input could not be given to the guest (e.g. it is not representable).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A failure of the host itself (cache I/O, engine setup). Not the guest's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// A short stable word for the kind of error, for metrics, job records and scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidModule(_) => "invalid_module",
            Self::NotAComponent => "not_a_component",
            Self::WrongWorld { .. } => "wrong_world",
            Self::ModuleTooLarge { .. } => "module_too_large",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
            Self::MemoryLimitExceeded { .. } => "memory_limit_exceeded",
            Self::Trap { .. } => "trap",
            Self::Guest { .. } => "guest_error",
            Self::Busy(_) => "busy",
            Self::InvalidInput(_) => "invalid_input",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether the module itself was rejected at load time (as opposed to a failed run).
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidModule(_) | Self::NotAComponent | Self::WrongWorld { .. } | Self::ModuleTooLarge { .. }
        )
    }
}
