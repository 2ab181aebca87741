//! Row ↔ record mapping shared by the queries.

use cloudexec_engine::Plan;
use rusqlite::Row;
use serde_json::Value as Json;

use crate::{FunctionRecord, JobRecord, JobState, ServiceType, StateColumns};

/// Column `index`, stored as the name (or code) of one of a type's values; `parse` maps
/// it back, and a value it does not know (`what` names the type) fails the read.
pub(super) fn decoded<V, T>(
    row: &Row<'_>,
    index: usize,
    what: &str,
    parse: impl FnOnce(&V) -> Option<T>,
) -> rusqlite::Result<T>
where
    V: rusqlite::types::FromSql + std::fmt::Debug,
{
    let stored: V = row.get(index)?;
    parse(&stored).ok_or_else(|| {
        let kind = row.get_ref(index).map_or(rusqlite::types::Type::Null, |v| v.data_type());
        rusqlite::Error::FromSqlConversionFailure(index, kind, format!("unknown {what} {stored:?}").into())
    })
}

/// Columns of [`function`], in order; join of `functions f` and `function_versions v`.
pub(super) const FUNCTION_COLUMNS: &str = "f.id, f.app_key, f.name, f.remark, f.plan, f.sync_timeout_ms, \
     f.async_timeout_ms, f.version, v.module_sha256, f.created_at, f.updated_at";

/// Joins a function to its current version.
pub(super) const FUNCTION_FROM: &str =
    "functions f JOIN function_versions v ON v.function_id = f.id AND v.version = f.version";

pub(super) fn function(row: &Row<'_>) -> rusqlite::Result<FunctionRecord> {
    Ok(FunctionRecord {
        id: row.get(0)?,
        app_key: row.get(1)?,
        name: row.get(2)?,
        remark: row.get(3)?,
        plan: decoded(row, 4, "plan", |name: &String| Plan::from_name(name))?,
        sync_timeout_ms: row.get(5)?,
        async_timeout_ms: row.get(6)?,
        version: row.get(7)?,
        module_sha256: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

/// Columns of [`job`], in order.
pub(super) const JOB_COLUMNS: &str = "id, app_key, function_id, version, source, service_type, status, input, \
     output, error_code, error_message, mem_usage, timeout_ms, created_at, started_at, finished_at, module_sha256, \
     memory_limit, restarts, claimed_by";

pub(super) fn job(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let input: String = row.get(7)?;
    let output: Option<String> = row.get(8)?;
    let columns = StateColumns {
        status: row.get(6)?,
        output: output.as_deref().map(parse_json),
        error_code: row.get(9)?,
        error_message: row.get(10)?,
        mem_usage: row.get(11)?,
        started_at: row.get(14)?,
        finished_at: row.get(15)?,
    };
    let state = JobState::from_columns(columns)
        .map_err(|why| rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, why.into()))?;
    Ok(JobRecord {
        id: row.get(0)?,
        app_key: row.get(1)?,
        function_id: row.get(2)?,
        version: row.get(3)?,
        source: row.get(4)?,
        service_type: decoded(row, 5, "service type", |name: &String| ServiceType::parse(name))?,
        input: parse_json(&input),
        timeout_ms: row.get(12)?,
        created_at: row.get(13)?,
        module_sha256: row.get(16)?,
        memory_limit: row.get(17)?,
        restarts: row.get(18)?,
        node: row.get(19)?,
        state,
    })
}

/// Stored JSON is written by us; text that does not parse is shown as a string.
fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::decoded;
    use crate::{ExecStatus, ServiceCategory};

    #[test]
    fn a_stored_value_no_type_knows_fails_the_read_and_names_it() {
        let conn = Connection::open_in_memory().unwrap();
        let read = |sql: &str| {
            conn.query_row(sql, [], |r| {
                let status = decoded(r, 0, "execution status", |name: &String| ExecStatus::parse(name))?;
                let category = decoded(r, 1, "service category", |code: &i64| ServiceCategory::from_code(*code))?;
                Ok((status, category))
            })
        };
        assert_eq!(read("SELECT 'Running', 1").unwrap(), (ExecStatus::Running, ServiceCategory::Dynamic));
        let error = read("SELECT 'Sleeping', 1").unwrap_err().to_string();
        assert!(error.contains("unknown execution status \"Sleeping\""), "{error}");
        let error = read("SELECT 'Running', 7").unwrap_err().to_string();
        assert!(error.contains("unknown service category 7"), "{error}");
    }
}
