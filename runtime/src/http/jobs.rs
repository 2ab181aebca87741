//! `/v1/jobs/{id}` and its log; `/v1/overview`, the app's latest jobs at a glance.

use axum::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;

use serde::Deserialize;
use serde_json::{Value as Json_, json};
use utoipa::IntoParams;

use super::AppState;
use super::auth::AppCaller;
use super::error::ApiError;
use super::views::{ErrorView, JobView, seconds};
use crate::store::OVERVIEW_WINDOW;
use crate::time::now_us;

/// Longest look back of the overview: a day.
const MAX_SINCE_SECONDS: i64 = 24 * 3600;
/// Most failures the overview lists.
const MAX_FAILURES: i64 = 100;

/// What the overview covers.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OverviewQuery {
    /// Count the jobs created in this many seconds before now (default 3600, at most 86400).
    #[param(minimum = 1, maximum = 86400)]
    since_seconds: Option<i64>,
    /// How many of the latest failed jobs to list (default 10, at most 100).
    #[param(minimum = 0, maximum = 100)]
    failures: Option<i64>,
}

/// The app's latest jobs at a glance: counts by status of the jobs created in the last
/// `since_seconds`, and the latest failures with their function and error. Both look at
/// the app's latest 10,000 jobs only (`scanned` says how many there were).
#[utoipa::path(get, path = "/v1/overview", tag = "jobs", params(OverviewQuery),
    responses((status = 200, body = Object, description = "since, jobs_by_status, recent_failures (id, function, \
        status, created_at, error), scanned, window"), (status = 400, body = ErrorView)))]
pub(super) async fn overview(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(q): Query<OverviewQuery>,
) -> Result<Json<Json_>, ApiError> {
    let since_seconds = q.since_seconds.unwrap_or(3600);
    if !(1..=MAX_SINCE_SECONDS).contains(&since_seconds) {
        return Err(ApiError::invalid(format!("since_seconds must be between 1 and {MAX_SINCE_SECONDS}")));
    }
    let failures = q.failures.unwrap_or(10);
    if !(0..=MAX_FAILURES).contains(&failures) {
        return Err(ApiError::invalid(format!("failures must be between 0 and {MAX_FAILURES}")));
    }
    let since = now_us() - since_seconds * 1_000_000;
    let o = s.jobs.overview(app, since, failures).await?;
    let by_status: serde_json::Map<String, Json_> =
        o.counts.iter().map(|(status, n)| (status.as_str().to_string(), json!(n))).collect();
    let recent: Vec<Json_> = o
        .failures
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "function": f.function,
                "status": f.status.as_str(),
                "created_at": seconds(f.created_at),
                "error": {"code": f.error_code, "message": f.error_message},
            })
        })
        .collect();
    Ok(Json(json!({
        "since": seconds(since),
        "jobs_by_status": by_status,
        "recent_failures": recent,
        "scanned": o.scanned,
        "window": OVERVIEW_WINDOW,
    })))
}

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
