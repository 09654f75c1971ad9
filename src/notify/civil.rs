//! Calendar arithmetic for RFC 3339 and HTTP-date, so that no time crate is
//! needed just to format one timestamp (Howard Hinnant's civil algorithms).

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1..=12, `day` 1..=31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    // Counting years from March puts the leap day at the end of the year.
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both values are bounded by construction (1..=31, 1..=12).
    (year, day_u32(month), day_u32(day))
}

fn day_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds.
pub fn format_rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The current time in unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    unix_of(SystemTime::now())
}

/// Unix seconds of a `SystemTime`, negative before the epoch.
pub fn unix_of(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Unix seconds of an HTTP-date in any of the three forms RFC 9110 §5.6.7
/// obliges recipients to accept (IMF-fixdate, RFC 850, asctime).
pub fn parse_http_date(value: &str) -> Option<i64> {
    let t: Vec<&str> = value.split_whitespace().collect();
    let (day, mon, year, hms) = match t.as_slice() {
        [_, day, mon, year, hms, "GMT"] => (*day, *mon, year.parse().ok()?, *hms),
        [_, dmy, hms, "GMT"] => {
            let mut p = dmy.split('-');
            let (day, mon, yy) = (p.next()?, p.next()?, p.next()?);
            let yy: i64 = yy.parse().ok()?;
            // Two-digit years: RFC 9110 says to read them as the nearest past century.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (day, mon, year, *hms)
        }
        [_, mon, day, hms, year] => (*day, *mon, year.parse().ok()?, *hms),
        _ => return None,
    };
    let month = MONTHS.iter().position(|m| *m == mon)? + 1;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let mut p = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, s) = (p.next()??, p.next()??, p.next()??);
    if p.next().is_some()
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..61).contains(&s)
    {
        return None;
    }
    let days = days_from_civil(year, u32::try_from(month).ok()?, day);
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_over_four_centuries_and_before_the_epoch() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_649_367_553), "2022-04-07T21:39:13Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn http_dates_parse_in_all_three_forms() {
        let want = Some(784_111_777);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), want);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), want);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), want);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_http_date("soon"), None);
    }
}
