//! Keeps this node in step with the other nodes on one database: a change another node
//! made (a function or flow updated or deleted, a token revoked, an app's limits) drops
//! what this node cached of it, and a job queued or a signal stored elsewhere wakes the
//! loop that takes it at once instead of at its next poll. When the store (re)starts
//! listening, changes may have been missed, so every cache is dropped.

use crate::apps::Apps;
use crate::flows::service::Flows;
use crate::functions::Functions;
use crate::runs::JobRunner;
use crate::store::{Change, Notice, Store};

/// What a notice can reach.
#[derive(Clone)]
pub(crate) struct Followers {
    pub apps: Apps,
    pub functions: Functions,
    pub flows: Flows,
    pub jobs: JobRunner,
}

impl Followers {
    /// Follows the store's notices until it stops sending them; nothing for a store that
    /// sends none (SQLite, one process).
    pub(crate) fn follow(self, store: &dyn Store) {
        let Some(mut notices) = store.notices() else { return };
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(notice) => self.take(notice).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "this node fell behind the other nodes' changes; dropping its caches");
                        self.take(Notice::Listening).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    async fn take(&self, notice: Notice) {
        match notice {
            Notice::Listening => {
                self.functions.forget_all();
                self.flows.forget_all();
                self.apps.forget_all();
                self.jobs.wake();
                self.flows.wake_for_signals();
            }
            Notice::Changed(Change::Function { app_key, name }) => self.functions.forget_cached(app_key, &name),
            Notice::Changed(Change::Flow { app_key, name }) => self.flows.forget_cached(app_key, &name),
            Notice::Changed(Change::Token { hash }) => self.apps.forget_token(&hash),
            Notice::Changed(Change::AppLimits { app_key }) => {
                if let Err(error) = self.jobs.reload_limits(app_key).await {
                    tracing::error!(app_key, %error, "reading an app's limits another node changed failed");
                }
            }
            Notice::Changed(Change::JobWaiting) => self.jobs.wake(),
            Notice::Changed(Change::Signal) => self.flows.wake_for_signals(),
        }
    }
}
