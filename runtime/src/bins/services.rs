//! Services (seed 000, 3.6–3.10): a bin published under an alias. A static flow
//! (category 0) runs a fresh instance once per call, kept afterwards for inspection
//! until destroyed; a dynamic flow (category 1) hands out instances that are run many
//! times. Runs of a revoked service's instances are refused.

use super::{Bins, RunReport};
use crate::engine::TypedValue;
use crate::error::ServiceError;
use crate::store::{ServiceCategory, ServiceRecord};

/// Longest alias accepted.
const MAX_ALIAS_LEN: usize = 64;

fn service_not_found(alias: &str) -> ServiceError {
    ServiceError::NotFound { kind: "Service", what: format!("service {alias:?}") }
}

/// The category of seed 000's number, or a 400 saying which numbers there are.
pub fn category_of(code: i64) -> Result<ServiceCategory, ServiceError> {
    ServiceCategory::from_code(code).ok_or_else(|| {
        ServiceError::InvalidArgument(format!("invalid category {code}: 0 is a static flow, 1 a dynamic flow"))
    })
}

fn validate(alias: &str) -> Result<(), ServiceError> {
    let ok = !alias.is_empty()
        && alias.len() <= MAX_ALIAS_LEN
        && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(ServiceError::InvalidArgument(format!(
            "invalid alias {alias:?}: use 1 to {MAX_ALIAS_LEN} letters, digits, `_` or `-`"
        )));
    }
    Ok(())
}

impl Bins {
    /// Publishes `bin_id` under `alias`; the alias must not name a live service.
    pub async fn publish(
        &self,
        app_key: i64,
        alias: &str,
        category: ServiceCategory,
        bin_id: &str,
    ) -> Result<(), ServiceError> {
        validate(alias)?;
        self.bin(app_key, bin_id).await?;
        let service =
            ServiceRecord { app_key, alias: alias.to_string(), category, bin_id: bin_id.to_string(), revoked: false };
        match self.store.publish_service(service).await? {
            true => Ok(()),
            false => Err(ServiceError::AlreadyExists { kind: "Service", what: format!("service {alias:?}") }),
        }
    }

    /// Revokes a live service of `category`.
    pub async fn revoke(&self, app_key: i64, alias: &str, category: ServiceCategory) -> Result<(), ServiceError> {
        validate(alias)?;
        match self.store.revoke_service(app_key, alias, category).await? {
            true => Ok(()),
            false => Err(service_not_found(alias)),
        }
    }

    /// The live service under `alias`.
    pub async fn live_service(&self, app_key: i64, alias: &str) -> Result<ServiceRecord, ServiceError> {
        match self.store.get_service(app_key, alias).await? {
            Some(service) if !service.revoked => Ok(service),
            Some(_) => Err(ServiceError::InvalidArgument(format!("service {alias:?} was revoked"))),
            None => Err(service_not_found(alias)),
        }
    }

    async fn service_of(
        &self,
        app_key: i64,
        alias: &str,
        category: ServiceCategory,
    ) -> Result<ServiceRecord, ServiceError> {
        let service = self.live_service(app_key, alias).await?;
        if service.category != category {
            let kind = category.name();
            return Err(ServiceError::InvalidArgument(format!("service {alias:?} is not a {kind} flow")));
        }
        Ok(service)
    }

    /// Static flow: a fresh instance, run once with `param`, kept for inspection.
    pub async fn run_static(
        &self,
        app_key: i64,
        alias: &str,
        param: Vec<(String, TypedValue)>,
    ) -> Result<RunReport, ServiceError> {
        let service = self.service_of(app_key, alias, ServiceCategory::Static).await?;
        let (instance, _) = self.new_instance(app_key, &service.bin_id, Some(service.alias)).await?;
        self.run(app_key, &instance.id, param).await
    }

    /// Dynamic flow: a new instance to run many times; returns its id.
    pub async fn create_dynamic(&self, app_key: i64, alias: &str) -> Result<String, ServiceError> {
        let service = self.service_of(app_key, alias, ServiceCategory::Dynamic).await?;
        let (instance, _) = self.new_instance(app_key, &service.bin_id, Some(service.alias)).await?;
        Ok(instance.id)
    }
}
