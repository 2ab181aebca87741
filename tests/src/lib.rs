//! Helpers for cloudexec's end-to-end tests and benchmarks: building the guest crates
//! of `examples/` for wasm32-wasip2, once per process, and finding their components.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, bail};

pub mod endpoints;
pub mod postgres;

/// The wasm target guests are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where guest components land after [`build_guests`].
pub fn guest_dir() -> PathBuf {
    repo_root().join("target/guests").join(GUEST_TARGET).join("release")
}

/// Builds every guest crate of `examples/` (release, wasm32-wasip2) the first time it
/// is called in this process; cargo itself serializes concurrent builds across processes.
pub fn build_guests() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| build().map_err(|e| format!("{e:#}"))).clone().map_err(anyhow::Error::msg)
}

/// The path of the component built from guest crate `name` (e.g. `hello`, `shop-cart`).
pub fn guest(name: &str) -> anyhow::Result<PathBuf> {
    let path = build_guests()?.join(format!("{}.wasm", name.replace('-', "_")));
    if !path.exists() {
        bail!("guest {name:?} was not built: {} is missing", path.display());
    }
    Ok(path)
}

/// The bytes of the component built from guest crate `name`.
pub fn guest_bytes(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = guest(name)?;
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// Runs `scripts/build-guests.sh`, the one place the guest build command is written
/// (it also installs the wasm target when the toolchain lacks it).
fn build() -> anyhow::Result<PathBuf> {
    let status = Command::new("bash")
        .current_dir(repo_root())
        .arg("scripts/build-guests.sh")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(std::process::Stdio::null())
        .status()
        .context("running scripts/build-guests.sh")?;
    if !status.success() {
        bail!("building the guests in examples/ failed ({status})");
    }
    Ok(guest_dir())
}

/// A guest language's build tool, installed under target/ by its script when missing
/// (`scripts/python-tools.sh` prints componentize-py's path, `scripts/js-tools.sh` the
/// directory of esbuild and componentize-js); once per process and script.
pub fn language_tool(script: &'static str) -> anyhow::Result<PathBuf> {
    type Known = Vec<(&'static str, Result<PathBuf, String>)>;
    static TOOLS: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let mut tools = TOOLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, tool)) = tools.iter().find(|(s, _)| *s == script) {
        return tool.clone().map_err(anyhow::Error::msg);
    }
    let run = || -> Result<PathBuf, String> {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts").join(script))
            .output()
            .map_err(|e| format!("running scripts/{script}: {e}"))?;
        if !out.status.success() {
            return Err(format!("scripts/{script} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().into())
    };
    let tool = run();
    tools.push((script, tool.clone()));
    tool.map_err(anyhow::Error::msg)
}
