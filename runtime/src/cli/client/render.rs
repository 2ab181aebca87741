//! The server's answers as the client reads them, and how they are printed.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

/// A function, as far as the client prints it.
#[derive(Debug, Deserialize)]
pub(super) struct FunctionAnswer {
    pub name: String,
    pub version: i64,
    pub module_sha256: String,
}

/// Why a job failed.
#[derive(Debug, Deserialize)]
pub(super) struct JobError {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// A job, as far as the client prints it.
#[derive(Debug, Deserialize)]
pub(super) struct JobAnswer {
    pub id: i64,
    pub status: String,
    #[serde(default)]
    pub service_type: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub output: Option<Json>,
    #[serde(default)]
    pub error: Option<JobError>,
    #[serde(default)]
    pub mem_usage: i64,
    #[serde(default)]
    pub created_at: f64,
    #[serde(default)]
    pub started_at: Option<f64>,
    #[serde(default)]
    pub finished_at: Option<f64>,
}

impl JobAnswer {
    /// Time from start to finish, once finished.
    pub fn duration(&self) -> Option<Duration> {
        let (start, end) = (self.started_at?, self.finished_at?);
        Some(Duration::from_secs_f64((end - start).max(0.0)))
    }
}

/// A page of jobs.
#[derive(Debug, Deserialize)]
pub(super) struct JobPage {
    pub items: Vec<JobAnswer>,
    pub total: i64,
    pub offset: i64,
}

/// The answer to an async invocation.
#[derive(Debug, Deserialize)]
pub(super) struct Accepted {
    pub job_id: i64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub job_url: Option<String>,
}

/// A job's error as one line.
pub(super) fn job_error(error: Option<&JobError>) -> String {
    match error {
        Some(JobError { code, message: Some(message) }) => format!("{code}: {message}"),
        Some(JobError { code, message: None }) => code.clone(),
        None => "(no error recorded)".to_string(),
    }
}

/// Jobs as an aligned table with a total line.
pub(super) fn print_jobs(page: &JobPage) {
    let header = ["ID", "STATUS", "SERVICE_TYPE", "SOURCE", "CREATED_AT", "DURATION_MS"].map(String::from);
    let rows: Vec<[String; 6]> = page
        .items
        .iter()
        .map(|j| {
            [
                j.id.to_string(),
                j.status.clone(),
                j.service_type.clone(),
                j.source.clone(),
                utc(j.created_at),
                j.duration().map_or_else(|| "-".to_string(), |d| format!("{:.2}", d.as_secs_f64() * 1e3)),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
    let shown = page.items.len() as i64;
    let first = if shown == 0 { page.offset } else { page.offset + 1 };
    println!("{shown} of {} jobs shown ({first}..{})", page.total, page.offset + shown);
}

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS.mmm` UTC.
pub(super) fn utc(epoch_seconds: f64) -> String {
    crate::time::utc((epoch_seconds * 1e6).round() as i64, ' ')
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn epoch_seconds_print_as_utc_dates() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00.000");
        assert_eq!(utc(951_782_400.5), "2000-02-29 00:00:00.500");
        assert_eq!(utc(1_735_689_599.999), "2024-12-31 23:59:59.999");
    }
}
