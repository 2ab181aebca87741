//! Apps (tenants) and their bearer tokens. Tokens are random, shown once, and stored
//! only as sha256 hashes; a token grants either the admin or exactly one app.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cache::GuardedCache;
use crate::error::ServiceError;
use crate::store::{App, Store, StoreError, TokenGrant, TokenInfo, TokenRole};

/// Prefix of tokens cloudexec generates, so they are recognisable in logs and configs.
pub const TOKEN_PREFIX: &str = "ce_";

/// Apps and tokens.
#[derive(Clone)]
pub struct Apps {
    store: Arc<dyn Store>,
    /// Grants of tokens seen before, by hash; a revoked token is removed here as it is
    /// deleted from the store, and on the other nodes when they hear of it.
    grants: GuardedCache<String, TokenGrant>,
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

/// Shortest token an operator may choose.
pub const MIN_TOKEN_LEN: usize = 16;

/// Refuses a chosen token that is too short or has characters a header cannot carry.
pub fn check_chosen_token(token: &str) -> Result<(), ServiceError> {
    if token.trim().is_empty() {
        return Err(ServiceError::InvalidArgument("a token must not be empty".into()));
    }
    if token.len() < MIN_TOKEN_LEN {
        return Err(ServiceError::InvalidArgument(format!("a token must have at least {MIN_TOKEN_LEN} characters")));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::InvalidArgument(
            "a token must be printable ASCII without spaces (it travels in a header)".into(),
        ));
    }
    Ok(())
}

/// A new random token.
pub fn new_token() -> Result<String, ServiceError> {
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(crate::ids::random::<24>("a token")?)))
}

impl Apps {
    /// The service over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, grants: GuardedCache::default() }
    }

    /// What `token` grants, or `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> Result<TokenGrant, ServiceError> {
        let hash = hash_token(token);
        let load = async {
            self.store
                .find_token(&hash)
                .await?
                .ok_or_else(|| ServiceError::Unauthorized("the bearer token is not valid".into()))
        };
        self.grants.get_or_load(hash.clone(), load).await
    }

    /// Forgets a token another node revoked (by its hash).
    pub(crate) fn forget_token(&self, hash: &str) {
        self.grants.forget(&hash.to_string());
    }

    /// Forgets every cached token (changes may have been missed).
    pub(crate) fn forget_all(&self) {
        self.grants.clear();
    }

    /// Creates an app and its first token; returns both (the token is not kept).
    pub async fn create(&self, name: &str) -> Result<(App, String), ServiceError> {
        if name.trim().is_empty() || name.len() > 128 {
            return Err(ServiceError::InvalidArgument("an app name must have 1 to 128 characters".into()));
        }
        let app = self.store.create_app(name).await?;
        let (_, token) = self.issue_token(app.app_key, TokenRole::Developer).await?;
        Ok((app, token))
    }

    /// A new token for an existing app in `role`: its id and the token (shown this once).
    pub async fn issue_token(&self, app_key: i64, role: TokenRole) -> Result<(i64, String), ServiceError> {
        self.require(app_key).await?;
        let token = new_token()?;
        let id = self.store.insert_token(&hash_token(&token), TokenGrant::of_role(app_key, role)).await?;
        Ok((id, token))
    }

    /// The app, or `AppNotExists`.
    pub async fn require(&self, app_key: i64) -> Result<App, ServiceError> {
        self.store
            .get_app(app_key)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "App", what: format!("app {app_key}") })
    }

    /// Makes `token` (chosen by the operator, or generated at first start) `node`'s start
    /// token of `grant`; the one this node's previous start used is refused from now on
    /// (other nodes' start tokens on the same database stay).
    pub async fn register_start_token(&self, token: &str, grant: TokenGrant, node: &str) -> Result<(), ServiceError> {
        check_chosen_token(token)?;
        self.grants.begin_change();
        let revoked = self.store.replace_start_token(&hash_token(token), grant, node).await.map_err(|e| match e {
            StoreError::AlreadyExists { .. } => ServiceError::InvalidArgument(format!(
                "this token already grants {}; the admin token and each app's token must differ",
                if grant == TokenGrant::Admin { "an app" } else { "the admin or another app" }
            )),
            other => other.into(),
        })?;
        for hash in revoked {
            self.grants.forget(&hash);
        }
        Ok(())
    }

    /// An app's tokens (ids and times, never the tokens).
    pub async fn tokens(&self, app_key: i64) -> Result<Vec<TokenInfo>, ServiceError> {
        self.require(app_key).await?;
        Ok(self.store.list_tokens(app_key).await?)
    }

    /// Revokes an app's token by id: it is refused from this request on.
    pub async fn revoke_token(&self, app_key: i64, id: i64) -> Result<(), ServiceError> {
        self.require(app_key).await?;
        self.grants.begin_change();
        let hash = self
            .store
            .delete_token(app_key, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "Token", what: format!("token {id} of app {app_key}") })?;
        self.grants.forget(&hash);
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
