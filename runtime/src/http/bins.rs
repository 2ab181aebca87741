//! `/v1/bins`, `/v1/instances`, `/v1/bindings`: bins, execution instances and the
//! function-key bindings their runs call through.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};

use super::AppState;
use super::auth::{AppCaller, InstanceCaller};
use super::body::UploadFields;
use super::body::{ApiBytes, ApiJson, Upload};
use super::error::ApiError;
use super::extract::{Path, Query};
use super::views::ErrorView;
use crate::bins::RunReport;
use crate::bins::parse_updates;
use crate::engine::Manifest;
use crate::store::{BinRecord, Binding, BindingTarget, InstanceRecord};

/// Seed 000's `appData`: `{"executionData": {"appFunction": [...]}}` from the manifest.
pub fn app_data(manifest: &Manifest) -> Json_ {
    let functions: Vec<Json_> = manifest
        .functions
        .iter()
        .map(|f| {
            json!({
                "functionKey": f.function_key,
                "functionName": f.function_name,
                "paramsTypelist": format!("[{}]", f.params_typelist.join(",")),
                "returnType": f.return_type,
            })
        })
        .collect();
    json!({"executionData": {"appFunction": functions}})
}

/// A bin, with `codeTier`: which compiler's code of it this node runs (`baseline` while
/// a large component's optimized code compiles, `optimized`, or `null` if not loaded here).
pub(super) fn bin_view(s: &AppState, bin: &BinRecord) -> Json_ {
    json!({
        "binId": bin.id,
        "moduleSha256": bin.module_sha256,
        "codeTier": s.bins.code_tier(bin),
        "manifest": bin.manifest,
        "appData": app_data(&bin.manifest),
    })
}

/// An instance with its variables (seed shape `{data, len, type}`) and state machines.
pub fn instance_view(i: &InstanceRecord) -> Json_ {
    let machines: Map<String, Json_> = i
        .state
        .machines
        .iter()
        .map(|(id, m)| (id.to_string(), json!({"current": m.current, "path": m.path})))
        .collect();
    json!({
        "executeInstanceId": i.id,
        "binId": i.bin_id,
        "status": i.status,
        "runs": i.runs,
        "lastError": i.last_error,
        "variables": i.state.variables,
        "stateMachines": machines,
    })
}

/// A run's report.
pub fn run_view(report: &RunReport) -> Json_ {
    let run = &report.run;
    let error = run.result.as_ref().err().map(|e| json!({"kind": e.kind(), "message": e.to_string()}));
    json!({
        "executeInstanceId": report.instance.id,
        "committed": run.state.is_some(),
        "result": if run.result.is_ok() { "ok" } else { "failed" },
        "error": error,
        "log": run.log.text,
        "memUsage": run.peak_memory_bytes,
        "durationMs": run.duration.as_secs_f64() * 1e3,
        "instance": instance_view(&report.instance),
    })
}

/// Uploads a bin: a wasm component with its manifest of state machines and functions.
#[utoipa::path(post, path = "/v1/bins", tag = "bins",
    request_body(content = UploadFields, description = "JSON shape; raw `application/wasm` and multipart work too"),
    responses((status = 201, body = Object, description = "binId, moduleSha256, codeTier, manifest, appData"),
        (status = 400, body = ErrorView)))]
pub(super) async fn upload(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Upload(f): Upload,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let wasm = f.wasm.ok_or_else(|| ApiError::invalid("the wasm module is required"))?;
    let bin = s.bins.upload(app, wasm, f.get_var_url).await?;
    Ok((StatusCode::CREATED, Json(bin_view(&s, &bin))))
}

/// A bin of the app.
#[utoipa::path(get, path = "/v1/bins/{id}", tag = "bins", params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "binId, moduleSha256, codeTier, manifest, appData"),
        (status = 404, body = ErrorView)))]
pub(super) async fn get_bin(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(bin_view(&s, &s.bins.bin(app, &id).await?)))
}

/// Body of instance creation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct NewInstance {
    bin_id: String,
}

/// Creates an execution instance of a bin.
#[utoipa::path(post, path = "/v1/instances", tag = "bins", request_body = NewInstance,
    responses((status = 201, body = Object, description = "executeInstanceId, appData"),
        (status = 404, body = ErrorView)))]
pub(super) async fn create_instance(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<NewInstance>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let (instance, bin) = s.bins.create_instance(app, &body.bin_id).await?;
    Ok((StatusCode::CREATED, Json(json!({"executeInstanceId": instance.id, "appData": app_data(&bin.manifest)}))))
}

/// An instance with its variables and state machines.
#[utoipa::path(get, path = "/v1/instances/{id}", tag = "bins", params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "executeInstanceId, binId, status, runs, lastError, \
        variables, stateMachines"), (status = 404, body = ErrorView)))]
pub(super) async fn get_instance(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(instance_view(&s.bins.instance(app, &id).await?)))
}

/// Destroys an instance.
#[utoipa::path(delete, path = "/v1/instances/{id}", tag = "bins", params(("id" = String, Path)),
    responses((status = 204, description = "destroyed"), (status = 404, body = ErrorView)))]
pub(super) async fn destroy_instance(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.bins.destroy(app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs an instance with variable updates (`{"varList": [...]}` or key → value); the run's
/// state is committed unless another run committed first (409).
#[utoipa::path(post, path = "/v1/instances/{id}/runs", tag = "bins", params(("id" = String, Path)),
    request_body(content = Object, description = "variable updates"),
    responses((status = 200, body = Object, description = "the run's report and the instance"),
        (status = 404, body = ErrorView), (status = 409, body = ErrorView), (status = 429, body = ErrorView)))]
pub(super) async fn run_instance(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(id): Path<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Json_>, ApiError> {
    let updates: Json_ = super::body::parse_json(&body)?;
    let updates = parse_updates(&updates).map_err(ApiError::invalid)?;
    let report = s.bins.run(app, &id, updates).await?;
    Ok(Json(run_view(&report)))
}

/// `?stateMachineNo=` of the path query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct PathQuery {
    state_machine_no: u32,
}

/// The states a state machine of the instance went through.
#[utoipa::path(get, path = "/v1/instances/{id}/path", tag = "bins", params(("id" = String, Path), PathQuery),
    responses((status = 200, body = Object, description = "executeInstanceId, stateMachineNo, current, path"),
        (status = 404, body = ErrorView)))]
pub(super) async fn instance_path(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(id): Path<String>,
    Query(q): Query<PathQuery>,
) -> Result<Json<Json_>, ApiError> {
    let instance = s.bins.instance(app, &id).await?;
    let machine = instance.state.machines.get(&q.state_machine_no).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "StateMachineNotExists",
            format!("the bin has no state machine {}", q.state_machine_no),
        )
    })?;
    Ok(Json(json!({
        "executeInstanceId": id,
        "stateMachineNo": q.state_machine_no,
        "current": machine.current,
        "path": machine.path,
    })))
}

/// One variable of the instance.
#[utoipa::path(get, path = "/v1/instances/{id}/variables/{key}", tag = "bins",
    params(("id" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Object, description = "executeInstanceId, varKey, object"),
        (status = 404, body = ErrorView)))]
pub(super) async fn variable(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<Json_>, ApiError> {
    let instance = s.bins.instance(app, &id).await?;
    let value = instance.state.variables.get(&key).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "VariableNotExists", format!("the instance has no variable {key:?}"))
    })?;
    Ok(Json(json!({"executeInstanceId": id, "varKey": key, "object": value})))
}

/// Body of a binding: exactly one of a cloud function's name or a URL.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BindingBody {
    function: Option<String>,
    url: Option<String>,
}

/// Binds a function key (what a bin's runs call) to a cloud function or a URL.
#[utoipa::path(put, path = "/v1/bindings/{key}", tag = "bins", params(("key" = String, Path)),
    request_body = BindingBody,
    responses((status = 200, body = Object, description = "the binding"), (status = 404, body = ErrorView)))]
pub(super) async fn put_binding(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<BindingBody>,
) -> Result<Json<Json_>, ApiError> {
    let target = match (body.function, body.url) {
        (Some(name), None) => {
            s.functions.get(app, &name).await?;
            BindingTarget::Function(name)
        }
        (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => BindingTarget::Url(url),
        (None, Some(url)) => return Err(ApiError::invalid(format!("url {url:?} must start with http:// or https://"))),
        _ => return Err(ApiError::invalid("give exactly one of `function` (a function name) or `url`")),
    };
    s.bins.bind(app, Binding { function_key: key.clone(), target: target.clone() }).await?;
    Ok(Json(binding_view(&Binding { function_key: key, target })))
}

fn binding_view(b: &Binding) -> Json_ {
    match &b.target {
        BindingTarget::Function(name) => json!({"functionKey": b.function_key, "function": name}),
        BindingTarget::Url(url) => json!({"functionKey": b.function_key, "url": url}),
    }
}

/// The app's function-key bindings.
#[utoipa::path(get, path = "/v1/bindings", tag = "bins",
    responses((status = 200, body = Object, description = "items: the bindings")))]
pub(super) async fn list_bindings(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
) -> Result<Json<Json_>, ApiError> {
    let items: Vec<Json_> = s.bins.bindings(app).await?.iter().map(binding_view).collect();
    Ok(Json(json!({"items": items})))
}
