//! The PostgreSQL store on a real, throwaway cluster (issue 12): the schema comes up once
//! when several nodes start at the same moment on an empty database.

use cloudexec::store::postgres::{PgStore, SCHEMA_VERSION};
use cloudexec_tests::postgres::TestPostgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_starting_at_once_on_an_empty_database_all_come_up() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("migration_race")?;
    let nodes = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PgStore::connect(&url).await })
    });
    for node in nodes {
        let store = node.await?.map_err(|e| anyhow::anyhow!("{e}; server log:\n{}", cluster.log()))?;
        assert_eq!(store.schema_version().await?, SCHEMA_VERSION);
    }
    let again = PgStore::connect(&url).await?;
    let counts = again.migration_counts().await?;
    let expected: Vec<(i64, i64)> = (1..=SCHEMA_VERSION).map(|v| (v, 1)).collect();
    assert_eq!(counts, expected, "each migration applied exactly once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_does_not_parse_or_reach_a_server_is_a_clear_error() -> anyhow::Result<()> {
    let error = PgStore::connect("not a url").await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("the database URL does not parse"), "{error}");
    let error = PgStore::connect("postgres://nobody@127.0.0.1:1/none").await.err().map(|e| e.to_string());
    assert!(error.is_some_and(|e| e.contains("database error")), "no server on port 1");
    Ok(())
}
