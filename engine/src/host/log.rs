//! `log`: levelled lines into the captured log. Sees only the log.

use wasmtime::component::{HasData, Linker};

use super::HostState;
use super::wit::log::{Host, Level, add_to_linker as add};
use crate::capture::CapturedLog;

/// What `log` sees of a store.
pub(crate) struct LogView<'a>(&'a CapturedLog);

impl Host for LogView<'_> {
    fn write(&mut self, level: Level, message: String) {
        self.0.line(level, &message);
    }
}

struct HasLog;

impl HasData for HasLog {
    type Data<'a> = LogView<'a>;
}

/// Links `log` with its view of the store.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    add::<HostState, HasLog>(linker, |s| LogView(&s.log))
}
