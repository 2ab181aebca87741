//! `/v1/functions`: create, list, get, update, delete, invoke, list jobs.

use axum::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value as Json_;
use utoipa::IntoParams;

use super::AppState;
use super::auth::AppCaller;
use super::body::{ApiBytes, Upload, UploadFields, parse_json};
use super::error::ApiError;
use super::views::{AcceptedView, ErrorView, FunctionPage, FunctionView, JobPage, JobQuery, JobView, Paging};
use crate::functions::{ChangeFunction, CreateFunction};
use crate::store::FunctionRecord;

/// A function as shown, with the tier of its code on this node.
fn view(s: &AppState, f: &FunctionRecord) -> FunctionView {
    FunctionView { code_tier: s.functions.code_tier(f), ..FunctionView::from(f) }
}

/// The source recorded for calls over the plain HTTP API (seed 001's `open_api`).
pub const SOURCE_OPEN_API: &str = "open_api";

/// Create a function from a wasm component: raw `application/wasm` (fields in the query),
/// multipart form (`name`, `wasm` file, ...) or JSON with `wasm_base64`; or from
/// JavaScript source: raw `application/javascript` or JSON `javascript`. The code is
/// validated and compiled (JavaScript: parsed) before the answer.
#[utoipa::path(post, path = "/v1/functions", tag = "functions",
    request_body(content = UploadFields, description = "JSON shape; see the summary for raw and multipart uploads"),
    responses((status = 201, body = FunctionView), (status = 400, body = ErrorView), (status = 409, body = ErrorView),
        (status = 413, body = ErrorView)))]
pub(super) async fn create(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Upload(f): Upload,
) -> Result<Response, ApiError> {
    let f = f.function_only()?;
    let name = f.name.ok_or_else(|| ApiError::invalid("`name` is required"))?;
    let (wasm, javascript) = match (f.wasm, f.javascript) {
        (_, Some(source)) => (Vec::new(), Some(source)),
        (Some(wasm), None) => (wasm, None),
        (None, None) => return Err(ApiError::invalid("the wasm module (or `javascript` source) is required")),
    };
    let req = CreateFunction {
        name,
        wasm,
        javascript,
        remark: f.remark,
        plan: f.plan,
        sync_timeout_ms: f.sync_timeout_ms,
        async_timeout_ms: f.async_timeout_ms,
    };
    let created = s.functions.create(app, req).await?;
    Ok((StatusCode::CREATED, Json(view(&s, &created))).into_response())
}

/// List the app's functions by name.
#[utoipa::path(get, path = "/v1/functions", tag = "functions", params(Paging),
    responses((status = 200, body = FunctionPage), (status = 400, body = ErrorView)))]
pub(super) async fn list(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(paging): Query<Paging>,
) -> Result<Json<FunctionPage>, ApiError> {
    let page = paging.page()?;
    let (items, total) = s.functions.list(app, page).await?;
    let items = items.iter().map(|f| view(&s, f)).collect();
    Ok(Json(FunctionPage { items, total, limit: page.limit, offset: page.offset }))
}

/// One function.
#[utoipa::path(get, path = "/v1/functions/{name}", tag = "functions", params(("name" = String, Path)),
    responses((status = 200, body = FunctionView), (status = 404, body = ErrorView)))]
pub(super) async fn get(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<Json<FunctionView>, ApiError> {
    Ok(Json(view(&s, &s.functions.get(app, &name).await?)))
}

/// A function's versions, newest first: each code change is one.
#[utoipa::path(get, path = "/v1/functions/{name}/versions", tag = "functions", params(("name" = String, Path)),
    responses((status = 200, body = Object, description = "items: version, module_sha256, created_at (epoch seconds)"),
        (status = 404, body = ErrorView)))]
pub(super) async fn versions(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    let versions = s.functions.versions(app, &name).await?;
    let items: Vec<Json_> = versions
        .iter()
        .map(|v| {
            serde_json::json!({
                "version": v.version,
                "module_sha256": v.module_sha256,
                "created_at": super::views::seconds(v.created_at),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Change a function's metadata and/or code; new code is a new version.
#[utoipa::path(patch, path = "/v1/functions/{name}", tag = "functions", params(("name" = String, Path)),
    request_body = UploadFields,
    responses((status = 200, body = FunctionView), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
pub(super) async fn update(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Upload(f): Upload,
) -> Result<Json<FunctionView>, ApiError> {
    let f = f.function_only()?;
    let change = ChangeFunction {
        name: f.name,
        wasm: f.wasm,
        javascript: f.javascript,
        remark: f.remark,
        plan: f.plan,
        sync_timeout_ms: f.sync_timeout_ms,
        async_timeout_ms: f.async_timeout_ms,
    };
    Ok(Json(view(&s, &s.functions.update(app, &name, change).await?)))
}

/// Delete a function with its versions, jobs and logs.
#[utoipa::path(delete, path = "/v1/functions/{name}", tag = "functions", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorView)))]
pub(super) async fn delete(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.functions.delete(app, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?async=true` makes an invocation a batch job.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InvokeQuery {
    /// Run as a batch job: answer 202 with the job id at once.
    #[serde(rename = "async", default)]
    #[param(rename = "async")]
    is_async: bool,
}

/// Invoke a function with the body as its input. Sync: the finished job (200 also when
/// the guest failed; see `status` and `error`). Async: 202 with the job id.
#[utoipa::path(post, path = "/v1/functions/{name}/invoke", tag = "jobs", params(("name" = String, Path), InvokeQuery),
    request_body(content = Value, description = "the function's input: any JSON value"),
    responses((status = 200, body = JobView), (status = 202, body = AcceptedView), (status = 400, body = ErrorView),
        (status = 404, body = ErrorView), (status = 413, body = ErrorView), (status = 429, body = ErrorView)))]
pub(super) async fn invoke(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(q): Query<InvokeQuery>,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let input: Json_ = parse_json(&body)?;
    if q.is_async {
        let id = s.jobs.submit_async(app, &name, input, SOURCE_OPEN_API).await?;
        let accepted = AcceptedView { job_id: id, status: "waiting".into(), job_url: format!("/v1/jobs/{id}") };
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    let job = s.jobs.invoke_sync(app, &name, input, SOURCE_OPEN_API).await?;
    Ok(Json(JobView::from(&job)).into_response())
}

/// A function's jobs, newest first, filtered and paged.
#[utoipa::path(get, path = "/v1/functions/{name}/jobs", tag = "jobs", params(("name" = String, Path), JobQuery),
    responses((status = 200, body = JobPage), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
pub(super) async fn jobs(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(q): Query<JobQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let (filter, page) = q.split()?;
    let (items, total) = s.jobs.list(app, &name, filter, page).await?;
    let items = items.iter().map(JobView::from).collect();
    Ok(Json(JobPage { items, total, limit: page.limit, offset: page.offset }))
}
