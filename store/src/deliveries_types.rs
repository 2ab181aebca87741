//! Seed 000, 4.2: variable updates a run made, delivered to the app's engine layer from a
//! durable outbox written with the run's commit, retried with backoff until delivered or
//! given up.

/// A variable update to deliver, written with the run that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVarDelivery {
    /// Owning app.
    pub app_key: i64,
    /// The instance whose run changed the variable.
    pub instance_id: String,
    /// The variable's key.
    pub variable_key: String,
    /// Where it goes (the app's engine-layer URL when the run committed).
    pub url: String,
    /// The JSON body POSTed: `{executeInstanceId, var: {varPtr: {variableKey}, object}}`.
    pub body: String,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_at`.
    Pending,
    /// The engine layer answered true.
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

impl DeliveryStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDelivery {
    /// Its id: deliveries of one instance go out in id order.
    pub id: i64,
    /// What to deliver.
    pub new: NewVarDelivery,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made (a claim counts as one).
    pub attempts: i64,
    /// µs since the epoch when it is next due (or its claim lapses).
    pub next_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEnd {
    /// The engine layer took it.
    Delivered,
    /// Try again at `next_at`.
    Retry {
        /// µs since the epoch.
        next_at: i64,
        /// What went wrong.
        error: String,
    },
    /// Give up.
    Failed {
        /// What went wrong.
        error: String,
    },
}
