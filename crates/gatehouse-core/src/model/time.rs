//! Timestamps: whole seconds since the Unix epoch, rendered as AWS does
//! (`2020-04-08T00:36:05Z`: UTC, `Z`, no fractional seconds).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Civil date (year, month, day) for a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Common Log Format time, as API Gateway writes `$context.requestTime` and the Lambda
/// events' `time`: `12/Mar/2020:19:03:58 +0000`.
pub fn clf(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    // Written digit by digit: this runs for every Lambda event and access-log line.
    let mut out = String::with_capacity(26);
    let digits = |out: &mut String, n: i64, width: u32| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10_i64.pow(place) % 10) as u8));
        }
    };
    digits(&mut out, i64::from(d), 2);
    out.push('/');
    out.push_str(MONTHS[(m as usize).saturating_sub(1) % 12]);
    out.push('/');
    digits(&mut out, y, 4);
    for part in [rem / 3600, (rem % 3600) / 60, rem % 60] {
        out.push(':');
        digits(&mut out, part, 2);
    }
    out.push_str(" +0000");
    out
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// SigV4's `YYYYMMDDTHHMMSSZ` for `secs`.
pub fn amz_date(secs: i64) -> String {
    rfc3339(secs).replace(['-', ':'], "")
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, se) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se)
}

/// `2026-12-07T08:02:22.410Z` for `ms` milliseconds since the epoch (`@connections`'
/// `connectedAt` and `lastActiveAt`).
pub fn rfc3339_millis(ms: i64) -> String {
    let whole = rfc3339(ms.div_euclid(1000));
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

/// RFC 3339 in UTC with a `Z` and whole seconds.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        );
    }
    // Written digit by digit: every stage in every response carries two of these.
    let mut out = String::with_capacity(20);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, i64::from(m), 2);
    out.push('-');
    push_digits(&mut out, i64::from(d), 2);
    out.push('T');
    push_digits(&mut out, rem / 3600, 2);
    out.push(':');
    push_digits(&mut out, (rem % 3600) / 60, 2);
    out.push(':');
    push_digits(&mut out, rem % 60, 2);
    out.push('Z');
    out
}

/// Appends the last `width` decimal digits of non-negative `n`, zero-padded.
fn push_digits(out: &mut String, n: i64, width: u32) {
    for p in (0..width).rev() {
        let digit = (n / 10_i64.pow(p)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_log_format() {
        assert_eq!(clf(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
    }

    #[test]
    fn formats_like_aws() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // 2020-04-08T00:36:05Z, the timestamp in the AWS CLI's get-stage example.
        assert_eq!(rfc3339(1_586_306_165), "2020-04-08T00:36:05Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        // The digit-by-digit writer agrees with the formatter everywhere.
        for t in (-86_400_i64 * 400..4_102_444_799).step_by(86_400 * 13 + 3_607) {
            let (y, m, d) = civil_from_days(t.div_euclid(86_400));
            let rem = t.rem_euclid(86_400);
            let want = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            );
            assert_eq!(rfc3339(t), want);
        }
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        for t in [0, 951_782_400, 1_586_306_165, 4_102_444_799] {
            assert_eq!(parse_amz_date(&amz_date(t)), Some(t));
        }
        for bad in [
            "",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "2015083xT123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
