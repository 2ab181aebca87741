//! An app's bins, live instances and services as lists (the console's pages of them).

use super::Bins;
use crate::error::ServiceError;
use crate::store::{BinRecord, InstanceRecord, PageRequest, ServiceRecord};

impl Bins {
    /// A page of the app's bins, newest first, and how many there are.
    pub async fn list_bins(&self, app_key: i64, page: PageRequest) -> Result<(Vec<BinRecord>, i64), ServiceError> {
        Ok(self.store.list_bins(app_key, page).await?)
    }

    /// A page of the app's live instances (of one bin when given), newest first, and how many.
    pub async fn list_instances(
        &self,
        app_key: i64,
        bin_id: Option<&str>,
        page: PageRequest,
    ) -> Result<(Vec<InstanceRecord>, i64), ServiceError> {
        Ok(self.store.list_instances(app_key, bin_id, page).await?)
    }

    /// The app's services, live and revoked, by alias.
    pub async fn list_services(&self, app_key: i64) -> Result<Vec<ServiceRecord>, ServiceError> {
        Ok(self.store.list_services(app_key).await?)
    }
}
