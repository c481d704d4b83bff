//! Whole numbers, from JSON numbers or from the text of a CSV cell.

use serde_json::Value;

/// What is wrong with a whole number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntegerError {
    /// A JSON number with a fraction, or out of the i64 range.
    #[error("{0} is not a whole number in range")]
    NotWhole(String),
    /// Text that is not a whole number.
    #[error("{0:?} is not a whole number")]
    BadText(String),
    /// Neither a number nor text.
    #[error("expected a number")]
    WrongType,
}

/// Reads a whole number from a JSON number (`12`, `12.0`) or text (`"12"`, `" +12 "`,
/// `"1,200"` with thousands separators, full-width digits).
pub fn from_json(value: &Value) -> Result<i64, IntegerError> {
    match value {
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                return Ok(integer);
            }
            match number.as_f64() {
                Some(float)
                    if float.fract() == 0.0
                        && (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0)
                            .contains(&float) =>
                {
                    // Exactly representable whole number within ±2^53.
                    Ok(float as i64)
                }
                _ => Err(IntegerError::NotWhole(number.to_string())),
            }
        }
        Value::String(text) => parse_text(text),
        _ => Err(IntegerError::WrongType),
    }
}

/// Reads a whole number from text.
pub fn parse_text(text: &str) -> Result<i64, IntegerError> {
    let compacted = crate::text::compact(text);
    let without_separators: String = compacted.chars().filter(|c| *c != ',').collect();
    let separators_ok = !compacted.contains(',') || thousands_grouping_ok(&compacted);
    let digits = without_separators
        .strip_prefix(['+', '-'])
        .unwrap_or(&without_separators);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) || !separators_ok {
        return Err(IntegerError::BadText(text.to_owned()));
    }
    without_separators
        .trim_start_matches('+')
        .parse::<i64>()
        .map_err(|_| IntegerError::NotWhole(text.to_owned()))
}

/// `1,234,567`: groups of three after the first group of one to three digits.
fn thousands_grouping_ok(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut groups = unsigned.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|group| (1..=3).contains(&group.len()));
    first_ok && groups.all(|group| group.len() == 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_without_fraction_are_accepted() {
        assert_eq!(from_json(&json!(42)), Ok(42));
        assert_eq!(from_json(&json!(-7)), Ok(-7));
        assert_eq!(from_json(&json!(12.0)), Ok(12));
    }

    #[test]
    fn fractions_and_huge_numbers_are_refused() {
        assert!(matches!(
            from_json(&json!(1.5)),
            Err(IntegerError::NotWhole(_))
        ));
        assert!(matches!(
            from_json(&json!(1e300)),
            Err(IntegerError::NotWhole(_))
        ));
        assert!(matches!(
            from_json(&json!(u64::MAX)),
            Err(IntegerError::NotWhole(_))
        ));
    }

    #[test]
    fn csv_text_is_converted() {
        assert_eq!(from_json(&json!("42")), Ok(42));
        assert_eq!(from_json(&json!(" +42 ")), Ok(42));
        assert_eq!(from_json(&json!("-3")), Ok(-3));
        assert_eq!(from_json(&json!("1,234,567")), Ok(1_234_567));
        assert_eq!(from_json(&json!("４２")), Ok(42));
    }

    #[test]
    fn non_numeric_text_is_refused() {
        for text in [
            "",
            "abc",
            "4.2",
            "1,23",
            "12,3456",
            "--1",
            "+",
            "99999999999999999999",
        ] {
            assert!(from_json(&json!(text)).is_err(), "{text}");
        }
    }

    #[test]
    fn other_json_types_are_the_wrong_type() {
        assert_eq!(from_json(&json!(true)), Err(IntegerError::WrongType));
        assert_eq!(from_json(&json!([1])), Err(IntegerError::WrongType));
    }
}
