//! The store's outbox of variable updates for the engine layer (seed 000, 4.2), on both
//! stores: queued only with a committed run, claimed oldest-first per instance (an
//! instance's next update waits for the one before), a lapsed claim due again, retries,
//! give-ups, and the app's engine-layer URL.

use cloudexec::engine::{InstanceState, Manifest};
use cloudexec::store::{BinRecord, DeliveryEnd, DeliveryStatus, InstanceRecord, InstanceStatus, NewVarDelivery, Store};
use cloudexec::time::now_us;

use crate::store_flows::{Backend, conformance};

async fn instance(store: &dyn Store, app_key: i64, id: &str) -> anyhow::Result<InstanceRecord> {
    let now = now_us();
    store.put_module("sha-bin", b"\0asm".to_vec()).await?;
    let bin = BinRecord {
        id: format!("bin-{id}"),
        app_key,
        module_sha256: "sha-bin".into(),
        manifest: Manifest::default(),
        created_at: now,
    };
    store.create_bin(bin).await?;
    let instance = InstanceRecord {
        id: id.to_string(),
        app_key,
        bin_id: format!("bin-{id}"),
        status: InstanceStatus::Created,
        state: InstanceState::default(),
        runs: 0,
        last_error: None,
        service: None,
        created_at: now,
        updated_at: now,
    };
    store.create_instance(instance.clone()).await?;
    Ok(instance)
}

fn update(app_key: i64, instance_id: &str, key: &str) -> NewVarDelivery {
    NewVarDelivery {
        app_key,
        instance_id: instance_id.to_string(),
        variable_key: key.to_string(),
        url: "http://engine.layer/vars".into(),
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

conformance!(deliveries_go_out_per_instance_in_order_and_only_with_a_committed_run, outbox);
async fn outbox(backend: &Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let app = store.create_app("a").await?.app_key;
    assert_eq!(store.var_update_url(app).await?, None);
    store.put_var_update_url(app, Some("http://engine.layer/vars".into())).await?;
    assert_eq!(store.var_update_url(app).await?.as_deref(), Some("http://engine.layer/vars"));

    let one = instance(store.as_ref(), app, "one").await?;
    let two = instance(store.as_ref(), app, "two").await?;
    assert!(store.commit_run(one.clone(), vec![update(app, "one", "a"), update(app, "one", "b")]).await?);
    assert!(store.commit_run(two.clone(), vec![update(app, "two", "c")]).await?);
    // A stale commit (runs moved on) writes nothing, deliveries included.
    assert!(!store.commit_run(one.clone(), vec![update(app, "one", "stale")]).await?);

    let now = now_us();
    let claimed = store.claim_var_deliveries(now, now + 30_000_000, 10).await?;
    let keys: Vec<&str> = claimed.iter().map(|d| d.new.variable_key.as_str()).collect();
    assert_eq!(keys, ["a", "c"], "the oldest pending update of each instance");
    assert!(claimed.iter().all(|d| d.attempts == 1 && d.status == DeliveryStatus::Pending));
    assert!(store.claim_var_deliveries(now, now + 30_000_000, 10).await?.is_empty(), "claimed ones are not due");

    let (a, c) = (claimed[0].id, claimed[1].id);
    store.end_var_delivery(a, DeliveryEnd::Delivered).await?;
    store.end_var_delivery(c, DeliveryEnd::Retry { next_at: now + 60_000_000, error: "down".into() }).await?;
    let next = store.claim_var_deliveries(now, now + 30_000_000, 10).await?;
    let keys: Vec<&str> = next.iter().map(|d| d.new.variable_key.as_str()).collect();
    assert_eq!(keys, ["b"], "b follows a; c waits for its retry time");

    // A claim that lapses (its node stopped) is due again, one attempt more.
    let later = now + 31_000_000;
    let again = store.claim_var_deliveries(later, later + 30_000_000, 10).await?;
    assert_eq!(again.iter().map(|d| (d.new.variable_key.as_str(), d.attempts)).collect::<Vec<_>>(), [("b", 2)]);
    store.end_var_delivery(again[0].id, DeliveryEnd::Failed { error: "gave up".into() }).await?;

    let listed = store.list_var_deliveries(app, "one", 10).await?;
    let states: Vec<(&str, DeliveryStatus)> = listed.iter().map(|d| (d.new.variable_key.as_str(), d.status)).collect();
    assert_eq!(states, [("b", DeliveryStatus::Failed), ("a", DeliveryStatus::Delivered)], "newest first");
    assert_eq!(listed[0].last_error.as_deref(), Some("gave up"));
    let two_listed = store.list_var_deliveries(app, "two", 10).await?;
    assert_eq!(two_listed[0].last_error.as_deref(), Some("down"));
    assert!(store.list_var_deliveries(app + 1, "one", 10).await?.is_empty(), "another app sees none");

    store.put_var_update_url(app, None).await?;
    assert_eq!(store.var_update_url(app).await?, None);
    Ok(())
}
