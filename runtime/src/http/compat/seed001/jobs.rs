//! Seed 001's jobs: trigger a function (`POST :name/job/`), list its jobs
//! (`GET :name/job/`) and read a job's log (`GET :name/job/:id/log/`, our `user_log_url`).

use axum::Json;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::links::SignedQuery;
use super::{PREFIX, query, shapes};
use crate::http::AppState;
use crate::http::auth::AppCaller;
use crate::http::body::ApiJson;
use crate::http::error::ApiError;
use crate::http::functions::SOURCE_OPEN_API;
use crate::http::views::JobQuery;
use crate::time::now_us;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Header carrying the id of an async job, since the seed's `{"status": "ok"}` has none.
pub const JOB_ID_HEADER: &str = "x-cloudexec-job-id";

/// The body of a trigger: `data` ("传递给云函数的参数,如果没有需要提供一个空对象") must be
/// an object; `sync` defaults to `true`.
#[derive(Debug, Deserialize)]
pub(super) struct TriggerBody {
    data: Option<Json_>,
    #[serde(default = "yes")]
    sync: bool,
}

fn yes() -> bool {
    true
}

/// Runs the function: sync answers 200 with [`shapes::sync_result`] whether the guest
/// succeeded or failed (a guest failure is the seed's non-zero `code`, never a 5xx);
/// async answers 200 `{"status": "ok"}` (the seed: "默认为 'ok'", no other status named)
/// with the job id in [`JOB_ID_HEADER`]. Both record `source` = `open_api`.
pub(super) async fn trigger(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<TriggerBody>,
) -> Result<Response, ApiError> {
    let data = match body.data {
        Some(data @ Json_::Object(_)) => data,
        Some(_) => return Err(ApiError::invalid("`data` must be an object")),
        None => return Err(ApiError::invalid("`data` is required: send {} when the function takes no parameters")),
    };
    if !body.sync {
        let id = s.jobs.submit_async(app, &name, data, SOURCE_OPEN_API).await?;
        let id = HeaderValue::from(id);
        let headers = [(HeaderName::from_static(JOB_ID_HEADER), id)];
        return Ok((StatusCode::OK, headers, Json(json!({"status": "ok"}))).into_response());
    }
    let job = s.jobs.invoke_sync(app, &name, data, SOURCE_OPEN_API).await?;
    Ok(Json(shapes::sync_result(&job)).into_response())
}

/// The function's jobs, newest first, filtered by `source`, `status` and `service_type`
/// (values as the seed lists them; others are 400) and paged by `limit` and `offset`.
pub(super) async fn list(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Json_>, ApiError> {
    let q: JobQuery = query(&uri)?;
    if let Some(source) = q.source.as_deref()
        && !shapes::SOURCES.contains(&source)
    {
        return Err(ApiError::invalid(format!("unknown source {source:?}: use one of {}", shapes::SOURCES.join(", "))));
    }
    let kept = [("source", q.source.clone()), ("status", q.status.clone()), ("service_type", q.service_type.clone())];
    let filters: Vec<(&str, &str)> = kept.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))).collect();
    let (filter, page) = q.split()?;
    let (items, total) = s.jobs.list(app, &name, filter, page).await?;
    let origin = shapes::origin(&headers);
    let now = now_us() / 1_000_000;
    let link = |id: i64| format!("{origin}{PREFIX}/{name}/job/{id}/log/?{}", s.log_links.query(app, id, now));
    let objects: Vec<Json_> = items.iter().map(|j| shapes::job(j, link(j.id))).collect();
    let meta = shapes::meta(&format!("{PREFIX}/{name}/job/"), page, total, &filters);
    Ok(Json(json!({"meta": meta, "objects": objects})))
}

/// A job's log as text/plain (empty until it finishes); 404 unless the job is one of
/// the named function's. Its signed link (`user_log_url`) opens it without a token until
/// it expires; without a signature, the app's bearer token is needed.
pub(super) async fn log(
    State(s): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let missing = || ApiError::new(StatusCode::NOT_FOUND, "JobNotExists", format!("job {id:?} does not exist"));
    let signed: SignedQuery = query(&parts.uri)?;
    let job_id: i64 = id.parse().map_err(|_| missing())?;
    let app = match signed.signature {
        Some(_) => s.log_links.check(&signed, job_id, now_us() / 1_000_000)?,
        None => AppCaller::from_request_parts(&mut parts, &s).await?.0,
    };
    let function = s.functions.get(app, &name).await?;
    if s.jobs.job(app, job_id).await?.function_id != function.id {
        return Err(missing());
    }
    let text = s.jobs.log(app, job_id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}
