//! The captured log of one invocation: guest stdout, stderr and `log` lines in one
//! capped buffer. Past the cap, output is dropped (the guest is not told, so it keeps
//! running) and a marker says how much was lost.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

use super::bindings::Level;

/// How many bytes a guest may hand to stdout/stderr in one write permit.
const WRITE_PERMIT: usize = 64 * 1024;

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    cap: usize,
    dropped: u64,
}

/// A cheaply cloned handle to one invocation's capped log buffer.
#[derive(Debug, Clone)]
pub(crate) struct CapturedLog(Arc<Mutex<Buffer>>);

/// The log as an invocation reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOutput {
    /// The captured text (lossy UTF-8), ending with a truncation marker when cut.
    pub text: String,
    /// How many bytes were dropped past the cap.
    pub dropped_bytes: u64,
}

impl LogOutput {
    /// Whether output was dropped because the log reached its cap.
    pub fn truncated(&self) -> bool {
        self.dropped_bytes > 0
    }
}

impl CapturedLog {
    pub(crate) fn new(cap: usize) -> Self {
        Self(Arc::new(Mutex::new(Buffer { cap, ..Buffer::default() })))
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A poisoned buffer still holds valid bytes; keep logging into it.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends raw bytes, keeping what fits under the cap.
    pub(crate) fn append(&self, data: &[u8]) {
        let mut buf = self.lock();
        let room = buf.cap.saturating_sub(buf.bytes.len());
        let kept = data.len().min(room);
        buf.bytes.extend_from_slice(&data[..kept]);
        buf.dropped += (data.len() - kept) as u64;
    }

    /// Appends one levelled line from the guest's `log` import.
    pub(crate) fn line(&self, level: Level, message: &str) {
        let tag = match level {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        self.append(format!("[{tag}] {message}\n").as_bytes());
    }

    /// The log so far, with a marker if anything was dropped.
    pub(crate) fn output(&self) -> LogOutput {
        let buf = self.lock();
        let mut text = String::from_utf8_lossy(&buf.bytes).into_owned();
        if buf.dropped > 0 {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[cloudexec: log truncated at {} bytes, {} bytes dropped]\n", buf.cap, buf.dropped));
        }
        LogOutput { text, dropped_bytes: buf.dropped }
    }
}

impl IsTerminal for CapturedLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for CapturedLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedLog {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedLog {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_output_up_to_the_cap_and_marks_the_cut() {
        let log = CapturedLog::new(10);
        log.append(b"0123456789abc");
        let out = log.output();
        assert!(out.text.starts_with("0123456789\n[cloudexec: log truncated at 10 bytes, 3 bytes dropped]"));
        assert_eq!(out.dropped_bytes, 3);
        assert!(out.truncated());
    }

    #[test]
    fn levelled_lines_are_tagged() {
        let log = CapturedLog::new(100);
        log.line(Level::Warn, "careful");
        assert_eq!(log.output().text, "[WARN] careful\n");
    }
}
