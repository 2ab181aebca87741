//! Seed 003: serverless-workflow actions, RPC style.
//!
//! `POST /fnf/{Action}` (or `POST /fnf?Action=...`) with the action's parameters as a
//! JSON body. Actions: `CreateFlow` / `UpdateFlow` (`Name`, `Definition`, `Description`),
//! `DescribeFlow` (`Name`), `DeleteFlow` (`Name`), `StartExecution` (`FlowName`,
//! `ExecutionName`, `Input` (JSON text), `CallbackFnFTaskToken`), `DescribeExecution`,
//! `StopExecution` (`FlowName`, `ExecutionName`, `Cause`) and `GetExecutionHistory`
//! (`FlowName`, `ExecutionName`, `NextToken`, `Limit`); `ReportTaskSucceeded` (`TaskToken`,
//! `Output` as JSON text) and `ReportTaskFailed` (`TaskToken`, `Error`, `Cause`) finish a
//! `waitForCallback` task, whose token its input mappings read as `$context.task.token`.
//! A `CallbackFnFTaskToken` that is a task token makes the started execution finish that
//! task when it ends (its output, or its error and cause); one that is an http(s) URL is
//! POSTed the outcome; anything else is refused. Executions are addressed by
//! flow and execution name as in the seed; a start without `ExecutionName` gets its
//! execution id as name. Answers carry the seed's fields and `RequestId` (the caller's,
//! or a new one); errors are `{"Code", "Message", "RequestId"}` with the seed's codes
//! and statuses (`ExecutionAlreadyExists` and `EntityTooLarge` are 400 there).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use crate::error::ServiceError;
use crate::flows::scheduler::ErrorInfo;
use crate::flows::service::{NewFlow, StartExecution};
use crate::flows::task_tokens::TaskTokens;
use crate::http::AppState;
use crate::http::auth::AppCaller;
use crate::http::body::{ApiBytes, parse_json};
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::ids::new_id;
use crate::store::{ExecutionRecord, FlowRecord};
use crate::time::rfc3339;

/// An error in the seed's shape.
#[derive(Debug)]
pub struct FnfError(ApiError, String);

impl IntoResponse for FnfError {
    fn into_response(self) -> Response {
        let status = match self.0.code.as_str() {
            "ExecutionAlreadyExists" | "EntityTooLarge" => StatusCode::BAD_REQUEST,
            _ => self.0.status,
        };
        (status, Json(json!({"Code": self.0.code, "Message": self.0.message, "RequestId": self.1}))).into_response()
    }
}

/// The seed 003 routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/fnf", post(action_in_query)).route("/fnf/{action}", post(action_in_path))
}

/// Parameters of every action (each uses some).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Params {
    request_id: Option<String>,
    action: Option<String>,
    name: Option<String>,
    definition: Option<String>,
    description: Option<String>,
    flow_name: Option<String>,
    execution_name: Option<String>,
    input: Option<Json_>,
    #[serde(rename = "CallbackFnFTaskToken")]
    callback_token: Option<Json_>,
    task_token: Option<String>,
    output: Option<Json_>,
    error: Option<String>,
    cause: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ActionQuery {
    #[serde(rename = "Action")]
    action: Option<String>,
}

async fn action_in_query(
    State(s): State<AppState>,
    caller: AppCaller,
    Query(q): Query<ActionQuery>,
    body: ApiBytes,
) -> Result<Json<Json_>, FnfError> {
    dispatch(s, caller, q.action, body).await
}

async fn action_in_path(
    State(s): State<AppState>,
    caller: AppCaller,
    Path(action): Path<String>,
    body: ApiBytes,
) -> Result<Json<Json_>, FnfError> {
    dispatch(s, caller, Some(action), body).await
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MissingRequiredParams",
            format!("The parameter '{name}' must be specified."),
        )
    })
}

async fn dispatch(
    s: AppState,
    AppCaller(app): AppCaller,
    action: Option<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Json_>, FnfError> {
    let parsed: Result<Params, ApiError> = parse_json(&body);
    let request_id =
        parsed.as_ref().ok().and_then(|p| p.request_id.clone()).unwrap_or_else(|| new_id().unwrap_or_default());
    let fail = |e: ApiError| FnfError(e, request_id.clone());
    let params = parsed.map_err(fail)?;
    let action = action.or(params.action.clone()).unwrap_or_default();
    let mut answer = run(&s, app, &action, params).await.map_err(fail)?;
    answer["RequestId"] = json!(request_id);
    Ok(Json(answer))
}

/// The seed's rule for flow and execution names: letters, digits, `_` and `-`, starting
/// with a letter or `_`, 1 to 128 characters.
fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= 128 {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        format!("{field} {name:?} is invalid: use 1 to 128 letters, digits, '_' or '-', starting with a letter or '_'"),
    ))
}

async fn run(s: &AppState, app: i64, action: &str, p: Params) -> Result<Json_, ApiError> {
    match action {
        "CreateFlow" | "UpdateFlow" => {
            let name = required(p.name, "Name")?;
            check_name("Name", &name)?;
            let new = NewFlow {
                name: Some(name.clone()),
                definition: required(p.definition, "Definition")?,
                description: p.description.unwrap_or_default(),
            };
            let flow = if action == "CreateFlow" {
                s.flows.create(app, new).await?
            } else {
                s.flows.update(app, &name, new).await?
            };
            Ok(flow_answer(&flow))
        }
        "DescribeFlow" => Ok(flow_answer(&s.flows.get(app, &required(p.name, "Name")?, None).await?)),
        "DeleteFlow" => {
            s.flows.delete(app, &required(p.name, "Name")?).await?;
            Ok(json!({}))
        }
        "StartExecution" => start(s, app, p).await,
        "DescribeExecution" | "StopExecution" => {
            let flow_name = required(p.flow_name, "FlowName")?;
            let record = by_name(s, app, &flow_name, &required(p.execution_name, "ExecutionName")?).await?;
            let record = if action == "StopExecution" {
                s.flows.stop(app, &record.id, p.cause.as_deref().unwrap_or("stopped by a client")).await?
            } else {
                record
            };
            execution_answer(s, app, &record).await
        }
        "GetExecutionHistory" => history(s, app, p).await,
        "ReportTaskSucceeded" | "ReportTaskFailed" => {
            let token = required(p.task_token, "TaskToken")?;
            let result = if action == "ReportTaskSucceeded" {
                Ok(input_of(p.output).map_err(|_| ApiError::invalid("Output is not JSON"))?)
            } else {
                Err(ErrorInfo::new(p.error.unwrap_or_else(|| "Error".into()), p.cause.unwrap_or_default()))
            };
            s.flows.report_task(app, &token, result).await?;
            Ok(json!({}))
        }
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ActionNotSupported",
            format!("The requested API operation '{other}' is incorrect. Please check."),
        )),
    }
}

/// `Input` is JSON text in the seed; a JSON object is taken as it is.
fn input_of(input: Option<Json_>) -> Result<Json_, ApiError> {
    match input {
        None => Ok(json!({})),
        Some(Json_::String(text)) if text.trim().is_empty() => Ok(json!({})),
        Some(Json_::String(text)) => {
            serde_json::from_str(&text).map_err(|e| ApiError::invalid(format!("Input is not a JSON object: {e}")))
        }
        Some(other) => Ok(other),
    }
}

async fn start(s: &AppState, app: i64, p: Params) -> Result<Json_, ApiError> {
    let flow_name = required(p.flow_name, "FlowName")?;
    let input = input_of(p.input)?;
    let name = match p.execution_name.filter(|n| !n.trim().is_empty()) {
        Some(name) => {
            check_name("ExecutionName", &name)?;
            name
        }
        // Our ids are uuids, which may start with a digit: named as the seed allows.
        None => format!("exec-{}", new_id()?),
    };
    // A task token: the execution's end finishes that waiting task; a URL: it is POSTed.
    let (callback_url, report_to) = match p.callback_token {
        None | Some(Json_::Null) => (None, None),
        Some(Json_::String(t)) if t.trim().is_empty() => (None, None),
        Some(Json_::String(t)) if TaskTokens::looks_like(&t) => (None, Some(s.flows.task_target(app, &t)?)),
        Some(Json_::String(url)) if url.starts_with("http://") || url.starts_with("https://") => (Some(url), None),
        Some(_) => return Err(ApiError::invalid("CallbackFnFTaskToken is neither a task token nor a callback URL")),
    };
    let req = StartExecution { input, name: Some(name), callback_url, report_to, ..StartExecution::default() };
    let started = s.flows.start(app, &flow_name, req).await?;
    execution_answer(s, app, &started.record).await
}

async fn by_name(s: &AppState, app: i64, flow: &str, name: &str) -> Result<ExecutionRecord, ApiError> {
    let flow_record = s.flows.get(app, flow, None).await?;
    s.flows.execution_by_name(app, flow_record.id, name).await?.ok_or_else(|| {
        ServiceError::NotFound { kind: "Execution", what: format!("Execution {name} for flow {flow}") }.into()
    })
}

fn flow_answer(flow: &FlowRecord) -> Json_ {
    json!({
        "Name": flow.name,
        "Definition": flow.definition,
        "Description": flow.description,
        "Type": "FDL",
        "CreatedTime": rfc3339(flow.created_at),
        "LastModifiedTime": rfc3339(flow.updated_at),
        "Version": flow.version,
    })
}

async fn execution_answer(s: &AppState, app: i64, record: &ExecutionRecord) -> Result<Json_, ApiError> {
    let flow = s.flows.get(app, &record.flow_name, Some(record.flow_version)).await?;
    let text = |v: &Option<Json_>| v.as_ref().map(Json_::to_string);
    Ok(json!({
        "Status": record.status,
        "StartedTime": rfc3339(record.created_at),
        "StoppedTime": record.finished_at.map(rfc3339),
        "FlowDefinition": flow.definition,
        "Output": text(&record.output),
        "FlowName": record.flow_name,
        "Name": record.name.clone().unwrap_or_else(|| record.id.clone()),
        "Input": record.input.to_string(),
        "ExecutionId": record.id,
        "ErrorInfo": record.error,
    }))
}

async fn history(s: &AppState, app: i64, p: Params) -> Result<Json_, ApiError> {
    let flow_name = required(p.flow_name, "FlowName")?;
    let record = by_name(s, app, &flow_name, &required(p.execution_name, "ExecutionName")?).await?;
    let after = match p.next_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => {
            token.parse::<i64>().map_err(|_| ApiError::invalid(format!("NextToken {token:?} is not valid")))?
        }
        None => 0,
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("Limit must be between 1 and 1000"));
    }
    let events = s.flows.history(app, &record.id, after, limit).await?;
    let next = (events.len() as i64 == limit).then(|| events.last().map(|e| e.seq.to_string())).flatten();
    let events: Vec<Json_> = events
        .iter()
        .map(|e| json!({ "EventId": e.seq, "Time": rfc3339(e.at), "Type": e.kind, "StepName": e.node, "EventDetail": e.detail.to_string() }))
        .collect();
    Ok(json!({ "Events": events, "NextToken": next }))
}
