//! Flow executions leased to nodes, and the signals other nodes leave for the owner: the
//! store's half of running flows on several nodes, on both stores.

use std::collections::HashSet;

use cloudexec::store::{ExecStatus, ExecutionSignal, SignalKind, StoreError};
use serde_json::json;

use crate::store_flows::{Backend, NODE, conformance, event, execution, flow, update};

/// A finish signal for `execution`.
fn finish(execution: &str, task: &str) -> ExecutionSignal {
    ExecutionSignal {
        id: 0,
        execution_id: execution.to_string(),
        kind: SignalKind::Finish,
        task: Some(task.to_string()),
        body: json!({"output": {"paid": true}}),
        created_at: cloudexec::time::now_us(),
    }
}

conformance!(an_execution_is_driven_by_one_node_until_its_heartbeat_stops, one_owner_on);
async fn one_owner_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    store.create_execution(execution("x", app.app_key, f.id, 1, None, 100), vec![event(1)]).await?;
    let mut legacy = execution("old", app.app_key, f.id, 1, None, 101);
    legacy.owner = None;
    store.create_execution(legacy, vec![]).await?;
    let mut done = execution("done", app.app_key, f.id, 1, None, 102);
    (done.status, done.owner) = (ExecStatus::Succeeded, Some("gone".into()));
    store.create_execution(done, vec![]).await?;
    store.heartbeat(NODE, 1_000).await?;
    store.heartbeat("node-2", 1_000).await?;

    // While node 1 heartbeats, node 2 takes only the execution nobody owns.
    let ids = |xs: Vec<cloudexec::store::ExecutionRecord>| xs.into_iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(store.claim_executions("node-2", 500, false).await?), ["old"]);
    assert_eq!(store.get_execution(app.app_key, "old").await?.and_then(|x| x.owner).as_deref(), Some("node-2"));
    let mut foreign = update("x", "Succeeded", 9);
    foreign.owner = "node-2".into();
    let refused = store.save_execution(foreign.clone(), vec![event(2)]).await;
    assert!(matches!(refused, Err(StoreError::LeaseLost(_))), "{refused:?}");
    let kept = store.get_execution(app.app_key, "x").await?.expect("x is stored");
    assert_eq!((kept.status, kept.owner.as_deref()), (ExecStatus::Starting, Some(NODE)), "nothing changed");
    assert_eq!(store.list_execution_events("x", 0, 10).await?, vec![event(1)]);

    // Node 1's heartbeat goes stale: node 2 takes its execution whole, and node 1's
    // writes are refused from then on.
    let taken = store.claim_executions("node-2", 2_000, false).await?;
    assert_eq!(ids(taken.clone()), ["x"]);
    assert_eq!(taken[0].state.parts.len(), 1, "claimed executions come with their state parts");
    let late = store.save_execution(update("x", "Running", 3), vec![event(2)]).await;
    assert!(matches!(late, Err(StoreError::LeaseLost(_))), "{late:?}");
    store.save_execution(foreign, vec![event(2)]).await?;
    let again = ids(store.claim_executions("node-2", 2_000, true).await?);
    assert_eq!(again, ["old"], "ended executions are never claimed");

    // A node's own executions come back to it only when it asks for them (its start).
    let mut running = execution("y", app.app_key, f.id, 1, None, 103);
    running.owner = Some("node-2".into());
    store.create_execution(running, vec![]).await?;
    assert_eq!(store.claim_executions("node-2", 0, false).await?, vec![]);
    assert_eq!(ids(store.claim_executions("node-2", 0, true).await?), ["old", "y"]);
    let unknown = store.save_execution(update("nope", "Running", 1), vec![]).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
    Ok(())
}

conformance!(two_nodes_claiming_at_once_never_take_the_same_execution, claim_race_on);
async fn claim_race_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    for i in 0..60 {
        let mut x = execution(&format!("x{i}"), app.app_key, f.id, 1, None, i);
        x.owner = Some("dead".into());
        store.create_execution(x, vec![]).await?;
    }
    for node in ["node-a", "node-b", "node-c"] {
        store.heartbeat(node, 100).await?;
    }
    let claims = ["node-a", "node-b", "node-c"].map(|node| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_executions(node, 10, false).await })
    });
    let mut seen = HashSet::new();
    for claim in claims {
        for x in claim.await?? {
            assert!(seen.insert(x.id.clone()), "{} was claimed twice", x.id);
        }
    }
    assert_eq!(seen.len(), 60);
    Ok(())
}

conformance!(a_signal_reaches_the_owner_and_its_outcome_the_sender, signals_on);
async fn signals_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    store.create_execution(execution("x", app.app_key, f.id, 1, None, 100), vec![]).await?;
    let mut ended = execution("ended", app.app_key, f.id, 1, None, 101);
    ended.status = ExecStatus::Failed;
    store.create_execution(ended, vec![]).await?;
    for refused in ["ended", "nope"] {
        let added = store.add_signal(finish(refused, "pay")).await;
        assert!(matches!(added, Err(StoreError::NotFound(_))), "{refused}: {added:?}");
    }

    let pay = finish("x", "pay");
    let id = store.add_signal(pay.clone()).await?;
    let stop = ExecutionSignal { kind: SignalKind::Stop, task: None, body: json!({"cause": "enough"}), ..pay.clone() };
    let stop_id = store.add_signal(stop.clone()).await?;
    assert_eq!(store.open_signals("node-2").await?, vec![], "only the owner sees them");
    let open = store.open_signals(NODE).await?;
    assert_eq!(open, vec![ExecutionSignal { id, ..pay }, ExecutionSignal { id: stop_id, ..stop }]);

    assert_eq!(store.take_signal_outcome(id).await?, None, "not settled yet");
    store.settle_signal(id, json!({"outcome": "done"})).await?;
    assert_eq!(store.open_signals(NODE).await?.len(), 1, "a settled signal is no longer open");
    assert_eq!(store.take_signal_outcome(id).await?, Some(json!({"outcome": "done"})));
    assert_eq!(store.take_signal_outcome(id).await?, None, "an outcome is read once");

    // Deleting the flow takes the execution's signals with it.
    assert!(store.delete_flow(app.app_key, "f").await?);
    assert_eq!(store.open_signals(NODE).await?, vec![]);
    assert_eq!(store.take_signal_outcome(stop_id).await?, None);
    Ok(())
}

conformance!(a_server_secret_is_the_first_one_stored, first_secret_on);
async fn first_secret_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let first = store.server_secret("task-tokens", vec![1, 2, 3]).await?;
    assert_eq!(first, vec![1, 2, 3]);
    let again = store.server_secret("task-tokens", vec![9, 9, 9]).await?;
    assert_eq!(again, vec![1, 2, 3], "a later node gets the secret the first one stored");
    assert_eq!(store.server_secret("other", vec![7]).await?, vec![7], "secrets are by name");
    Ok(())
}
