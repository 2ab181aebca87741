//! `/openapi.json`, generated from the handlers' annotations and the view types, and
//! `/docs`, a Swagger UI page served from assets vendored in the binary (no CDN).

use axum::Json;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{flow_views, views};

/// The native API's description; the paths come from the router ([`super::native_routes`]).
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "cloudexec", description = "Serverless runtime for WebAssembly components: the native /v1 API."),
    components(schemas(
        views::FunctionView, views::FunctionPage, views::JobView, views::JobErrorView, views::JobPage,
        views::AcceptedView, views::ErrorView,
        flow_views::FlowView, flow_views::FlowPage, flow_views::FlowBody, flow_views::StartBody,
        flow_views::ExecutionView, flow_views::ExecutionPage, flow_views::SyncExecutionView, flow_views::StartAnswer,
        flow_views::NodeErrorView, flow_views::EventView, flow_views::HistoryPage, flow_views::FinishBody,
        crate::flows::outline::OutlineBlock, crate::flows::outline::OutlineNode, crate::flows::outline::OutlineEdge,
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

/// Adds what every operation can answer (the handlers' own annotations list only their
/// particular outcomes): 400 for a malformed path, query or body; 401 without a valid token
/// (all but the token-less finish callback); 403 on admin routes; 413 and 408 where a body
/// is read; 503 `StorageFull` where something is written. Gives every response a
/// description and every operation an id unique across tags.
#[derive(Debug)]
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let methods = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, operation) in methods {
                if let Some(operation) = operation {
                    complete(path, method, operation);
                }
            }
        }
    }
}

/// Routes that take no token: the execution id in the path is the capability.
const TOKENLESS: &[&str] = &["/v1/executions/{id}/tasks/{task}/finish"];

fn complete(path: &str, method: &str, op: &mut utoipa::openapi::path::Operation) {
    let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
    if let Some(id) = &op.operation_id {
        op.operation_id = Some(format!("{tag}_{id}"));
    }
    let writes = matches!(method, "post" | "put" | "patch" | "delete");
    let mut common = vec![("400", "InvalidArgument: a malformed path, query or body")];
    if !TOKENLESS.contains(&path) {
        common.push(("401", "Unauthorized: no valid bearer token"));
    }
    if tag == "admin" {
        common.push(("403", "AccessDenied: the route needs the admin token"));
    }
    if op.request_body.is_some() || writes {
        common.push(("408", "RequestTimeout: the body did not arrive in time"));
        common.push(("413", "EntityTooLarge: the body is over the server's cap"));
    }
    if writes {
        common.push(("503", "StorageFull: nothing was stored"));
    }
    for (status, description) in common {
        op.responses.responses.entry(status.to_string()).or_insert_with(|| error_response(description));
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = "the answer".into();
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorView"));
    let content = utoipa::openapi::ContentBuilder::new().schema(Some(schema)).build();
    RefOr::T(
        utoipa::openapi::ResponseBuilder::new().description(description).content("application/json", content).build(),
    )
}

/// The description `/openapi.json` serves.
pub(super) type Spec = Json<utoipa::openapi::OpenApi>;

/// The router's description with what every operation can answer, as `/openapi.json`
/// serves it.
pub(super) fn completed(mut spec: utoipa::openapi::OpenApi) -> Spec {
    CommonResponses.modify(&mut spec);
    Json(spec)
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
