//! Dates as a Japanese holder reads them: the calendar day in Japan (UTC+9, no daylight saving),
//! whatever the PC's time zone.

/// `(year, month, day)` in Japan of the Unix time `secs`.
pub fn jst_ymd(secs: i64) -> (i64, u32, u32) {
    let days = (secs + 9 * 3600).div_euclid(86_400);
    civil_from_days(days)
}

/// `(hour, minute)` in Japan of the Unix time `secs`.
pub fn jst_hm(secs: i64) -> (u32, u32) {
    let in_day = (secs + 9 * 3600).rem_euclid(86_400);
    ((in_day / 3600) as u32, (in_day % 3600 / 60) as u32)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_turn_at_midnight_in_japan() {
        assert_eq!(jst_ymd(0), (1970, 1, 1));
        // 2031-03-31T14:59:59Z is 23:59:59 in Japan; one second later it is 1 April there.
        assert_eq!(jst_ymd(1_932_735_599), (2031, 3, 31));
        assert_eq!(jst_ymd(1_932_735_600), (2031, 4, 1));
        assert_eq!(jst_ymd(951_782_400), (2000, 2, 29));
        assert_eq!(jst_ymd(-86_400), (1969, 12, 31));
        assert_eq!(jst_hm(1_932_735_599), (23, 59));
        assert_eq!(jst_hm(1_932_735_600), (0, 0));
        assert_eq!(jst_hm(0), (9, 0));
    }
}
