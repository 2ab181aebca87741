//! The HTTP API: one router per API family, built without a listener so tests and the
//! server share it.

mod admin;
pub(crate) mod auth;
pub(crate) mod bins;
pub(crate) mod body;
pub mod compat;
pub mod error;
pub(crate) mod extract;
pub(crate) mod flow_views;
pub(crate) mod flows;
mod functions;
mod jobs;
pub mod listener;
pub mod openapi;
pub(crate) mod services;
pub(crate) mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::apps::Apps;
use crate::bins::Bins;
use crate::flows::service::Flows;
use crate::functions::{Functions, JobRunner};
pub use error::ApiError;

/// Default request body cap: 16 MiB (a base64 module in JSON is 4/3 of its size).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Apps and tokens.
    pub apps: Apps,
    /// Functions.
    pub functions: Functions,
    /// Jobs.
    pub jobs: JobRunner,
    /// Bins, instances and bindings.
    pub bins: Bins,
    /// Flows and their executions.
    pub flows: Flows,
    /// Request body cap.
    pub max_body_bytes: usize,
    /// Time a request's whole body may take to arrive.
    pub body_timeout: std::time::Duration,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    let body_timeout = state.body_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::spec))
        .route("/docs", get(openapi::docs))
        .route("/docs/swagger-ui-bundle.js", get(openapi::bundle))
        .route("/docs/swagger-ui.css", get(openapi::stylesheet))
        .route("/v1/apps", post(admin::create).get(admin::list))
        .route("/v1/apps/{app_key}/tokens", post(admin::issue_token).get(admin::list_tokens))
        .route("/v1/apps/{app_key}/tokens/{id}", axum::routing::delete(admin::revoke_token))
        .route("/v1/apps/{app_key}/limits", get(admin::get_limits).put(admin::put_limits))
        .route("/v1/functions", post(functions::create).get(functions::list))
        .route("/v1/functions/{name}", get(functions::get).patch(functions::update).delete(functions::delete))
        .route("/v1/functions/{name}/invoke", post(functions::invoke))
        .route("/v1/functions/{name}/jobs", get(functions::jobs))
        .route("/v1/bins", post(bins::upload))
        .route("/v1/bins/{id}", get(bins::get_bin))
        .route("/v1/bindings", get(bins::list_bindings))
        .route("/v1/bindings/{key}", axum::routing::put(bins::put_binding))
        .route("/v1/instances", post(bins::create_instance))
        .route("/v1/instances/{id}", get(bins::get_instance).delete(bins::destroy_instance))
        .route("/v1/instances/{id}/runs", post(bins::run_instance))
        .route("/v1/instances/{id}/path", get(bins::instance_path))
        .route("/v1/instances/{id}/variables/{key}", get(bins::variable))
        .route("/v1/services", post(services::publish))
        .route("/v1/services/{alias}", axum::routing::delete(services::revoke))
        .route("/v1/services/{alias}/run", post(services::run_static))
        .route("/v1/services/{alias}/instances", post(services::create_dynamic))
        .route("/v1/flows", post(flows::create).get(flows::list))
        .route("/v1/flows/{name}", get(flows::get).put(flows::update).delete(flows::delete))
        .route("/v1/flows/{name}/executions", post(flows::start).get(flows::executions))
        .route("/v1/executions/{id}", get(flows::execution))
        .route("/v1/executions/{id}/history", get(flows::history))
        .route("/v1/executions/{id}/stop", post(flows::stop))
        .route("/v1/executions/{id}/tasks/{task}/finish", post(flows::finish))
        .route("/v1/jobs/{id}", get(jobs::get))
        .route("/v1/jobs/{id}/log", get(jobs::log))
        .merge(compat::seed000::routes())
        .merge(compat::seed001::routes())
        .merge(compat::seed002::routes())
        .merge(compat::seed003::routes())
        .merge(compat::seed004::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(move |req, next| listener::read_body_within(body_timeout, limit, req, next)))
        .layer(axum::middleware::from_fn(listener::check_head))
        .with_state(state)
}

/// `ok` while the server can store what it accepts; 503 `StorageFull` while the database
/// or disk is full (load balancers then send clients elsewhere).
async fn healthz(axum::extract::State(s): axum::extract::State<AppState>) -> Result<&'static str, ApiError> {
    s.jobs.check_writable().await?;
    Ok("ok")
}

/// Prometheus metrics of the whole node (every app's calls): the admin token only.
async fn metrics(
    axum::extract::State(s): axum::extract::State<AppState>,
    _: auth::AdminCaller,
) -> impl axum::response::IntoResponse {
    let text = s.jobs.metrics().await;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

async fn method_not_allowed(req: Request) -> ApiError {
    let message = format!("{} is not allowed on {}", req.method(), req.uri().path());
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no route for {} {}", req.method(), req.uri().path()))
}
