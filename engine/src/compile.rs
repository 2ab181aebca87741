//! Turning uploaded bytes into a compiled component: validation, compilation, and the
//! on-disk cache of compiled artifacts keyed by content hash and engine compatibility.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::error::EngineError;

/// The sha256 of a module's bytes, lowercase hex: its identity everywhere.
pub fn module_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Compiles components, reusing artifacts cached on disk by an earlier run.
#[derive(Debug)]
pub(crate) struct Compiler {
    engine: wasmtime::Engine,
    cache_dir: Option<PathBuf>,
    /// Hash of the engine's compatibility settings: artifacts of another build or
    /// configuration are never loaded.
    compat: String,
    max_module_bytes: usize,
}

impl Compiler {
    pub(crate) fn new(
        engine: wasmtime::Engine,
        cache_dir: Option<PathBuf>,
        max_module_bytes: usize,
    ) -> Result<Self, EngineError> {
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| EngineError::Internal(format!("cannot create cache dir {}: {e}", dir.display())))?;
        }
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let compat = format!("{:016x}", hasher.finish());
        Ok(Self { engine, cache_dir, compat, max_module_bytes })
    }

    /// Validates and compiles `bytes` (or loads the cached artifact of identical bytes).
    pub(crate) fn compile(&self, bytes: &[u8], hash: &str) -> Result<Component, EngineError> {
        check_format(bytes, self.max_module_bytes)?;
        let cached = self.artifact_path(hash);
        if let Some(path) = &cached
            && let Some(component) = self.load_artifact(path)
        {
            return Ok(component);
        }
        let component =
            Component::new(&self.engine, bytes).map_err(|e| EngineError::InvalidModule(format!("{e:#}")))?;
        if let Some(path) = cached {
            self.store_artifact(&component, &path);
        }
        Ok(component)
    }

    /// The artifact of identical bytes compiled earlier, if one is on disk.
    pub(crate) fn cached(&self, hash: &str) -> Option<Component> {
        self.artifact_path(hash).and_then(|path| self.load_artifact(&path))
    }

    fn artifact_path(&self, hash: &str) -> Option<PathBuf> {
        self.cache_dir.as_ref().map(|dir| dir.join(format!("{hash}-{}.cwasm", self.compat)))
    }

    fn load_artifact(&self, path: &Path) -> Option<Component> {
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `store_artifact` of an engine with the same
        // compatibility hash, into a directory only this process's user writes; wasmtime
        // checks the artifact's header and engine settings again before using it.
        #[expect(unsafe_code, reason = "deserializing our own precompiled artifact")]
        let loaded = unsafe { Component::deserialize_file(&self.engine, path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached artifact");
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }

    /// Writes the artifact atomically (temp file + rename) so a concurrent reader or a
    /// crash never sees half a file. A failure only costs a recompile later.
    fn store_artifact(&self, component: &Component, path: &Path) {
        let result = component.serialize().map_err(|e| e.to_string()).and_then(|bytes| {
            let dir = path.parent().ok_or("artifact path has no parent")?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
            tmp.write_all(&bytes).map_err(|e| e.to_string())?;
            tmp.persist(path).map_err(|e| e.to_string())?;
            Ok(())
        });
        if let Err(error) = result {
            tracing::warn!(path = %path.display(), %error, "could not cache compiled module");
        }
    }
}

/// Rejects what is clearly not a component before the compiler sees it, with a message
/// that says what it is instead.
fn check_format(bytes: &[u8], max: usize) -> Result<(), EngineError> {
    if bytes.len() > max {
        return Err(EngineError::ModuleTooLarge { size: bytes.len(), limit: max });
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(EngineError::NotAComponent);
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(EngineError::InvalidModule(
            "not a WebAssembly binary: the file does not start with the `\\0asm` magic and a component version".into(),
        ));
    }
    Ok(())
}
