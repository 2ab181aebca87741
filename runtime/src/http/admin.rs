//! `/v1/apps`: the admin creates apps and issues tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::AppState;
use super::auth::AdminCaller;
use super::body::ApiJson;
use super::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApp {
    name: String,
}

pub(super) async fn create(
    State(s): State<AppState>,
    _: AdminCaller,
    ApiJson(body): ApiJson<NewApp>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let (app, token) = s.apps.create(&body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({"appKey": app.app_key, "name": app.name, "token": token}))))
}

pub(super) async fn list(State(s): State<AppState>, _: AdminCaller) -> Result<Json<Json_>, ApiError> {
    Ok(Json(json!({"items": s.apps.list().await?})))
}

pub(super) async fn issue_token(
    State(s): State<AppState>,
    _: AdminCaller,
    Path(app_key): Path<i64>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let token = s.apps.issue_token(app_key).await?;
    Ok((StatusCode::CREATED, Json(json!({"appKey": app_key, "token": token}))))
}
