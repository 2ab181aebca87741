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

/// Seconds since the epoch as an AWS-style timestamp, `20180921T044620Z` (seed 001's
/// `X-Amz-Date`).
pub fn amz_date(epoch_secs: i64) -> String {
    let (days, secs) = (epoch_secs.div_euclid(86_400), epoch_secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The seconds since the epoch of an [`amz_date`] timestamp.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let digits = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    if text.len() != 16 || text.as_bytes()[8] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A proleptic Gregorian date as days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    use super::{amz_date, parse_amz_date, rfc3339};

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_537_505_180), "20180921T044620Z", "seed 001's example");
        for secs in [0, 951_782_400, 1_537_505_180, 4_102_444_799] {
            assert_eq!(parse_amz_date(&amz_date(secs)), Some(secs));
        }
        assert_eq!(parse_amz_date("20181321T044620Z"), None);
        assert_eq!(parse_amz_date("2018-09-21T04:46"), None);
        assert_eq!(parse_amz_date(""), None);
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_500_000), "2000-02-29T00:00:00.500Z");
    }
}
