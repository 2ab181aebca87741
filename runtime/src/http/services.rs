//! `/v1/services`: publish a bin under an alias, revoke it, run static flows, create
//! dynamic-flow instances (run them at `/v1/instances/{id}/runs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::AppState;
use super::auth::{AppCaller, InstanceCaller};
use super::bins::run_view;
use super::body::ApiJson;
use super::error::ApiError;
use super::extract::Path;
use super::views::ErrorView;
use crate::bins::{category_of, parse_updates};
use crate::engine::TypedValue;

/// Seed 000's `param`: an object (`{"varList": [...]}` or key → value), or the same as
/// a JSON string; absent means no updates.
pub fn param_updates(param: Option<&Json_>) -> Result<Vec<(String, TypedValue)>, ApiError> {
    match param {
        None | Some(Json_::Null) => Ok(Vec::new()),
        Some(Json_::String(text)) => {
            let parsed: Json_ =
                serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("`param` is not valid JSON: {e}")))?;
            parse_updates(&parsed).map_err(ApiError::invalid)
        }
        Some(value) => parse_updates(value).map_err(ApiError::invalid),
    }
}

/// Body of a publication.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Publish {
    alias: String,
    category: i64,
    bin_id: String,
}

/// Publishes a bin under an alias: category 0 runs it as a static flow (a fresh instance
/// per run), 1 as a dynamic flow (instances created, then run many times).
#[utoipa::path(post, path = "/v1/services", tag = "services", request_body = Publish,
    responses((status = 201, body = Object, description = "appKey, alias, category, binId"),
        (status = 404, body = ErrorView), (status = 409, body = ErrorView)))]
pub(super) async fn publish(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<Publish>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    s.bins.publish(app, &body.alias, category_of(body.category)?, &body.bin_id).await?;
    let view = json!({"appKey": app, "alias": body.alias, "category": body.category, "binId": body.bin_id});
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revokes a live service.
#[utoipa::path(delete, path = "/v1/services/{alias}", tag = "services", params(("alias" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorView)))]
pub(super) async fn revoke(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(alias): Path<String>,
) -> Result<StatusCode, ApiError> {
    let service = s.bins.live_service(app, &alias).await?;
    s.bins.revoke(app, &alias, service.category).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a static-flow run.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(super) struct RunBody {
    /// Variable updates: `{"varList": [...]}`, key → value, or either as a JSON string.
    #[schema(value_type = Value)]
    param: Option<Json_>,
}

/// Runs a static service once, with variable updates.
#[utoipa::path(post, path = "/v1/services/{alias}/run", tag = "services", params(("alias" = String, Path)),
    request_body = RunBody,
    responses((status = 200, body = Object, description = "the run's report"), (status = 404, body = ErrorView),
        (status = 409, body = ErrorView), (status = 429, body = ErrorView)))]
pub(super) async fn run_static(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(alias): Path<String>,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<Json<Json_>, ApiError> {
    let updates = param_updates(body.param.as_ref())?;
    let report = s.bins.run_static(app, &alias, updates).await?;
    Ok(Json(run_view(&report)))
}

/// Creates an instance of a dynamic service (run it at `/v1/instances/{id}/runs`).
#[utoipa::path(post, path = "/v1/services/{alias}/instances", tag = "services", params(("alias" = String, Path)),
    responses((status = 201, body = Object, description = "executeInstanceId"), (status = 404, body = ErrorView)))]
pub(super) async fn create_dynamic(
    State(s): State<AppState>,
    InstanceCaller(app): InstanceCaller,
    Path(alias): Path<String>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let id = s.bins.create_dynamic(app, &alias).await?;
    Ok((StatusCode::CREATED, Json(json!({"executeInstanceId": id}))))
}
