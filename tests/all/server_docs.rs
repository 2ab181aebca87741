//! The API describes itself: `/openapi.json` from the code, a docs page that needs no
//! network, and Prometheus metrics.

use serde_json::Value;

use crate::server::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_json_describes_every_native_route() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let spec: Value = server.client.get(server.url("/openapi.json")).send().await?.error_for_status()?.json().await?;
    assert!(spec["openapi"].as_str().unwrap_or_default().starts_with("3."), "{}", spec["openapi"]);
    for (path, method) in [
        ("/v1/functions", "post"),
        ("/v1/functions", "get"),
        ("/v1/functions/{name}", "patch"),
        ("/v1/functions/{name}", "delete"),
        ("/v1/functions/{name}/invoke", "post"),
        ("/v1/functions/{name}/jobs", "get"),
        ("/v1/jobs/{id}", "get"),
        ("/v1/jobs/{id}/log", "get"),
        ("/v1/apps", "post"),
        ("/v1/flows", "post"),
        ("/v1/flows/{name}", "put"),
        ("/v1/flows/{name}/executions", "post"),
        ("/v1/executions/{id}", "get"),
        ("/v1/executions/{id}/history", "get"),
        ("/v1/executions/{id}/stop", "post"),
    ] {
        assert!(spec["paths"][path][method].is_object(), "{method} {path} is described");
    }
    let job = &spec["components"]["schemas"]["JobView"]["properties"];
    for field in ["id", "status", "service_type", "source", "mem_usage", "log_url"] {
        assert!(job[field].is_object(), "JobView.{field}");
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    assert_agrees_with_the_server(&spec);
    server.stop().await?;
    Ok(())
}

/// What the fuzz run (scripts/fuzz-api.sh) relies on: query parameters are in the query,
/// every operation documents the errors every route can answer, ids are unique, and the
/// token-less finish callback is documented without security.
fn assert_agrees_with_the_server(spec: &Value) {
    let mut ids = std::collections::HashSet::new();
    let paths = spec["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let responses = &op["responses"];
            assert!(responses["400"].is_object(), "{method} {path} documents 400");
            let tokenless = path.ends_with("/finish");
            assert_eq!(responses["401"].is_object(), !tokenless, "{method} {path}: 401");
            if tokenless {
                assert_eq!(op["security"], serde_json::json!([{}]), "{method} {path} takes no token");
            }
            for (status, response) in responses.as_object().into_iter().flatten() {
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
            }
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        }
    }
    let jobs = &spec["paths"]["/v1/functions/{name}/jobs"]["get"]["parameters"];
    let limit = jobs.as_array().into_iter().flatten().find(|p| p["name"] == "limit").cloned().unwrap_or_default();
    assert_eq!((limit["in"].as_str(), limit["required"].as_bool()), (Some("query"), Some(false)), "{limit}");
    let input = &spec["components"]["schemas"]["JobView"]["properties"]["input"];
    assert!(input.get("type").is_none() && input.get("oneOf").is_none(), "any JSON value: {input}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_loads_only_local_assets() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let page = server.client.get(server.url("/docs")).send().await?.error_for_status()?.text().await?;
    assert!(page.contains("/openapi.json") && page.contains("/docs/swagger-ui-bundle.js"), "{page}");
    assert!(!page.contains("http://") && !page.contains("https://"), "no CDN: {page}");
    let js = server.client.get(server.url("/docs/swagger-ui-bundle.js")).send().await?.error_for_status()?;
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.bytes().await?.len() > 1_000_000);
    let css = server.client.get(server.url("/docs/swagger-ui.css")).send().await?.error_for_status()?;
    assert!(css.text().await?.contains(".swagger-ui"));
    server.stop().await?;
    Ok(())
}
