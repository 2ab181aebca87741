//! Cloud functions: create, update (new code = new immutable version), list, get,
//! delete; their code is a wasm component or JavaScript source (`js.rs`).

mod js;

use std::sync::Arc;
use std::time::Duration;

use crate::cache::GuardedCache;
use crate::engine::{ASYNC_TIMEOUT, Engine, FunctionModule, Plan, SYNC_TIMEOUT};
use crate::error::ServiceError;
use crate::modules::{load_and_store, load_stored};
use crate::store::{FunctionRecord, FunctionUpdate, FunctionVersion, NewFunction, PageRequest, Store};
use crate::time::now_us;

/// Longest function name accepted.
pub const MAX_NAME_LEN: usize = 64;
/// Longest deadline a function may ask for: 15 minutes.
pub const MAX_TIMEOUT_MS: i64 = 15 * 60 * 1000;

/// A function to create, as the API layers hand it over.
#[derive(Debug, Clone, Default)]
pub struct CreateFunction {
    /// Name: letters, digits, `_` and `-`.
    pub name: String,
    /// The wasm component (unless `javascript` is given).
    pub wasm: Vec<u8>,
    /// JavaScript source instead of a component (seed 001's `function_code`).
    pub javascript: Option<String>,
    /// Free text.
    pub remark: Option<String>,
    /// `P_FREE` (default) or `P_PERSONAL`.
    pub plan: Option<String>,
    /// Sync deadline, ms (default 5000).
    pub sync_timeout_ms: Option<i64>,
    /// Async deadline, ms (default 300000).
    pub async_timeout_ms: Option<i64>,
}

/// Changes to a function; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ChangeFunction {
    /// New name.
    pub name: Option<String>,
    /// New code: a new version.
    pub wasm: Option<Vec<u8>>,
    /// New JavaScript source: a new version.
    pub javascript: Option<String>,
    /// New remark.
    pub remark: Option<String>,
    /// New plan.
    pub plan: Option<String>,
    /// New sync deadline.
    pub sync_timeout_ms: Option<i64>,
    /// New async deadline.
    pub async_timeout_ms: Option<i64>,
}

/// The functions service.
#[derive(Clone)]
pub struct Functions {
    store: Arc<dyn Store>,
    engine: Engine,
    /// Functions by (app, name), so an invocation does not read the store for them.
    cache: GuardedCache<(i64, String), FunctionRecord>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions").finish_non_exhaustive()
    }
}

impl Functions {
    /// A service over `store`, compiling and running on `engine`.
    pub fn new(store: Arc<dyn Store>, engine: Engine) -> Self {
        Self { store, engine, cache: GuardedCache::default() }
    }

    /// Forgets a function another node changed or deleted.
    pub(crate) fn forget_cached(&self, app_key: i64, name: &str) {
        self.cache.forget(&(app_key, name.to_string()));
    }

    /// Forgets every cached function (changes may have been missed).
    pub(crate) fn forget_all(&self) {
        self.cache.clear();
    }

    /// Validates and compiles the code, stores it once per content, creates the function.
    pub async fn create(&self, app_key: i64, req: CreateFunction) -> Result<FunctionRecord, ServiceError> {
        validate_name(&req.name)?;
        let plan = validate_plan(req.plan.as_deref())?;
        let sync_ms = validate_timeout("sync_timeout_ms", req.sync_timeout_ms, as_ms(SYNC_TIMEOUT))?;
        let async_ms = validate_timeout("async_timeout_ms", req.async_timeout_ms, as_ms(ASYNC_TIMEOUT))?;
        let sha = match req.javascript {
            Some(source) => self.store_script(source).await?,
            None => self.compile_and_store(req.wasm).await?,
        };
        let new = NewFunction {
            app_key,
            name: req.name,
            remark: req.remark.unwrap_or_default(),
            plan,
            sync_timeout_ms: sync_ms,
            async_timeout_ms: async_ms,
            module_sha256: sha,
            now: now_us(),
        };
        let created = self.store.create_function(new).await?;
        self.cache.put((app_key, created.name.clone()), created.clone());
        Ok(created)
    }

    /// Applies `change`; new code is compiled first and becomes a new version.
    pub async fn update(
        &self,
        app_key: i64,
        name: &str,
        change: ChangeFunction,
    ) -> Result<FunctionRecord, ServiceError> {
        self.get(app_key, name).await?;
        if let Some(new_name) = &change.name {
            validate_name(new_name)?;
        }
        let plan = change.plan.as_deref().map(|p| validate_plan(Some(p))).transpose()?;
        let sync_ms = change.sync_timeout_ms.map(|v| validate_timeout("sync_timeout_ms", Some(v), 0)).transpose()?;
        let async_ms = change.async_timeout_ms.map(|v| validate_timeout("async_timeout_ms", Some(v), 0)).transpose()?;
        let module_sha256 = match (change.javascript, change.wasm) {
            (Some(source), _) => Some(self.store_script(source).await?),
            (None, Some(wasm)) => Some(self.compile_and_store(wasm).await?),
            (None, None) => None,
        };
        let update = FunctionUpdate {
            name: change.name,
            remark: change.remark,
            plan,
            sync_timeout_ms: sync_ms,
            async_timeout_ms: async_ms,
            module_sha256,
            now: now_us(),
        };
        self.cache.begin_change();
        let updated = self.store.update_function(app_key, name, update).await;
        self.cache.forget(&(app_key, name.to_string()));
        let updated = updated?;
        self.cache.put((app_key, updated.name.clone()), updated.clone());
        Ok(updated)
    }

    /// Which compiler's code of `function`'s current version runs on this node, if it
    /// is loaded here.
    pub fn code_tier(&self, function: &FunctionRecord) -> Option<&'static str> {
        self.engine.cached_function(&function.module_sha256).map(|module| module.tier().as_str())
    }

    /// The app's function by name if the cache has it (no store read; `None` may only
    /// mean it is not cached yet).
    pub fn cached(&self, app_key: i64, name: &str) -> Option<FunctionRecord> {
        self.cache.get(&(app_key, name.to_string()))
    }

    /// The app's function by name (from the cache when it is there).
    pub async fn get(&self, app_key: i64, name: &str) -> Result<FunctionRecord, ServiceError> {
        let load = async {
            self.store.get_function(app_key, name).await?.ok_or_else(|| ServiceError::function_not_found(name))
        };
        self.cache.get_or_load((app_key, name.to_string()), load).await
    }

    /// A function's versions, newest first.
    pub async fn versions(&self, app_key: i64, name: &str) -> Result<Vec<FunctionVersion>, ServiceError> {
        let function = self.get(app_key, name).await?;
        Ok(self.store.list_function_versions(function.id).await?)
    }

    /// A page of the app's functions and the total.
    pub async fn list(&self, app_key: i64, page: PageRequest) -> Result<(Vec<FunctionRecord>, i64), ServiceError> {
        Ok(self.store.list_functions(app_key, page).await?)
    }

    /// Deletes a function with its versions and jobs.
    pub async fn delete(&self, app_key: i64, name: &str) -> Result<(), ServiceError> {
        self.cache.begin_change();
        let deleted = self.store.delete_function(app_key, name).await;
        self.cache.forget(&(app_key, name.to_string()));
        match deleted? {
            true => Ok(()),
            false => Err(ServiceError::function_not_found(name)),
        }
    }

    /// The compiled module of `sha256`: from memory, or from the store (and the disk
    /// cache of compiled artifacts) after a restart.
    pub async fn module(&self, sha256: &str) -> Result<Arc<FunctionModule>, ServiceError> {
        if let Some(module) = self.engine.cached_function(sha256) {
            return Ok(module);
        }
        load_stored(self.store.as_ref(), &self.engine, sha256, js::load_code).await
    }

    async fn compile_and_store(&self, wasm: Vec<u8>) -> Result<String, ServiceError> {
        Ok(load_and_store(self.store.as_ref(), &self.engine, wasm, Engine::load_function).await?.0)
    }
}

fn validate_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(format!(
            "invalid function name {name:?}: use 1 to {MAX_NAME_LEN} letters, digits, `_` or `-`"
        )))
    }
}

fn validate_plan(plan: Option<&str>) -> Result<Plan, ServiceError> {
    match plan {
        None | Some("") => Ok(Plan::Free),
        Some(name) => Plan::from_name(name)
            .ok_or_else(|| ServiceError::InvalidArgument(format!("unknown plan {name:?}: use P_FREE or P_PERSONAL"))),
    }
}

fn validate_timeout(field: &str, value: Option<i64>, default: i64) -> Result<i64, ServiceError> {
    let ms = value.unwrap_or(default);
    if (1..=MAX_TIMEOUT_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(ServiceError::InvalidArgument(format!("{field} must be between 1 and {MAX_TIMEOUT_MS}, got {ms}")))
    }
}

/// A duration in whole ms.
fn as_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A deadline in ms as a duration (negative values are treated as zero).
pub fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
