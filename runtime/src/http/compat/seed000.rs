//! Seed 000 ("Cloud Execution") compatibility: `/instance` POST/GET/PUT/DELETE,
//! `/instance/path`, `/serviceDeveloper/publish|revoke`, `/serviceUser/instance/create`,
//! `/serviceUser/flowService/run`, `/serviceUser/serviceUser/dynamicFlow/run` (as the
//! seed writes it, and `/serviceUser/dynamicFlow/run`). Parameters are read where the
//! seed puts them (query string for GET and DELETE, JSON body otherwise); errors are
//! `{"errmsg": ...}`, a missing instance with the seed's own words. Seed 000 has two roles:
//! the application developer (an app's default token) creates instances from bins,
//! publishes and revokes; a service user's token (issued with `role: service_user`) only
//! creates and runs instances of published services and reads and destroys instances
//! (403 in the `{"errmsg"}` shape elsewhere).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{Router, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::bins::RunReport;
use crate::bins::{category_of, parse_updates};
use crate::error::ServiceError;
use crate::http::AppState;
use crate::http::auth::{AppCaller, InstanceCaller};
use crate::http::bins::app_data;
use crate::http::body::{ApiBytes, ApiJson, parse_json};
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::http::services::param_updates;

/// The seed's answer for an instance that does not exist.
pub const NO_SUCH_INSTANCE: &str = "不存在该实例";

/// An error in the seed's `{"errmsg": ...}` shape.
#[derive(Debug)]
pub struct SeedError(ApiError);

impl From<ApiError> for SeedError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<ServiceError> for SeedError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound { kind: "Instance", .. } => {
                Self(ApiError::new(StatusCode::NOT_FOUND, "InstanceNotExists", NO_SUCH_INSTANCE))
            }
            other => Self(other.into()),
        }
    }
}

impl IntoResponse for SeedError {
    fn into_response(self) -> Response {
        (self.0.status, Json(json!({"errmsg": self.0.message}))).into_response()
    }
}

type SeedResult<T> = Result<T, SeedError>;

/// The seed 000 routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/instance", post(create).get(query).put(run).delete(destroy))
        .route("/instance/path", get(path))
        .route("/serviceDeveloper/publish", post(publish))
        .route("/serviceDeveloper/revoke", post(revoke))
        .route("/serviceUser/instance/create", post(create_dynamic))
        .route("/serviceUser/flowService/run", post(run_static))
        .route("/serviceUser/serviceUser/dynamicFlow/run", post(run_dynamic))
        .route("/serviceUser/dynamicFlow/run", post(run_dynamic))
}

fn field<'a>(body: &'a Value, name: &str) -> SeedResult<&'a str> {
    body.get(name).and_then(Value::as_str).ok_or_else(|| ApiError::invalid(format!("`{name}` is required")).into())
}

fn int_field(body: &Value, name: &str) -> SeedResult<i64> {
    let value = body.get(name).ok_or_else(|| ApiError::invalid(format!("`{name}` is required")))?;
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| ApiError::invalid(format!("`{name}` must be an integer")).into())
}

/// 3.1: create an execution instance from `binId`.
async fn create(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    let (instance, bin) = s.bins.create_instance(app, field(&body, "binId")?).await?;
    Ok(Json(json!({"executeInstanceId": instance.id, "appData": app_data(&bin.manifest).to_string()})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceQuery {
    execute_instance_id: String,
}

/// 3.2: query an instance: its status and variables.
async fn query(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Query(q): Query<InstanceQuery>,
) -> SeedResult<Json<Value>> {
    let instance = s.bins.instance(app, &q.execute_instance_id).await?;
    Ok(Json(json!({
        "executeInstanceId": instance.id,
        "status": instance.status,
        "variables": instance.state.variables,
    })))
}

fn run_answer(report: &RunReport) -> Json<Value> {
    match &report.run.result {
        Ok(()) => Json(json!({"status": "running"})),
        Err(e) => Json(json!({"status": "failed", "errmsg": e.to_string(), "committed": report.run.state.is_some()})),
    }
}

/// 3.3: run an instance with `updateVarInfo`.
async fn run(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    let id = field(&body, "executeInstanceId")?;
    let info = body.get("updateVarInfo").ok_or_else(|| ApiError::invalid("`updateVarInfo` is required"))?;
    let updates = match info {
        Value::String(text) => {
            let parsed: Value =
                serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("`updateVarInfo`: {e}")))?;
            parse_updates(&parsed)
        }
        other => parse_updates(other),
    }
    .map_err(ApiError::invalid)?;
    let report = s.bins.run(app, id, updates).await?;
    Ok(run_answer(&report))
}

/// 3.4: destroy an instance (query string, or a JSON body).
/// 3.4: destroy an instance. The seed lists `executeInstanceId` among the body
/// parameters of this DELETE; the query string (as GET takes it) works too.
async fn destroy(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    uri: axum::http::Uri,
    body: ApiBytes,
) -> SeedResult<Json<Value>> {
    let from_query = axum::extract::Query::<InstanceQuery>::try_from_uri(&uri).ok().map(|q| q.0.execute_instance_id);
    let id = match from_query {
        Some(id) => id,
        None => {
            let body: Value = parse_json(&body.0).map_err(SeedError::from)?;
            field(&body, "executeInstanceId")?.to_string()
        }
    };
    s.bins.destroy(app, &id).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathQuery {
    execute_instance_id: String,
    state_machine_no: String,
}

/// 3.5: the path state machine N went through, as a string (`cart->ordered->paid`).
async fn path(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Query(q): Query<PathQuery>,
) -> SeedResult<Json<Value>> {
    let number: u32 =
        q.state_machine_no.trim().parse().map_err(|_| ApiError::invalid("`stateMachineNo` must be an integer"))?;
    let instance = s.bins.instance(app, &q.execute_instance_id).await?;
    let machine = instance.state.machines.get(&number).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "StateMachineNotExists", format!("no state machine {number}"))
    })?;
    let states: Vec<&str> = machine.path.iter().map(|p| p.state.as_str()).collect();
    Ok(Json(Value::String(states.join("->"))))
}

/// The `appKey` in a body must be the token's app.
fn same_app(app: i64, body: &Value) -> SeedResult<()> {
    match int_field(body, "appKey")? {
        key if key == app => Ok(()),
        key => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "AccessDenied", format!("appKey {key} is not the token's app"))
                .into())
        }
    }
}

/// 3.6: publish a bin under an alias.
async fn publish(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    same_app(app, &body)?;
    s.bins
        .publish(app, field(&body, "alias")?, category_of(int_field(&body, "category")?)?, field(&body, "binId")?)
        .await?;
    Ok(Json(json!({})))
}

/// 3.7: revoke a service.
async fn revoke(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    same_app(app, &body)?;
    s.bins.revoke(app, field(&body, "alias")?, category_of(int_field(&body, "category")?)?).await?;
    Ok(Json(json!({})))
}

/// 3.8: a run instance of a dynamic flow.
async fn create_dynamic(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    let id = s.bins.create_dynamic(app, field(&body, "alias")?).await?;
    Ok(Json(json!({"executeInstanceId": id})))
}

/// 3.9: run a static flow once: a fresh instance, kept for inspection.
async fn run_static(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    let updates = param_updates(body.get("param"))?;
    let report = s.bins.run_static(app, field(&body, "alias")?, updates).await?;
    let Json(mut answer) = run_answer(&report);
    answer["executeInstanceId"] = json!(report.instance.id);
    Ok(Json(answer))
}

/// 3.10: run a dynamic flow's instance.
async fn run_dynamic(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    ApiJson(body): ApiJson<Value>,
) -> SeedResult<Json<Value>> {
    let updates = param_updates(body.get("param"))?;
    let report = s.bins.run(app, field(&body, "executeInstanceId")?, updates).await?;
    Ok(run_answer(&report))
}
