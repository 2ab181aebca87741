//! `cloudexec build`: a project's sources into a component, with the language's own tool
//! (cargo for Rust, componentize-py for Python, esbuild then componentize-js for
//! JavaScript). A missing tool is named with the command that installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use super::{AuthoringError, Kind, Lang, Project, io_at, sdk_files};

/// The componentize-py release the Python SDK is tested with (`.ci/run` installs it).
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// How to install it.
const INSTALL_COMPONENTIZE_PY: &str = "pip install componentize-py==0.25.1";

/// How to install the JavaScript tools (`scripts/js-tools.sh` pins the same versions).
const INSTALL_JS_TOOLS: &str = "npm install -g @bytecodealliance/componentize-js@0.23.0 esbuild@0.28.2";

/// How to run the build tool.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Send the tool's standard output to nowhere (its errors still show).
    pub quiet: bool,
    /// The componentize-py program (default: `$CLOUDEXEC_COMPONENTIZE_PY`, else
    /// `componentize-py` on PATH).
    pub componentize_py: Option<PathBuf>,
    /// The directory holding `esbuild` and `componentize-js` (default:
    /// `$CLOUDEXEC_JS_TOOLS`, else the project's `node_modules/.bin`, else PATH).
    pub js_tools: Option<PathBuf>,
}

/// Builds `project` and returns the component's path ([`Project::output`]). A Python
/// build is skipped when the component is newer than every source; cargo decides for Rust.
pub fn build(project: &Project, options: &BuildOptions) -> Result<PathBuf, AuthoringError> {
    match project.spec.lang {
        Lang::Rust => build_rust(project, options),
        Lang::Python => build_python(project, options),
        Lang::Js => build_js(project, options),
    }
}

fn build_python(project: &Project, options: &BuildOptions) -> Result<PathBuf, AuthoringError> {
    let sdk = project.dir.join("target/cloudexec-sdk");
    sdk_files::write_python(&sdk)?;
    let output = project.output();
    if is_fresh(&output, &[&project.dir, &sdk])? {
        return Ok(output);
    }
    let module = project.spec.module.as_deref().unwrap_or("app");
    let program = options
        .componentize_py
        .clone()
        .or_else(|| std::env::var_os("CLOUDEXEC_COMPONENTIZE_PY").map(PathBuf::from))
        .unwrap_or_else(|| "componentize-py".into());
    let mut command = Command::new(program);
    command
        .arg("-d")
        .arg(sdk.join("wit/runtime.wit"))
        .args(["-w", project.spec.kind.world(), "componentize", module, "-p"])
        .arg(&project.dir)
        .arg("-p")
        .arg(sdk.join("python"))
        .arg("-o")
        .arg(&output);
    run_tool(command, "componentize-py", INSTALL_COMPONENTIZE_PY, options)?;
    Ok(output)
}

fn build_js(project: &Project, options: &BuildOptions) -> Result<PathBuf, AuthoringError> {
    let target = project.dir.join("target");
    let sdk = target.join("cloudexec-sdk");
    sdk_files::write_js(&sdk)?;
    let output = project.output();
    if is_fresh(&output, &[&project.dir, &sdk])? {
        return Ok(output);
    }
    let module = project.spec.module.as_deref().unwrap_or("app");
    let entry = target.join("entry.js");
    sdk_files::write_file(&entry, &js_entry(module, project.spec.kind))?;
    let tools = options
        .js_tools
        .clone()
        .or_else(|| std::env::var_os("CLOUDEXEC_JS_TOOLS").map(PathBuf::from))
        .or_else(|| Some(project.dir.join("node_modules/.bin")).filter(|d| d.join("componentize-js").exists()));
    let tool = |name: &str| tools.as_ref().map_or_else(|| PathBuf::from(name), |dir| dir.join(name));
    let bundle = target.join("bundle.js");
    let mut esbuild = Command::new(tool("esbuild"));
    esbuild
        .arg(&entry)
        .args(["--bundle", "--format=esm", "--platform=neutral", "--log-level=warning", "--external:cloudexec:*"])
        .arg(format!("--alias:cloudexec={}", sdk.join("js/index.js").display()))
        .arg(format!("--outfile={}", bundle.display()));
    run_tool(esbuild, "esbuild", INSTALL_JS_TOOLS, options)?;
    let mut componentize = Command::new(tool("componentize-js"));
    componentize
        .arg(&bundle)
        .arg("--wit")
        .arg(sdk.join("wit/runtime.wit"))
        .args(["--world-name", project.spec.kind.world(), "--disable", "http", "fetch-event", "-o"])
        .arg(&output);
    run_tool(componentize, "componentize-js", INSTALL_JS_TOOLS, options)?;
    Ok(output)
}

/// The module componentize-js builds: the project's module, its exports wrapped by the SDK.
fn js_entry(module: &str, kind: Kind) -> String {
    match kind {
        Kind::Function => format!(
            "import {{ handle as projectHandle }} from '../{module}.js';\n\
             import {{ exportFunction }} from 'cloudexec';\n\
             export const handle = exportFunction(projectHandle);\n"
        ),
        Kind::Bin => format!(
            "import * as project from '../{module}.js';\n\
             import {{ exportManifest, exportRun }} from 'cloudexec';\n\
             export const manifest = exportManifest(project.manifest);\n\
             export const run = exportRun(project.run);\n"
        ),
    }
}

fn build_rust(project: &Project, options: &BuildOptions) -> Result<PathBuf, AuthoringError> {
    install_wasm_target()?;
    let manifest = project.dir.join("Cargo.toml");
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"]).arg(&manifest);
    // Flags a surrounding build set for its own host crates must not reach the guest.
    for var in ["RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"] {
        command.env_remove(var);
    }
    run_tool(command, "cargo", "https://rustup.rs (then: rustup target add wasm32-wasip2)", options)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| project.dir.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_absolute() { target_dir } else { project.dir.join(target_dir) };
    let built = target_dir.join("wasm32-wasip2/release").join(format!("{}.wasm", crate_name(&manifest)?));
    let output = project.output();
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    if built != output {
        std::fs::copy(&built, &output).map_err(io_at(&built))?;
    }
    Ok(output)
}

/// The library name cargo gives the crate of `manifest` (its package name, `-` as `_`).
fn crate_name(manifest: &Path) -> Result<String, AuthoringError> {
    let text = std::fs::read_to_string(manifest).map_err(io_at(manifest))?;
    let invalid = |message: String| AuthoringError::InvalidProject { path: manifest.to_path_buf(), message };
    let doc: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let name = doc
        .get("lib")
        .and_then(|lib| lib.get("name"))
        .or_else(|| doc.get("package").and_then(|p| p.get("name")))
        .and_then(toml::Value::as_str)
        .ok_or_else(|| invalid("no [package] name".into()))?;
    Ok(name.replace('-', "_"))
}

/// Adds the wasm32-wasip2 target with rustup when this toolchain lacks it.
fn install_wasm_target() -> Result<(), AuthoringError> {
    let Ok(listed) = Command::new("rustup").args(["target", "list", "--installed"]).output() else {
        return Ok(()); // no rustup: cargo will say what is missing
    };
    if String::from_utf8_lossy(&listed.stdout).lines().any(|l| l.trim() == "wasm32-wasip2") {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", "wasm32-wasip2"]);
    run_tool(add, "rustup", "https://rustup.rs", &BuildOptions::default())
}

fn run_tool(
    mut command: Command,
    tool: &'static str,
    install: &'static str,
    options: &BuildOptions,
) -> Result<(), AuthoringError> {
    if options.quiet {
        command.stdout(Stdio::null());
    }
    let status = match command.status() {
        Ok(status) => status,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AuthoringError::MissingTool { tool, install });
        }
        Err(e) => return Err(AuthoringError::Io { path: tool.into(), source: e }),
    };
    if !status.success() {
        return Err(AuthoringError::BuildFailed { tool, status: status.to_string() });
    }
    Ok(())
}

/// Whether `output` exists and is newer than every file under `sources` (a `target`
/// directory inside them excepted, other than the SDK copy, which is passed itself).
fn is_fresh(output: &Path, sources: &[&Path]) -> Result<bool, AuthoringError> {
    let Ok(built) = std::fs::metadata(output).and_then(|m| m.modified()) else {
        return Ok(false);
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in sources {
        newest = newest.max(newest_under(dir)?);
    }
    Ok(built > newest)
}

fn newest_under(dir: &Path) -> Result<SystemTime, AuthoringError> {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "__pycache__" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = entry.metadata().map_err(io_at(&path))?;
        let time = if meta.is_dir() { newest_under(&path)? } else { meta.modified().map_err(io_at(&path))? };
        newest = newest.max(time);
    }
    Ok(newest)
}
