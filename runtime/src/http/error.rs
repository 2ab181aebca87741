//! The one place service errors become HTTP responses: `{"code", "message"}` with the
//! status DESIGN.md lists. 4xx echo the reason; 5xx say little and log the details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ServiceError;

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `FunctionNotExists`.
    pub code: String,
    /// For people.
    pub message: String,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into() }
    }

    /// 400 `InvalidArgument`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        match e {
            ServiceError::InvalidArgument(_) | ServiceError::InvalidModule(_) => Self::invalid(message),
            ServiceError::Unauthorized(_) => Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message),
            ServiceError::AccessDenied(_) => Self::new(StatusCode::FORBIDDEN, "AccessDenied", message),
            ServiceError::NotFound { kind, .. } => {
                Self::new(StatusCode::NOT_FOUND, format!("{kind}NotExists"), message)
            }
            ServiceError::AlreadyExists { kind, .. } => {
                Self::new(StatusCode::CONFLICT, format!("{kind}AlreadyExists"), message)
            }
            ServiceError::Conflict { code, .. } => Self::new(StatusCode::CONFLICT, code, message),
            ServiceError::Throttled(_) => Self::new(StatusCode::TOO_MANY_REQUESTS, "ResourceThrottled", message),
            ServiceError::StorageFull(detail) => {
                tracing::error!(%detail, "storage full");
                let message = "the server's storage is full; nothing of this request was stored";
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "StorageFull", message)
            }
            ServiceError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "internal server error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

/// Maps a rejected request body to our error shape, keeping its status (413 stays 413).
pub fn body_rejection(status: StatusCode, detail: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, "EntityTooLarge", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(status, "UnsupportedMediaType", detail),
        _ => ApiError::invalid(detail),
    }
}
