//! Bearer-token extractors: [`AppCaller`] for an app's resources (its developer's token),
//! [`InstanceCaller`] for the routes a service user's token may also take (creating and
//! running instances of published services), [`AdminCaller`] for managing apps. A missing
//! or unknown token is 401 before any handler runs; a token of the wrong kind is 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::AppState;
use super::error::ApiError;
use crate::store::TokenGrant;

/// The app a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCaller(pub i64);

/// The app a request that creates, runs or reads instances acts for: with its
/// developer's token or a service user's (seed 000's `/serviceUser/…` side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceCaller(pub i64);

/// What a service user's token is refused with on a developer's route.
pub const SERVICE_USER_REFUSED: &str = "a service user's token only creates and runs instances of published services; this needs the app developer's token";

fn admin_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "the admin token manages apps; use an app's token for its resources",
    )
}

/// A request made with the admin token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminCaller;

async fn grant(parts: &Parts, state: &AppState) -> Result<TokenGrant, ApiError> {
    let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "missing `Authorization: Bearer <token>`")
        })?;
    Ok(state.apps.authenticate(token).await?)
}

impl FromRequestParts<AppState> for AppCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match grant(parts, state).await? {
            TokenGrant::App(app_key) => Ok(Self(app_key)),
            TokenGrant::ServiceUser(_) => {
                Err(ApiError::new(StatusCode::FORBIDDEN, "AccessDenied", SERVICE_USER_REFUSED))
            }
            TokenGrant::Admin => Err(admin_refused()),
        }
    }
}

impl FromRequestParts<AppState> for InstanceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match grant(parts, state).await? {
            TokenGrant::App(app_key) | TokenGrant::ServiceUser(app_key) => Ok(Self(app_key)),
            TokenGrant::Admin => Err(admin_refused()),
        }
    }
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match grant(parts, state).await? {
            TokenGrant::Admin => Ok(Self),
            TokenGrant::App(_) | TokenGrant::ServiceUser(_) => {
                Err(ApiError::new(StatusCode::FORBIDDEN, "AccessDenied", "this needs the admin token"))
            }
        }
    }
}
