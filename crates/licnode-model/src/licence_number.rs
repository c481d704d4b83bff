//! Production-licence certificate numbers (证书编号, Art. 11, 27, 28): parsing and normalising.
//!
//! A number is `XK` + 2 digits (product category) + 3 digits (unit) + 5 digits (serial), written
//! `XK13-006-00032`, optionally led by the issuing province's abbreviation: `(苏)XK13-006-00032`,
//! also seen as `（苏）XK13-006-00032` and `苏XK13-006-00032`. [`normalise`] accepts these and
//! the usual typing variants and gives the canonical form.

use std::fmt;
use std::str::FromStr;

use crate::divisions::PROVINCE_ABBREVIATIONS;

/// A parsed licence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenceNumber {
    province_abbreviation: Option<char>,
    /// Ten ASCII digits: category (2), unit (3), serial (5).
    digits: String,
}

/// What is wrong with a licence number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenceNumberError {
    /// Nothing left after removing spaces.
    #[error("the licence number is empty")]
    Empty,
    /// A leading character that is not one of the 31 provincial abbreviations.
    #[error(
        "{0:?} is not a provincial abbreviation (京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新)"
    )]
    UnknownProvince(String),
    /// An opening parenthesis without its closing one, or the reverse.
    #[error("unbalanced parentheses around the provincial abbreviation")]
    UnbalancedParentheses,
    /// No `XK` where it should be.
    #[error("a licence number starts with XK (after the optional provincial abbreviation)")]
    MissingXk,
    /// The digits are not 2 + 3 + 5, hyphens in odd places, or other characters.
    #[error("expected XK + 2 digits + 3 digits + 5 digits, as in XK13-006-00032")]
    BadDigits,
}

impl LicenceNumber {
    /// Builds a number from its parts; `None` if the parts are not 2, 3 and 5 ASCII digits or the
    /// abbreviation is not a province's.
    pub fn from_parts(
        province_abbreviation: Option<char>,
        category_code: &str,
        unit_code: &str,
        serial: &str,
    ) -> Option<LicenceNumber> {
        let all_digits = |text: &str, length: usize| {
            text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit())
        };
        if !(all_digits(category_code, 2) && all_digits(unit_code, 3) && all_digits(serial, 5)) {
            return None;
        }
        if let Some(abbreviation) = province_abbreviation
            && !is_province_abbreviation(abbreviation)
        {
            return None;
        }
        Some(LicenceNumber {
            province_abbreviation,
            digits: format!("{category_code}{unit_code}{serial}"),
        })
    }

    /// The canonical form: `(苏)XK13-006-00032`, or `XK13-006-00032` without a prefix.
    pub fn canonical(&self) -> String {
        match self.province_abbreviation {
            Some(abbreviation) => format!("({abbreviation}){}", self.bare()),
            None => self.bare(),
        }
    }

    /// The number without the provincial prefix: `XK13-006-00032`.
    pub fn bare(&self) -> String {
        format!(
            "XK{}-{}-{}",
            self.category_code(),
            self.unit_code(),
            self.serial()
        )
    }

    /// The provincial abbreviation, if the number carries one.
    pub fn province_abbreviation(&self) -> Option<char> {
        self.province_abbreviation
    }

    /// The 2-digit product category code (`13`).
    pub fn category_code(&self) -> &str {
        self.digits.get(0..2).unwrap_or_default()
    }

    /// The 3-digit unit code (`006`).
    pub fn unit_code(&self) -> &str {
        self.digits.get(2..5).unwrap_or_default()
    }

    /// The 5-digit serial number (`00032`).
    pub fn serial(&self) -> &str {
        self.digits.get(5..10).unwrap_or_default()
    }
}

impl fmt::Display for LicenceNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.canonical())
    }
}

impl FromStr for LicenceNumber {
    type Err = LicenceNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        normalise(text)
    }
}

fn is_province_abbreviation(character: char) -> bool {
    PROVINCE_ABBREVIATIONS
        .iter()
        .any(|(_, abbreviation)| *abbreviation == character)
}

fn is_hyphen(character: char) -> bool {
    matches!(
        character,
        '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '－' | '﹣'
    )
}

/// Parses a licence number written any of the usual ways: with or without the provincial prefix
/// (`(苏)`, `（苏）`, `苏`), lower-case `xk`, full-width characters, spaces anywhere, hyphens
/// missing or written as dashes.
pub fn normalise(text: &str) -> Result<LicenceNumber, LicenceNumberError> {
    let compacted = crate::text::compact(text);
    if compacted.is_empty() {
        return Err(LicenceNumberError::Empty);
    }
    let characters: Vec<char> = compacted.chars().collect();
    let mut position = 0;

    // Optional provincial prefix.
    let mut province_abbreviation = None;
    let opens_with_parenthesis = matches!(characters.first(), Some('(' | '[' | '【'));
    if opens_with_parenthesis {
        position += 1;
    }
    if let Some(&candidate) = characters.get(position)
        && !candidate.is_ascii_alphanumeric()
        && !is_hyphen(candidate)
        && !matches!(candidate, ')' | ']' | '】')
    {
        if !is_province_abbreviation(candidate) {
            return Err(LicenceNumberError::UnknownProvince(candidate.to_string()));
        }
        province_abbreviation = Some(candidate);
        position += 1;
    }
    let closes_with_parenthesis = matches!(characters.get(position), Some(')' | ']' | '】'));
    if closes_with_parenthesis {
        position += 1;
    }
    if opens_with_parenthesis != closes_with_parenthesis
        || (opens_with_parenthesis && province_abbreviation.is_none())
    {
        return Err(LicenceNumberError::UnbalancedParentheses);
    }

    // XK
    let has_xk = matches!(
        (characters.get(position), characters.get(position + 1)),
        (Some('X' | 'x'), Some('K' | 'k'))
    );
    if !has_xk {
        return Err(LicenceNumberError::MissingXk);
    }
    position += 2;

    // [-] 2 digits [-] 3 digits [-] 5 digits
    let mut digits = String::with_capacity(10);
    for group_length in [2, 3, 5] {
        if characters.get(position).copied().is_some_and(is_hyphen) {
            position += 1;
        }
        for _ in 0..group_length {
            match characters.get(position) {
                Some(digit) if digit.is_ascii_digit() => digits.push(*digit),
                _ => return Err(LicenceNumberError::BadDigits),
            }
            position += 1;
        }
    }
    if position != characters.len() {
        return Err(LicenceNumberError::BadDigits);
    }
    Ok(LicenceNumber {
        province_abbreviation,
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Result<String, LicenceNumberError> {
        normalise(text).map(|number| number.canonical())
    }

    #[test]
    fn canonical_numbers_parse_back_to_themselves() {
        assert_eq!(canonical("XK13-006-00032").as_deref(), Ok("XK13-006-00032"));
        assert_eq!(
            canonical("(苏)XK13-006-00032").as_deref(),
            Ok("(苏)XK13-006-00032")
        );
    }

    #[test]
    fn every_way_of_writing_the_prefix_gives_half_width_parentheses() {
        for written in [
            "（苏）XK13-006-00032",
            "苏XK13-006-00032",
            "( 苏 ) XK13-006-00032",
            "【苏】XK13-006-00032",
        ] {
            assert_eq!(
                canonical(written).as_deref(),
                Ok("(苏)XK13-006-00032"),
                "{written}"
            );
        }
    }

    #[test]
    fn typing_variants_are_accepted() {
        for written in [
            "xk13-006-00032",
            "XK 13 006 00032",
            "XK1300600032",
            "XK13006-00032",
            "XK-13-006-00032",
            "XK13－006－00032",
            "ＸＫ１３－００６－０００３２",
            " XK13—006—00032 ",
        ] {
            assert_eq!(
                canonical(written).as_deref(),
                Ok("XK13-006-00032"),
                "{written}"
            );
        }
    }

    #[test]
    fn bare_drops_the_prefix_and_parts_are_exposed() {
        let Ok(number) = normalise("（浙）XK06-001-00123") else {
            panic!("valid number");
        };
        assert_eq!(number.bare(), "XK06-001-00123");
        assert_eq!(number.province_abbreviation(), Some('浙'));
        assert_eq!(number.category_code(), "06");
        assert_eq!(number.unit_code(), "001");
        assert_eq!(number.serial(), "00123");
        assert_eq!(number.to_string(), "(浙)XK06-001-00123");
    }

    #[test]
    fn an_abbreviation_that_is_no_province_is_refused() {
        assert_eq!(
            normalise("(港)XK13-006-00032"),
            Err(LicenceNumberError::UnknownProvince("港".to_owned()))
        );
        assert!(normalise("(中)XK13-006-00032").is_err());
    }

    #[test]
    fn all_31_provincial_abbreviations_are_accepted() {
        for abbreviation in "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新".chars()
        {
            let written = format!("（{abbreviation}）XK13-006-00032");
            assert_eq!(
                canonical(&written),
                Ok(format!("({abbreviation})XK13-006-00032"))
            );
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        assert_eq!(normalise(""), Err(LicenceNumberError::Empty));
        assert_eq!(normalise("   "), Err(LicenceNumberError::Empty));
        assert_eq!(
            normalise("QS13-006-00032"),
            Err(LicenceNumberError::MissingXk)
        );
        assert_eq!(
            normalise("XK13-006-0003"),
            Err(LicenceNumberError::BadDigits)
        );
        assert_eq!(
            normalise("XK13-006-000321"),
            Err(LicenceNumberError::BadDigits)
        );
        assert_eq!(
            normalise("XK1-3006-00032"),
            Err(LicenceNumberError::BadDigits)
        );
        assert_eq!(
            normalise("XK13--006-00032"),
            Err(LicenceNumberError::BadDigits)
        );
        assert_eq!(
            normalise("XK13-0A6-00032"),
            Err(LicenceNumberError::BadDigits)
        );
        assert_eq!(
            normalise("(苏XK13-006-00032"),
            Err(LicenceNumberError::UnbalancedParentheses)
        );
        assert_eq!(
            normalise("()XK13-006-00032"),
            Err(LicenceNumberError::UnbalancedParentheses)
        );
    }

    #[test]
    fn from_parts_checks_lengths_and_the_province() {
        let built = LicenceNumber::from_parts(Some('粤'), "05", "001", "04567");
        assert_eq!(
            built.map(|number| number.canonical()).as_deref(),
            Some("(粤)XK05-001-04567")
        );
        assert!(LicenceNumber::from_parts(None, "5", "001", "04567").is_none());
        assert!(LicenceNumber::from_parts(Some('X'), "05", "001", "04567").is_none());
    }
}
