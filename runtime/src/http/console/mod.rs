//! The console: a single page over the `/v1` API, compiled into the binary (no CDN, no
//! Node at run time). Only its static shell is served without a token; every call the page
//! makes carries the bearer token the user signed in with, kept for the browser session.
//! A strict content security policy keeps the page to this server's own URLs.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;

const INDEX: &str = include_str!("index.html");
const STYLE: &str = include_str!("app.css");
/// The page's script modules: the router, its building blocks, the graphs and the pages.
const SCRIPTS: [(&str, &str); 7] = [
    ("app.js", include_str!("app.js")),
    ("core.js", include_str!("core.js")),
    ("graphs.js", include_str!("graphs.js")),
    ("pages.js", include_str!("pages.js")),
    ("flow_pages.js", include_str!("flow_pages.js")),
    ("bin_pages.js", include_str!("bin_pages.js")),
    ("admin_pages.js", include_str!("admin_pages.js")),
];

/// What the page may load: its own assets and API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/` and `/console` lead to `/console/`, which serves the page, its style and scripts.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/console/app.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }));
    for (name, body) in SCRIPTS {
        router = router.route(
            &format!("/console/{name}"),
            get(move || async move { asset("text/javascript; charset=utf-8", body) }),
        );
    }
    router
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}
