//! A Map's big writes on both stores: a transition carrying thousands of state parts,
//! history events and job records lands whole, in order, or not at all (PostgreSQL writes
//! each kind with one statement of arrays; SQLite row by row, in-process).

use cloudexec::store::{ExecutionEvent, JobFilter, NewFunction, StoreError};
use cloudexec::time::now_us;
use serde_json::json;

use crate::store_flows::{Backend, conformance, doc, event, execution, flow, update};
use crate::store_postgres::new_function;
use crate::support::{fulfilled, waiting_job};

/// Thousands, as a large Map writes.
const ITEMS: i64 = 3_001;

fn events(from: i64, count: i64) -> Vec<ExecutionEvent> {
    (from..from + count).map(event).collect()
}

conformance!(a_large_transition_lands_whole_and_in_order, a_large_transition_lands_whole_and_in_order_on);
async fn a_large_transition_lands_whole_and_in_order_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    store.put_module("sha-1", b"not really wasm".to_vec()).await?;
    let function = store.create_function(NewFunction { now: now_us(), ..new_function(app.app_key) }).await?;
    let f = store.create_flow(flow(app.app_key, "f", "map", 10)).await?;
    store.create_execution(execution("x", app.app_key, f.id, 1, None, 100), events(1, 1)).await?;

    // The Map's start: a part and two events per item.
    let names: Vec<String> = (0..ITEMS).map(|i| format!("t:each[{i}]")).collect();
    let parts: Vec<(&str, i64)> = names.iter().zip(0..).map(|(n, i)| (n.as_str(), i)).collect();
    let mut start = update("x", "Running", 1);
    start.state = doc(1, &parts);
    store.save_execution(start, events(2, 2 * ITEMS)).await?;

    // Its end: every part rewritten, an event and a job record per item.
    let rewritten: Vec<(&str, i64)> = names.iter().zip(0..).map(|(n, i)| (n.as_str(), -i)).collect();
    let mut end = update("x", "Succeeded", 2);
    end.state = doc(2, &rewritten);
    end.jobs = (0..ITEMS)
        .map(|i| (waiting_job(app.app_key, &function, i), fulfilled(json!({ "item": i }), &format!("log {i}"))))
        .collect();
    store.save_execution(end, events(2 + 2 * ITEMS, ITEMS)).await?;

    let mut x = store.get_execution(app.app_key, "x").await?.ok_or_else(|| anyhow::anyhow!("x missing"))?;
    x.state.parts.sort(); // PostgreSQL orders part names by the database's collation
    let mut wanted = doc(2, &[("first", 0)]);
    wanted.parts.extend(doc(2, &rewritten).parts);
    wanted.parts.sort();
    assert_eq!(x.state, wanted, "every part, rewritten once");
    let all = store.list_execution_events("x", 0, 4 * ITEMS).await?;
    assert_eq!(all, events(1, 1 + 3 * ITEMS), "every event, in order");
    let (jobs, total) = store
        .list_jobs(function.id, JobFilter::default(), cloudexec::store::PageRequest { limit: 2, offset: 0 })
        .await?;
    assert_eq!(total, ITEMS, "a job record per item");
    let output = jobs[0].state.end().and_then(|end| end.result.as_ref().ok());
    assert_eq!(output, Some(&json!({ "item": ITEMS - 1 })), "the newest is the last item's");
    assert_eq!(store.job_log(app.app_key, jobs[0].id).await?.as_deref(), Some(&*format!("log {}", ITEMS - 1)));

    // A clash in the last of thousands of events refuses the whole transition.
    let mut clash = events(1 + 3 * ITEMS, ITEMS);
    clash.push(event(7));
    let mut late = update("x", "Failed", 3);
    late.state = doc(3, &parts);
    let refused = store.save_execution(late, clash).await;
    assert!(matches!(refused, Err(StoreError::AlreadyExists { kind: "Event", .. })), "{refused:?}");
    let mut after = store.get_execution(app.app_key, "x").await?.ok_or_else(|| anyhow::anyhow!("x missing"))?;
    after.state.parts.sort();
    assert_eq!((after.status.as_str(), &after.state), ("Succeeded", &wanted), "nothing of it landed");
    assert_eq!(store.list_execution_events("x", 0, 5 * ITEMS).await?.len() as i64, 1 + 3 * ITEMS);
    Ok(())
}
