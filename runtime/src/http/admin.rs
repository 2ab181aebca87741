//! `/v1/apps`: the admin creates apps and issues tokens.

use axum::Json;
use axum::extract::State;

use super::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::AppState;
use super::auth::AdminCaller;
use super::body::ApiJson;
use super::error::ApiError;
use super::views::ErrorView;
use crate::runs::AppLimits;
use crate::store::TokenRole;

/// A new app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApp {
    /// A readable name.
    name: String,
}

/// Create an app (admin token): answers its `appKey` and first token.
#[utoipa::path(post, path = "/v1/apps", tag = "admin", request_body = NewApp,
    responses((status = 201, body = Object, description = "`{appKey, name, token}`"), (status = 403, body = ErrorView)))]
pub(super) async fn create(
    State(s): State<AppState>,
    _: AdminCaller,
    ApiJson(body): ApiJson<NewApp>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let (app, token) = s.apps.create(&body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({"appKey": app.app_key, "name": app.name, "token": token}))))
}

/// All apps (admin token).
#[utoipa::path(get, path = "/v1/apps", tag = "admin",
    responses((status = 200, body = Object, description = "`{items: [{appKey, name, createdAt}]}`"), (status = 403, body = ErrorView)))]
pub(super) async fn list(State(s): State<AppState>, _: AdminCaller) -> Result<Json<Json_>, ApiError> {
    Ok(Json(json!({"items": s.apps.list().await?})))
}

/// A new token's options (the body may be left out: a developer's token).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    /// `developer` (everything within the app, the default) or `service_user` (creates
    /// and runs instances of published services only: seed 000's service user).
    #[serde(default)]
    #[schema(value_type = String, example = "service_user")]
    role: TokenRole,
}

/// A new token for an app (admin token): shown this once; its `id` revokes it.
#[utoipa::path(post, path = "/v1/apps/{app_key}/tokens", tag = "admin", params(("app_key" = i64, Path)),
    request_body(content = NewToken, description = "optional"),
    responses((status = 201, body = Object, description = "`{appKey, id, token, role}`"), (status = 404, body = ErrorView)))]
pub(super) async fn issue_token(
    State(s): State<AppState>,
    _: AdminCaller,
    Path(app_key): Path<i64>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    let options: NewToken = match body.iter().all(u8::is_ascii_whitespace) {
        true => NewToken::default(),
        false => serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the token's options: {e}")))?,
    };
    let (id, token) = s.apps.issue_token(app_key, options.role).await?;
    let role = options.role.as_str();
    Ok((StatusCode::CREATED, Json(json!({"appKey": app_key, "id": id, "token": token, "role": role}))))
}

/// An app's tokens (admin token): ids, origins and creation times, never the tokens.
#[utoipa::path(get, path = "/v1/apps/{app_key}/tokens", tag = "admin", params(("app_key" = i64, Path)),
    responses((status = 200, body = Object, description = "`{items: [{id, app_key, origin, role, created_at}]}`"),
        (status = 404, body = ErrorView)))]
pub(super) async fn list_tokens(
    State(s): State<AppState>,
    _: AdminCaller,
    Path(app_key): Path<i64>,
) -> Result<Json<Json_>, ApiError> {
    Ok(Json(json!({"items": s.apps.tokens(app_key).await?})))
}

/// Revoke an app's token by id (admin token): refused from the next request on.
#[utoipa::path(delete, path = "/v1/apps/{app_key}/tokens/{id}", tag = "admin",
    params(("app_key" = i64, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorView)))]
pub(super) async fn revoke_token(
    State(s): State<AppState>,
    _: AdminCaller,
    Path((app_key, id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.apps.revoke_token(app_key, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An app's admission limits (admin token): its own, and the defaults that apply where
/// it has none.
#[utoipa::path(get, path = "/v1/apps/{app_key}/limits", tag = "admin", params(("app_key" = i64, Path)),
    responses((status = 200, body = Object, description = "`{limits: {max_running, max_queue, rate_per_sec, burst}, defaults: {max_running, max_queue}}`"),
        (status = 404, body = ErrorView)))]
pub(super) async fn get_limits(
    State(s): State<AppState>,
    _: AdminCaller,
    Path(app_key): Path<i64>,
) -> Result<Json<Json_>, ApiError> {
    s.apps.require(app_key).await?;
    Ok(Json(limits_view(&s, app_key)))
}

/// Set an app's admission limits (admin token): a `null` or absent field uses the default.
#[utoipa::path(put, path = "/v1/apps/{app_key}/limits", tag = "admin", params(("app_key" = i64, Path)),
    request_body = AppLimits,
    responses((status = 200, body = Object, description = "the limits now in force, as GET answers"),
        (status = 404, body = ErrorView)))]
pub(super) async fn put_limits(
    State(s): State<AppState>,
    _: AdminCaller,
    Path(app_key): Path<i64>,
    ApiJson(limits): ApiJson<AppLimits>,
) -> Result<Json<Json_>, ApiError> {
    s.apps.require(app_key).await?;
    s.jobs.set_app_limits(app_key, limits).await?;
    Ok(Json(limits_view(&s, app_key)))
}

fn limits_view(s: &AppState, app_key: i64) -> Json_ {
    let (limits, (max_running, max_queue)) = s.jobs.app_limits(app_key);
    json!({"appKey": app_key, "limits": limits, "defaults": {"max_running": max_running, "max_queue": max_queue}})
}
