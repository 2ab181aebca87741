//! Levelled log macros over the host's `log.write`, exported at the crate root.
//!
//! Each call writes one line to the invocation's log, beside stdout and stderr.

/// Write a trace line to the invocation's log, with `format!` syntax.
///
/// ```no_run
/// cloudexec_sdk::trace!("entering with {} updates", 3);
/// ```
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => {
        $crate::__private::log($crate::__private::Level::Trace, &::std::format!($($arg)+))
    };
}

/// Write a debug line to the invocation's log, with `format!` syntax.
///
/// ```no_run
/// cloudexec_sdk::debug!("state is {:?}", Some("cart"));
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::__private::log($crate::__private::Level::Debug, &::std::format!($($arg)+))
    };
}

/// Write an info line to the invocation's log, with `format!` syntax.
///
/// ```no_run
/// let name = "Ada";
/// cloudexec_sdk::info!("greeting {name}");
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::__private::log($crate::__private::Level::Info, &::std::format!($($arg)+))
    };
}

/// Write a warning line to the invocation's log, with `format!` syntax.
///
/// ```no_run
/// cloudexec_sdk::warn!("cart call failed: {}", "timeout");
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::__private::log($crate::__private::Level::Warn, &::std::format!($($arg)+))
    };
}

/// Write an error line to the invocation's log, with `format!` syntax.
///
/// ```no_run
/// cloudexec_sdk::error!("giving up after {} tries", 3);
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::__private::log($crate::__private::Level::Error, &::std::format!($($arg)+))
    };
}
