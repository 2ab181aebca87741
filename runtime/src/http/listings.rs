//! `GET /v1/bins`, `GET /v1/instances`, `GET /v1/services`: an app's bins, live instances
//! and services as lists (the console's pages of them).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use utoipa::IntoParams;

use super::AppState;
use super::auth::AppCaller;
use super::bins::bin_view;
use super::error::ApiError;
use super::extract::Query;
use super::views::{ErrorView, Paging};
use crate::store::InstanceRecord;

/// Which instances to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub(super) struct InstanceQuery {
    /// Only the instances of this bin.
    bin_id: Option<String>,
    /// Rows per page (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Rows skipped.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

fn page_view(items: Vec<Json_>, total: i64, limit: i64, offset: i64) -> Json_ {
    json!({"items": items, "total": total, "limit": limit, "offset": offset})
}

/// An instance in a list: no variables, each state machine's current state.
fn instance_summary(i: &InstanceRecord) -> Json_ {
    let current: serde_json::Map<String, Json_> =
        i.state.machines.iter().map(|(id, m)| (id.to_string(), json!(m.current))).collect();
    json!({
        "executeInstanceId": i.id,
        "binId": i.bin_id,
        "status": i.status,
        "runs": i.runs,
        "service": i.service,
        "currentStates": current,
        "createdAtMs": i.created_at / 1000,
        "updatedAtMs": i.updated_at / 1000,
    })
}

/// The app's bins, newest first.
#[utoipa::path(get, path = "/v1/bins", tag = "bins", params(Paging),
    responses((status = 200, body = Object, description = "items (binId, moduleSha256, codeTier, manifest, appData), \
        total, limit, offset"), (status = 400, body = ErrorView)))]
pub(super) async fn list_bins(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(paging): Query<Paging>,
) -> Result<Json<Json_>, ApiError> {
    let page = paging.page()?;
    let (bins, total) = s.bins.list_bins(app, page).await?;
    let items = bins.iter().map(|b| bin_view(&s, b)).collect();
    Ok(Json(page_view(items, total, page.limit, page.offset)))
}

/// The app's live instances (of one bin with `?binId=`), newest first.
#[utoipa::path(get, path = "/v1/instances", tag = "bins", params(InstanceQuery),
    responses((status = 200, body = Object, description = "items (executeInstanceId, binId, status, runs, service, \
        currentStates, createdAtMs, updatedAtMs), total, limit, offset"), (status = 400, body = ErrorView)))]
pub(super) async fn list_instances(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Query(query): Query<InstanceQuery>,
) -> Result<Json<Json_>, ApiError> {
    let page = Paging { limit: query.limit, offset: query.offset }.page()?;
    let (instances, total) = s.bins.list_instances(app, query.bin_id.as_deref(), page).await?;
    let items = instances.iter().map(instance_summary).collect();
    Ok(Json(page_view(items, total, page.limit, page.offset)))
}

/// The app's services, live and revoked, by alias.
#[utoipa::path(get, path = "/v1/services", tag = "services",
    responses((status = 200, body = Object, description = "items (alias, category, binId, revoked)")))]
pub(super) async fn list_services(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
) -> Result<Json<Json_>, ApiError> {
    let services = s.bins.list_services(app).await?;
    let items: Vec<Json_> = services
        .iter()
        .map(|x| json!({"alias": x.alias, "category": x.category.code(), "binId": x.bin_id, "revoked": x.revoked}))
        .collect();
    Ok(Json(json!({ "items": items })))
}
