//! Request bodies: JSON with our error shape, and function uploads that arrive as raw
//! `application/wasm`, multipart form data, or JSON with base64 code.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::header;
use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, body_rejection};

/// JSON body whose rejections are `{"code", "message"}` (413 stays 413).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiBytes(bytes) = ApiBytes::from_request(req, state).await?;
        parse_json(&bytes).map(Self)
    }
}

/// Raw body bytes whose rejections are `{"code", "message"}` (413 stays 413).
#[derive(Debug)]
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(Self).map_err(|e| body_rejection(e.status(), e.body_text()))
    }
}

/// Parses a JSON body; an empty body is `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("the body is not valid JSON: {e}")))
}

/// Function fields of an upload; all optional here, the service says what is required.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadFields {
    /// Function name.
    pub name: Option<String>,
    /// Free text.
    pub remark: Option<String>,
    /// `P_FREE` or `P_PERSONAL`.
    pub plan: Option<String>,
    /// Sync deadline, ms.
    pub sync_timeout_ms: Option<i64>,
    /// Async deadline, ms.
    pub async_timeout_ms: Option<i64>,
    /// The module, base64 (JSON uploads only).
    pub wasm_base64: Option<String>,
    /// JavaScript source instead of a module (`exports.main = function (event, callback)
    /// {...}`, seed 001's cloud functions); also a raw `application/javascript` body.
    pub javascript: Option<String>,
    /// A bin's seed 000 `getVarUrl` (bins only): where reads of variables its instances
    /// do not hold are asked.
    #[serde(alias = "getVarUrl")]
    pub get_var_url: Option<String>,
    /// The module's bytes, decoded.
    #[serde(skip)]
    #[schema(ignore)]
    pub wasm: Option<Vec<u8>>,
}

impl UploadFields {
    /// Refuses the fields only bins take, in a function's upload.
    pub fn function_only(self) -> Result<Self, ApiError> {
        if self.get_var_url.is_some() {
            return Err(ApiError::invalid("`get_var_url` is a bin's (POST /v1/bins), not a function's"));
        }
        Ok(self)
    }
}

/// A function upload in any of the three shapes.
#[derive(Debug)]
pub struct Upload(pub UploadFields);

impl FromRequest<AppState> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let javascript = ["application/javascript", "text/javascript"].iter().any(|t| content_type.starts_with(t));
        let fields =
            if content_type.starts_with("application/wasm") || content_type.starts_with("application/octet-stream") {
                raw(req, state).await?
            } else if javascript {
                let mut fields = raw(req, state).await?;
                let bytes = fields.wasm.take().unwrap_or_default();
                let source =
                    String::from_utf8(bytes).map_err(|_| ApiError::invalid("the JavaScript source is not UTF-8"))?;
                fields.javascript = Some(source);
                fields
            } else if content_type.starts_with("multipart/form-data") {
                multipart(req, state).await?
            } else {
                let ApiJson(mut fields) = ApiJson::<UploadFields>::from_request(req, state).await?;
                if let Some(b64) = fields.wasm_base64.take() {
                    fields.wasm = Some(decode_base64("wasm_base64", &b64)?);
                }
                fields
            };
        Ok(Self(fields))
    }
}

/// Decodes base64 code, with the field name in the error.
pub fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| ApiError::invalid(format!("`{field}` is not valid base64: {e}")))
}

async fn raw(req: Request, state: &AppState) -> Result<UploadFields, ApiError> {
    let query = Query::<UploadFields>::try_from_uri(req.uri()).map_err(|e| ApiError::invalid(e.body_text()))?;
    let ApiBytes(bytes) = ApiBytes::from_request(req, state).await?;
    let Query(mut fields) = query;
    fields.wasm = Some(bytes.to_vec());
    Ok(fields)
}

async fn multipart(req: Request, state: &AppState) -> Result<UploadFields, ApiError> {
    let mut form = Multipart::from_request(req, state).await.map_err(|e| body_rejection(e.status(), e.body_text()))?;
    let mut fields = UploadFields::default();
    while let Some(field) = form.next_field().await.map_err(|e| body_rejection(e.status(), e.body_text()))? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|e| body_rejection(e.status(), e.body_text()))?;
        let text = || String::from_utf8_lossy(&data).into_owned();
        let number = |field: &str| {
            text().trim().parse::<i64>().map_err(|_| ApiError::invalid(format!("`{field}` must be an integer")))
        };
        match name.as_str() {
            "wasm" | "file" => fields.wasm = Some(data.to_vec()),
            "name" => fields.name = Some(text()),
            "get_var_url" | "getVarUrl" => fields.get_var_url = Some(text()),
            "remark" => fields.remark = Some(text()),
            "plan" => fields.plan = Some(text()),
            "sync_timeout_ms" => fields.sync_timeout_ms = Some(number("sync_timeout_ms")?),
            "async_timeout_ms" => fields.async_timeout_ms = Some(number("async_timeout_ms")?),
            other => return Err(ApiError::invalid(format!("unknown form field {other:?}"))),
        }
    }
    Ok(fields)
}
