//! The store's lists of an app's bins, live instances and services, on both stores:
//! newest first, paged with a total, one bin's instances, destroyed instances left out,
//! and nothing of another app; the overview of its latest jobs.

use cloudexec::engine::{InstanceState, Manifest};
use cloudexec::store::{BinRecord, InstanceRecord, InstanceStatus, PageRequest, ServiceCategory, ServiceRecord, Store};

use crate::store_flows::{Backend, conformance};
use crate::store_postgres::new_function;
use crate::support::{fulfilled, waiting_job};

async fn bin(store: &dyn Store, app_key: i64, id: &str, at: i64) -> anyhow::Result<()> {
    store.put_module("sha-bin", b"\0asm".to_vec()).await?;
    let manifest = Manifest::default();
    Ok(store
        .create_bin(BinRecord { id: id.into(), app_key, module_sha256: "sha-bin".into(), manifest, created_at: at })
        .await?)
}

async fn instance(store: &dyn Store, app_key: i64, bin_id: &str, id: &str, at: i64) -> anyhow::Result<()> {
    let instance = InstanceRecord {
        id: id.into(),
        app_key,
        bin_id: bin_id.into(),
        status: InstanceStatus::Created,
        state: InstanceState::default(),
        runs: 0,
        last_error: None,
        service: None,
        created_at: at,
        updated_at: at,
    };
    Ok(store.create_instance(instance).await?)
}

fn page(limit: i64, offset: i64) -> PageRequest {
    PageRequest { limit, offset }
}

conformance!(bins_instances_and_services_are_listed_per_app_newest_first, listings);
async fn listings(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?.app_key;
    let other = store.create_app("b").await?.app_key;
    bin(store.as_ref(), app, "bin-old", 1_000).await?;
    bin(store.as_ref(), app, "bin-new", 2_000).await?;
    bin(store.as_ref(), other, "bin-other", 3_000).await?;
    for (i, bin_id) in ["bin-old", "bin-new", "bin-new"].iter().enumerate() {
        instance(store.as_ref(), app, bin_id, &format!("i{i}"), 10_000 + i as i64).await?;
    }
    instance(store.as_ref(), other, "bin-other", "theirs", 20_000).await?;
    assert!(store.destroy_instance(app, "i0").await?);

    let (bins, total) = store.list_bins(app, page(1, 0)).await?;
    assert_eq!((bins.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), total), (vec!["bin-new"], 2));
    let (bins, _) = store.list_bins(app, page(10, 1)).await?;
    assert_eq!(bins.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["bin-old"]);

    let (live, total) = store.list_instances(app, None, page(10, 0)).await?;
    assert_eq!(
        (live.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), total),
        (vec!["i2", "i1"], 2),
        "destroyed i0 is left out"
    );
    let (of_old, total) = store.list_instances(app, Some("bin-old"), page(10, 0)).await?;
    assert_eq!((of_old.len(), total), (0, 0));
    let (of_new, total) = store.list_instances(app, Some("bin-new"), page(1, 1)).await?;
    assert_eq!((of_new.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), total), (vec!["i1"], 2));
    let (theirs, total) = store.list_instances(app, Some("bin-other"), page(10, 0)).await?;
    assert_eq!((theirs.len(), total), (0, 0), "another app's bin lists nothing");

    let service = |alias: &str, category| ServiceRecord {
        app_key: app,
        alias: alias.into(),
        category,
        bin_id: "bin-new".into(),
        revoked: false,
    };
    assert!(store.publish_service(service("zeta", ServiceCategory::Static)).await?);
    assert!(store.publish_service(service("alpha", ServiceCategory::Dynamic)).await?);
    assert!(store.revoke_service(app, "zeta", ServiceCategory::Static).await?);
    let services = store.list_services(app).await?;
    let shown: Vec<_> = services.iter().map(|s| (s.alias.as_str(), s.category, s.revoked)).collect();
    assert_eq!(shown, [("alpha", ServiceCategory::Dynamic, false), ("zeta", ServiceCategory::Static, true)]);
    assert!(store.list_services(other).await?.is_empty());
    Ok(())
}

conformance!(the_overview_counts_recent_jobs_by_status_and_lists_the_latest_failures, overview);
async fn overview(backend: &Backend) -> anyhow::Result<()> {
    use cloudexec::store::{FailedStatus, JobEnd, JobFailure, JobOutcome, JobStatus, NewFunction};
    use cloudexec::time::now_us;

    let store = backend.open().await?;
    let app = store.create_app("a").await?.app_key;
    let other = store.create_app("b").await?.app_key;
    store.put_module("sha-f", b"\0asm".to_vec()).await?;
    let function = |app_key, name: &str| NewFunction {
        name: name.into(),
        module_sha256: "sha-f".into(),
        now: now_us(),
        ..new_function(app_key)
    };
    let f = store.create_function(function(app, "f")).await?;
    let theirs = store.create_function(function(other, "g")).await?;
    let now = now_us();
    let failed = |code: &str| JobOutcome {
        end: JobEnd {
            result: Err(JobFailure::new(FailedStatus::ExecutionFailed, code, format!("{code} happened"))),
            mem_usage: 1,
            started_at: now,
            finished_at: now,
        },
        log: String::new(),
    };
    // An hour and a half ago: counted among the scanned, not in the last hour.
    let old = cloudexec::store::NewJob { created_at: now - 5_400_000_000, ..waiting_job(app, &f, 0) };
    store.insert_finished_job(old, failed("Old")).await?;
    for n in 1..=3 {
        store.insert_finished_job(waiting_job(app, &f, n), fulfilled(serde_json::json!(n), "")).await?;
    }
    let first = store.insert_finished_job(waiting_job(app, &f, 4), failed("First")).await?;
    let second = store.insert_finished_job(waiting_job(app, &f, 5), failed("Second")).await?;
    store.insert_waiting_job(waiting_job(app, &f, 6)).await?;
    store.insert_finished_job(waiting_job(other, &theirs, 7), failed("Theirs")).await?;

    let o = store.job_overview(app, now - 3_600_000_000, 2).await?;
    let counts: std::collections::BTreeMap<_, _> = o.counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    assert_eq!(
        counts,
        [("execution_failed", 2), ("fulfilled", 3), ("waiting", 1)].into_iter().collect(),
        "the last hour's jobs of this app, by status"
    );
    let shown: Vec<_> = o.failures.iter().map(|j| (j.id, j.function.as_str(), j.error_code.as_deref())).collect();
    assert_eq!(
        shown,
        [(second, "f", Some("Second")), (first, "f", Some("First"))],
        "the latest two failures, newest first"
    );
    assert_eq!(o.failures[0].status, JobStatus::ExecutionFailed);
    assert_eq!(o.failures[0].error_message.as_deref(), Some("Second happened"));
    assert_eq!(o.scanned, 7, "every job of the app was looked at, none of the other's");
    Ok(())
}

conformance!(a_functions_versions_are_listed_newest_first, versions);
async fn versions(backend: &Backend) -> anyhow::Result<()> {
    use cloudexec::store::{FunctionUpdate, NewFunction};

    let store = backend.open().await?;
    let app = store.create_app("a").await?.app_key;
    store.put_module("sha-1", b"\0asm1".to_vec()).await?;
    store.put_module("sha-2", b"\0asm2".to_vec()).await?;
    let new = NewFunction { now: 1_000, ..new_function(app) };
    let f = store.create_function(new).await?;
    let change = FunctionUpdate {
        name: None,
        remark: Some("new code".into()),
        plan: None,
        sync_timeout_ms: None,
        async_timeout_ms: None,
        module_sha256: Some("sha-2".into()),
        now: 2_000,
    };
    store.update_function(app, "f", change).await?;
    let versions = store.list_function_versions(f.id).await?;
    let shown: Vec<_> = versions.iter().map(|v| (v.version, v.module_sha256.as_str(), v.created_at)).collect();
    assert_eq!(shown, [(2, "sha-2", 2_000), (1, "sha-1", 1_000)]);
    assert!(store.list_function_versions(f.id + 1000).await?.is_empty(), "an unknown function has none");
    Ok(())
}
