//! The SQLite store's WAL is checkpointed off the writer's path: committed pages reach
//! the database file without a commit having to cross SQLite's automatic threshold.

use std::time::Duration;

use cloudexec::store::sqlite::SqliteStore;
use cloudexec::store::{NewFlowVersion, Store};

#[tokio::test]
async fn committed_pages_reach_the_database_file_in_the_background() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("cloudexec.db");
    let store = SqliteStore::open(&path)?;
    let app = store.create_app("a").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = std::fs::metadata(&path)?.len();
    // About 2 MB of definitions: ~500 pages, far below the writer's own threshold.
    for i in 0..64 {
        let definition = format!("{i:0>32768}");
        let new = NewFlowVersion {
            app_key: app.app_key,
            name: format!("f{i}"),
            format: "dag".into(),
            definition,
            description: String::new(),
            at: i,
        };
        store.create_flow(new).await?;
    }
    let mut after = before;
    // Polled for up to a minute: a busy machine only makes the checkpoint later.
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = std::fs::metadata(&path)?.len();
        if after > before + 2_000_000 {
            break;
        }
    }
    assert!(after > before + 2_000_000, "the database file grew from {before} to only {after} bytes");
    let flow = store.get_flow(app.app_key, "f63", None).await?.expect("stored");
    assert_eq!(flow.definition.len(), 32768);
    store.close();
    let reopened = SqliteStore::open(&path)?;
    assert!(reopened.get_flow(app.app_key, "f0", None).await?.is_some());
    Ok(())
}
