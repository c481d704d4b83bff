//! Yes/no values, from JSON booleans or from the text of a CSV cell (是/否, true/false).

use serde_json::Value;

/// What is wrong with a yes/no value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BooleanError {
    /// Text that is not a recognised yes or no.
    #[error("{0:?} is not yes or no: write true/false or 是/否")]
    BadText(String),
    /// Neither a boolean nor text.
    #[error("expected true or false")]
    WrongType,
}

/// Reads a boolean from JSON `true`/`false` or text: `true`/`false`, `yes`/`no`, `y`/`n`,
/// `1`/`0` (any case), `是`/`否`, `有`/`无`, `对`/`错`.
pub fn from_json(value: &Value) -> Result<bool, BooleanError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) => parse_text(text),
        _ => Err(BooleanError::WrongType),
    }
}

/// Reads a boolean from text.
pub fn parse_text(text: &str) -> Result<bool, BooleanError> {
    let compacted = crate::text::compact(text).to_lowercase();
    match compacted.as_str() {
        "true" | "yes" | "y" | "1" | "是" | "有" | "对" => Ok(true),
        "false" | "no" | "n" | "0" | "否" | "无" | "错" => Ok(false),
        _ => Err(BooleanError::BadText(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_booleans_are_themselves() {
        assert_eq!(from_json(&json!(true)), Ok(true));
        assert_eq!(from_json(&json!(false)), Ok(false));
    }

    #[test]
    fn chinese_and_english_words_from_csv_are_converted() {
        assert_eq!(from_json(&json!("是")), Ok(true));
        assert_eq!(from_json(&json!("否")), Ok(false));
        assert_eq!(from_json(&json!("TRUE")), Ok(true));
        assert_eq!(from_json(&json!(" false ")), Ok(false));
        assert_eq!(from_json(&json!("1")), Ok(true));
    }

    #[test]
    fn other_text_and_types_are_refused() {
        assert!(matches!(
            from_json(&json!("maybe")),
            Err(BooleanError::BadText(_))
        ));
        assert!(matches!(
            from_json(&json!("")),
            Err(BooleanError::BadText(_))
        ));
        assert_eq!(from_json(&json!(1)), Err(BooleanError::WrongType));
    }
}
