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

/// The component built from the example `examples/<lang>/<name>` (`python` or `js`) with
/// the CLI's own build (`cloudexec::authoring`). Builds one at a time; a fresh component
/// is not built again.
pub fn language_guest(lang: &str, name: &str) -> anyhow::Result<std::path::PathBuf> {
    use cloudexec::authoring::Project;
    use cloudexec::authoring::build::{BuildOptions, build};
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let mut options = BuildOptions { quiet: true, ..BuildOptions::default() };
    match lang {
        "python" => options.componentize_py = Some(cloudexec_tests::language_tool("python-tools.sh")?),
        "js" => options.js_tools = Some(cloudexec_tests::language_tool("js-tools.sh")?),
        other => anyhow::bail!("no examples in {other}"),
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let project = Project::load(&cloudexec_tests::repo_root().join("examples").join(lang).join(name))?;
    Ok(build(&project, &options)?)
}

/// The bytes of [`language_guest`].
pub fn language_guest_bytes(lang: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(language_guest(lang, name)?)?)
}
