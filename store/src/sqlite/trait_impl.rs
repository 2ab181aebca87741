//! [`Store`] for [`SqliteStore`]: reads on the reader pool, writes through the writer.

use std::sync::Arc;

use async_trait::async_trait;

use serde_json::Value as Json;

use super::{SqliteStore, apps, bins, deliveries, executions, flows, functions, jobs, listings, overview, signals};
use crate::{
    App, BinRecord, Binding, DeliveryEnd, ExecutionEvent, ExecutionRecord, ExecutionSignal, ExecutionUpdate,
    FlowRecord, FunctionRecord, FunctionUpdate, FunctionVersion, InstanceRecord, JobFilter, JobOutcome, JobOverview,
    JobRecord, JobWritten, NewFlowVersion, NewFunction, NewJob, NewVarDelivery, PageRequest, ServiceCategory,
    ServiceRecord, Store, StoreResult, TokenGrant, TokenInfo, VarDelivery,
};
use cloudexec_engine::clock::now_us;

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn create_app(&self, name: &str) -> StoreResult<App> {
        let name = name.to_string();
        self.write(move |c| apps::create_app(c, &name)).await
    }

    async fn first_app(&self, name: &str) -> StoreResult<App> {
        let name = name.to_string();
        self.write(move |c| apps::first_app(c, &name)).await
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        self.read(apps::list_apps).await
    }

    async fn get_app(&self, app_key: i64) -> StoreResult<Option<App>> {
        self.read(move |c| apps::get_app(c, app_key)).await
    }

    async fn insert_token(&self, token_hash: &str, grant: TokenGrant) -> StoreResult<i64> {
        let hash = token_hash.to_string();
        self.write(move |c| apps::insert_token(c, &hash, grant)).await
    }

    async fn replace_start_token(&self, token_hash: &str, grant: TokenGrant, node: &str) -> StoreResult<Vec<String>> {
        let hash = token_hash.to_string();
        let node = node.to_string();
        self.write(move |c| apps::replace_start_token(c, &hash, grant, &node)).await
    }

    async fn list_tokens(&self, app_key: i64) -> StoreResult<Vec<TokenInfo>> {
        self.read(move |c| apps::list_tokens(c, app_key)).await
    }

    async fn delete_token(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        self.write(move |c| apps::delete_token(c, app_key, id)).await
    }

    async fn check_writable(&self) -> StoreResult<()> {
        self.writable().await
    }

    async fn set_app_limits(&self, app_key: i64, limits: String) -> StoreResult<()> {
        self.write(move |c| apps::set_limits(c, app_key, &limits)).await
    }

    async fn app_limits(&self) -> StoreResult<Vec<(i64, String)>> {
        self.read(apps::all_limits).await
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
        let hash = token_hash.to_string();
        self.read(move |c| apps::find_token(c, &hash)).await
    }

    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>> {
        let name = name.to_string();
        self.write(move |c| apps::server_secret(c, &name, &fresh)).await
    }

    async fn put_module(&self, sha256: &str, bytes: Vec<u8>) -> StoreResult<()> {
        let sha = sha256.to_string();
        self.write(move |c| apps::put_module(c, &sha, &bytes)).await
    }

    async fn get_module(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        let sha = sha256.to_string();
        self.read(move |c| apps::get_module(c, &sha)).await
    }

    async fn create_function(&self, new: NewFunction) -> StoreResult<FunctionRecord> {
        self.write(move |c| functions::create(c, &new)).await
    }

    async fn get_function(&self, app_key: i64, name: &str) -> StoreResult<Option<FunctionRecord>> {
        let name = name.to_string();
        self.read(move |c| functions::get(c, app_key, &name)).await
    }

    async fn list_functions(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FunctionRecord>, i64)> {
        self.read(move |c| functions::list(c, app_key, page)).await
    }

    async fn update_function(&self, app_key: i64, name: &str, update: FunctionUpdate) -> StoreResult<FunctionRecord> {
        let name = name.to_string();
        self.write(move |c| functions::update(c, app_key, &name, &update)).await
    }

    async fn delete_function(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        let name = name.to_string();
        self.write(move |c| functions::delete(c, app_key, &name)).await
    }

    async fn insert_finished_job(&self, job: NewJob, outcome: JobOutcome) -> StoreResult<i64> {
        self.write(move |c| jobs::insert_finished(c, &job, &outcome)).await
    }

    fn submit_finished_job(self: Arc<Self>, job: NewJob, outcome: JobOutcome, done: JobWritten) {
        self.write_then(move |c| jobs::insert_finished(c, &job, &outcome), done);
    }

    async fn insert_waiting_job(&self, job: NewJob) -> StoreResult<i64> {
        self.write(move |c| jobs::insert_waiting(c, &job)).await
    }

    async fn heartbeat(&self, node: &str, now: i64) -> StoreResult<()> {
        let node = node.to_string();
        self.write(move |c| jobs::heartbeat(c, &node, now)).await
    }

    async fn node_heartbeat(&self, node: &str) -> StoreResult<Option<i64>> {
        let node = node.to_string();
        self.read(move |c| jobs::node_heartbeat(c, &node)).await
    }

    async fn remove_node(&self, node: &str) -> StoreResult<()> {
        let node = node.to_string();
        self.write(move |c| jobs::remove_node(c, &node)).await
    }

    async fn claim_jobs(&self, node: &str, limit: usize, skip: &[i64], started_at: i64) -> StoreResult<Vec<JobRecord>> {
        let (node, skip) = (node.to_string(), skip.to_vec());
        self.write(move |c| jobs::claim(c, &node, limit, &skip, started_at)).await
    }

    async fn finish_job(&self, node: &str, id: i64, outcome: JobOutcome) -> StoreResult<()> {
        let node = node.to_string();
        self.write(move |c| jobs::finish(c, &node, id, &outcome)).await
    }

    async fn requeue_own_jobs(&self, node: &str) -> StoreResult<u64> {
        let node = node.to_string();
        self.write(move |c| jobs::requeue_own(c, &node)).await
    }

    async fn reclaim_jobs(&self, stale_before: i64) -> StoreResult<u64> {
        self.write(move |c| jobs::reclaim(c, stale_before)).await
    }

    async fn count_waiting(&self) -> StoreResult<i64> {
        self.read(jobs::count_waiting).await
    }

    async fn get_job(&self, app_key: i64, id: i64) -> StoreResult<Option<JobRecord>> {
        self.read(move |c| jobs::get(c, app_key, id)).await
    }

    async fn list_jobs(
        &self,
        function_id: i64,
        filter: JobFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<JobRecord>, i64)> {
        self.read(move |c| jobs::list(c, function_id, &filter, page)).await
    }

    async fn job_log(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        self.read(move |c| jobs::log(c, app_key, id)).await
    }

    async fn job_overview(&self, app_key: i64, since: i64, failures: i64) -> StoreResult<JobOverview> {
        self.read(move |c| overview::job_overview(c, app_key, since, failures)).await
    }

    async fn create_bin(&self, bin: BinRecord) -> StoreResult<()> {
        self.write(move |c| bins::create_bin(c, &bin)).await
    }

    async fn get_bin(&self, app_key: i64, id: &str) -> StoreResult<Option<BinRecord>> {
        let id = id.to_string();
        self.read(move |c| bins::get_bin(c, app_key, &id)).await
    }

    async fn create_instance(&self, instance: InstanceRecord) -> StoreResult<()> {
        self.write(move |c| bins::create_instance(c, &instance)).await
    }

    async fn get_instance(&self, app_key: i64, id: &str) -> StoreResult<Option<InstanceRecord>> {
        let id = id.to_string();
        self.read(move |c| bins::get_instance(c, app_key, &id)).await
    }

    async fn commit_run(&self, instance: InstanceRecord, queued: Vec<NewVarDelivery>) -> StoreResult<bool> {
        self.write(move |c| {
            let committed = bins::commit_run(c, &instance)?;
            if committed {
                deliveries::insert(c, &queued)?;
            }
            Ok(committed)
        })
        .await
    }

    async fn put_var_update_url(&self, app_key: i64, url: Option<String>) -> StoreResult<()> {
        self.write(move |c| deliveries::put_url(c, app_key, url.as_deref())).await
    }

    async fn var_update_url(&self, app_key: i64) -> StoreResult<Option<String>> {
        self.read(move |c| deliveries::url(c, app_key)).await
    }

    async fn claim_var_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<VarDelivery>> {
        self.write(move |c| deliveries::claim(c, now, lease_until, limit)).await
    }

    async fn end_var_delivery(&self, id: i64, end: DeliveryEnd) -> StoreResult<()> {
        self.write(move |c| deliveries::end(c, id, &end)).await
    }

    async fn list_var_deliveries(&self, app_key: i64, instance_id: &str, limit: i64) -> StoreResult<Vec<VarDelivery>> {
        let instance_id = instance_id.to_string();
        self.read(move |c| deliveries::list(c, app_key, &instance_id, limit)).await
    }

    async fn destroy_instance(&self, app_key: i64, id: &str) -> StoreResult<bool> {
        let id = id.to_string();
        self.write(move |c| bins::destroy_instance(c, app_key, &id)).await
    }

    async fn put_binding(&self, app_key: i64, binding: Binding) -> StoreResult<()> {
        self.write(move |c| bins::put_binding(c, app_key, &binding)).await
    }

    async fn list_bindings(&self, app_key: i64) -> StoreResult<Vec<Binding>> {
        self.read(move |c| bins::list_bindings(c, app_key)).await
    }

    async fn publish_service(&self, service: ServiceRecord) -> StoreResult<bool> {
        self.write(move |c| bins::publish(c, &service)).await
    }

    async fn revoke_service(&self, app_key: i64, alias: &str, category: ServiceCategory) -> StoreResult<bool> {
        let alias = alias.to_string();
        self.write(move |c| bins::revoke(c, app_key, &alias, category.code())).await
    }

    async fn get_service(&self, app_key: i64, alias: &str) -> StoreResult<Option<ServiceRecord>> {
        let alias = alias.to_string();
        self.read(move |c| bins::get_service(c, app_key, &alias)).await
    }

    async fn list_function_versions(&self, function_id: i64) -> StoreResult<Vec<FunctionVersion>> {
        self.read(move |c| listings::list_function_versions(c, function_id)).await
    }

    async fn list_bins(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<BinRecord>, i64)> {
        self.read(move |c| listings::list_bins(c, app_key, page)).await
    }

    async fn list_instances(
        &self,
        app_key: i64,
        bin_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<InstanceRecord>, i64)> {
        let bin_id = bin_id.map(str::to_string);
        self.read(move |c| listings::list_instances(c, app_key, bin_id.as_deref(), page)).await
    }

    async fn list_services(&self, app_key: i64) -> StoreResult<Vec<ServiceRecord>> {
        self.read(move |c| listings::list_services(c, app_key)).await
    }

    async fn create_flow(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        self.write(move |c| flows::create(c, &new)).await
    }

    async fn add_flow_version(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        self.write(move |c| flows::add_version(c, &new)).await
    }

    async fn get_flow(&self, app_key: i64, name: &str, version: Option<i64>) -> StoreResult<Option<FlowRecord>> {
        let name = name.to_string();
        self.read(move |c| flows::get(c, app_key, &name, version)).await
    }

    async fn list_flows(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FlowRecord>, i64)> {
        self.read(move |c| flows::list(c, app_key, page)).await
    }

    async fn delete_flow(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        let name = name.to_string();
        self.write(move |c| flows::delete(c, app_key, &name)).await
    }

    async fn create_execution(&self, execution: ExecutionRecord, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        self.write(move |c| executions::create(c, &execution, &events)).await
    }

    async fn save_execution(&self, update: ExecutionUpdate, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        self.write(move |c| executions::save(c, &update, &events)).await
    }

    async fn get_execution(&self, app_key: i64, id: &str) -> StoreResult<Option<ExecutionRecord>> {
        let id = id.to_string();
        self.read(move |c| executions::get(c, app_key, &id)).await
    }

    async fn get_execution_by_name(&self, flow_id: i64, name: &str) -> StoreResult<Option<ExecutionRecord>> {
        let name = name.to_string();
        self.read(move |c| executions::get_by_name(c, flow_id, &name)).await
    }

    async fn list_executions(&self, flow_id: i64, page: PageRequest) -> StoreResult<(Vec<ExecutionRecord>, i64)> {
        self.read(move |c| executions::list(c, flow_id, page)).await
    }

    async fn list_execution_events(
        &self,
        execution_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExecutionEvent>> {
        let id = execution_id.to_string();
        self.read(move |c| executions::events(c, &id, after, limit)).await
    }

    async fn claim_executions(&self, node: &str, stale_before: i64, own: bool) -> StoreResult<Vec<ExecutionRecord>> {
        let node = node.to_string();
        self.write(move |c| executions::claim(c, &node, stale_before, own)).await
    }

    async fn add_signal(&self, signal: ExecutionSignal) -> StoreResult<i64> {
        self.write(move |c| signals::add(c, &signal)).await
    }

    async fn open_signals(&self, node: &str) -> StoreResult<Vec<ExecutionSignal>> {
        let node = node.to_string();
        self.read(move |c| signals::open(c, &node)).await
    }

    async fn settle_signal(&self, id: i64, outcome: Json) -> StoreResult<()> {
        self.write(move |c| signals::settle(c, id, &outcome, now_us())).await
    }

    async fn take_signal_outcome(&self, id: i64) -> StoreResult<Option<Json>> {
        self.write(move |c| signals::take_outcome(c, id)).await
    }
}
