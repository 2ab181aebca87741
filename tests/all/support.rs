//! Shared test helpers: one engine for the tests of this binary (its compiled modules cached
//! under target/ so later runs do not recompile), and the jobs the store tests write.

use std::sync::OnceLock;

use cloudexec::engine::{Engine, EngineConfig};
use cloudexec::testing::{TestBin, TestFunction, TestRuntime};

pub fn runtime() -> TestRuntime {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let config = EngineConfig {
            cache_dir: Some(cloudexec_tests::repo_root().join("target/test-module-cache")),
            ..EngineConfig::default()
        };
        Engine::new(config).expect("the engine starts")
    });
    TestRuntime::with_engine(engine.clone())
}

pub fn function(name: &str) -> anyhow::Result<TestFunction> {
    Ok(runtime().function(cloudexec_tests::guest(name)?)?)
}

pub fn bin(name: &str) -> anyhow::Result<TestBin> {
    Ok(runtime().bin(cloudexec_tests::guest(name)?)?)
}

/// A waiting async job of `function`, input `{"n": n}`.
pub fn waiting_job(app_key: i64, function: &cloudexec::store::FunctionRecord, n: i64) -> cloudexec::store::NewJob {
    cloudexec::store::NewJob {
        app_key,
        function_id: function.id,
        version: function.version,
        module_sha256: function.module_sha256.clone(),
        memory_limit: 1 << 20,
        source: "test".into(),
        service_type: cloudexec::store::ServiceType::Batch,
        input: serde_json::json!({ "n": n }),
        timeout_ms: 1000,
        created_at: cloudexec::time::now_us(),
    }
}

/// A fulfilled job's outcome with `output` and `log`.
pub fn fulfilled(output: serde_json::Value, log: &str) -> cloudexec::store::JobOutcome {
    let at = cloudexec::time::now_us();
    cloudexec::store::JobOutcome {
        end: cloudexec::store::JobEnd { result: Ok(output), mem_usage: 7, started_at: at, finished_at: at },
        log: log.into(),
    }
}

/// The component built from the Python example `examples/python/<name>` with the CLI's
/// own build (`cloudexec::authoring`), installing componentize-py under target/ first
/// when it is missing (`scripts/python-tools.sh`). Builds one at a time; a fresh
/// component is not built again.
pub fn python_guest(name: &str) -> anyhow::Result<std::path::PathBuf> {
    use cloudexec::authoring::Project;
    use cloudexec::authoring::build::{BuildOptions, build};
    static TOOL: OnceLock<Result<std::path::PathBuf, String>> = OnceLock::new();
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let root = cloudexec_tests::repo_root();
    let tool = TOOL
        .get_or_init(|| {
            let out = std::process::Command::new("bash")
                .arg(root.join("scripts/python-tools.sh"))
                .output()
                .map_err(|e| format!("running scripts/python-tools.sh: {e}"))?;
            if !out.status.success() {
                return Err(format!("scripts/python-tools.sh failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().into())
        })
        .clone()
        .map_err(anyhow::Error::msg)?;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let project = Project::load(&root.join("examples/python").join(name))?;
    Ok(build(&project, &BuildOptions { quiet: true, componentize_py: Some(tool) })?)
}

/// The bytes of [`python_guest`].
pub fn python_guest_bytes(name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(python_guest(name)?)?)
}
