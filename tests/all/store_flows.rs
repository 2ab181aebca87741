//! The store's flows, executions and execution history: every test runs on both stores,
//! a real SQLite file and a database of a throwaway PostgreSQL cluster (the conformance
//! suite of issue 12; the PostgreSQL run is skipped, saying why, only outside CI when no
//! server is installed).

use std::sync::Arc;

use cloudexec::store::postgres::PgStore;
use cloudexec::store::sqlite::SqliteStore;
use cloudexec::store::{
    ExecStatus, ExecutionEvent, ExecutionRecord, ExecutionUpdate, NewFlowVersion, PageRequest, StateDoc, Store,
    StoreError,
};
use cloudexec_tests::postgres::TestPostgres;
use serde_json::json;

/// Where a test's store lives (each holds what it needs kept alive: the directory, the
/// cluster, which stops when dropped).
pub(crate) enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { _cluster: TestPostgres, url: String },
}

impl Backend {
    /// SQLite, and PostgreSQL when a cluster can be started.
    pub(crate) fn all() -> anyhow::Result<Vec<Self>> {
        let mut all = vec![Self::Sqlite(tempfile::tempdir()?)];
        if let Some(cluster) = TestPostgres::start()? {
            let url = cluster.create_database("conformance")?;
            all.push(Self::Postgres { _cluster: cluster, url });
        }
        Ok(all)
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Opens (or reopens) the store.
    pub(crate) async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Self::Sqlite(dir) => Arc::new(SqliteStore::open(&dir.path().join("cloudexec.db"))?),
            Self::Postgres { url, .. } => Arc::new(PgStore::connect(url).await?),
        })
    }
}

/// A test that runs `$body` on every backend.
macro_rules! conformance {
    ($name:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> anyhow::Result<()> {
            for backend in Backend::all()? {
                anyhow::Context::with_context($body(&backend).await, || format!("on {}", backend.name()))?;
            }
            Ok(())
        }
    };
}
pub(crate) use conformance;

/// The node the tests' executions belong to.
pub(crate) const NODE: &str = "node-1";

pub(crate) fn flow(app_key: i64, name: &str, definition: &str, at: i64) -> NewFlowVersion {
    NewFlowVersion {
        app_key,
        name: name.to_string(),
        format: "dag".to_string(),
        definition: definition.to_string(),
        description: format!("about {definition}"),
        at,
    }
}

pub(crate) fn execution(
    id: &str,
    app_key: i64,
    flow_id: i64,
    version: i64,
    name: Option<&str>,
    at: i64,
) -> ExecutionRecord {
    ExecutionRecord {
        id: id.to_string(),
        app_key,
        flow_id,
        flow_name: "f".to_string(),
        flow_version: version,
        name: name.map(str::to_string),
        status: ExecStatus::Starting,
        input: json!({"n": 1}),
        output: None,
        error: None,
        callback_url: Some("http://localhost/cb".to_string()),
        state: doc(0, &[("first", 0)]),
        created_at: at,
        finished_at: None,
        deadline_at: Some(at + 1_000_000),
        owner: Some(NODE.to_string()),
    }
}

/// A state whose head is `{"step": step}`, with `parts`.
pub(crate) fn doc(step: i64, parts: &[(&str, i64)]) -> StateDoc {
    StateDoc {
        head: json!({"step": step}).to_string(),
        parts: parts.iter().map(|(name, n)| (name.to_string(), n.to_string())).collect(),
    }
}

pub(crate) fn event(seq: i64) -> ExecutionEvent {
    ExecutionEvent {
        seq,
        at: 1_000 + seq,
        kind: if seq == 1 { "ExecutionStarted" } else { "TaskSucceeded" }.to_string(),
        node: (seq > 1).then(|| format!("node{seq}")),
        detail: json!({"seq": seq, "output": {"x": [seq]}}),
    }
}

pub(crate) fn update(id: &str, status: &str, step: i64) -> ExecutionUpdate {
    ExecutionUpdate {
        id: id.to_string(),
        status: ExecStatus::parse(status).expect("a status name"),
        state: doc(step, &[("last", step)]),
        output: None,
        error: None,
        finished_at: None,
        owner: NODE.to_string(),
        jobs: Vec::new(),
    }
}

fn page(limit: i64, offset: i64) -> PageRequest {
    PageRequest { limit, offset }
}

conformance!(versions_are_numbered_and_executions_keep_theirs, versions_are_numbered_and_executions_keep_theirs_on);
async fn versions_are_numbered_and_executions_keep_theirs_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let v1 = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    assert_eq!((v1.version, v1.created_at, v1.updated_at, v1.definition.as_str()), (1, 10, 10, "one"));
    store.create_execution(execution("x1", app.app_key, v1.id, 1, None, 15), vec![event(1)]).await?;
    let v2 = store.add_flow_version(flow(app.app_key, "f", "two", 20)).await?;
    assert_eq!((v2.id, v2.version, v2.created_at, v2.updated_at), (v1.id, 2, 10, 20));
    assert_eq!(v2.description, "about two");

    assert_eq!(store.get_flow(app.app_key, "f", None).await?, Some(v2.clone()));
    assert_eq!(store.get_flow(app.app_key, "f", Some(2)).await?, Some(v2));
    assert_eq!(store.get_flow(app.app_key, "f", Some(1)).await?, Some(v1.clone()));
    assert_eq!(store.get_flow(app.app_key, "f", Some(3)).await?, None);
    assert_eq!(store.get_flow(app.app_key, "g", None).await?, None);

    let x1 = store.get_execution(app.app_key, "x1").await?.ok_or_else(|| anyhow::anyhow!("x1 missing"))?;
    assert_eq!(x1, execution("x1", app.app_key, v1.id, 1, None, 15));
    Ok(())
}

conformance!(taken_names_and_missing_rows_are_reported, taken_names_and_missing_rows_are_reported_on);
async fn taken_names_and_missing_rows_are_reported_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let other = store.create_app("b").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;

    let taken = store.create_flow(flow(app.app_key, "f", "again", 11)).await;
    assert_eq!(taken, Err(StoreError::AlreadyExists { kind: "Flow", what: "flow \"f\"".to_string() }));
    assert_eq!(store.get_flow(app.app_key, "f", None).await?.map(|r| r.definition), Some("one".to_string()));
    // The same name in another app is another flow.
    store.create_flow(flow(other.app_key, "f", "theirs", 12)).await?;

    let missing = store.add_flow_version(flow(app.app_key, "nope", "x", 13)).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    let no_app = store.create_flow(flow(9_999, "f", "x", 14)).await;
    assert!(matches!(no_app, Err(StoreError::NotFound(_))), "{no_app:?}");
    let no_execution = store.save_execution(update("nope", "Running", 1), vec![event(1)]).await;
    assert!(matches!(no_execution, Err(StoreError::NotFound(_))), "{no_execution:?}");
    // A flow of another app cannot be used to start an execution.
    let foreign = store.create_execution(execution("x", other.app_key, f.id, 1, None, 15), vec![]).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
    assert_eq!(store.list_execution_events("nope", 0, 10).await?, vec![]);
    Ok(())
}

conformance!(
    flows_list_by_name_in_pages_and_apps_see_only_their_own,
    flows_list_by_name_in_pages_and_apps_see_only_their_own_on
);
async fn flows_list_by_name_in_pages_and_apps_see_only_their_own_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let other = store.create_app("b").await?;
    for name in ["e", "d", "c", "b", "a"] {
        store.create_flow(flow(app.app_key, name, name, 10)).await?;
    }
    store.add_flow_version(flow(app.app_key, "b", "b2", 20)).await?;

    let (first, total) = store.list_flows(app.app_key, page(2, 0)).await?;
    assert_eq!(total, 5);
    let names: Vec<_> = first.iter().map(|f| (f.name.as_str(), f.version, f.definition.as_str())).collect();
    assert_eq!(names, [("a", 1, "a"), ("b", 2, "b2")]);
    let (middle, _) = store.list_flows(app.app_key, page(2, 2)).await?;
    assert_eq!(middle.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["c", "d"]);
    let (last, total) = store.list_flows(app.app_key, page(2, 4)).await?;
    assert_eq!((last.len(), last[0].name.as_str(), total), (1, "e", 5));
    let (past, total) = store.list_flows(app.app_key, page(2, 10)).await?;
    assert_eq!((past.len(), total), (0, 5));

    let a = store.get_flow(app.app_key, "a", None).await?.ok_or_else(|| anyhow::anyhow!("a missing"))?;
    store.create_execution(execution("xa", app.app_key, a.id, 1, Some("n"), 30), vec![event(1)]).await?;
    assert_eq!(store.list_flows(other.app_key, page(10, 0)).await?, (vec![], 0));
    assert_eq!(store.get_flow(other.app_key, "a", None).await?, None);
    assert_eq!(store.get_execution(other.app_key, "xa").await?, None);
    assert!(!store.delete_flow(other.app_key, "a").await?);
    assert!(store.get_execution(app.app_key, "xa").await?.is_some());
    Ok(())
}

conformance!(
    deleting_a_flow_removes_its_versions_executions_and_history,
    deleting_a_flow_removes_its_versions_executions_and_history_on
);
async fn deleting_a_flow_removes_its_versions_executions_and_history_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    store.add_flow_version(flow(app.app_key, "f", "two", 11)).await?;
    let keep = store.create_flow(flow(app.app_key, "keep", "k", 12)).await?;
    store.create_execution(execution("x1", app.app_key, f.id, 1, Some("run"), 20), vec![event(1), event(2)]).await?;
    store.create_execution(execution("x2", app.app_key, f.id, 2, None, 21), vec![event(1)]).await?;
    store.create_execution(execution("k1", app.app_key, keep.id, 1, None, 22), vec![event(1)]).await?;

    assert!(store.delete_flow(app.app_key, "f").await?);
    assert!(!store.delete_flow(app.app_key, "f").await?);
    assert_eq!(store.get_flow(app.app_key, "f", Some(1)).await?, None);
    assert_eq!(store.get_execution(app.app_key, "x1").await?, None);
    assert_eq!(store.get_execution_by_name(f.id, "run").await?, None);
    assert_eq!(store.list_executions(f.id, page(10, 0)).await?, (vec![], 0));
    assert_eq!(store.list_execution_events("x1", 0, 100).await?, vec![]);
    assert_eq!(store.list_execution_events("x2", 0, 100).await?, vec![]);
    let unfinished: Vec<_> = store.claim_executions(NODE, 0, true).await?.into_iter().map(|x| x.id).collect();
    assert_eq!(unfinished, ["k1"]);
    assert_eq!(store.list_execution_events("k1", 0, 100).await?.len(), 1);

    // The name is free again; the new flow starts over, and the old execution ids are free.
    let again = store.create_flow(flow(app.app_key, "f", "new", 30)).await?;
    assert_eq!(again.version, 1);
    store.create_execution(execution("x1", app.app_key, again.id, 1, Some("run"), 31), vec![event(1)]).await?;
    assert_eq!(store.list_execution_events("x1", 0, 100).await?, vec![event(1)]);
    Ok(())
}

conformance!(
    executions_have_unique_names_per_flow_and_list_newest_first,
    executions_have_unique_names_per_flow_and_list_newest_first_on
);
async fn executions_have_unique_names_per_flow_and_list_newest_first_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    let g = store.create_flow(flow(app.app_key, "g", "one", 10)).await?;
    let named = execution("x1", app.app_key, f.id, 1, Some("run-1"), 100);
    store.create_execution(named.clone(), vec![event(1)]).await?;
    let taken = store.create_execution(execution("x2", app.app_key, f.id, 1, Some("run-1"), 101), vec![event(1)]).await;
    assert_eq!(taken, Err(StoreError::AlreadyExists { kind: "Execution", what: "execution \"run-1\"".to_string() }));
    assert_eq!(store.get_execution(app.app_key, "x2").await?, None);
    assert_eq!(store.list_execution_events("x2", 0, 10).await?, vec![]);
    // Unnamed executions never collide; the same name in another flow is fine.
    store.create_execution(execution("x2", app.app_key, f.id, 1, None, 102), vec![]).await?;
    store.create_execution(execution("x3", app.app_key, f.id, 1, None, 103), vec![]).await?;
    store.create_execution(execution("y1", app.app_key, g.id, 1, Some("run-1"), 104), vec![]).await?;
    let same_id = store.create_execution(execution("x3", app.app_key, f.id, 1, None, 105), vec![]).await;
    assert!(matches!(same_id, Err(StoreError::AlreadyExists { kind: "Execution", .. })), "{same_id:?}");

    assert_eq!(store.get_execution_by_name(f.id, "run-1").await?, Some(named.clone()));
    assert_eq!(store.get_execution_by_name(g.id, "run-1").await?.map(|x| x.id), Some("y1".to_string()));
    assert_eq!(store.get_execution_by_name(f.id, "run-2").await?, None);
    let (first, total) = store.list_executions(f.id, page(2, 0)).await?;
    assert_eq!(total, 3);
    assert_eq!(first.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["x3", "x2"]);
    let (rest, _) = store.list_executions(f.id, page(2, 2)).await?;
    // A listed record carries its state's head, not its parts.
    let head_only = StateDoc { parts: Vec::new(), ..named.state.clone() };
    assert_eq!(rest, vec![ExecutionRecord { state: head_only, ..named }]);
    Ok(())
}

conformance!(
    a_transition_writes_status_and_events_together_or_not_at_all,
    a_transition_writes_status_and_events_together_or_not_at_all_on
);
async fn a_transition_writes_status_and_events_together_or_not_at_all_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    store.create_execution(execution("x", app.app_key, f.id, 1, None, 100), vec![event(1)]).await?;

    store.save_execution(update("x", "Running", 1), vec![event(2), event(3)]).await?;
    let x = store.get_execution(app.app_key, "x").await?.ok_or_else(|| anyhow::anyhow!("x missing"))?;
    assert_eq!((x.status.as_str(), &x.state), ("Running", &doc(1, &[("first", 0), ("last", 1)])));
    assert_eq!(store.list_execution_events("x", 0, 10).await?, vec![event(1), event(2), event(3)]);

    // Event 2 exists already: the whole transition is refused, the row included.
    let clash = store.save_execution(update("x", "Failed", 2), vec![event(4), event(2)]).await;
    assert!(clash.is_err());
    let x = store.get_execution(app.app_key, "x").await?.ok_or_else(|| anyhow::anyhow!("x missing"))?;
    assert_eq!((x.status.as_str(), &x.state), ("Running", &doc(1, &[("first", 0), ("last", 1)])));
    assert_eq!(store.list_execution_events("x", 0, 10).await?.len(), 3);

    let mut done = update("x", "Succeeded", 3);
    done.output = Some(json!({"result": 42}));
    done.finished_at = Some(500);
    store.save_execution(done, vec![event(4)]).await?;
    let x = store.get_execution(app.app_key, "x").await?.ok_or_else(|| anyhow::anyhow!("x missing"))?;
    assert_eq!(
        (x.status.as_str(), x.output, x.error, x.finished_at),
        ("Succeeded", Some(json!({"result": 42})), None, Some(500))
    );
    assert_eq!(store.list_execution_events("x", 3, 10).await?, vec![event(4)]);
    Ok(())
}

conformance!(concurrent_transitions_commit_independently, concurrent_transitions_commit_independently_on);
async fn concurrent_transitions_commit_independently_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    for i in 0..40 {
        store.create_execution(execution(&format!("x{i}"), app.app_key, f.id, 1, None, i), vec![event(1)]).await?;
    }
    // Queued together, these share the writer's transactions; the bad ones (a repeated
    // seq) must not undo the good ones.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let seq = if i % 4 == 0 { 1 } else { 2 };
                store.save_execution(update(&format!("x{i}"), "Running", i), vec![event(seq)]).await
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await?;
        assert_eq!(result.is_ok(), i % 4 != 0, "x{i}: {result:?}");
        let x = store.get_execution(app.app_key, &format!("x{i}")).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
        let events = store.list_execution_events(&x.id, 0, 10).await?.len();
        let expected = if i % 4 == 0 { ("Starting", 1) } else { ("Running", 2) };
        assert_eq!((x.status.as_str(), events), expected, "x{i}");
    }
    Ok(())
}

conformance!(history_pages_through_every_event_in_order, history_pages_through_every_event_in_order_on);
async fn history_pages_through_every_event_in_order_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    store.create_execution(execution("x", app.app_key, f.id, 1, None, 100), (1..=200).map(event).collect()).await?;
    for chunk in 0..10 {
        let events = (201 + chunk * 100..=300 + chunk * 100).map(event).collect();
        store.save_execution(update("x", "Running", chunk), events).await?;
    }

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.list_execution_events("x", after, 500).await?;
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 500);
        after = page.last().map_or(after, |e| e.seq);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 1200);
    assert_eq!(seen, (1..=1200).map(event).collect::<Vec<_>>());
    assert_eq!(store.list_execution_events("x", 0, 5000).await?.len(), 1200);
    assert_eq!(store.list_execution_events("x", 1190, 100).await?.len(), 10);
    assert_eq!(store.list_execution_events("x", 0, 0).await?, vec![]);
    assert_eq!(store.list_execution_events("x", 1200, 10).await?, vec![]);
    Ok(())
}

conformance!(
    unfinished_executions_are_those_starting_or_running,
    unfinished_executions_are_those_starting_or_running_on
);
async fn unfinished_executions_are_those_starting_or_running_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let other = store.create_app("b").await?;
    let f = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    let g = store.create_flow(flow(other.app_key, "g", "one", 10)).await?;
    for (id, status, app_key, flow_id, at) in [
        ("s", "Starting", app.app_key, f.id, 1),
        ("r", "Running", other.app_key, g.id, 2),
        ("ok", "Succeeded", app.app_key, f.id, 3),
        ("bad", "Failed", app.app_key, f.id, 4),
        ("stop", "Stopped", app.app_key, f.id, 5),
        ("late", "TimedOut", app.app_key, f.id, 6),
    ] {
        let mut x = execution(id, app_key, flow_id, 1, None, at);
        x.status = ExecStatus::parse(status).expect("a status name");
        store.create_execution(x, vec![]).await?;
    }
    let ids = |xs: Vec<ExecutionRecord>| xs.into_iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(store.claim_executions(NODE, 0, true).await?), ["s", "r"]);
    store.save_execution(update("s", "Running", 1), vec![]).await?;
    store.save_execution(update("r", "Succeeded", 1), vec![]).await?;
    assert_eq!(ids(store.claim_executions(NODE, 0, true).await?), ["s"]);
    Ok(())
}

conformance!(everything_survives_reopening_the_database, everything_survives_reopening_the_database_on);
async fn everything_survives_reopening_the_database_on(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?;
    let v1 = store.create_flow(flow(app.app_key, "f", "one", 10)).await?;
    let v2 = store.add_flow_version(flow(app.app_key, "f", "two", 20)).await?;
    let x = execution("x", app.app_key, v1.id, 1, Some("run"), 100);
    store.create_execution(x.clone(), vec![event(1)]).await?;
    let mut running = update("x", "Running", 7);
    running.error = Some(json!({"error": "E", "cause": "retrying"}));
    store.save_execution(running, vec![event(2), event(3)]).await?;
    drop(store);

    let store = backend.open().await?;
    assert_eq!(store.get_flow(app.app_key, "f", None).await?, Some(v2));
    assert_eq!(store.get_flow(app.app_key, "f", Some(1)).await?, Some(v1.clone()));
    let expected = ExecutionRecord {
        status: ExecStatus::Running,
        state: doc(7, &[("first", 0), ("last", 7)]),
        error: Some(json!({"error": "E", "cause": "retrying"})),
        ..x
    };
    assert_eq!(store.get_execution(app.app_key, "x").await?, Some(expected.clone()));
    assert_eq!(store.get_execution_by_name(v1.id, "run").await?, Some(expected.clone()));
    assert_eq!(store.claim_executions(NODE, 0, true).await?, vec![expected]);
    assert_eq!(store.list_execution_events("x", 0, 10).await?, vec![event(1), event(2), event(3)]);
    // Writes go on where they left off.
    assert_eq!(store.add_flow_version(flow(app.app_key, "f", "three", 30)).await?.version, 3);
    store.save_execution(update("x", "Running", 8), vec![event(4)]).await?;
    assert_eq!(store.list_execution_events("x", 3, 10).await?, vec![event(4)]);
    Ok(())
}
