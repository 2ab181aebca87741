//! Apps (tenants) and their bearer tokens. Tokens are random, shown once, and stored
//! only as sha256 hashes; a token grants either the admin or exactly one app.

use std::sync::Arc;

use dashmap::DashMap;
use sha2::{Digest, Sha256};

use crate::error::ServiceError;
use crate::store::{App, Store, TokenGrant};

/// Prefix of tokens cloudexec generates, so they are recognisable in logs and configs.
pub const TOKEN_PREFIX: &str = "ce_";

/// Apps and tokens.
#[derive(Clone)]
pub struct Apps {
    store: Arc<dyn Store>,
    /// Grants of tokens seen before: tokens are never revoked yet, so this is exact.
    grants: Arc<DashMap<String, TokenGrant>>,
}

impl std::fmt::Debug for Apps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apps").finish_non_exhaustive()
    }
}

/// The sha256 of a token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token.
pub fn new_token() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness for a token: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

impl Apps {
    /// The service over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, grants: Arc::new(DashMap::new()) }
    }

    /// What `token` grants, or `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> Result<TokenGrant, ServiceError> {
        let hash = hash_token(token);
        if let Some(grant) = self.grants.get(&hash) {
            return Ok(*grant);
        }
        let grant = self
            .store
            .find_token(&hash)
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("the bearer token is not valid".into()))?;
        self.grants.insert(hash, grant);
        Ok(grant)
    }

    /// Creates an app and its first token; returns both (the token is not kept).
    pub async fn create(&self, name: &str) -> Result<(App, String), ServiceError> {
        if name.trim().is_empty() || name.len() > 128 {
            return Err(ServiceError::InvalidArgument("an app name must have 1 to 128 characters".into()));
        }
        let app = self.store.create_app(name).await?;
        let token = self.issue_token(app.app_key).await?;
        Ok((app, token))
    }

    /// A new token for an existing app.
    pub async fn issue_token(&self, app_key: i64) -> Result<String, ServiceError> {
        self.store
            .get_app(app_key)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "App", what: format!("app {app_key}") })?;
        let token = new_token()?;
        self.store.insert_token(&hash_token(&token), TokenGrant::App(app_key)).await?;
        Ok(token)
    }

    /// Registers a token chosen by the operator (flags, environment) for `grant`.
    pub async fn register_token(&self, token: &str, grant: TokenGrant) -> Result<(), ServiceError> {
        if token.len() < 16 {
            return Err(ServiceError::InvalidArgument("a token must have at least 16 characters".into()));
        }
        self.store.insert_token(&hash_token(token), grant).await?;
        Ok(())
    }

    /// All apps.
    pub async fn list(&self) -> Result<Vec<App>, ServiceError> {
        Ok(self.store.list_apps().await?)
    }

    /// The app with this key.
    pub async fn get(&self, app_key: i64) -> Result<Option<App>, ServiceError> {
        Ok(self.store.get_app(app_key).await?)
    }
}
