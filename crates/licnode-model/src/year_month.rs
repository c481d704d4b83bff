//! A year and month (`YYYY-MM`): the reviewer database's 出生年月 (Art. 15) is a month, not a
//! day. Typed as `1980-05`, `1980/5`, `1980.05`, `1980年5月` or `198005`; a full date (as older
//! records hold) is kept to its year and month.

use std::fmt;

use crate::date::{CalendarDate, MAX_YEAR, MIN_YEAR};

/// A month of a year between [`MIN_YEAR`] and [`MAX_YEAR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

/// Not a year and month.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a year and month: write YYYY-MM (also accepted: YYYY/MM, YYYY年M月, a full date)"
)]
pub struct YearMonthError(pub String);

impl YearMonth {
    /// The month, if the year is between [`MIN_YEAR`] and [`MAX_YEAR`] and the month 1–12.
    pub fn new(year: u16, month: u8) -> Option<YearMonth> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    /// The first day of the month, to compare with dates.
    pub fn first_day(self) -> Option<CalendarDate> {
        CalendarDate::new(self.year, self.month, 1)
    }

    /// `1980年5月`.
    pub fn label_zh(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// Parses a year and month, or a full date kept to its year and month; full-width digits
    /// and surrounding spaces are accepted.
    pub fn parse(text: &str) -> Result<YearMonth, YearMonthError> {
        if let Ok(date) = CalendarDate::parse(text) {
            return Ok(YearMonth {
                year: date.year(),
                month: date.month(),
            });
        }
        let compacted = crate::text::compact(text);
        let bad = || YearMonthError(text.to_owned());
        let (year, month) = if compacted.len() == 6 && compacted.bytes().all(|b| b.is_ascii_digit())
        {
            compacted.split_at(4)
        } else if let Some(body) = compacted.strip_suffix('月') {
            body.split_once('年').ok_or_else(bad)?
        } else {
            ['-', '/', '.']
                .iter()
                .find_map(|separator| compacted.split_once(*separator))
                .ok_or_else(bad)?
        };
        let digits = |part: &str, length: std::ops::RangeInclusive<usize>| {
            (length.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| part.parse::<u16>().ok())
                .flatten()
        };
        let (Some(year), Some(month)) = (digits(year, 4..=4), digits(month, 1..=2)) else {
            return Err(bad());
        };
        u8::try_from(month)
            .ok()
            .and_then(|month| YearMonth::new(year, month))
            .ok_or_else(bad)
    }
}

/// A stored 出生年月 as people see it: `YYYY-MM`, also when an older record holds a full date;
/// anything unreadable as it is.
pub fn shown(stored: &str) -> String {
    YearMonth::parse(stored).map_or_else(|_| stored.to_string(), |month| month.to_string())
}

impl fmt::Display for YearMonth {
    /// `YYYY-MM`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<String> {
        YearMonth::parse(text).ok().map(|month| month.to_string())
    }

    #[test]
    fn a_year_and_month_is_accepted_in_the_ways_people_write_it() {
        for text in [
            "1980-05",
            "1980-5",
            "1980/05",
            "1980.5",
            "1980年5月",
            "198005",
            " １９８０-０５ ",
        ] {
            assert_eq!(parsed(text).as_deref(), Some("1980-05"), "{text}");
        }
    }

    #[test]
    fn a_full_date_is_kept_to_its_year_and_month() {
        assert_eq!(parsed("1980-05-17").as_deref(), Some("1980-05"));
        assert_eq!(parsed("1980年5月17日").as_deref(), Some("1980-05"));
        assert_eq!(
            YearMonth::parse("1980-05-17").map(YearMonth::label_zh),
            Ok("1980年5月".into())
        );
    }

    #[test]
    fn a_stored_full_date_is_shown_as_its_year_and_month() {
        assert_eq!(shown("1975-06-15"), "1975-06");
        assert_eq!(shown("1975-06"), "1975-06");
        assert_eq!(shown("不详"), "不详");
    }

    #[test]
    fn no_month_thirteen_no_short_year_and_no_year_alone() {
        for text in [
            "1980-13",
            "1980-00",
            "80-05",
            "1980",
            "1899-12",
            "1980-05-32",
            "五月",
            "",
        ] {
            assert_eq!(parsed(text), None, "{text}");
        }
    }
}
