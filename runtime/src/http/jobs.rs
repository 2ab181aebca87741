//! `/v1/jobs/{id}` and its log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value as Json_;

use super::AppState;
use super::auth::AppCaller;
use super::error::ApiError;
use super::views;

pub(super) async fn get(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<i64>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(views::job(&s.jobs.job(app, id).await?)))
}

pub(super) async fn log(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let text = s.jobs.log(app, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}
