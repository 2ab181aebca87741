//! Accepting connections with limits, so a client that opens connections and never
//! finishes a request cannot hold the server's memory and sockets: at most
//! `max_connections` at once (more wait in the kernel's backlog), a deadline for each
//! request head that also closes idle keep-alive connections, and a deadline for reading
//! a request's whole body (see [`read_body_within`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::error::ApiError;

/// Connection limits of a server, each set by a `cloudexec serve` flag.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at most; further ones wait to be accepted.
    pub max_connections: usize,
    /// Time to receive a request's head; also how long a keep-alive connection may idle.
    pub header_timeout: Duration,
    /// Time to receive a request's whole body once its head arrived.
    pub body_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { max_connections: 4096, header_timeout: Duration::from_secs(10), body_timeout: Duration::from_secs(30) }
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown` resolves, then lets the
/// open connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    // hyper answers a head past these with an empty 431 of its own; they sit well above
    // the limits `check_head` answers with our error shape.
    builder.max_buf_size(HYPER_MAX_HEAD_BYTES).max_headers(HYPER_MAX_HEADERS);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Largest request head (request line and headers) answered normally.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers in a request answered normally.
pub const MAX_HEADERS: usize = 100;
/// hyper's own limits, past which it closes with an empty 431.
const HYPER_MAX_HEAD_BYTES: usize = 1 << 20;
const HYPER_MAX_HEADERS: usize = 1000;

/// Middleware: a request whose head is over [`MAX_HEAD_BYTES`] or has more than
/// [`MAX_HEADERS`] headers gets 431 `RequestHeaderFieldsTooLarge` in our error shape.
pub async fn check_head(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let bytes: usize = target + headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEAD_BYTES {
        let message = format!(
            "the request head has {} headers and {bytes} bytes; at most {MAX_HEADERS} and {MAX_HEAD_BYTES} are accepted",
            headers.len()
        );
        return ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "RequestHeaderFieldsTooLarge", message)
            .into_response();
    }
    next.run(req).await
}

/// The body caps: one for code uploads, one for every other request.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Every route but the uploads.
    pub body: usize,
    /// The routes that upload code ([`is_upload`]).
    pub upload: usize,
}

/// Whether a request uploads code (a function or bin module, or seed 001's function
/// source), and so gets the larger upload cap: interpreter components are tens of MB.
pub fn is_upload(method: &Method, path: &str) -> bool {
    use crate::http::compat::seed001::PREFIX as SEED001;
    let path = path.strip_suffix('/').unwrap_or(path);
    let one_segment_below = |base: &str| {
        path.strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|n| !n.is_empty() && !n.contains('/'))
    };
    match *method {
        Method::POST => matches!(path, "/v1/functions" | "/v1/bins") || path == SEED001,
        Method::PATCH => one_segment_below("/v1/functions") || one_segment_below(SEED001),
        _ => false,
    }
}

/// Middleware: reads the whole request body within `timeout` (408 `RequestTimeout`
/// otherwise) and at most the route's cap (413 `EntityTooLarge`), before the handler
/// runs. A client that sends its body a byte at a time cannot hold a handler for ever.
pub async fn read_body_within(timeout: Duration, limits: BodyLimits, req: Request, next: Next) -> Response {
    let limit = if is_upload(req.method(), req.uri().path()) { limits.upload } else { limits.body };
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => return body_error(&error).into_response(),
        Err(_) => {
            let message = format!("the request body did not arrive within {} s", timeout.as_secs_f64());
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, "RequestTimeout", message).into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A body read error: too large, or the client broke off.
fn body_error(error: &axum::Error) -> ApiError {
    let too_large = std::error::Error::source(error)
        .is_some_and(|source| source.downcast_ref::<http_body_util::LengthLimitError>().is_some());
    if too_large {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "EntityTooLarge", "the request body is too large")
    } else {
        ApiError::invalid(format!("the request body could not be read: {error}"))
    }
}
