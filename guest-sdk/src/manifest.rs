//! The manifest a bin exports, written as a `const`.

/// What a bin calls and which state machines it has; passed to `#[bin(manifest = ...)]`.
///
/// ```
/// use cloudexec_sdk::{FunctionDecl, Manifest, StateMachineDecl, Transition};
///
/// const MANIFEST: Manifest = Manifest {
///     functions: &[FunctionDecl {
///         key: "test.echo",
///         name: "echo",
///         params: &["string"],
///         returns: "string",
///     }],
///     state_machines: &[StateMachineDecl {
///         id: 1,
///         name: "phase",
///         states: &["a", "b"],
///         initial: "a",
///         transitions: &[Transition { from: "a", to: "b" }],
///     }],
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manifest {
    /// The functions the bin may call, by key.
    pub functions: &'static [FunctionDecl],
    /// The bin's state machines.
    pub state_machines: &'static [StateMachineDecl],
}

/// A function a bin calls (the seed's `appFunction`).
///
/// ```
/// const ORDER: cloudexec_sdk::FunctionDecl = cloudexec_sdk::FunctionDecl {
///     key: "utcook.jar:com.ut.BuzMethod.order",
///     name: "order",
///     params: &["string", "double"],
///     returns: "string",
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionDecl {
    /// The function key that [`functions::call`](crate::functions::call) uses.
    pub key: &'static str,
    /// A readable name.
    pub name: &'static str,
    /// Parameter type names in order, e.g. `["string", "double"]`.
    pub params: &'static [&'static str],
    /// The return type name, e.g. `"bool"`.
    pub returns: &'static str,
}

/// A state machine of a bin, numbered by `id` (the seed's `stateMachineNo`).
///
/// ```
/// use cloudexec_sdk::{StateMachineDecl, Transition};
///
/// const ORDER: StateMachineDecl = StateMachineDecl {
///     id: 1,
///     name: "order",
///     states: &["cart", "ordered", "paid"],
///     initial: "cart",
///     transitions: &[
///         Transition { from: "cart", to: "ordered" },
///         Transition { from: "ordered", to: "paid" },
///     ],
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateMachineDecl {
    /// The machine's number, as [`state_machine`](crate::state_machine) calls take it.
    pub id: u32,
    /// A readable name.
    pub name: &'static str,
    /// Every state of the machine.
    pub states: &'static [&'static str],
    /// The state a new instance starts in.
    pub initial: &'static str,
    /// The allowed moves; empty means any declared state may follow any other.
    pub transitions: &'static [Transition],
}

/// An allowed move of a state machine.
///
/// ```
/// const PAY: cloudexec_sdk::Transition = cloudexec_sdk::Transition { from: "ordered", to: "paid" };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state the machine must be in.
    pub from: &'static str,
    /// The state it may move to.
    pub to: &'static str,
}
