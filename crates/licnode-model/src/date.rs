//! Calendar dates (`YYYY-MM-DD`) and RFC 3339 date-times, parsed from what people type.

use std::fmt;
use std::str::FromStr;

/// The earliest year accepted in a date (the oldest reviewer's birth year is well after it).
pub const MIN_YEAR: u16 = 1900;
/// The latest year accepted in a date.
pub const MAX_YEAR: u16 = 2999;

/// The offset assumed for a date-time typed without one: China Standard Time.
pub const DEFAULT_OFFSET: &str = "+08:00";

/// A real calendar date between [`MIN_YEAR`] and [`MAX_YEAR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

/// What is wrong with a date or date-time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not one of the accepted shapes.
    #[error("{0:?} is not a date: write YYYY-MM-DD (also accepted: YYYY/MM/DD, YYYY年M月D日)")]
    BadShape(String),
    /// The right shape but no such day.
    #[error("{0} is not a real calendar date")]
    NoSuchDay(String),
    /// Not an RFC 3339 date-time.
    #[error("{0:?} is not a date and time: write 2024-05-01T09:30:00+08:00")]
    BadDateTime(String),
}

fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    /// The date, if it is a real day between [`MIN_YEAR`] and [`MAX_YEAR`].
    pub fn new(year: u16, month: u8, day: u8) -> Option<CalendarDate> {
        let valid = (MIN_YEAR..=MAX_YEAR).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(CalendarDate { year, month, day })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before), for differences between dates.
    pub fn day_number(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// Parses eight digits `YYYYMMDD` (as embedded in identity numbers).
    pub fn parse_compact(digits: &str) -> Option<CalendarDate> {
        if digits.len() != 8 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let year = digits.get(0..4)?.parse().ok()?;
        let month = digits.get(4..6)?.parse().ok()?;
        let day = digits.get(6..8)?.parse().ok()?;
        CalendarDate::new(year, month, day)
    }

    /// Parses `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYY年M月D日` or `YYYYMMDD`; months
    /// and days may have one digit; full-width digits and surrounding spaces are accepted.
    pub fn parse(text: &str) -> Result<CalendarDate, DateError> {
        let compacted = crate::text::compact(text);
        let bad_shape = || DateError::BadShape(text.to_owned());
        if compacted.len() == 8 && compacted.bytes().all(|byte| byte.is_ascii_digit()) {
            return CalendarDate::parse_compact(&compacted)
                .ok_or_else(|| DateError::NoSuchDay(compacted.clone()));
        }
        let (body, separators): (&str, &[char]) = if let Some(body) = compacted.strip_suffix('日')
        {
            (body, &['年', '月'])
        } else if compacted.contains('-') {
            (compacted.as_str(), &['-', '-'])
        } else if compacted.contains('/') {
            (compacted.as_str(), &['/', '/'])
        } else {
            (compacted.as_str(), &['.', '.'])
        };
        let mut parts = Vec::with_capacity(3);
        let mut rest = body;
        for separator in separators {
            let (part, after) = rest.split_once(*separator).ok_or_else(bad_shape)?;
            parts.push(part);
            rest = after;
        }
        parts.push(rest);
        let number = |part: &str, max_length: usize| -> Option<u16> {
            let ok = !part.is_empty()
                && part.len() <= max_length
                && part.bytes().all(|byte| byte.is_ascii_digit());
            ok.then(|| part.parse().ok()).flatten()
        };
        let (Some(year), Some(month), Some(day)) = (
            parts
                .first()
                .filter(|year| year.len() == 4)
                .and_then(|y| number(y, 4)),
            parts.get(1).and_then(|month| number(month, 2)),
            parts.get(2).and_then(|day| number(day, 2)),
        ) else {
            return Err(bad_shape());
        };
        let formatted = format!("{year:04}-{month:02}-{day:02}");
        let month = u8::try_from(month).map_err(|_| DateError::NoSuchDay(formatted.clone()))?;
        let day = u8::try_from(day).map_err(|_| DateError::NoSuchDay(formatted.clone()))?;
        CalendarDate::new(year, month, day).ok_or(DateError::NoSuchDay(formatted))
    }
}

impl fmt::Display for CalendarDate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:04}-{:02}-{:02}",
            self.year, self.month, self.day
        )
    }
}

impl FromStr for CalendarDate {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CalendarDate::parse(text)
    }
}

/// Parses a date-time and returns it as RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
/// A space may stand for `T`; `t` and `z` are upper-cased; a date-time without an offset is
/// taken as China Standard Time ([`DEFAULT_OFFSET`]); seconds may be left out (`:00`).
pub fn parse_date_time(text: &str) -> Result<String, DateError> {
    let trimmed = crate::text::fold_full_width(text).trim().to_owned();
    let bad = || DateError::BadDateTime(text.to_owned());
    let (date_part, time_and_offset) = trimmed.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    if date_part.len() != 10 || date_part.as_bytes().get(4) != Some(&b'-') {
        return Err(bad());
    }
    let date = CalendarDate::parse(date_part).map_err(|_| bad())?;
    let time_and_offset = time_and_offset.trim_start();

    // Split the offset off the time.
    let (time_part, offset) = if let Some(time) = time_and_offset
        .strip_suffix('Z')
        .or_else(|| time_and_offset.strip_suffix('z'))
    {
        (time, "Z".to_owned())
    } else if let Some(sign_position) = time_and_offset.rfind(['+', '-']) {
        let (time, offset) = time_and_offset.split_at(sign_position);
        (time, parse_offset(offset).ok_or_else(bad)?)
    } else {
        (time_and_offset, DEFAULT_OFFSET.to_owned())
    };

    let (clock, fraction) = match time_part.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time_part, None),
    };
    let clock_parts: Vec<&str> = clock.split(':').collect();
    let two_digits = |part: &&str, max: u8| -> Option<u8> {
        let ok = part.len() == 2 && part.bytes().all(|byte| byte.is_ascii_digit());
        ok.then(|| part.parse::<u8>().ok())
            .flatten()
            .filter(|value| *value <= max)
    };
    let (hour, minute, second) = match clock_parts.as_slice() {
        [hour, minute] if fraction.is_none() => {
            (two_digits(hour, 23), two_digits(minute, 59), Some(0))
        }
        [hour, minute, second] => (
            two_digits(hour, 23),
            two_digits(minute, 59),
            two_digits(second, 59),
        ),
        _ => return Err(bad()),
    };
    let (Some(hour), Some(minute), Some(second)) = (hour, minute, second) else {
        return Err(bad());
    };
    let fraction_text = match fraction {
        Some(digits)
            if !digits.is_empty()
                && digits.len() <= 9
                && digits.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            format!(".{digits}")
        }
        Some(_) => return Err(bad()),
        None => String::new(),
    };
    Ok(format!(
        "{date}T{hour:02}:{minute:02}:{second:02}{fraction_text}{offset}"
    ))
}

/// `+08:00`, `+0800` or `+08` → `+08:00`.
fn parse_offset(offset: &str) -> Option<String> {
    let (sign, digits) = offset.split_at_checked(1)?;
    let digits: String = digits
        .chars()
        .filter(|character| *character != ':')
        .collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: u8 = digits.get(0..2)?.parse().ok()?;
    let minutes: u8 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .unwrap_or("00")
        .parse()
        .ok()?;
    (hours <= 23 && minutes <= 59).then(|| format!("{sign}{hours:02}:{minutes:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Result<String, DateError> {
        CalendarDate::parse(text).map(|date| date.to_string())
    }

    #[test]
    fn iso_dates_parse_to_themselves() {
        assert_eq!(date("2024-05-01").as_deref(), Ok("2024-05-01"));
    }

    #[test]
    fn slashes_dots_chinese_and_compact_dates_are_normalised() {
        for written in [
            "2024/5/1",
            "2024/05/01",
            "2024.5.1",
            "2024年5月1日",
            "2024年05月01日",
            " 2024-5-1 ",
            "20240501",
            "２０２４－０５－０１",
        ] {
            assert_eq!(date(written).as_deref(), Ok("2024-05-01"), "{written}");
        }
    }

    #[test]
    fn impossible_days_are_refused() {
        assert!(matches!(date("2023-02-29"), Err(DateError::NoSuchDay(_))));
        assert!(matches!(date("2024-04-31"), Err(DateError::NoSuchDay(_))));
        assert!(matches!(date("2024-13-01"), Err(DateError::NoSuchDay(_))));
        assert!(matches!(date("2024-00-10"), Err(DateError::NoSuchDay(_))));
        assert!(matches!(date("1899-12-31"), Err(DateError::NoSuchDay(_))));
        assert_eq!(date("2024-02-29").as_deref(), Ok("2024-02-29"));
        assert_eq!(date("2000-02-29").as_deref(), Ok("2000-02-29"));
        assert!(date("1900-02-29").is_err());
    }

    #[test]
    fn malformed_dates_are_refused() {
        for written in [
            "",
            "2024",
            "24-05-01",
            "2024-5",
            "2024-05-01-02",
            "2024-0a-01",
            "2024/05-01",
            "2024-005-01",
            "May 1, 2024",
            "2024年5月1",
        ] {
            assert!(date(written).is_err(), "{written}");
        }
    }

    #[test]
    fn dates_order_and_count_days() {
        let (Ok(earlier), Ok(later)) = (
            CalendarDate::parse("2023-12-31"),
            CalendarDate::parse("2024-03-01"),
        ) else {
            panic!("valid dates");
        };
        assert!(earlier < later);
        assert_eq!(later.day_number() - earlier.day_number(), 61);
        assert_eq!(
            CalendarDate::new(1970, 1, 1).map(CalendarDate::day_number),
            Some(0)
        );
    }

    #[test]
    fn rfc3339_date_times_are_kept() {
        for written in [
            "2024-05-01T09:30:00+08:00",
            "2024-05-01T01:30:00Z",
            "2024-05-01T01:30:00.123456Z",
            "2024-05-01T09:30:00-05:30",
        ] {
            assert_eq!(parse_date_time(written).as_deref(), Ok(written));
        }
    }

    #[test]
    fn date_time_variants_are_normalised_and_default_to_china_time() {
        assert_eq!(
            parse_date_time("2024-05-01 09:30:00").as_deref(),
            Ok("2024-05-01T09:30:00+08:00")
        );
        assert_eq!(
            parse_date_time("2024-05-01t01:30:00z").as_deref(),
            Ok("2024-05-01T01:30:00Z")
        );
        assert_eq!(
            parse_date_time("2024-05-01T09:30+0800").as_deref(),
            Ok("2024-05-01T09:30:00+08:00")
        );
    }

    #[test]
    fn malformed_date_times_are_refused() {
        for written in [
            "",
            "2024-05-01",
            "2024-02-30T09:30:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T09:60:00Z",
            "2024-05-01T09:30:00+25:00",
            "2024-05-01T9:30:00Z",
            "2024/05/01T09:30:00Z",
            "2024-05-01T09:30:00.Z",
            "yesterday",
        ] {
            assert!(parse_date_time(written).is_err(), "{written}");
        }
    }
}
