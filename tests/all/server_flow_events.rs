//! `GET /v1/executions/{id}/events`: an execution's history as server-sent events, live
//! while it runs, resumable with `Last-Event-ID`, closed by an `end` event.

use std::time::Duration;

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, start_id};
use crate::server::TestServer;

/// One server-sent event: its id, kind and data.
type Sent = (Option<i64>, String, Value);

/// Reads events until `stop` holds for one (included) or the stream ends.
async fn read_until(
    response: &mut reqwest::Response,
    mut stop: impl FnMut(&Sent) -> bool,
) -> anyhow::Result<Vec<Sent>> {
    let (mut buffer, mut events) = (String::new(), Vec::new());
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if data.is_empty() {
                continue; // a keep-alive comment
            }
            let event = (id, kind, serde_json::from_str(&data)?);
            let done = stop(&event);
            events.push(event);
            if done {
                return Ok(events);
            }
        }
        match tokio::time::timeout(Duration::from_secs(30), response.chunk()).await?? {
            Some(bytes) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            None => return Ok(events),
        }
    }
}

fn stream(server: &TestServer, id: &str) -> reqwest::RequestBuilder {
    server.as_app(Method::GET, &format!("/v1/executions/{id}/events"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executions_events_stream_live_and_resume() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let flow = format!(
        "version: 1\nworkspace: t\ndagName: w\ntype: flow\ntasks:\n  - {{category: function, name: work, pattern: task_async, resourceName: \"{}\"}}\n",
        ep.url("/async?callback=never")
    );
    create_flow(&server, "w", &flow).await?;
    let id = start_id(&server, "w", json!({})).await?;

    let mut live = stream(&server, &id).send().await?;
    assert_eq!(live.status(), 200);
    assert!(live.headers()["content-type"].to_str()?.starts_with("text/event-stream"));
    // The task waits for its callback: the stream has its events and stays open.
    let before = read_until(&mut live, |(_, _, data)| data["node"] == "work").await?;
    assert_eq!(before.first().map(|e| e.1.as_str()), Some("ExecutionStarted"), "{before:?}");
    let finish = server
        .client
        .post(server.url(&format!("/v1/executions/{id}/tasks/work/finish")))
        .json(&json!({"result_type": "SUCCESS", "response": {"ok": 1}}))
        .send()
        .await?;
    assert_eq!(finish.status(), 200);
    let after = read_until(&mut live, |(_, kind, _)| kind == "end").await?;
    let (_, end_kind, end_data) = after.last().cloned().unwrap_or_default();
    assert_eq!((end_kind.as_str(), &end_data["status"]), ("end", &json!("Succeeded")), "{after:?}");
    assert!(live.chunk().await?.is_none(), "the stream closes after `end`");
    let all: Vec<Sent> = before.into_iter().chain(after.into_iter().filter(|e| e.1 != "end")).collect();
    let ids: Vec<i64> = all.iter().filter_map(|e| e.0).collect();
    assert_eq!(ids, (1..=all.len() as i64).collect::<Vec<_>>(), "every event once, in order: {all:?}");
    assert!(all.iter().all(|(id, kind, data)| data["seq"] == json!(id) && data["kind"] == json!(kind)));
    assert_eq!(all.last().map(|e| e.1.as_str()), Some("ExecutionSucceeded"), "{all:?}");

    // Resumed after event 2 (`Last-Event-ID`, or `?after=`): the rest, then `end`.
    let mut resumed = stream(&server, &id).header("last-event-id", "2").send().await?;
    let rest = read_until(&mut resumed, |(_, kind, _)| kind == "end").await?;
    let rest_ids: Vec<i64> = rest.iter().filter_map(|e| e.0).collect();
    assert_eq!(rest_ids, ids[2..].to_vec());
    let mut by_query =
        server.as_app(Method::GET, &format!("/v1/executions/{id}/events?after={}", ids.len())).send().await?;
    let tail = read_until(&mut by_query, |(_, kind, _)| kind == "end").await?;
    assert_eq!(tail.iter().map(|e| e.1.as_str()).collect::<Vec<_>>(), ["end"]);

    // Not found: an unknown execution, another app's.
    assert_eq!(stream(&server, "nope").send().await?.status(), 404);
    let (_, other) = server.new_app("b").await?;
    let foreign = server.with_token(&other, Method::GET, &format!("/v1/executions/{id}/events")).send().await?;
    assert_eq!(foreign.status(), 404);
    server.stop().await?;
    Ok(())
}
