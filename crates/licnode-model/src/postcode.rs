//! Chinese postcodes (邮政编码): six digits.

/// What is wrong with a postcode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a postcode: six digits, e.g. 310012")]
pub struct PostcodeError(pub String);

/// Checks six digits (spaces and full-width digits tolerated) and returns them.
pub fn normalise(text: &str) -> Result<String, PostcodeError> {
    let compacted = crate::text::compact(text);
    if compacted.len() == 6 && compacted.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(compacted)
    } else {
        Err(PostcodeError(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_a_postcode() {
        assert_eq!(normalise("310012").as_deref(), Ok("310012"));
        assert_eq!(normalise(" 010 020 ").as_deref(), Ok("010020"));
        assert_eq!(normalise("３１００１２").as_deref(), Ok("310012"));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in ["", "31001", "3100120", "31001a", "310-012"] {
            assert!(normalise(text).is_err(), "{text}");
        }
    }
}
