//! Notices between the nodes on one database: what a node changed that the others may
//! hold in a cache, or work they may take. PostgreSQL carries them with NOTIFY in the
//! transaction of the change (`postgres/listen.rs`); SQLite has one process and none.

/// A change one node made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A function was updated (possibly renamed: both names are sent) or deleted.
    Function {
        /// Its app.
        app_key: i64,
        /// Its name.
        name: String,
    },
    /// A flow got a new version or was deleted.
    Flow {
        /// Its app.
        app_key: i64,
        /// Its name.
        name: String,
    },
    /// A token was revoked (by its hash).
    Token {
        /// The token's hash.
        hash: String,
    },
    /// An app's admission limits changed.
    AppLimits {
        /// The app.
        app_key: i64,
    },
    /// An async job was queued.
    JobWaiting,
    /// A signal was stored for the node driving an execution.
    Signal,
}

impl Change {
    /// The notification payload.
    pub fn encode(&self) -> String {
        match self {
            Self::Function { app_key, name } => format!("function:{app_key}:{name}"),
            Self::Flow { app_key, name } => format!("flow:{app_key}:{name}"),
            Self::Token { hash } => format!("token:{hash}"),
            Self::AppLimits { app_key } => format!("limits:{app_key}"),
            Self::JobWaiting => "job".into(),
            Self::Signal => "signal".into(),
        }
    }

    /// Parses a payload; `None` for one this version does not know (a newer node's).
    pub fn decode(text: &str) -> Option<Self> {
        let named = |rest: &str| {
            let (app, name) = rest.split_once(':')?;
            Some((app.parse().ok()?, name.to_string()))
        };
        let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
        Some(match kind {
            "function" => named(rest).map(|(app_key, name)| Self::Function { app_key, name })?,
            "flow" => named(rest).map(|(app_key, name)| Self::Flow { app_key, name })?,
            "token" => Self::Token { hash: rest.to_string() },
            "limits" => Self::AppLimits { app_key: rest.parse().ok()? },
            "job" => Self::JobWaiting,
            "signal" => Self::Signal,
            _ => return None,
        })
    }
}

/// What a node hears from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The store (re)started listening: changes made meanwhile were not heard, so a
    /// listener drops whatever it cached.
    Listening,
    /// Some node made a change.
    Changed(Change),
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn changes_read_back_as_written() {
        let changes = [
            Change::Function { app_key: 3, name: "pay:order".into() },
            Change::Flow { app_key: 1, name: "shop:checkout".into() },
            Change::Token { hash: "ab12".into() },
            Change::AppLimits { app_key: 7 },
            Change::JobWaiting,
            Change::Signal,
        ];
        for change in changes {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("later:kind"), None);
        assert_eq!(Change::decode("function:x:y"), None);
    }
}
