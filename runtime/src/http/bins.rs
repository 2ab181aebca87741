//! `/v1/bins`, `/v1/instances`, `/v1/bindings`: bins, execution instances and the
//! function-key bindings their runs call through.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};

use super::AppState;
use super::auth::AppCaller;
use super::body::{ApiBytes, ApiJson, Upload};
use super::error::ApiError;
use super::extract::{Path, Query};
use crate::bins::RunReport;
use crate::engine::{Limits, Manifest, parse_updates};
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

fn bin_view(bin: &BinRecord) -> Json_ {
    json!({"binId": bin.id, "moduleSha256": bin.module_sha256, "manifest": bin.manifest, "appData": app_data(&bin.manifest)})
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

pub(super) async fn upload(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Upload(f): Upload,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let wasm = f.wasm.ok_or_else(|| ApiError::invalid("the wasm module is required"))?;
    let bin = s.bins.upload(app, wasm).await?;
    Ok((StatusCode::CREATED, Json(bin_view(&bin))))
}

pub(super) async fn get_bin(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(bin_view(&s.bins.bin(app, &id).await?)))
}

/// Body of instance creation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct NewInstance {
    bin_id: String,
}

pub(super) async fn create_instance(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<NewInstance>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let (instance, bin) = s.bins.create_instance(app, &body.bin_id).await?;
    Ok((StatusCode::CREATED, Json(json!({"executeInstanceId": instance.id, "appData": app_data(&bin.manifest)}))))
}

pub(super) async fn get_instance(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(instance_view(&s.bins.instance(app, &id).await?)))
}

pub(super) async fn destroy_instance(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.bins.destroy(app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn run_instance(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Json_>, ApiError> {
    let updates: Json_ = super::body::parse_json(&body)?;
    let updates = parse_updates(&updates).map_err(ApiError::invalid)?;
    let report = s.bins.run(app, &id, updates, Limits::default()).await?;
    Ok(Json(run_view(&report)))
}

/// `?stateMachineNo=` of the path query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PathQuery {
    state_machine_no: u32,
}

pub(super) async fn instance_path(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
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

pub(super) async fn variable(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<Json_>, ApiError> {
    let instance = s.bins.instance(app, &id).await?;
    let value = instance.state.variables.get(&key).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "VariableNotExists", format!("the instance has no variable {key:?}"))
    })?;
    Ok(Json(json!({"executeInstanceId": id, "varKey": key, "object": value})))
}

/// Body of a binding: exactly one of a cloud function's name or a URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BindingBody {
    function: Option<String>,
    url: Option<String>,
}

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

pub(super) async fn list_bindings(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
) -> Result<Json<Json_>, ApiError> {
    let items: Vec<Json_> = s.bins.bindings(app).await?.iter().map(binding_view).collect();
    Ok(Json(json!({"items": items})))
}
