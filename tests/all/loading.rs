//! Loading modules: bad bytes, the wrong kind of module or world each give a clear
//! error; good modules are compiled once and cached on disk.

use cloudexec::engine::{Allocator, Engine, EngineConfig, EngineError};
use serde_json::json;

use crate::support::runtime;

fn load_function(bytes: &[u8]) -> Result<(), EngineError> {
    runtime().engine().load_function(bytes).map(drop)
}

/// The shared engine still runs a good module after refusing a bad one.
fn still_serves() -> anyhow::Result<()> {
    let engine = runtime().engine().clone();
    let module = engine.load_function(&cloudexec_tests::guest_bytes("hello")?)?;
    let out = engine.invoke(&module, &json!({"name": "again"}), &Default::default());
    assert_eq!(out.result?, json!({"greeting": "Hello, again!"}));
    Ok(())
}

#[test]
fn garbage_bytes_are_an_invalid_module() -> anyhow::Result<()> {
    let err = load_function(b"this is not wasm").unwrap_err();
    assert!(matches!(&err, EngineError::InvalidModule(m) if m.contains("magic")), "{err}");
    still_serves()
}

#[test]
fn a_truncated_component_is_an_invalid_module_with_the_validator_message() -> anyhow::Result<()> {
    let bytes = cloudexec_tests::guest_bytes("hello")?;
    let err = load_function(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(err, EngineError::InvalidModule(_)), "{err}");
    assert!(err.to_string().len() > "invalid module: ".len() + 5, "says why: {err}");
    still_serves()
}

#[test]
fn a_core_module_is_not_a_component() -> anyhow::Result<()> {
    let core = wat::parse_str("(module (func (export \"handle\")))")?;
    let err = load_function(&core).unwrap_err();
    assert_eq!(err, EngineError::NotAComponent);
    assert!(err.to_string().contains("wasm32-wasip2"));
    still_serves()
}

#[test]
fn a_component_without_the_handle_export_is_the_wrong_world() -> anyhow::Result<()> {
    let empty = wat::parse_str("(component)")?;
    let err = load_function(&empty).unwrap_err();
    assert!(matches!(&err, EngineError::WrongWorld { expected: "function", .. }), "{err}");
    assert!(err.to_string().contains("handle"), "names the missing export: {err}");
    Ok(())
}

#[test]
fn a_bin_is_not_a_function_and_a_function_is_not_a_bin() -> anyhow::Result<()> {
    let engine = runtime().engine().clone();
    let as_function = engine.load_function(&cloudexec_tests::guest_bytes("shop")?).unwrap_err();
    assert!(matches!(as_function, EngineError::WrongWorld { expected: "function", .. }), "{as_function}");
    let as_bin = engine.load_bin(&cloudexec_tests::guest_bytes("hello")?).unwrap_err();
    assert!(matches!(as_bin, EngineError::WrongWorld { expected: "bin", .. }), "{as_bin}");
    still_serves()
}

#[test]
fn a_component_importing_an_unknown_interface_is_refused_at_load() -> anyhow::Result<()> {
    let component = wat::parse_str(
        r#"(component
            (import "acme:secret/vault" (instance (export "open" (func))))
        )"#,
    )?;
    let err = load_function(&component).unwrap_err();
    assert!(err.to_string().contains("acme:secret/vault"), "{err}");
    Ok(())
}

#[test]
fn an_oversized_module_is_refused_before_compiling() -> anyhow::Result<()> {
    let engine = Engine::new(EngineConfig {
        max_module_bytes: 1024,
        allocator: Allocator::OnDemand,
        ..EngineConfig::default()
    })?;
    let err = engine.load_function(&cloudexec_tests::guest_bytes("hello")?).unwrap_err();
    assert!(matches!(err, EngineError::ModuleTooLarge { limit: 1024, .. }), "{err}");
    Ok(())
}

#[test]
fn compiled_modules_are_cached_on_disk_and_reused_by_a_new_engine() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bytes = cloudexec_tests::guest_bytes("hello")?;
    let config = EngineConfig { cache_dir: Some(dir.path().to_path_buf()), ..EngineConfig::default() };
    let first = Engine::new(config.clone())?;
    let module = first.load_function(&bytes)?;
    let artifacts: Vec<_> = std::fs::read_dir(dir.path())?.collect::<Result<_, _>>()?;
    assert_eq!(artifacts.len(), 1);
    let name = artifacts[0].file_name().to_string_lossy().into_owned();
    assert!(name.starts_with(&module.sha256) && name.ends_with(".cwasm"), "{name}");
    let written = artifacts[0].metadata()?.modified()?;
    drop(first);

    let second = Engine::new(config)?;
    let reloaded = second.load_function(&bytes)?;
    assert_eq!(reloaded.sha256, module.sha256);
    let after: Vec<_> = std::fs::read_dir(dir.path())?.collect::<Result<_, _>>()?;
    assert_eq!(after.len(), 1, "no second artifact");
    assert_eq!(after[0].metadata()?.modified()?, written, "loaded from disk, not recompiled and rewritten");
    let out = second.invoke(&reloaded, &json!({"name": "cache"}), &Default::default());
    assert_eq!(out.result?, json!({"greeting": "Hello, cache!"}));
    Ok(())
}

#[test]
fn a_corrupt_cached_artifact_is_discarded_and_recompiled() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bytes = cloudexec_tests::guest_bytes("hello")?;
    let config = EngineConfig { cache_dir: Some(dir.path().to_path_buf()), ..EngineConfig::default() };
    Engine::new(config.clone())?.load_function(&bytes)?;
    for entry in std::fs::read_dir(dir.path())? {
        std::fs::write(entry?.path(), b"garbage")?;
    }
    let engine = Engine::new(config)?;
    let module = engine.load_function(&bytes)?;
    assert!(engine.invoke(&module, &json!({}), &Default::default()).result.is_ok());
    Ok(())
}

#[test]
fn the_on_demand_allocator_runs_the_same_guests() -> anyhow::Result<()> {
    let engine = Engine::new(EngineConfig { allocator: Allocator::OnDemand, ..EngineConfig::default() })?;
    assert!(!engine.uses_pooling());
    assert!(runtime().engine().uses_pooling(), "pooling starts on this machine");
    let module = engine.load_function(&cloudexec_tests::guest_bytes("hello")?)?;
    assert_eq!(
        engine.invoke(&module, &json!({"name": "x"}), &Default::default()).result?,
        json!({"greeting": "Hello, x!"})
    );
    Ok(())
}

#[test]
fn a_full_instance_pool_is_a_busy_error_not_a_trap() -> anyhow::Result<()> {
    let engine =
        Engine::new(EngineConfig { allocator: Allocator::Pooling, pool_instances: 1, ..EngineConfig::default() })?;
    let rt = cloudexec::testing::TestRuntime::with_engine(engine);
    let callee = rt.function(cloudexec_tests::guest("hello")?)?;
    let bin = rt.bin(cloudexec_tests::guest("hostile-bin")?)?;
    let mut instance = bin.instance();
    instance.bind("test.echo", &callee);
    instance.run(json!({"echo": "ping"}))?.result?;
    let error = instance.var("callError").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    assert!(error.contains("engine at capacity"), "the nested call found no free slot: {error}");
    assert_eq!(callee.invoke(json!({"name": "later"})).result?, json!({"greeting": "Hello, later!"}));
    Ok(())
}
