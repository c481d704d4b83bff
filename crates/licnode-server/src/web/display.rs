//! How the administration pages show what they read: times in China time, sizes in bytes,
//! and the link to a page of the same view further on.

/// A moment as China time (UTC+8), to the second: `2026-12-05 16:14:00`.
pub(crate) fn china_time(millis: i64) -> String {
    let Some(time) = chrono::DateTime::from_timestamp_millis(millis) else {
        return String::new();
    };
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(china) => time
            .with_timezone(&china)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    }
}

/// A moment, or a dash when there is none.
pub(crate) fn china_time_or_dash(millis: Option<i64>) -> String {
    millis.map_or_else(|| "—".to_string(), china_time)
}

/// A size for people: `12.3 MB`.
pub(crate) fn byte_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `path` with the query `params` (empty values left out) and `name=value` in place of any
/// earlier `name`.
pub(crate) fn link_with(
    path: &str,
    params: &[(String, String)],
    name: &str,
    value: &str,
) -> String {
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(known, known_value)| known != name && !known_value.is_empty())
        .cloned()
        .collect();
    kept.push((name.to_string(), value.to_string()));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{path}?{query}")
}

/// The value of query parameter `name`, trimmed; empty when absent.
pub(crate) fn parameter<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value.trim())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_shown_in_china_time() {
        // 2026-12-05T08:14:00Z is 16:14 in Beijing.
        assert_eq!(china_time(1_796_458_440_000), "2026-12-05 16:14:00");
    }

    #[test]
    fn sizes_are_shown_in_the_largest_fitting_unit() {
        assert_eq!(byte_size(512), "512 B");
        assert_eq!(byte_size(1536), "1.5 KB");
        assert_eq!(byte_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }
}
