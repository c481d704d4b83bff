//! Resident identity numbers (公民身份号码, GB 11643-1999), as kept for reviewers (Art. 15).
//!
//! 18 characters: address code (6), birth date `YYYYMMDD` (8), sequence (3, odd for men, even for
//! women) and a check character from weights `2^(17-i) mod 11` mapped through `10X98765432`.

use crate::date::CalendarDate;

/// The check characters by `sum mod 11`.
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";

/// What is wrong with an identity number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("an identity number has 18 characters, this has {0}")]
    WrongLength(usize),
    /// Not 17 digits followed by a digit or X.
    #[error("an identity number is 17 digits followed by a digit or X")]
    BadCharacters,
    /// The embedded birth date is not a real date.
    #[error("the birth date {0} in the identity number is not a real date")]
    BadBirthDate(String),
    /// The check character does not match.
    #[error("the check character should be {expected}, not {found}")]
    CheckFailed {
        /// The check character the first 17 digits call for.
        expected: char,
        /// The one given.
        found: char,
    },
}

/// A parsed identity number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber {
    /// The canonical 18 characters, upper-case X.
    pub number: String,
    /// The birth date it embeds.
    pub birth_date: CalendarDate,
}

impl IdNumber {
    /// Whether the number belongs to a man (odd sequence digit).
    pub fn is_male(&self) -> bool {
        self.number
            .as_bytes()
            .get(16)
            .is_some_and(|digit| (digit - b'0') % 2 == 1)
    }
}

/// The check character for the first 17 digits; `None` if they are not 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let mut sum = 0_u32;
    for (index, digit) in first17.bytes().enumerate() {
        let weight = (1_u32 << (17 - index)) % 11;
        sum += u32::from(digit - b'0') * weight;
    }
    CHECK_CHARACTERS
        .get((sum % 11) as usize)
        .map(|byte| char::from(*byte))
}

/// Parses an identity number: spaces removed, full-width folded, lower-case x accepted.
pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
    let number = crate::text::compact(text).to_ascii_uppercase();
    let length = number.chars().count();
    if length != 18 {
        return Err(IdNumberError::WrongLength(length));
    }
    let (body, last) = number.split_at(17);
    let last_ok = last == "X" || last.bytes().all(|byte| byte.is_ascii_digit());
    let Some(expected) = check_character(body).filter(|_| last_ok) else {
        return Err(IdNumberError::BadCharacters);
    };
    let birth = body.get(6..14).unwrap_or_default();
    let birth_date = CalendarDate::parse_compact(birth)
        .ok_or_else(|| IdNumberError::BadBirthDate(birth.to_owned()))?;
    let found = last.chars().next().unwrap_or(' ');
    if found != expected {
        return Err(IdNumberError::CheckFailed { expected, found });
    }
    Ok(IdNumber { number, birth_date })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_is_valid() {
        // The example of GB 11643-1999.
        let parsed = parse("11010519491231002X");
        assert!(parsed.is_ok(), "{parsed:?}");
        let Ok(parsed) = parsed else { return };
        assert_eq!(parsed.birth_date.to_string(), "1949-12-31");
        assert!(!parsed.is_male());
        assert_eq!(check_character("11010519491231002"), Some('X'));
    }

    #[test]
    fn lower_case_x_and_spaces_are_accepted() {
        assert_eq!(
            parse(" 110105 19491231 002x ").map(|id| id.number),
            Ok("11010519491231002X".to_owned())
        );
    }

    #[test]
    fn a_wrong_check_character_is_refused() {
        assert_eq!(
            parse("110105194912310021"),
            Err(IdNumberError::CheckFailed {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn an_impossible_birth_date_is_refused() {
        let body = "44030419990230123";
        let check = check_character(body).unwrap_or('0');
        assert_eq!(
            parse(&format!("{body}{check}")),
            Err(IdNumberError::BadBirthDate("19990230".to_owned()))
        );
    }

    #[test]
    fn wrong_lengths_and_characters_are_refused() {
        assert_eq!(
            parse("11010519491231002"),
            Err(IdNumberError::WrongLength(17))
        );
        assert_eq!(
            parse("1101051949123100X2"),
            Err(IdNumberError::BadCharacters)
        );
        assert_eq!(
            parse("11010519491231002Y"),
            Err(IdNumberError::BadCharacters)
        );
        assert_eq!(
            parse("A1010519491231002X"),
            Err(IdNumberError::BadCharacters)
        );
    }

    #[test]
    fn the_sequence_digit_tells_the_sex() {
        let body = "33010619800101001";
        let check = check_character(body).unwrap_or('0');
        assert!(parse(&format!("{body}{check}")).is_ok_and(|id| id.is_male()));
    }
}
