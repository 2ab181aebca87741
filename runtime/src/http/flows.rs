//! `/v1/flows` and `/v1/executions`: flow definitions (versioned), executions (async or
//! sync, idempotent by name), status with tasks, history, stop, and the async tasks'
//! finish callback.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json_;

use super::AppState;
use super::auth::AppCaller;
use super::body::{ApiBytes, ApiJson};
use super::error::ApiError;
use super::extract::{Path, Query};
use super::flow_views::{
    EventView, ExecutionPage, ExecutionView, FlowBody, FlowPage, FlowQuery, FlowView, HistoryPage, HistoryQuery,
    StartAnswer, StartBody, StartQuery, SyncExecutionView, VersionQuery,
};
use super::views::{ErrorView, Paging};
use crate::flows::callbacks::finish_result;
use crate::flows::outline::OutlineBlock;
use crate::flows::service::{NewFlow, StartExecution, parse_definition_off_thread};

/// Default wait of a sync execution.
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(30);
/// Longest wait of a sync execution.
const MAX_SYNC_WAIT: Duration = Duration::from_secs(300);
/// Most history events per page.
const MAX_HISTORY_PAGE: i64 = 1000;

/// A flow from a request: JSON `{name, definition, description}`, or the raw YAML/JSON
/// definition text with `?name=&description=`.
pub(crate) fn flow_from(headers: &HeaderMap, body: &[u8], query: FlowQuery) -> Result<NewFlow, ApiError> {
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("json"));
    if json {
        match serde_json::from_slice::<FlowBody>(body) {
            Ok(FlowBody { name, definition, description }) => {
                return Ok(NewFlow { name: name.or(query.name), definition, description });
            }
            // Not JSON at all (or nested past serde_json's limit): say so, and do not
            // parse the same bytes a second time as YAML.
            Err(e) if !e.is_data() => {
                return Err(ApiError::invalid(format!("the body is not valid JSON: {e}")));
            }
            // JSON of another shape: the definition itself, sent as JSON text.
            Err(_) => {}
        }
    }
    let definition =
        String::from_utf8(body.to_vec()).map_err(|_| ApiError::invalid("the definition is not UTF-8 text"))?;
    Ok(NewFlow { name: query.name, definition, description: query.description.unwrap_or_default() })
}

/// Create a flow from a DAG YAML (seed 002), a state-machine spec (seed 003) or an FDL
/// flow; the definition is validated first (400 naming the task and field).
#[utoipa::path(post, path = "/v1/flows", tag = "flows", params(FlowQuery), request_body = FlowBody,
    responses((status = 201, body = FlowView), (status = 400, body = ErrorView), (status = 409, body = ErrorView)))]
pub(super) async fn create(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(query): Query<FlowQuery>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let flow = s.flows.create(app, flow_from(&headers, &body, query)?).await?;
    Ok((StatusCode::CREATED, Json(FlowView::from(&flow))).into_response())
}

/// List the app's flows (latest versions).
#[utoipa::path(get, path = "/v1/flows", tag = "flows", params(Paging),
    responses((status = 200, body = FlowPage)))]
pub(super) async fn list(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(paging): Query<Paging>,
) -> Result<Json<FlowPage>, ApiError> {
    let page = paging.page()?;
    let (items, total) = s.flows.list(app, page).await?;
    Ok(Json(FlowPage {
        items: items.iter().map(FlowView::from).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// One flow: the latest version, or `?version=`.
#[utoipa::path(get, path = "/v1/flows/{name}", tag = "flows", params(("name" = String, Path), VersionQuery),
    responses((status = 200, body = FlowView), (status = 404, body = ErrorView)))]
pub(super) async fn get(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<FlowView>, ApiError> {
    Ok(Json(FlowView::from(&s.flows.get(app, &name, query.version).await?)))
}

/// One flow version's definition as a graph (both formats alike): nodes with their kind,
/// edges labelled next, choice, default or catch, and nested blocks (Map bodies,
/// Parallel branches, choice blocks). The latest version, or `?version=`.
#[utoipa::path(get, path = "/v1/flows/{name}/outline", tag = "flows", params(("name" = String, Path), VersionQuery),
    responses((status = 200, body = OutlineBlock), (status = 404, body = ErrorView)))]
pub(super) async fn outline(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<OutlineBlock>, ApiError> {
    let flow = s.flows.get(app, &name, query.version).await?;
    let graph = parse_definition_off_thread(&flow.definition).await?;
    Ok(Json(crate::flows::outline::outline(&graph)))
}

/// Add a version; running executions keep theirs.
#[utoipa::path(put, path = "/v1/flows/{name}", tag = "flows", params(("name" = String, Path)), request_body = FlowBody,
    responses((status = 200, body = FlowView), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
pub(super) async fn update(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(query): Query<FlowQuery>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<FlowView>, ApiError> {
    let flow = s.flows.update(app, &name, flow_from(&headers, &body, query)?).await?;
    Ok(Json(FlowView::from(&flow)))
}

/// Delete a flow, its versions and executions (running ones are stopped).
#[utoipa::path(delete, path = "/v1/flows/{name}", tag = "flows", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorView)))]
pub(super) async fn delete(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.flows.delete(app, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sync wait asked for, checked.
pub(crate) fn sync_wait(timeout_ms: Option<u64>) -> Result<Duration, ApiError> {
    let wait = timeout_ms.map_or(DEFAULT_SYNC_WAIT, Duration::from_millis);
    if wait.is_zero() || wait > MAX_SYNC_WAIT {
        return Err(ApiError::invalid(format!("timeout_ms must be between 1 and {}", MAX_SYNC_WAIT.as_millis())));
    }
    Ok(wait)
}

/// Start an execution: 202 with the new execution (200 with the running one of the same
/// `name`); with `?sync=true`, wait for the end and answer with the outcome.
#[utoipa::path(post, path = "/v1/flows/{name}/executions", tag = "flows", params(("name" = String, Path), StartQuery),
    request_body = StartBody,
    responses((status = 202, body = ExecutionView), (status = 200, body = StartAnswer),
        (status = 400, body = ErrorView), (status = 404, body = ErrorView), (status = 409, body = ErrorView)))]
pub(super) async fn start(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(query): Query<StartQuery>,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response, ApiError> {
    let req = StartExecution {
        input: body.input,
        name: body.name,
        callback_url: body.callback_url,
        report_to: None,
        timeout: None,
        headers: body.headers,
    };
    if query.sync {
        let detail = s.flows.run_sync(app, &name, req, sync_wait(query.timeout_ms)?).await?;
        return Ok(Json(StartAnswer::Outcome(SyncExecutionView::from(&detail))).into_response());
    }
    let started = s.flows.start(app, &name, req).await?;
    let view = ExecutionView::brief(&started.record);
    match started.existing {
        true => Ok((StatusCode::OK, Json(StartAnswer::Existing(view))).into_response()),
        false => Ok((StatusCode::ACCEPTED, Json(view)).into_response()),
    }
}

/// A flow's executions, newest first.
#[utoipa::path(get, path = "/v1/flows/{name}/executions", tag = "flows", params(("name" = String, Path), Paging),
    responses((status = 200, body = ExecutionPage), (status = 404, body = ErrorView)))]
pub(super) async fn executions(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Json<ExecutionPage>, ApiError> {
    let page = paging.page()?;
    let (items, total) = s.flows.executions(app, &name, page).await?;
    let items = items.iter().map(ExecutionView::brief).collect();
    Ok(Json(ExecutionPage { items, total, limit: page.limit, offset: page.offset }))
}

/// An execution with progress and every task's status, input, output and timings.
#[utoipa::path(get, path = "/v1/executions/{id}", tag = "flows", params(("id" = String, Path)),
    responses((status = 200, body = ExecutionView), (status = 404, body = ErrorView)))]
pub(super) async fn execution(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<ExecutionView>, ApiError> {
    Ok(Json(ExecutionView::from(&s.flows.detail(app, &id).await?)))
}

/// An execution's history: every state entered and exited, task started, succeeded,
/// failed and retried, in order, paged by `after`.
#[utoipa::path(get, path = "/v1/executions/{id}/history", tag = "flows", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, body = HistoryPage), (status = 404, body = ErrorView)))]
pub(super) async fn history(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be between 1 and {MAX_HISTORY_PAGE}")));
    }
    let events = s.flows.history(app, &id, query.after.unwrap_or(0), limit).await?;
    let next_after = (events.len() as i64 == limit).then(|| events.last().map_or(0, |e| e.seq));
    Ok(Json(HistoryPage { events: events.iter().map(EventView::from).collect(), next_after }))
}

/// Stop a running execution (an ended one is returned as it is).
#[utoipa::path(post, path = "/v1/executions/{id}/stop", tag = "flows", params(("id" = String, Path)),
    responses((status = 200, body = ExecutionView), (status = 404, body = ErrorView)))]
pub(super) async fn stop(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<ExecutionView>, ApiError> {
    s.flows.stop(app, &id, "stopped by a client").await?;
    Ok(Json(ExecutionView::from(&s.flows.detail(app, &id).await?)))
}

/// Finish an async task (no token: the execution id is the capability the task was given).
#[utoipa::path(post, path = "/v1/executions/{id}/tasks/{task}/finish", tag = "flows",
    params(("id" = String, Path), ("task" = String, Path)), request_body = super::flow_views::FinishBody,
    security(()),
    responses((status = 200, body = Object, description = "`{\"result\": \"ok\"}`: the result is stored"),
        (status = 404, body = ErrorView), (status = 409, body = ErrorView)))]
pub(super) async fn finish(
    State(s): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<Json_>,
) -> Result<Json<Json_>, ApiError> {
    s.flows.finish_task(&id, &task, finish_result(&body)?).await?;
    Ok(Json(serde_json::json!({ "result": "ok" })))
}
