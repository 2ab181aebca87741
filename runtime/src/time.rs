//! The clock (µs and ms since the epoch, the one source of "now"), and timestamps as
//! text: µs since the epoch to UTC dates (no time-zone crate needed).

pub use cloudexec_engine::clock::{now_ms, now_us};

/// µs since the epoch as `YYYY-MM-DD<sep>HH:MM:SS.mmm` UTC.
pub fn utc(epoch_us: i64, sep: char) -> String {
    let millis = epoch_us.div_euclid(1000);
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}{sep}{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1000
    )
}

/// µs since the epoch as RFC 3339 UTC with milliseconds: `2019-01-01T01:01:01.001Z`.
pub fn rfc3339(epoch_us: i64) -> String {
    format!("{}Z", utc(epoch_us, 'T'))
}

/// Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_500_000), "2000-02-29T00:00:00.500Z");
    }
}
