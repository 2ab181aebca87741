//! Seed 002: the Rill-Flow-style DAG API.
//!
//! | Method | Path | Answer |
//! |---|---|---|
//! | POST | `/flow/bg/manage/descriptor/add_descriptor.json?business_id=&feature_name=&alias=` | `{"ret": true, "descriptor_id": "workspace:dagName"}` |
//! | POST | `/flow/submit.json?descriptor_id=&callback=` (also `/2/flow/submit.json`) | `{"execution_id": "..."}` |
//! | POST | `/flow/finish.json?executionId=&taskName=` | `{"result": "ok"}` |
//! | GET  | `/flow/get.json?execution_id=&brief=` | `{"ret": {execution_id, dag_status, process, tasks}}` |
//!
//! The descriptor id is the flow's name: `workspace:dagName` from the YAML (or
//! `business_id:feature_name` when the YAML has no workspace); adding a descriptor again
//! adds a version (`alias` is accepted and not used). Every route but finish takes the app's bearer token; finish is called
//! by task workers, which hold the execution id instead. `dag_status` is `RUNNING`,
//! `SUCCEED`, `FAILED` (also for a timeout, with the error saying so) or `STOPPED`.
//! Errors are `{"ret": false, "code", "message"}` with the native status.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};

use crate::error::ServiceError;
use crate::flows::callbacks::{FINISH_PATH, finish_result};
use crate::flows::service::{NewFlow, StartExecution};
use crate::flows::view::{progress, tasks};
use crate::http::AppState;
use crate::http::auth::AppCaller;
use crate::http::body::{ApiBytes, ApiJson, parse_json};
use crate::http::error::ApiError;
use crate::http::extract::Query;

/// An error in the seed's shape.
#[derive(Debug)]
pub struct RillError(ApiError);

impl<E: Into<ApiError>> From<E> for RillError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for RillError {
    fn into_response(self) -> Response {
        (self.0.status, Json(json!({"ret": false, "code": self.0.code, "message": self.0.message}))).into_response()
    }
}

type RillResult<T> = Result<T, RillError>;

/// The seed 002 routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/flow/bg/manage/descriptor/add_descriptor.json", post(add_descriptor))
        .route("/flow/submit.json", post(submit))
        .route("/2/flow/submit.json", post(submit))
        .route(FINISH_PATH, post(finish))
        .route("/flow/get.json", get(get_execution))
}

#[derive(Debug, Deserialize)]
struct DescriptorQuery {
    business_id: Option<String>,
    feature_name: Option<String>,
}

async fn add_descriptor(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(q): Query<DescriptorQuery>,
    ApiBytes(body): ApiBytes,
) -> RillResult<Json<Json_>> {
    let definition =
        String::from_utf8(body.to_vec()).map_err(|_| ApiError::invalid("the descriptor is not UTF-8 text"))?;
    let fallback = match (q.business_id.as_deref().map(str::trim), q.feature_name.as_deref().map(str::trim)) {
        (Some(b), Some(f)) if !b.is_empty() && !f.is_empty() => Some(format!("{b}:{f}")),
        _ => None,
    };
    let flow = s.flows.put(app, NewFlow { name: None, definition, description: String::new() }, fallback).await?;
    Ok(Json(json!({ "ret": true, "descriptor_id": flow.name, "version": flow.version })))
}

#[derive(Debug, Deserialize)]
struct SubmitQuery {
    descriptor_id: Option<String>,
    callback: Option<String>,
}

async fn submit(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(q): Query<SubmitQuery>,
    ApiBytes(body): ApiBytes,
) -> RillResult<Json<Json_>> {
    let flow = q
        .descriptor_id
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("descriptor_id is required"))?;
    let input: Json_ = parse_json(&body)?;
    let req = StartExecution { input, callback_url: q.callback, ..StartExecution::default() };
    let started = s.flows.start(app, flow.trim(), req).await?;
    Ok(Json(json!({ "execution_id": started.record.id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FinishQuery {
    execution_id: Option<String>,
    task_name: Option<String>,
}

async fn finish(
    State(s): State<AppState>,
    Query(q): Query<FinishQuery>,
    _headers: HeaderMap,
    ApiJson(body): ApiJson<Json_>,
) -> RillResult<Json<Json_>> {
    let from_passthrough = |field: &str| body["passthrough"].get(field).and_then(Json_::as_str).map(str::to_string);
    let id = q
        .execution_id
        .or_else(|| from_passthrough("execution_id"))
        .ok_or_else(|| ApiError::invalid("executionId is required"))?;
    let task = q
        .task_name
        .or_else(|| from_passthrough("task_name"))
        .ok_or_else(|| ApiError::invalid("taskName is required"))?;
    s.flows.finish_task(&id, &task, finish_result(&body)?).await?;
    Ok(Json(json!({ "result": "ok" })))
}

#[derive(Debug, Deserialize)]
struct GetQuery {
    execution_id: Option<String>,
    #[serde(default)]
    brief: Option<String>,
}

/// The seed's name for an execution status.
pub fn dag_status(status: &str) -> &'static str {
    match status {
        "Succeeded" => "SUCCEED",
        "Failed" | "TimedOut" => "FAILED",
        "Stopped" => "STOPPED",
        _ => "RUNNING",
    }
}

async fn get_execution(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(q): Query<GetQuery>,
) -> RillResult<Json<Json_>> {
    let id = q.execution_id.ok_or_else(|| ApiError::invalid("execution_id is required"))?;
    let detail = s.flows.detail(app, &id).await.map_err(|e| match e {
        ServiceError::NotFound { .. } => {
            ServiceError::NotFound { kind: "Execution", what: format!("execution {id:?}") }
        }
        other => other,
    })?;
    let record = &detail.record;
    let mut ret = json!({
        "execution_id": record.id,
        "descriptor_id": record.flow_name,
        "dag_status": dag_status(record.status.as_str()),
        "process": progress(&detail),
        "context": record.output.clone().unwrap_or_else(|| detail.state.scopes.first().map(|s| s.data.clone()).unwrap_or(Json_::Null)),
        "error": record.error,
    });
    if !matches!(q.brief.as_deref(), Some("true" | "1")) {
        let mut map = Map::new();
        for task in tasks(&detail) {
            let entry = json!({
                "contains_sub": task.contains_sub,
                "name": task.name,
                "next": task.next,
                "status": task.status,
                "task": task.task,
                "input": task.input,
                "output": task.output,
                "error": task.error,
            });
            map.insert(task.key, entry);
        }
        ret["tasks"] = Json_::Object(map);
    }
    Ok(Json(json!({ "ret": ret })))
}
