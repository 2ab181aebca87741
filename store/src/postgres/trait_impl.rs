//! [`Store`] for [`PgStore`]: every method is the PostgreSQL query of the same name
//! (`apps.rs`, `functions.rs`, `jobs.rs`, `bins.rs`, `flows.rs`).

use std::sync::Arc;

use async_trait::async_trait;

use super::PgStore;
use crate::{
    App, BinRecord, Binding, DeliveryEnd, ExecutionEvent, ExecutionRecord, ExecutionSignal, ExecutionUpdate,
    FlowRecord, FunctionRecord, FunctionUpdate, FunctionVersion, InstanceRecord, JobFilter, JobOutcome, JobOverview,
    JobRecord, JobWritten, NewFlowVersion, NewFunction, NewJob, NewVarDelivery, PageRequest, ServiceCategory,
    ServiceRecord, Store, StoreResult, TokenGrant, TokenInfo, VarDelivery,
};

#[async_trait]
impl Store for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn create_app(&self, name: &str) -> StoreResult<App> {
        PgStore::create_app(self, name).await
    }

    async fn first_app(&self, name: &str) -> StoreResult<App> {
        PgStore::first_app(self, name).await
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        PgStore::list_apps(self).await
    }

    async fn get_app(&self, app_key: i64) -> StoreResult<Option<App>> {
        PgStore::get_app(self, app_key).await
    }

    async fn insert_token(&self, token_hash: &str, grant: TokenGrant) -> StoreResult<i64> {
        PgStore::insert_token(self, token_hash, grant).await
    }

    async fn replace_start_token(&self, token_hash: &str, grant: TokenGrant, node: &str) -> StoreResult<Vec<String>> {
        PgStore::replace_start_token(self, token_hash, grant, node).await
    }

    async fn list_tokens(&self, app_key: i64) -> StoreResult<Vec<TokenInfo>> {
        PgStore::list_tokens(self, app_key).await
    }

    async fn delete_token(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        PgStore::delete_token(self, app_key, id).await
    }

    async fn check_writable(&self) -> StoreResult<()> {
        PgStore::check_writable(self).await
    }

    async fn set_app_limits(&self, app_key: i64, limits: String) -> StoreResult<()> {
        PgStore::set_app_limits(self, app_key, limits).await
    }

    async fn app_limits(&self) -> StoreResult<Vec<(i64, String)>> {
        PgStore::app_limits(self).await
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
        PgStore::find_token(self, token_hash).await
    }

    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>> {
        PgStore::server_secret(self, name, fresh).await
    }

    async fn put_module(&self, sha256: &str, bytes: Vec<u8>) -> StoreResult<()> {
        PgStore::put_module(self, sha256, bytes).await
    }

    async fn get_module(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        PgStore::get_module(self, sha256).await
    }

    async fn create_function(&self, new: NewFunction) -> StoreResult<FunctionRecord> {
        PgStore::create_function(self, new).await
    }

    async fn get_function(&self, app_key: i64, name: &str) -> StoreResult<Option<FunctionRecord>> {
        PgStore::get_function(self, app_key, name).await
    }

    async fn list_functions(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FunctionRecord>, i64)> {
        PgStore::list_functions(self, app_key, page).await
    }

    async fn update_function(&self, app_key: i64, name: &str, update: FunctionUpdate) -> StoreResult<FunctionRecord> {
        PgStore::update_function(self, app_key, name, update).await
    }

    async fn delete_function(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        PgStore::delete_function(self, app_key, name).await
    }

    async fn insert_finished_job(&self, job: NewJob, outcome: JobOutcome) -> StoreResult<i64> {
        PgStore::insert_finished_job(self, job, outcome).await
    }

    async fn insert_waiting_job(&self, job: NewJob) -> StoreResult<i64> {
        PgStore::insert_waiting_job(self, job).await
    }

    async fn heartbeat(&self, node: &str, now: i64) -> StoreResult<()> {
        PgStore::heartbeat(self, node, now).await
    }

    async fn node_heartbeat(&self, node: &str) -> StoreResult<Option<i64>> {
        PgStore::node_heartbeat(self, node).await
    }

    async fn remove_node(&self, node: &str) -> StoreResult<()> {
        PgStore::remove_node(self, node).await
    }

    async fn claim_jobs(&self, node: &str, limit: usize, skip: &[i64], started_at: i64) -> StoreResult<Vec<JobRecord>> {
        PgStore::claim_jobs(self, node, limit, skip, started_at).await
    }

    async fn finish_job(&self, node: &str, id: i64, outcome: JobOutcome) -> StoreResult<()> {
        PgStore::finish_job(self, node, id, outcome).await
    }

    async fn requeue_own_jobs(&self, node: &str) -> StoreResult<u64> {
        PgStore::requeue_own_jobs(self, node).await
    }

    async fn reclaim_jobs(&self, stale_before: i64) -> StoreResult<u64> {
        PgStore::reclaim_jobs(self, stale_before).await
    }

    async fn count_waiting(&self) -> StoreResult<i64> {
        PgStore::count_waiting(self).await
    }

    async fn get_job(&self, app_key: i64, id: i64) -> StoreResult<Option<JobRecord>> {
        PgStore::get_job(self, app_key, id).await
    }

    async fn list_jobs(
        &self,
        function_id: i64,
        filter: JobFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<JobRecord>, i64)> {
        PgStore::list_jobs(self, function_id, filter, page).await
    }

    async fn job_log(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        PgStore::job_log(self, app_key, id).await
    }

    async fn job_overview(&self, app_key: i64, since: i64, failures: i64) -> StoreResult<JobOverview> {
        PgStore::job_overview(self, app_key, since, failures).await
    }

    async fn create_bin(&self, bin: BinRecord) -> StoreResult<()> {
        PgStore::create_bin(self, bin).await
    }

    async fn get_bin(&self, app_key: i64, id: &str) -> StoreResult<Option<BinRecord>> {
        PgStore::get_bin(self, app_key, id).await
    }

    async fn create_instance(&self, instance: InstanceRecord) -> StoreResult<()> {
        PgStore::create_instance(self, instance).await
    }

    async fn get_instance(&self, app_key: i64, id: &str) -> StoreResult<Option<InstanceRecord>> {
        PgStore::get_instance(self, app_key, id).await
    }

    async fn commit_run(&self, instance: InstanceRecord, deliveries: Vec<NewVarDelivery>) -> StoreResult<bool> {
        PgStore::commit_run(self, instance, deliveries).await
    }

    async fn put_var_update_url(&self, app_key: i64, url: Option<String>) -> StoreResult<()> {
        PgStore::put_var_update_url(self, app_key, url).await
    }

    async fn var_update_url(&self, app_key: i64) -> StoreResult<Option<String>> {
        PgStore::var_update_url(self, app_key).await
    }

    async fn claim_var_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<VarDelivery>> {
        PgStore::claim_var_deliveries(self, now, lease_until, limit).await
    }

    async fn end_var_delivery(&self, id: i64, end: DeliveryEnd) -> StoreResult<()> {
        PgStore::end_var_delivery(self, id, end).await
    }

    async fn list_var_deliveries(&self, app_key: i64, instance_id: &str, limit: i64) -> StoreResult<Vec<VarDelivery>> {
        PgStore::list_var_deliveries(self, app_key, instance_id, limit).await
    }

    async fn destroy_instance(&self, app_key: i64, id: &str) -> StoreResult<bool> {
        PgStore::destroy_instance(self, app_key, id).await
    }

    async fn put_binding(&self, app_key: i64, binding: Binding) -> StoreResult<()> {
        PgStore::put_binding(self, app_key, binding).await
    }

    async fn list_bindings(&self, app_key: i64) -> StoreResult<Vec<Binding>> {
        PgStore::list_bindings(self, app_key).await
    }

    async fn publish_service(&self, service: ServiceRecord) -> StoreResult<bool> {
        PgStore::publish_service(self, service).await
    }

    async fn revoke_service(&self, app_key: i64, alias: &str, category: ServiceCategory) -> StoreResult<bool> {
        PgStore::revoke_service(self, app_key, alias, category).await
    }

    async fn get_service(&self, app_key: i64, alias: &str) -> StoreResult<Option<ServiceRecord>> {
        PgStore::get_service(self, app_key, alias).await
    }

    async fn list_function_versions(&self, function_id: i64) -> StoreResult<Vec<FunctionVersion>> {
        PgStore::list_function_versions(self, function_id).await
    }

    async fn list_bins(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<BinRecord>, i64)> {
        PgStore::list_bins(self, app_key, page).await
    }

    async fn list_instances(
        &self,
        app_key: i64,
        bin_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<InstanceRecord>, i64)> {
        PgStore::list_instances(self, app_key, bin_id, page).await
    }

    async fn list_services(&self, app_key: i64) -> StoreResult<Vec<ServiceRecord>> {
        PgStore::list_services(self, app_key).await
    }

    async fn create_flow(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        PgStore::create_flow(self, new).await
    }

    async fn add_flow_version(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        PgStore::add_flow_version(self, new).await
    }

    async fn get_flow(&self, app_key: i64, name: &str, version: Option<i64>) -> StoreResult<Option<FlowRecord>> {
        PgStore::get_flow(self, app_key, name, version).await
    }

    async fn list_flows(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FlowRecord>, i64)> {
        PgStore::list_flows(self, app_key, page).await
    }

    async fn delete_flow(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        PgStore::delete_flow(self, app_key, name).await
    }

    async fn create_execution(&self, execution: ExecutionRecord, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        PgStore::create_execution(self, execution, events).await
    }

    async fn save_execution(&self, update: ExecutionUpdate, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        PgStore::save_execution(self, update, events).await
    }

    async fn get_execution(&self, app_key: i64, id: &str) -> StoreResult<Option<ExecutionRecord>> {
        PgStore::get_execution(self, app_key, id).await
    }

    async fn get_execution_by_name(&self, flow_id: i64, name: &str) -> StoreResult<Option<ExecutionRecord>> {
        PgStore::get_execution_by_name(self, flow_id, name).await
    }

    async fn list_executions(&self, flow_id: i64, page: PageRequest) -> StoreResult<(Vec<ExecutionRecord>, i64)> {
        PgStore::list_executions(self, flow_id, page).await
    }

    async fn list_execution_events(
        &self,
        execution_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExecutionEvent>> {
        PgStore::list_execution_events(self, execution_id, after, limit).await
    }

    async fn claim_executions(&self, node: &str, stale_before: i64, own: bool) -> StoreResult<Vec<ExecutionRecord>> {
        PgStore::claim_executions(self, node, stale_before, own).await
    }

    async fn add_signal(&self, signal: ExecutionSignal) -> StoreResult<i64> {
        PgStore::add_signal(self, signal).await
    }

    async fn open_signals(&self, node: &str) -> StoreResult<Vec<ExecutionSignal>> {
        PgStore::open_signals(self, node).await
    }

    async fn settle_signal(&self, id: i64, outcome: serde_json::Value) -> StoreResult<()> {
        PgStore::settle_signal(self, id, outcome).await
    }

    async fn take_signal_outcome(&self, id: i64) -> StoreResult<Option<serde_json::Value>> {
        PgStore::take_signal_outcome(self, id).await
    }

    fn submit_finished_job(self: Arc<Self>, job: NewJob, outcome: JobOutcome, done: JobWritten) {
        PgStore::submit_finished_job(&self, job, outcome, done);
    }

    fn notices(&self) -> Option<tokio::sync::broadcast::Receiver<crate::Notice>> {
        Some(self.notices.subscribe())
    }
}
