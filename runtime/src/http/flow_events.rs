//! `GET /v1/executions/{id}/events`: an execution's history as server-sent events, the
//! stored ones first and then each new one as it is stored, so a page (the console's
//! execution graph) or `cloudexec flow watch` follows a run without polling. Each event
//! carries its sequence number as its SSE `id`: a client that reconnects with
//! `Last-Event-ID` (or `?after=`) resumes after it. The stream ends with an `end` event
//! once the execution has ended and every event was sent.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::AppState;
use super::auth::AppCaller;
use super::error::ApiError;
use super::extract::{Path, Query};
use super::flow_views::EventView;
use super::views::ErrorView;

/// How often the stream looks for new events while the execution runs.
const POLL: Duration = Duration::from_millis(200);
/// Events read per look.
const BATCH: i64 = 200;
/// Events buffered for a slow reader before the stream waits for it.
const BUFFER: usize = 64;

/// Where a stream starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsQuery {
    /// Send only the events after this sequence number (as `Last-Event-ID` does).
    after: Option<i64>,
}

/// Stream an execution's history as server-sent events: `id` is the event's sequence
/// number, `event` its kind, `data` the event as `GET …/history` shows it; an `end` event
/// (data: the final status) closes the stream once the execution ended. Resume with
/// `Last-Event-ID` or `?after=`.
/// One server-sent event of the stream, as its fields (OpenAPI's way of describing an
/// event stream: each event is checked against this).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code, reason = "describes the stream for /openapi.json; the events are built by axum's Event")]
pub(super) struct SseEvent {
    /// The history event's `seq` (absent on `end`).
    id: Option<String>,
    /// The history event's kind, or `end` after the last one.
    event: String,
    /// The history event as JSON (`EventView`), or `{"status"}` on `end`.
    data: String,
}

#[utoipa::path(get, path = "/v1/executions/{id}/events", tag = "flows", params(("id" = String, Path), EventsQuery),
    responses((status = 200, content_type = "text/event-stream", body = SseEvent,
        description = "`id: <seq>`, `event: <kind>`, `data: <EventView>`; last `event: end`"),
        (status = 404, body = ErrorView)))]
pub(super) async fn events(
    State(s): State<AppState>,
    AppCaller(app): AppCaller,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    s.flows.execution(app, &id).await?;
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()?.trim().parse::<i64>().ok());
    let after = resumed.or(query.after).unwrap_or(0).max(0);
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(follow(s, app, id, after, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|event| (Ok(event), rx)) });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Sends the events after `after` until the execution ended (then `end`) or the client
/// went away (a send fails).
async fn follow(s: AppState, app: i64, id: String, mut after: i64, tx: mpsc::Sender<Event>) {
    loop {
        // Read the status first: events stored before an end is seen are all sent.
        let ended = match s.flows.execution(app, &id).await {
            Ok(record) => record.status.is_terminal().then_some(record.status),
            Err(_) => return,
        };
        let Ok(events) = s.flows.history(app, &id, after, BATCH).await else { return };
        let full = events.len() as i64 == BATCH;
        for event in &events {
            after = event.seq;
            let data = serde_json::to_string(&EventView::from(event)).unwrap_or_default();
            let sse = Event::default().id(event.seq.to_string()).event(event.kind.as_str()).data(data);
            if tx.send(sse).await.is_err() {
                return;
            }
        }
        if full {
            continue;
        }
        if let Some(status) = ended {
            let end = Event::default().event("end").data(serde_json::json!({ "status": status.as_str() }).to_string());
            let _ = tx.send(end).await;
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = tx.closed() => return,
        }
    }
}
