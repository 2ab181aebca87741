//! Seed 001's JSON shapes: the function object, the job object, the sync result and
//! the `meta` of lists, with the seed's field names.

use axum::http::{HeaderMap, header};
use serde_json::{Value as Json, json};

use crate::engine::Plan;
use crate::http::error::ApiError;
use crate::http::views::seconds;
use crate::store::{FunctionRecord, JobRecord, PageRequest};

/// The top-level `code` of a sync job that ran but did not succeed. The seed only says
/// that a non-zero `code` means the function failed; we use 1 for every failure and
/// say which one in `error.status`.
pub const FAILED_CODE: i64 = 1;

/// The job sources the seed lists for the `source` filter.
pub const SOURCES: [&str; 14] = [
    "sdk",
    "open_api",
    "cloud_function",
    "flex_schema",
    "wechat_pay_success",
    "alipay_pay_success",
    "qpay_success",
    "baidu_pay_success",
    "timer",
    "file_operation",
    "user_dash",
    "incoming_webhook",
    "wechat_message",
    "user_activity",
];

/// Maps the seed's `plan_circle` ("套餐类型,可能的值:P_FREE(128 MB 内存), P_PERSONAL(256 MB
/// 内存)") onto our plans, which carry the same names and memory caps:
///
/// | `plan_circle` | plan           | linear memory cap |
/// |---------------|----------------|-------------------|
/// | `P_FREE`      | `Plan::Free`     | 128 MiB           |
/// | `P_PERSONAL`  | `Plan::Personal` | 256 MiB           |
///
/// Anything else (including `""`) is 400.
pub fn plan_circle(value: &str) -> Result<String, ApiError> {
    Plan::from_name(value).map(|plan| plan.name().to_string()).ok_or_else(|| {
        ApiError::invalid(format!(
            "unknown plan_circle {value:?}: use P_FREE (128 MB memory) or P_PERSONAL (256 MB memory)"
        ))
    })
}

/// What the function object shows as `function_code` for a wasm component: `sha256:<hex>`
/// of the current module (echoing megabytes of base64 in every list is not useful).
/// Sending this value back in a PATCH keeps the code. JavaScript source is shown as sent.
pub fn code_reference(f: &FunctionRecord) -> String {
    format!("sha256:{}", f.module_sha256)
}

/// µs since the epoch as whole seconds (the seed's `Integer` times of functions).
fn whole_seconds(us: i64) -> i64 {
    us.div_euclid(1_000_000)
}

/// The function object, with the seed's fields. Those we cannot know:
/// - `audit_status` is always `approved`: every stored function compiled and passed
///   validation, and there is no review step;
/// - `created_by` and `updated_by` ("创建者昵称", "更新者昵称") are `""`: tokens belong to
///   apps, not to people with nicknames;
/// - `function_code` is the JavaScript source as sent, or a component's [`code_reference`].
pub fn function(f: &FunctionRecord, script: Option<&str>) -> Json {
    json!({
        "audit_status": "approved",
        "created_at": whole_seconds(f.created_at),
        "created_by": "",
        "function_code": script.map_or_else(|| code_reference(f), str::to_string),
        "id": f.id,
        "name": f.name,
        "plan_circle": f.plan.name(),
        "remark": f.remark,
        "updated_at": whole_seconds(f.updated_at),
        "updated_by": "",
    })
}

/// A job in a job list: the seed's fields, times in seconds with fractions (`null`
/// until set), `user_log_url` absolute.
pub fn job(j: &JobRecord, user_log_url: String) -> Json {
    let end = j.state.end();
    json!({
        "created_at": seconds(j.created_at),
        "finished_at": end.map(|e| seconds(e.finished_at)),
        "id": j.id,
        "mem_usage": end.map_or(0, |e| e.mem_usage),
        "service_type": j.service_type,
        "source": j.source,
        "started_at": j.state.started_at().map(seconds),
        "status": j.status().as_str(),
        "user_log_url": user_log_url,
    })
}

/// The answer to a sync job. Success: `{"code": 0, "data": <output>, "error": {}}`.
/// Failure (the seed: "code 为 0 时表示成功执行云函数,否则为执行云函数失败"; `error` is
/// "返回的错误信息,成功则返回空对象"): `{"code": 1, "data": null, "error": {"code",
/// "message", "status", "job_id"}}` where `error.code` is the guest's or engine's code
/// (e.g. `Boom`, `Trap`, `DeadlineExceeded`) and `error.status` the job status.
pub fn sync_result(j: &JobRecord) -> Json {
    let failure = match j.state.end().map(|e| &e.result) {
        Some(Ok(output)) => return json!({"code": 0, "data": output, "error": {}}),
        Some(Err(failure)) => Some(failure),
        None => None,
    };
    let error = json!({
        "code": failure.map(|f| &f.code),
        "message": failure.map(|f| &f.message),
        "status": j.status().as_str(),
        "job_id": j.id,
    });
    json!({"code": FAILED_CODE, "data": null, "error": error})
}

/// The `meta` of a list: `next` and `previous` are `path?limit=&offset=` plus the
/// filters, or `null` at the edges. `previous` is set whenever `offset > 0` (clamped to
/// offset 0); `next` while rows remain after this page.
pub fn meta(path: &str, page: PageRequest, total: i64, filters: &[(&str, &str)]) -> Json {
    let PageRequest { limit, offset } = page;
    let link = |offset: i64| {
        let extra: String = filters.iter().map(|(k, v)| format!("&{k}={}", encode(v))).collect();
        format!("{path}?limit={limit}&offset={offset}{extra}")
    };
    let next = (offset.saturating_add(limit) < total).then(|| link(offset + limit));
    let previous = (offset > 0).then(|| link(offset.saturating_sub(limit).max(0)));
    json!({"limit": limit, "next": next, "offset": offset, "previous": previous, "total_count": total})
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `scheme://host` of the request, from its `Host` header (`https` behind a proxy that
/// says `X-Forwarded-Proto: https`); `""` without a usable host, leaving URLs relative.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok());
    let Some(host) = host else { return String::new() };
    let https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    format!("{}://{host}", if https { "https" } else { "http" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_links_are_null_at_the_edges_and_keep_filters() {
        let page = |offset| PageRequest { limit: 2, offset };
        let first = meta("/p/", page(0), 5, &[("status", "fulfilled")]);
        assert_eq!(first["next"], "/p/?limit=2&offset=2&status=fulfilled");
        assert_eq!(first["previous"], Json::Null);
        let middle = meta("/p/", page(2), 5, &[]);
        assert_eq!(middle["next"], "/p/?limit=2&offset=4");
        assert_eq!(middle["previous"], "/p/?limit=2&offset=0");
        let last = meta("/p/", page(4), 5, &[]);
        assert_eq!(last["next"], Json::Null);
        assert_eq!(meta("/p/", page(1), 5, &[])["previous"], "/p/?limit=2&offset=0");
    }

    #[test]
    fn plan_circle_accepts_the_seeds_two_plans_only() {
        assert_eq!(plan_circle("P_FREE").ok().as_deref(), Some("P_FREE"));
        assert_eq!(plan_circle("P_PERSONAL").ok().as_deref(), Some("P_PERSONAL"));
        assert!(plan_circle("").is_err());
        assert!(plan_circle("128").is_err());
    }
}
