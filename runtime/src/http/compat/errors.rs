//! Every failure on a seed's routes in that seed's own shape, including the ones answered
//! before a seed's handler runs (no token or a bad one, a body that is not JSON, too large
//! or of the wrong type, a missing query parameter, an unknown path under the seed's
//! prefix, a method the route does not take). One middleware around the whole router
//! reshapes the native `{"code", "message"}` answers of requests to a seed's paths:
//!
//! | seed | shape |
//! |---|---|
//! | 000 | `{"errmsg": message}` |
//! | 001 | `{"code": 1, "data": null, "error": {"code", "message"}}` (its failed-call envelope) |
//! | 002 | `{"ret": false, "code", "message"}` (Rill Flow's) |
//! | 003 | `{"Code", "Message", "RequestId"}`; a missing or bad token is 403 `InvalidAccessKeyID` and a body over the cap 400 `EntityTooLarge`, as the seed's error table says |
//! | 004 | `{"error_code", "error_msg"}` |
//!
//! Answers already in a seed's shape pass unchanged (they are not the native shape).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::seed001::FAILED_CODE;
use crate::ids::new_id;

/// Largest error body reshaped (native errors are a few hundred bytes).
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The seeds whose routes answer in their own shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// Cloud Execution: `/instance`, `/serviceDeveloper/…`, `/serviceUser/…`.
    S000,
    /// BaaS cloud functions under `/userve/v1.3/cloud-function`.
    S001,
    /// Rill Flow: `/flow/…`, `/2/flow/…`.
    S002,
    /// Serverless workflow (FnF): `/fnf`.
    S003,
    /// FunctionGraph workflows: `/v2/{project_id}/fgs/…`.
    S004,
}

impl Seed {
    /// The seed whose routes `path` belongs to, if any.
    pub fn of_path(path: &str) -> Option<Self> {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under("/instance") || under("/serviceDeveloper") || under("/serviceUser") {
            Some(Self::S000)
        } else if under(super::seed001::PREFIX) {
            Some(Self::S001)
        } else if under("/flow") || under("/2/flow") {
            Some(Self::S002)
        } else if under("/fnf") {
            Some(Self::S003)
        } else if path.starts_with("/v2/") && path.split('/').nth(3) == Some("fgs") {
            Some(Self::S004)
        } else {
            None
        }
    }

    /// The seed's answer for a native error `code`/`message` of `status`.
    fn answer(self, status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
        match self {
            Self::S000 => (status, json!({ "errmsg": message })),
            Self::S001 => {
                (status, json!({ "code": FAILED_CODE, "data": null, "error": { "code": code, "message": message } }))
            }
            Self::S002 => (status, json!({ "ret": false, "code": code, "message": message })),
            Self::S003 => {
                let (status, code) = match (status, code) {
                    (StatusCode::UNAUTHORIZED, _) => (StatusCode::FORBIDDEN, "InvalidAccessKeyID"),
                    (StatusCode::PAYLOAD_TOO_LARGE, _) => (StatusCode::BAD_REQUEST, "EntityTooLarge"),
                    (status, code) => (status, code),
                };
                (status, json!({ "Code": code, "Message": message, "RequestId": new_id().unwrap_or_default() }))
            }
            Self::S004 => (status, json!({ "error_code": code, "error_msg": message })),
        }
    }
}

/// Runs the request; a native error answer to a seed's path is given the seed's shape.
pub async fn reshape(request: Request, next: Next) -> Response {
    let seed = Seed::of_path(request.uri().path());
    let response = next.run(request).await;
    match seed {
        Some(seed) if response.status().is_client_error() || response.status().is_server_error() => {
            reshaped(seed, response).await
        }
        _ => response,
    }
}

async fn reshaped(seed: Seed, response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BYTES).await else {
        return (parts.status, "the error answer could not be read").into_response();
    };
    let native = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
        let object = v.as_object()?;
        let code = object.get("code")?.as_str()?.to_string();
        let message = object.get("message")?.as_str()?.to_string();
        (object.len() == 2).then_some((code, message))
    });
    let Some((code, message)) = native else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (status, body) = seed.answer(parts.status, &code, &message);
    let text = body.to_string();
    parts.status = status;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

#[cfg(test)]
mod tests {
    use super::Seed;

    #[test]
    fn paths_belong_to_their_seeds() {
        assert_eq!(Seed::of_path("/instance"), Some(Seed::S000));
        assert_eq!(Seed::of_path("/instance/path"), Some(Seed::S000));
        assert_eq!(Seed::of_path("/instances"), None);
        assert_eq!(Seed::of_path("/serviceUser/flowService/run"), Some(Seed::S000));
        assert_eq!(Seed::of_path("/userve/v1.3/cloud-function/f/job/"), Some(Seed::S001));
        assert_eq!(Seed::of_path("/flow/submit.json"), Some(Seed::S002));
        assert_eq!(Seed::of_path("/2/flow/submit.json"), Some(Seed::S002));
        assert_eq!(Seed::of_path("/fnf"), Some(Seed::S003));
        assert_eq!(Seed::of_path("/fnf/StartExecution"), Some(Seed::S003));
        assert_eq!(Seed::of_path("/v2/p1/fgs/workflows/w/sync-executions"), Some(Seed::S004));
        assert_eq!(Seed::of_path("/v1/functions"), None);
        assert_eq!(Seed::of_path("/v2/p1/other"), None);
    }
}
