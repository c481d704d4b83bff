//! Typed configuration values, parsed when the file is read (issue 17, item 4): durations
//! written for people (`90s`, `10m`, `12h`, `45d`, read with `humantime`) and cron schedules.
//! A value that does not parse stops the node at load, naming its `[section] key`, before
//! anything starts.

use std::str::FromStr;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

const DURATION_EXAMPLES: &str = "a duration such as 45d, 12h, 30m or 90s";

/// Reads a duration written for people: numbers with units (`45d`, `12h`, `30m`, `90s`,
/// `1h 30m`; `humantime`'s units). A bare number has no unit and is refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text)
        .map_err(|error| format!("{text:?} is not {DURATION_EXAMPLES} ({error})"))
}

/// Writes a duration in the largest unit that divides it exactly, but in the next smaller one
/// rather than a count of one (`45d`, `24h`, `10m`, `60s`, as people write them), so that what
/// [`parse_duration`] reads back is the same duration.
pub fn format_duration(duration: Duration) -> String {
    const UNITS: [(u64, &str); 4] = [(24 * 60 * 60, "d"), (60 * 60, "h"), (60, "m"), (1, "s")];
    if duration.subsec_nanos() == 0 {
        let seconds = duration.as_secs();
        if seconds == 0 {
            return "0s".to_string();
        }
        for (unit_seconds, unit) in UNITS {
            if seconds.is_multiple_of(unit_seconds) && (seconds > unit_seconds || unit == "s") {
                return format!("{}{unit}", seconds / unit_seconds);
            }
        }
    }
    humantime::format_duration(duration).to_string()
}

/// `#[serde(with = "human_duration")]`: a [`Duration`] kept in the file as a human string.
pub mod human_duration {
    use super::*;

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*duration))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "nonzero_human_duration")]`: like [`human_duration`], refusing zero, for the
/// period a loop waits between runs (a zero period would spin, or stop the loop).
pub mod nonzero_human_duration {
    use super::*;

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        human_duration::serialize(duration, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let duration = human_duration::deserialize(deserializer)?;
        if duration.is_zero() {
            return Err(D::Error::custom("must be longer than zero"));
        }
        Ok(duration)
    }
}

/// Reads a cron expression (`sec min hour day month weekday [year]`, the `cron` crate's
/// syntax); an empty text means "off".
pub fn parse_cron(text: &str) -> Result<Option<cron::Schedule>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    cron::Schedule::from_str(text).map(Some).map_err(|error| {
        format!("{text:?} is not a cron expression (sec min hour day month weekday): {error}")
    })
}

/// `#[serde(with = "cron_or_off")]`: a cron schedule, `""` (`None`) meaning off.
pub mod cron_or_off {
    use super::*;

    pub fn serialize<S: Serializer>(
        schedule: &Option<cron::Schedule>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(schedule.as_ref().map(cron::Schedule::source).unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<cron::Schedule>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_cron(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 60 * 60;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("45d"), Ok(Duration::from_secs(45 * DAY)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 10m "), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        for refused in ["45", "d", "", "soon", "-5s", "5 parsecs"] {
            let error = parse_duration(refused).expect_err(refused);
            assert!(error.contains("is not a duration"), "{refused}: {error}");
        }
    }

    #[test]
    fn a_written_duration_reads_back_as_the_same_duration() {
        for (duration, text) in [
            (Duration::from_secs(45 * DAY), "45d"),
            (Duration::from_secs(DAY), "24h"),
            (Duration::from_secs(60), "60s"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_secs(12 * 60 * 60), "12h"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(90), "90s"),
            (Duration::ZERO, "0s"),
            (Duration::from_millis(1500), "1s 500ms"),
        ] {
            assert_eq!(format_duration(duration), text);
            assert_eq!(parse_duration(text), Ok(duration), "{text}");
        }
    }

    #[test]
    fn an_empty_cron_expression_is_off_and_a_bad_one_is_refused() {
        assert!(parse_cron("  ").expect("empty").is_none());
        let schedule = parse_cron("0 0 2 1 * *").expect("monthly").expect("on");
        assert_eq!(schedule.source(), "0 0 2 1 * *");
        let error = parse_cron("every month").expect_err("not cron");
        assert!(error.contains("is not a cron expression"), "{error}");
    }
}
