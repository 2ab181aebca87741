//! Seed 001: the BaaS cloud-function API under `/userve/v1.3/cloud-function/`.
//!
//! | Method | Path (trailing `/` optional)            | Answer                                   |
//! |--------|-----------------------------------------|------------------------------------------|
//! | POST   | `/userve/v1.3/cloud-function/`          | 201, the function object                 |
//! | GET    | `/userve/v1.3/cloud-function/`          | 200, `{"meta", "objects"}`               |
//! | GET    | `/userve/v1.3/cloud-function/:name/`    | 200, the function object; 404            |
//! | PATCH  | `/userve/v1.3/cloud-function/:name/`    | 202, the updated function object         |
//! | DELETE | `/userve/v1.3/cloud-function/:name/`    | 204, empty; 404                          |
//! | POST   | `/userve/v1.3/cloud-function/:name/job/`| 200, `{"code", "data", "error"}` or `{"status": "ok"}` |
//! | GET    | `/userve/v1.3/cloud-function/:name/job/`| 200, `{"meta", "objects"}` of jobs       |
//! | GET    | `/userve/v1.3/cloud-function/:name/job/:id/log/` | 200, the job's log as text/plain |
//!
//! The last route is ours: the target of each job's `user_log_url`. Authentication is
//! the native API's (`Authorization: Bearer <app token>`, 401 without one). The seed names
//! statuses but no error body; errors take the envelope of its failed call,
//! `{"code": 1, "data": null, "error": {"code", "message"}}` (`compat/errors.rs`).
//! Request bodies are JSON; fields the seed does not list are ignored, so a client may
//! PATCH back an object it read.

mod jobs;
pub mod links;
mod shapes;

use axum::Json;
use axum::Router;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json_, json};

use crate::functions::{ChangeFunction, CreateFunction};
use crate::http::AppState;
use crate::http::auth::AppCaller;
use crate::http::body::{ApiJson, decode_base64};
use crate::http::error::ApiError;
use crate::http::views::Paging;
use crate::store::FunctionRecord;

pub use shapes::{FAILED_CODE, code_reference, plan_circle};

/// Where the seed's API lives.
pub const PREFIX: &str = "/userve/v1.3/cloud-function";

/// The seed's routes, to merge into the API router before its fallback.
pub fn routes() -> Router<AppState> {
    let router = Router::new();
    let router = both(router, PREFIX, post(create).get(list));
    let router = both(router, &format!("{PREFIX}/{{name}}"), get(read).patch(update).delete(delete));
    let router = both(router, &format!("{PREFIX}/{{name}}/job"), post(jobs::trigger).get(jobs::list));
    both(router, &format!("{PREFIX}/{{name}}/job/{{id}}/log"), get(jobs::log))
}

/// Routes `path` with and without its trailing slash.
fn both(router: Router<AppState>, path: &str, method: MethodRouter<AppState>) -> Router<AppState> {
    router.route(path, method.clone()).route(&format!("{path}/"), method)
}

/// The query string as `T`, with rejections in our error shape.
pub(crate) fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| ApiError::invalid(e.body_text()))
}

/// A field the seed says must be a non-empty string.
fn required(field: &str, value: Option<String>) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::invalid(format!("`{field}` must not be empty")))
}

/// The body of a create: the seed lists `name`, `function_code` and `remark`; we also
/// take `plan_circle` as PATCH does.
#[derive(Debug, Deserialize)]
struct CreateBody {
    name: Option<String>,
    /// JavaScript source, as the seed's examples send it, or a wasm component in base64.
    function_code: Option<String>,
    remark: Option<String>,
    plan_circle: Option<String>,
}

/// The code a `function_code` holds: base64 of a wasm component, or else JavaScript source
/// (the seed's own examples: `exports.main = function (event, callback) {...}`).
fn code_of(function_code: String) -> (Vec<u8>, Option<String>) {
    match decode_base64("function_code", &function_code) {
        Ok(bytes) if bytes.starts_with(b"\0asm") => (bytes, None),
        _ => (Vec::new(), Some(function_code)),
    }
}

/// The function object with its code as the seed shows it.
async fn object(s: &AppState, f: &FunctionRecord) -> Result<Json_, ApiError> {
    let script = s.functions.script(f).await?;
    Ok(shapes::function(f, script.as_deref()))
}

async fn create(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let name = required("name", body.name)?;
    let (wasm, javascript) = code_of(required("function_code", body.function_code)?);
    let plan = body.plan_circle.as_deref().map(plan_circle).transpose()?;
    let req = CreateFunction { name, wasm, javascript, remark: body.remark, plan, ..CreateFunction::default() };
    let created = s.functions.create(app, req).await?;
    Ok((StatusCode::CREATED, Json(object(&s, &created).await?)).into_response())
}

async fn list(State(s): State<AppState>, AppCaller(app): AppCaller, uri: Uri) -> Result<Json<Json_>, ApiError> {
    let page = query::<Paging>(&uri)?.page()?;
    let (items, total) = s.functions.list(app, page).await?;
    let mut objects = Vec::with_capacity(items.len());
    for f in &items {
        objects.push(object(&s, f).await?);
    }
    Ok(Json(json!({"meta": shapes::meta(&format!("{PREFIX}/"), page, total, &[]), "objects": objects})))
}

async fn read(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(object(&s, &s.functions.get(app, &name).await?).await?))
}

/// The body of a PATCH; every field is optional, `name` and `function_code` must not be
/// empty when given.
#[derive(Debug, Deserialize)]
struct UpdateBody {
    name: Option<String>,
    /// New JavaScript source or wasm component (base64); the code as the object shows it
    /// (the source, or the [`code_reference`] of a component) keeps it.
    function_code: Option<String>,
    plan_circle: Option<String>,
    remark: Option<String>,
}

async fn update(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, ApiError> {
    let current = s.functions.get(app, &name).await?;
    let new_name = body.name.map(|n| required("name", Some(n))).transpose()?;
    let code = body.function_code.map(|c| required("function_code", Some(c))).transpose()?;
    let script = s.functions.script(&current).await?;
    let unchanged = |code: &str| code == code_reference(&current) || script.as_deref() == Some(code);
    let (wasm, javascript) = match code {
        Some(code) if !unchanged(&code) => {
            let (wasm, javascript) = code_of(code);
            (javascript.is_none().then_some(wasm), javascript)
        }
        _ => (None, None),
    };
    let plan = body.plan_circle.as_deref().map(plan_circle).transpose()?;
    let change =
        ChangeFunction { name: new_name, wasm, javascript, remark: body.remark, plan, ..ChangeFunction::default() };
    let updated = s.functions.update(app, &name, change).await?;
    Ok((StatusCode::ACCEPTED, Json(object(&s, &updated).await?)).into_response())
}

async fn delete(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.functions.delete(app, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
