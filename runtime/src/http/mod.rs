//! The HTTP API: one router per API family, built without a listener so tests and the
//! server share it.

mod admin;
pub(crate) mod auth;
pub(crate) mod bins;
pub(crate) mod body;
pub mod compat;
mod console;
mod engine_layer;
pub mod error;
pub(crate) mod extract;
mod flow_events;
pub(crate) mod flow_views;
pub(crate) mod flows;
mod functions;
mod jobs;
pub mod listener;
mod listings;
pub mod openapi;
pub(crate) mod services;
pub(crate) mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::apps::Apps;
use crate::bins::Bins;
use crate::flows::service::Flows;
use crate::functions::Functions;
use crate::runs::JobRunner;
pub use error::ApiError;

/// Default request body cap: 16 MiB (a base64 module in JSON is 4/3 of its size).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// Default body cap of the routes that upload code: 48 MiB, so a module at the engine's
/// 32 MiB cap (an interpreter component: Python, JavaScript) fits as base64 in JSON.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 48 << 20;

/// The services and settings handlers share.
#[derive(Debug)]
pub struct Services {
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
    /// Body cap of the routes that upload code ([`listener::is_upload`]).
    pub max_upload_bytes: usize,
    /// Time a request's whole body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// Seed 001's signed, expiring log links.
    pub log_links: compat::seed001::links::LogLinks,
}

/// What handlers share: the services behind one `Arc`, so that handing the state to a
/// handler is one reference count, not one per service (the profile showed about 2 % of
/// a sync invoke's time in cloning and dropping them).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state of `services`.
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The whole API, with its limits and state.
pub fn router(state: AppState) -> Router {
    let limits = listener::BodyLimits { body: state.max_body_bytes, upload: state.max_upload_bytes };
    let body_timeout = state.body_timeout;
    routes()
        .0
        // `read_body_within` already enforced the route's cap; this only lifts axum's own.
        .layer(DefaultBodyLimit::max(limits.body.max(limits.upload)))
        .layer(axum::middleware::from_fn(move |req, next| listener::read_body_within(body_timeout, limits, req, next)))
        .layer(axum::middleware::from_fn(listener::check_head))
        // Outermost: the refusals of the layers above reach a seed's clients in its shape.
        .layer(axum::middleware::from_fn(compat::errors::reshape))
        .with_state(state)
}

/// Every route, and the description `/openapi.json` serves: the native `/v1` routes, each
/// registered with its OpenAPI description (so none can be served undocumented), the
/// seeds' compatible routes, and the server's own (`/healthz`, `/metrics`, `/docs`).
fn routes() -> (Router<AppState>, openapi::Spec) {
    let (native, spec) = native_routes().split_for_parts();
    let spec = openapi::completed(spec);
    let served = spec.clone();
    let router = Router::new()
        .merge(native)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(move || std::future::ready(served.clone())))
        .route("/docs", get(openapi::docs))
        .route("/docs/swagger-ui-bundle.js", get(openapi::bundle))
        .route("/docs/swagger-ui.css", get(openapi::stylesheet))
        .merge(console::routes())
        .merge(compat::seed000::routes())
        .merge(compat::seed001::routes())
        .merge(compat::seed002::routes())
        .merge(compat::seed003::routes())
        .merge(compat::seed004::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    (router, spec)
}

/// The native API: one `routes!` per path, handlers with their `#[utoipa::path]`.
pub fn native_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(admin::create, admin::list))
        .routes(routes!(admin::issue_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::get_limits, admin::put_limits))
        .routes(routes!(functions::create, functions::list))
        .routes(routes!(functions::get, functions::update, functions::delete))
        .routes(routes!(functions::invoke))
        .routes(routes!(functions::jobs))
        .routes(routes!(functions::versions))
        .routes(routes!(bins::upload, listings::list_bins))
        .routes(routes!(bins::get_bin))
        .routes(routes!(bins::list_bindings))
        .routes(routes!(bins::put_binding))
        .routes(routes!(bins::create_instance, listings::list_instances))
        .routes(routes!(bins::get_instance, bins::destroy_instance))
        .routes(routes!(bins::run_instance))
        .routes(routes!(bins::instance_path))
        .routes(routes!(bins::variable))
        .routes(routes!(engine_layer::get_engine_layer, engine_layer::put_engine_layer))
        .routes(routes!(engine_layer::instance_deliveries))
        .routes(routes!(services::publish, listings::list_services))
        .routes(routes!(services::revoke))
        .routes(routes!(services::run_static))
        .routes(routes!(services::create_dynamic))
        .routes(routes!(flows::create, flows::list))
        .routes(routes!(flows::get, flows::update, flows::delete))
        .routes(routes!(flows::outline))
        .routes(routes!(flows::start, flows::executions))
        .routes(routes!(flows::execution))
        .routes(routes!(flows::history))
        .routes(routes!(flow_events::events))
        .routes(routes!(flows::stop))
        .routes(routes!(flows::finish))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::log))
        .routes(routes!(jobs::overview))
}

/// 200 `{"status": "ok", "node", "store"}` while the server can store what it accepts;
/// 503 `StorageFull` while the database or disk is full (load balancers then send
/// clients elsewhere). The node id tells nodes behind one load balancer apart.
async fn healthz(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    s.jobs.check_writable().await?;
    Ok(axum::Json(serde_json::json!({"status": "ok", "node": s.jobs.node(), "store": s.jobs.store_kind()})))
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The paths a router serves, read from its `Debug` text (axum lists them there;
    /// the assertions below fail loudly if that ever changes).
    fn served_paths(router: &axum::Router<super::AppState>) -> BTreeSet<String> {
        let text = format!("{router:?}");
        text.split('"').filter(|piece| piece.starts_with('/')).map(str::to_string).collect()
    }

    /// Every `/v1` path the server routes is in `/openapi.json` (the bins, instances,
    /// bindings and services routes used to be missing from it).
    #[test]
    fn every_native_route_is_documented() {
        let (router, spec) = super::routes();
        let served = served_paths(&router);
        assert!(served.contains("/v1/functions/{name}/invoke") && served.contains("/healthz"), "{served:?}");
        let documented: BTreeSet<String> = spec.0.paths.paths.keys().cloned().collect();
        let missing: Vec<&String> =
            served.iter().filter(|p| p.starts_with("/v1/") && !documented.contains(*p)).collect();
        assert!(missing.is_empty(), "served but not in /openapi.json: {missing:?}");
        for path in ["/v1/bins", "/v1/instances/{id}/runs", "/v1/bindings/{key}", "/v1/services/{alias}/run"] {
            assert!(documented.contains(path), "{path}");
        }
        let undocumented_served: Vec<&String> = documented.iter().filter(|p| !served.contains(*p)).collect();
        assert!(undocumented_served.is_empty(), "documented but not served: {undocumented_served:?}");
    }
}
