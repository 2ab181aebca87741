//! `log`: levelled lines into the captured log.

use super::HostState;
use super::wit::log::{Host, Level};

impl Host for HostState {
    fn write(&mut self, level: Level, message: String) {
        self.log.line(level, &message);
    }
}
