//! The PostgreSQL store, for several `cloudexec serve` nodes on one database. It connects
//! a pool of connections, brings the schema up to date, safely when several nodes start at
//! once (`schema.rs`), and listens for the changes other nodes make (`listen.rs`). Each
//! table family has its module of methods; `trait_impl.rs` maps the [`crate::Store`]
//! trait onto them, and the conformance suite runs on both stores.

mod apps;
mod batch;
mod bins;
mod deliveries;
mod errors;
mod executions;
mod flows;
mod functions;
mod job_batch;
mod jobs;
mod listen;
mod listings;
mod overview;
mod schema;
mod signals;
mod trait_impl;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use schema::SCHEMA_VERSION;

use crate::StoreError;

/// Connections a node keeps open at most.
const MAX_CONNECTIONS: usize = 16;

/// A pool of connections to one PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    notices: tokio::sync::broadcast::Sender<crate::Notice>,
    listener: tokio::task::JoinHandle<()>,
    job_inserts: batch::Batcher<job_batch::InsertJobs>,
    job_ends: batch::Batcher<job_batch::FinishJobs>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("status", &self.pool.status()).finish()
    }
}

use errors::db_error;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and applies the migrations the
    /// database has not seen yet.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Database(format!("the database URL does not parse: {e}")))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(MAX_CONNECTIONS).build().map_err(db_error)?;
        let mut client = pool.get().await.map_err(db_error)?;
        schema::migrate(&mut client).await.map_err(db_error)?;
        let (notices, _) = tokio::sync::broadcast::channel(listen::BACKLOG);
        let listener = tokio::spawn(listen::listen(config, notices.clone()));
        let job_inserts = batch::Batcher::start(pool.clone(), job_batch::InsertJobs);
        let job_ends = batch::Batcher::start(pool.clone(), job_batch::FinishJobs);
        Ok(Self { pool, notices, listener, job_inserts, job_ends })
    }

    /// A pooled connection.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(db_error)
    }

    /// The newest migration the database has.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await.map_err(db_error)?;
        let row =
            client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    /// How many times each migration was applied (each exactly once on a sound database).
    pub async fn migration_counts(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let client = self.pool.get().await.map_err(db_error)?;
        let rows = client
            .query("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version ORDER BY version", &[])
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
