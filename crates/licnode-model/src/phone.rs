//! Telephone numbers as people write them: mobile, landline with area code, extensions.

/// The fewest digits a telephone number may have (a local landline number).
pub const MIN_DIGITS: usize = 7;
/// The most digits a telephone number may have (country code, area code, number, extension).
pub const MAX_DIGITS: usize = 20;

/// What is wrong with a telephone number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// A character other than digits, `-`, `+`, spaces, parentheses or an extension mark.
    #[error("{0:?} does not belong in a telephone number")]
    BadCharacter(char),
    /// `+` anywhere but at the start.
    #[error("+ may only start a telephone number")]
    MisplacedPlus,
    /// Too few or too many digits.
    #[error("a telephone number has {MIN_DIGITS} to {MAX_DIGITS} digits, this has {0}")]
    DigitCount(usize),
}

/// Checks a telephone number and returns it trimmed, with full-width characters folded and runs
/// of spaces collapsed. Accepted: digits, `-`, `+` (leading), spaces, parentheses, and an
/// extension written `转`, `ext`, `x` or `#` (`0571-88880000转123`).
pub fn normalise(text: &str) -> Result<String, PhoneError> {
    let folded = crate::text::fold_full_width(text);
    let collapsed = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut digit_count = 0;
    let mut previous_was_extension_letter = false;
    for (index, character) in collapsed.char_indices() {
        match character {
            '0'..='9' => digit_count += 1,
            '+' if index == 0 => {}
            '+' => return Err(PhoneError::MisplacedPlus),
            '-' | ' ' | '(' | ')' | '转' | '#' | ',' | '.' => {}
            'x' | 'X' => {}
            'e' | 'E' if collapsed[index..].to_ascii_lowercase().starts_with("ext") => {
                previous_was_extension_letter = true;
            }
            't' | 'T' if previous_was_extension_letter => {}
            other => return Err(PhoneError::BadCharacter(other)),
        }
    }
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digit_count) {
        return Err(PhoneError::DigitCount(digit_count));
    }
    Ok(collapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_and_landline_numbers_are_accepted() {
        for number in [
            "13812345678",
            "0571-88881234",
            "(0571) 8888 1234",
            "+86 138 1234 5678",
            "010-6520 1234",
            "0571-88881234转806",
            "0571-88881234 ext. 806",
            "400-810-8888",
        ] {
            assert_eq!(normalise(number).as_deref(), Ok(number), "{number}");
        }
    }

    #[test]
    fn spaces_are_collapsed_and_full_width_is_folded() {
        assert_eq!(
            normalise("  ０５７１－８８８８１２３４  ").as_deref(),
            Ok("0571-88881234")
        );
        assert_eq!(
            normalise("138  1234\u{3000}5678").as_deref(),
            Ok("138 1234 5678")
        );
    }

    #[test]
    fn too_few_or_too_many_digits_are_refused() {
        assert_eq!(normalise("12345"), Err(PhoneError::DigitCount(5)));
        assert_eq!(normalise(""), Err(PhoneError::DigitCount(0)));
        assert_eq!(
            normalise("123456789012345678901"),
            Err(PhoneError::DigitCount(21))
        );
    }

    #[test]
    fn letters_and_stray_plus_signs_are_refused() {
        assert_eq!(
            normalise("138-1234-567a"),
            Err(PhoneError::BadCharacter('a'))
        );
        assert_eq!(normalise("0571+88881234"), Err(PhoneError::MisplacedPlus));
        assert_eq!(
            normalise("电话0571-88881234"),
            Err(PhoneError::BadCharacter('电'))
        );
    }
}
