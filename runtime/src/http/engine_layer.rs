//! Seed 000, section 4 on the native API: the app's engine-layer URL that variable
//! updates are delivered to (4.2), and the deliveries of an instance.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::AppCaller;
use super::body::ApiJson;
use super::error::ApiError;
use super::extract::Path;
use super::views::ErrorView;
use crate::store::VarDelivery;

/// An app's engine layer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EngineLayerView {
    /// Where each variable a run changes is POSTed (`{executeInstanceId, var}`); null: nowhere.
    var_update_url: Option<String>,
}

/// The app's engine layer.
#[utoipa::path(get, path = "/v1/engine-layer", tag = "bins",
    responses((status = 200, body = EngineLayerView)))]
pub(super) async fn get_engine_layer(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
) -> Result<Json<EngineLayerView>, ApiError> {
    Ok(Json(EngineLayerView { var_update_url: s.bins.var_update_url(app).await? }))
}

/// Sets the app's engine layer: the URL its instances' variable updates are delivered to
/// (seed 000, 4.2), or null to stop queuing them.
#[utoipa::path(put, path = "/v1/engine-layer", tag = "bins", request_body = EngineLayerView,
    responses((status = 200, body = EngineLayerView), (status = 400, body = ErrorView)))]
pub(super) async fn put_engine_layer(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    ApiJson(body): ApiJson<EngineLayerView>,
) -> Result<Json<EngineLayerView>, ApiError> {
    s.bins.set_var_update_url(app, body.var_update_url.clone()).await?;
    Ok(Json(body))
}

/// One delivery of a variable update.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeliveryView {
    id: i64,
    /// The variable.
    variable_key: String,
    /// Where it goes.
    url: String,
    /// `pending`, `delivered` or `failed` (given up).
    status: String,
    /// Attempts so far.
    attempts: i64,
    /// When it is next due, µs since the epoch (pending only).
    next_at: Option<i64>,
    /// Why the last attempt failed.
    last_error: Option<String>,
    /// µs since the epoch.
    created_at: i64,
}

impl From<VarDelivery> for DeliveryView {
    fn from(d: VarDelivery) -> Self {
        let pending = d.status == crate::store::DeliveryStatus::Pending;
        Self {
            id: d.id,
            variable_key: d.new.variable_key,
            url: d.new.url,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_at: pending.then_some(d.next_at),
            last_error: d.last_error,
            created_at: d.created_at,
        }
    }
}

/// The deliveries of an instance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DeliveriesView {
    /// Newest first, at most 100.
    items: Vec<DeliveryView>,
}

/// The latest variable-update deliveries of an instance, newest first.
#[utoipa::path(get, path = "/v1/instances/{id}/deliveries", tag = "bins", params(("id" = String, Path)),
    responses((status = 200, body = DeliveriesView), (status = 404, body = ErrorView)))]
pub(super) async fn instance_deliveries(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
) -> Result<Json<DeliveriesView>, ApiError> {
    let items = s.bins.deliveries(app, &id).await?.into_iter().map(DeliveryView::from).collect();
    Ok(Json(DeliveriesView { items }))
}
