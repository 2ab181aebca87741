//! Seed 004: a function-workflow's synchronous execution.
//!
//! `POST /v2/{project_id}/fgs/workflows/{workflow_id}/sync-executions` with
//! `{"headers": {...}, "input": {...}}` runs the flow named `workflow_id` of the caller's
//! app (the token picks the app; `project_id` is accepted and ignored) and answers with
//! the seed's fields: `execution_id`, `status` (`success`, `fail`, `timeout`, `stopped`),
//! `output`, `errors[]` (`node_id`, `error_message`, `begin_time`, `end_time`),
//! `begin_time`, `end_time`. `?timeout_ms=` bounds the wait (default 30 s).
//! Errors are `{"error_code", "error_msg"}` with status 400, 401, 404, 429 or 500.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value as Json_, json};

use crate::flows::service::StartExecution;
use crate::http::AppState;
use crate::http::auth::AppCaller;
use crate::http::body::ApiJson;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::http::flow_views::SyncExecutionView;
use crate::http::flows::sync_wait;

/// An error in the seed's shape.
#[derive(Debug)]
pub struct FgsError(ApiError);

impl<E: Into<ApiError>> From<E> for FgsError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for FgsError {
    fn into_response(self) -> Response {
        (self.0.status, Json(json!({"error_code": self.0.code, "error_msg": self.0.message}))).into_response()
    }
}

/// The seed 004 route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v2/{project_id}/fgs/workflows/{workflow_id}/sync-executions", post(sync_execution))
}

#[derive(Debug, Deserialize)]
struct SyncBody {
    #[serde(default)]
    headers: Json_,
    input: Option<Json_>,
}

#[derive(Debug, Deserialize)]
struct SyncQuery {
    timeout_ms: Option<u64>,
}

/// The seed's status words.
fn seed_status(status: &str) -> &'static str {
    match status {
        "Succeeded" => "success",
        "TimedOut" => "timeout",
        "Stopped" => "stopped",
        "Failed" => "fail",
        _ => "running",
    }
}

async fn sync_execution(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path((project, workflow)): Path<(String, String)>,
    Query(q): Query<SyncQuery>,
    ApiJson(body): ApiJson<SyncBody>,
) -> Result<Json<Json_>, FgsError> {
    check_project_id(&project)?;
    let input = body.input.ok_or_else(|| ApiError::invalid("`input` is required"))?;
    let req = StartExecution { input, headers: headers_of(body.headers)?, ..StartExecution::default() };
    let detail = s.flows.run_sync(app, &workflow, req, sync_wait(q.timeout_ms)?).await?;
    let status = detail.record.status;
    let mut view =
        serde_json::to_value(SyncExecutionView::from(&detail)).map_err(|e| ApiError::invalid(e.to_string()))?;
    view["status"] = json!(seed_status(status.as_str()));
    seed_times(&mut view);
    Ok(Json(view))
}

/// The seed's `headers` ("执行时需要的header"): an object of text values (numbers and
/// booleans are taken as their text). Every HTTP task of the execution sends them, and its
/// mappings read them as `$.headers.<name>`, so a function task gets them through a mapping.
fn headers_of(headers: Json_) -> Result<BTreeMap<String, String>, ApiError> {
    let fields = match headers {
        Json_::Null => return Ok(BTreeMap::new()),
        Json_::Object(fields) => fields,
        _ => return Err(ApiError::invalid("`headers` must be an object")),
    };
    fields
        .into_iter()
        .map(|(name, value)| match value {
            Json_::String(text) => Ok((name, text)),
            Json_::Number(_) | Json_::Bool(_) => Ok((name, value.to_string())),
            _ => Err(ApiError::invalid(format!("header {name:?} must be text"))),
        })
        .collect()
}

/// The seed's `project_id`: "只能由英文字母、数字组成,且长度为32个字符".
fn check_project_id(project: &str) -> Result<(), ApiError> {
    if project.len() == 32 && project.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(());
    }
    Err(ApiError::invalid(format!("project_id {project:?} must be 32 letters and digits")))
}

/// Times as the seed writes them, `yyyy-mm-ddThh:mm:ssZ` (whole seconds), in the answer
/// and in each error.
fn seed_times(view: &mut Json_) {
    let whole_seconds = |value: &mut Json_| {
        if let Some(text) = value.as_str()
            && let Some((seconds, _)) = text.split_once('.')
        {
            *value = json!(format!("{seconds}Z"));
        }
    };
    for field in ["begin_time", "end_time"] {
        whole_seconds(&mut view[field]);
    }
    for error in view["errors"].as_array_mut().into_iter().flatten() {
        for field in ["begin_time", "end_time"] {
            whole_seconds(&mut error[field]);
        }
    }
}
