//! One engine shared by the tests of this binary, with its compiled modules cached
//! under target/ so later runs do not recompile.

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
