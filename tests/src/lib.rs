//! Helpers for cloudexec's end-to-end tests and benchmarks: building the guest crates
//! of `examples/` for wasm32-wasip2, once per process, and finding their components.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, bail};

/// The wasm target guests are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where guest components land after [`build_guests`].
pub fn guest_dir() -> PathBuf {
    repo_root()
        .join("target/guests")
        .join(GUEST_TARGET)
        .join("release")
}

/// Builds every guest crate of `examples/` (release, wasm32-wasip2) the first time it
/// is called in this process; cargo itself serializes concurrent builds across processes.
pub fn build_guests() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The path of the component built from guest crate `name` (e.g. `hello`, `shop-cart`).
pub fn guest(name: &str) -> anyhow::Result<PathBuf> {
    let path = build_guests()?.join(format!("{}.wasm", name.replace('-', "_")));
    if !path.exists() {
        bail!(
            "guest {name:?} was not built: {} is missing",
            path.display()
        );
    }
    Ok(path)
}

/// The bytes of the component built from guest crate `name`.
pub fn guest_bytes(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = guest(name)?;
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

fn build() -> anyhow::Result<PathBuf> {
    ensure_target()?;
    let root = repo_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", root.join("target/guests"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args([
            "build",
            "--release",
            "--target",
            GUEST_TARGET,
            "--workspace",
            "--manifest-path",
            "examples/Cargo.toml",
        ])
        .status()
        .context("running cargo to build the guests")?;
    if !status.success() {
        bail!("building the guests in examples/ failed ({status})");
    }
    Ok(guest_dir())
}

/// Installs the wasm target with rustup when the toolchain lacks it.
fn ensure_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    if let Ok(out) = &installed
        && String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == GUEST_TARGET)
    {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .status()
        .context("running rustup")?;
    if !status.success() {
        bail!("`rustup target add {GUEST_TARGET}` failed ({status})");
    }
    Ok(())
}
