//! The store's lists of an app's bins, live instances and services, on both stores:
//! newest first, paged with a total, one bin's instances, destroyed instances left out,
//! and nothing of another app.

use cloudexec::engine::{InstanceState, Manifest};
use cloudexec::store::{BinRecord, InstanceRecord, InstanceStatus, PageRequest, ServiceCategory, ServiceRecord, Store};

use crate::store_flows::{Backend, conformance};

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
