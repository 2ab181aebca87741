//! `/v1/jobs/{id}` and its log.

use axum::Json;
use axum::extract::State;

use super::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;
use super::auth::AppCaller;
use super::error::ApiError;
use super::views::{ErrorView, JobView};

/// One job of the app.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorView)))]
pub(super) async fn get(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<i64>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(JobView::from(&s.jobs.job(app, id).await?)))
}

/// A job's captured log (stdout, stderr and log lines), empty until it finishes.
#[utoipa::path(get, path = "/v1/jobs/{id}/log", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ErrorView)))]
pub(super) async fn log(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let text = s.jobs.log(app, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}
