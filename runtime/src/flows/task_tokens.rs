//! Task tokens: what a `waitForCallback` task hands out (`$context.task.token` in an FDL
//! flow's mappings) so that a client can report its result (seed 003's
//! `ReportTaskSucceeded` / `ReportTaskFailed`), or so that an execution started with
//! `CallbackFnFTaskToken` reports its own end to it. A token names the app, the execution
//! and the task, and is signed with HMAC-SHA256 under a server secret kept in the store
//! (one secret for every node on the database): it cannot be guessed or altered, and it
//! is refused for any app but its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value as Json, json};

use super::scheduler::TASK_TOKEN_PLACEHOLDER;
use crate::error::ServiceError;
use crate::signing::Signer;
use crate::store::Store;

/// The store's name for the secret tokens are signed with.
const SECRET_NAME: &str = "task-tokens";
/// Every token starts with this (a version, so the format can change).
const PREFIX: &str = "tt1.";
/// Longest token accepted (a token names an execution id and a task key).
const MAX_TOKEN_BYTES: usize = 4096;

/// The task a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTarget {
    /// The app the execution belongs to.
    pub app_key: i64,
    /// The execution.
    pub execution: String,
    /// The task's key in it.
    pub task: String,
}

/// Mints and checks task tokens.
#[derive(Debug, Clone)]
pub struct TaskTokens {
    signer: Signer,
}

fn invalid() -> ServiceError {
    ServiceError::InvalidArgument("the task token is not valid (unknown, altered, or another app's)".into())
}

impl TaskTokens {
    /// The tokens signed with the store's secret (made and stored on the first start).
    pub async fn load(store: &dyn Store) -> Result<Self, ServiceError> {
        Ok(Self { signer: Signer::load(store, SECRET_NAME).await? })
    }

    /// The token of `target`.
    pub fn mint(&self, target: &TaskTarget) -> String {
        let payload = json!([target.app_key, target.execution, target.task]).to_string();
        let tag = self.signer.sign(payload.as_bytes());
        format!("{PREFIX}{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The task `token` names, if it is one of ours and belongs to `app_key`.
    pub fn verify(&self, token: &str, app_key: i64) -> Result<TaskTarget, ServiceError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let (payload, tag) = token.strip_prefix(PREFIX).and_then(|rest| rest.split_once('.')).ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if !self.signer.verify(&payload, &tag) {
            return Err(invalid());
        }
        let (app, execution, task): (i64, String, String) = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if app != app_key {
            return Err(invalid());
        }
        Ok(TaskTarget { app_key: app, execution, task })
    }

    /// True when `text` has the form of a task token (checked by [`Self::verify`]).
    pub fn looks_like(text: &str) -> bool {
        text.starts_with(PREFIX)
    }
}

/// Puts `token` wherever the scheduler left its placeholder in a task's input.
pub fn fill(input: &mut Json, token: &str) {
    let mut stack = vec![input];
    while let Some(value) = stack.pop() {
        match value {
            Json::String(text) if text == TASK_TOKEN_PLACEHOLDER => *text = token.to_string(),
            Json::Array(items) => stack.extend(items.iter_mut()),
            Json::Object(fields) => stack.extend(fields.values_mut()),
            _ => {}
        }
    }
}

/// Where an execution started with a task token reports its end: kept in its
/// `callback_url` (user-given callback URLs are http(s), so they never look like this).
const CALLBACK_SCHEME: &str = "cloudexec-task:";

impl TaskTarget {
    /// The callback an execution reporting to this task keeps.
    pub(crate) fn as_callback(&self) -> String {
        format!("{CALLBACK_SCHEME}{}", json!([self.app_key, self.execution, self.task]))
    }

    /// The task a kept callback reports to, if it is one.
    pub(crate) fn of_callback(callback: &str) -> Option<Self> {
        let (app_key, execution, task) = serde_json::from_str(callback.strip_prefix(CALLBACK_SCHEME)?).ok()?;
        Some(Self { app_key, execution, task })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8]) -> TaskTokens {
        TaskTokens { signer: Signer::with_secret(secret) }
    }

    #[test]
    fn a_token_names_its_task_for_its_app_only() {
        let t = tokens(b"secret one");
        let target = TaskTarget { app_key: 1, execution: "e1".into(), task: "fork[2].start".into() };
        let token = t.mint(&target);
        assert!(TaskTokens::looks_like(&token));
        assert_eq!(t.verify(&token, 1).ok(), Some(target.clone()));
        assert!(t.verify(&token, 2).is_err(), "another app's");
        assert!(tokens(b"secret two").verify(&token, 1).is_err(), "another server's secret");
        let mut altered = token.clone();
        altered.pop();
        altered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(t.verify(&altered, 1).is_err(), "an altered tag");
        let forged = format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(r#"[1,"e1","other"]"#),
            token.rsplit('.').next().unwrap_or("")
        );
        assert!(t.verify(&forged, 1).is_err(), "another task under the same tag");
        assert!(t.verify("tt1.", 1).is_err() && t.verify("", 1).is_err() && t.verify("12", 1).is_err());
    }

    #[test]
    fn the_placeholder_is_filled_wherever_it_is() {
        let mut input = json!({"a": TASK_TOKEN_PLACEHOLDER, "b": [1, {"c": TASK_TOKEN_PLACEHOLDER}], "d": "keep"});
        fill(&mut input, "tok");
        assert_eq!(input, json!({"a": "tok", "b": [1, {"c": "tok"}], "d": "keep"}));
    }

    #[test]
    fn a_kept_callback_round_trips() {
        let target = TaskTarget { app_key: 3, execution: "x".into(), task: "t".into() };
        assert_eq!(TaskTarget::of_callback(&target.as_callback()), Some(target));
        assert_eq!(TaskTarget::of_callback("http://h/cb"), None);
    }
}
