//! `/openapi.json`, generated from the handlers' annotations and the view types, and
//! `/docs`, a Swagger UI page served from assets vendored in the binary (no CDN).

use axum::Json;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, flow_views, flows, functions, jobs, views};

/// The native API's description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "cloudexec", description = "Serverless runtime for WebAssembly components: the native /v1 API."),
    paths(
        admin::create, admin::list, admin::issue_token, admin::list_tokens, admin::revoke_token,
        functions::create, functions::list, functions::get, functions::update, functions::delete,
        functions::invoke, functions::jobs, jobs::get, jobs::log,
        flows::create, flows::list, flows::get, flows::update, flows::delete, flows::start, flows::executions,
        flows::execution, flows::history, flows::stop, flows::finish,
    ),
    components(schemas(
        views::FunctionView, views::FunctionPage, views::JobView, views::JobErrorView, views::JobPage,
        views::AcceptedView, views::ErrorView,
        flow_views::FlowView, flow_views::FlowPage, flow_views::FlowBody, flow_views::StartBody,
        flow_views::ExecutionView, flow_views::ExecutionPage, flow_views::SyncExecutionView,
        flow_views::NodeErrorView, flow_views::EventView, flow_views::HistoryPage, flow_views::FinishBody,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Declares the bearer token every route but `/healthz` and `/metrics` needs.
#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(super) async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>cloudexec API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
  </script>
</body>
</html>
"##;

pub(super) async fn docs() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

pub(super) async fn bundle() -> impl IntoResponse {
    let js: &'static [u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], js)
}

pub(super) async fn stylesheet() -> impl IntoResponse {
    let css: &'static [u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], css)
}
