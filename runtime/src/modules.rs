//! Loading modules for the services: compiling is CPU work, so it runs on a blocking
//! thread of the bounded CPU pool ([`crate::cpu`]); uploaded bytes are stored once by sha256, and read back after a restart.

use std::sync::Arc;

use crate::engine::{BinModule, Engine, EngineError, FunctionModule};
use crate::error::ServiceError;
use crate::store::Store;

/// A loaded module knows the sha256 it was loaded by, so uploads hash their bytes once
/// (18 MB take about 45 ms).
pub trait Loaded {
    /// The sha256 of the module's bytes.
    fn sha256(&self) -> &str;
}

impl Loaded for Arc<FunctionModule> {
    fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl Loaded for Arc<BinModule> {
    fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// How a kind of module is loaded: [`Engine::load_function`] or [`Engine::load_bin`].
pub type Loader<M> = fn(&Engine, &[u8]) -> Result<M, EngineError>;

async fn load_blocking<M: Send + 'static>(
    engine: &Engine,
    wasm: Vec<u8>,
    load: Loader<M>,
) -> Result<(Vec<u8>, M), ServiceError> {
    let engine = engine.clone();
    let (wasm, loaded) = crate::cpu::run(move || {
        let loaded = load(&engine, &wasm);
        (wasm, loaded)
    })
    .await?;
    Ok((wasm, loaded.map_err(ServiceError::InvalidModule)?))
}

/// Validates and compiles uploaded code, then stores its bytes; returns the sha256 and
/// the loaded module. Nothing is stored when the code is rejected.
pub async fn load_and_store<M: Loaded + Send + 'static>(
    store: &dyn Store,
    engine: &Engine,
    wasm: Vec<u8>,
    load: Loader<M>,
) -> Result<(String, M), ServiceError> {
    if wasm.is_empty() {
        return Err(ServiceError::InvalidArgument("the wasm module is empty".into()));
    }
    let (wasm, module) = load_blocking(engine, wasm, load).await?;
    let sha = module.sha256().to_string();
    store.put_module(&sha, wasm).await?;
    Ok((sha, module))
}

/// Loads a stored module by sha256 (from the artifact cache when it was compiled before).
pub async fn load_stored<M: Send + 'static>(
    store: &dyn Store,
    engine: &Engine,
    sha256: &str,
    load: Loader<M>,
) -> Result<M, ServiceError> {
    let bytes = store
        .get_module(sha256)
        .await?
        .ok_or_else(|| ServiceError::Internal(format!("module {sha256} is missing from the store")))?;
    Ok(load_blocking(engine, bytes, load).await?.1)
}
