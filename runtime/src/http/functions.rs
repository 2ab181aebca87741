//! `/v1/functions`: create, list, get, update, delete, invoke, list jobs.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::AppState;
use super::auth::AppCaller;
use super::body::{ApiBytes, Upload, parse_json};
use super::error::ApiError;
use super::views::{self, JobQuery, ListPage, Paging};
use crate::functions::{ChangeFunction, CreateFunction};

/// The source recorded for calls over the plain HTTP API (seed 001's `open_api`).
pub const SOURCE_OPEN_API: &str = "open_api";

pub(super) async fn create(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Upload(f): Upload,
) -> Result<Response, ApiError> {
    let name = f.name.ok_or_else(|| ApiError::invalid("`name` is required"))?;
    let wasm = f.wasm.ok_or_else(|| ApiError::invalid("the wasm module is required"))?;
    let req = CreateFunction {
        name,
        wasm,
        remark: f.remark,
        plan: f.plan,
        sync_timeout_ms: f.sync_timeout_ms,
        async_timeout_ms: f.async_timeout_ms,
    };
    let created = s.functions.create(app, req).await?;
    Ok((StatusCode::CREATED, Json(views::function(&created))).into_response())
}

pub(super) async fn list(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(paging): Query<Paging>,
) -> Result<Json<ListPage>, ApiError> {
    let page = paging.page()?;
    let (items, total) = s.functions.list(app, page).await?;
    Ok(Json(ListPage {
        items: items.iter().map(views::function).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

pub(super) async fn get(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(views::function(&s.functions.get(app, &name).await?)))
}

pub(super) async fn update(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Upload(f): Upload,
) -> Result<Json<Json_>, ApiError> {
    let change = ChangeFunction {
        name: f.name,
        wasm: f.wasm,
        remark: f.remark,
        plan: f.plan,
        sync_timeout_ms: f.sync_timeout_ms,
        async_timeout_ms: f.async_timeout_ms,
    };
    Ok(Json(views::function(&s.functions.update(app, &name, change).await?)))
}

pub(super) async fn delete(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.functions.delete(app, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?async=true` makes an invocation a batch job.
#[derive(Debug, Default, Deserialize)]
pub(super) struct InvokeQuery {
    #[serde(rename = "async", default)]
    is_async: bool,
}

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
        let body = json!({"job_id": id, "status": "waiting", "job_url": format!("/v1/jobs/{id}")});
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    let job = s.jobs.invoke_sync(app, &name, input, SOURCE_OPEN_API).await?;
    Ok(Json(views::job(&job)).into_response())
}

pub(super) async fn jobs(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(q): Query<JobQuery>,
) -> Result<Json<ListPage>, ApiError> {
    let (filter, page) = q.split()?;
    let (items, total) = s.jobs.list(app, &name, filter, page).await?;
    Ok(Json(ListPage { items: items.iter().map(views::job).collect(), total, limit: page.limit, offset: page.offset }))
}
