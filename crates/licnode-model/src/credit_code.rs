//! Unified social credit codes (统一社会信用代码, GB 32100-2015): parsing and the check character.
//!
//! A code is 18 characters from [`ALPHABET`]: registration authority (1), organisation kind (1),
//! the registering authority's division code (6), the organisation code (9, GB 11714) and a check
//! character. Some genuine early codes fail the check, so [`parse`] reports a failed check instead
//! of refusing the code.

/// The 31 characters a credit code may use, in the order of their values 0–30 (no I, O, S, V, Z).
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The length of a credit code.
pub const LENGTH: usize = 18;

/// What is wrong with a credit code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters (after removing spaces).
    #[error("a unified social credit code has 18 characters, this has {0}")]
    WrongLength(usize),
    /// A character outside the GB 32100 alphabet.
    #[error(
        "{character:?} at position {position} is not used in unified social credit codes{hint}"
    )]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// 1-based position.
        position: usize,
        /// A suggestion such as "; letter O is never used, did you mean digit 0?".
        hint: &'static str,
    },
}

/// The value of each ASCII byte in [`ALPHABET`], or `u8::MAX` for bytes outside it.
const VALUE_OF_BYTE: [u8; 128] = {
    let mut table = [u8::MAX; 128];
    let alphabet = ALPHABET.as_bytes();
    let mut index = 0;
    while index < alphabet.len() {
        table[alphabet[index] as usize] = index as u8;
        index += 1;
    }
    table
};

/// The value (0–30) of a character of [`ALPHABET`].
pub fn character_value(character: char) -> Option<u32> {
    let code_point = usize::try_from(u32::from(character)).ok()?;
    VALUE_OF_BYTE
        .get(code_point)
        .filter(|value| **value != u8::MAX)
        .map(|value| u32::from(*value))
}

/// The character of [`ALPHABET`] with this value (0–30).
fn character_of_value(value: u32) -> char {
    ALPHABET
        .as_bytes()
        .get(value as usize)
        .map_or('0', |byte| char::from(*byte))
}

fn hint_for(character: char) -> &'static str {
    match character {
        'O' => "; letter O is never used, did you mean digit 0?",
        'I' => "; letter I is never used, did you mean digit 1?",
        'Z' => "; letter Z is never used, did you mean digit 2?",
        'S' => "; letter S is never used, did you mean digit 5?",
        'V' => "; letter V is never used, did you mean letter U?",
        _ => "",
    }
}

/// The check character for the first 17 characters of a credit code: weights `3^i mod 31`,
/// check value `(31 - sum mod 31) mod 31` (GB 32100-2015, 4.2). Lower-case letters are accepted.
pub fn check_character(first17: &str) -> Result<char, CreditCodeError> {
    let length = first17.chars().count();
    if length != LENGTH - 1 {
        return Err(CreditCodeError::WrongLength(length));
    }
    let mut weight = 1_u32;
    let mut sum = 0_u32;
    for (index, character) in first17.chars().enumerate() {
        let character = character.to_ascii_uppercase();
        let value = character_value(character).ok_or(CreditCodeError::InvalidCharacter {
            character,
            position: index + 1,
            hint: hint_for(character),
        })?;
        sum += value * weight;
        weight = weight * 3 % 31;
    }
    Ok(character_of_value((31 - sum % 31) % 31))
}

/// Parses a credit code: spaces are dropped, full-width and lower-case letters are folded.
/// Returns the canonical code and whether its check character is right.
pub fn parse(text: &str) -> Result<(String, bool), CreditCodeError> {
    let code: String = crate::text::compact(text).to_ascii_uppercase();
    let length = code.chars().count();
    if length != LENGTH {
        return Err(CreditCodeError::WrongLength(length));
    }
    for (index, character) in code.chars().enumerate() {
        if character_value(character).is_none() {
            return Err(CreditCodeError::InvalidCharacter {
                character,
                position: index + 1,
                hint: hint_for(character),
            });
        }
    }
    // All characters are ASCII here, so byte slicing is safe.
    let expected = check_character(&code[..LENGTH - 1])?;
    let check_ok = code.ends_with(expected);
    Ok((code, check_ok))
}

/// The registering authority's division code (characters 3–8) of a well-formed credit code.
pub fn division_part(code: &str) -> Option<&str> {
    code.get(2..8)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Codes of large companies as they publish them (checked against GB 32100-2015).
    const GENUINE_CODES: &[&str] = &[
        "91440300708461136T",
        "91330100716105852F",
        "91110108551385082Q",
        "91110000100005220B",
    ];

    #[test]
    fn the_alphabet_has_31_characters_without_i_o_s_v_z() {
        assert_eq!(ALPHABET.len(), 31);
        for letter in ['I', 'O', 'S', 'V', 'Z'] {
            assert!(!ALPHABET.contains(letter));
        }
    }

    #[test]
    fn check_character_matches_a_published_code() {
        assert_eq!(check_character("91440300708461136"), Ok('T'));
        assert_eq!(check_character("91330100716105852"), Ok('F'));
    }

    #[test]
    fn genuine_codes_parse_with_a_good_check() {
        for code in GENUINE_CODES {
            assert_eq!(parse(code), Ok(((*code).to_owned(), true)), "{code}");
        }
        assert_eq!(
            parse("91440300708461136T"),
            Ok(("91440300708461136T".to_owned(), true))
        );
    }

    #[test]
    fn lower_case_full_width_and_spaced_codes_are_canonicalised() {
        assert_eq!(
            parse(" 9144 0300 7084 6113 6t "),
            Ok(("91440300708461136T".to_owned(), true))
        );
        assert_eq!(
            parse("９１４４０３００７０８４６１１３６Ｔ"),
            Ok(("91440300708461136T".to_owned(), true))
        );
    }

    #[test]
    fn a_wrong_check_character_is_reported_but_not_refused() {
        assert_eq!(
            parse("91440300708461136U"),
            Ok(("91440300708461136U".to_owned(), false))
        );
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(
            parse("9144030070846113"),
            Err(CreditCodeError::WrongLength(16))
        );
        assert_eq!(parse(""), Err(CreditCodeError::WrongLength(0)));
    }

    #[test]
    fn letters_outside_the_alphabet_are_refused_with_a_hint() {
        let error = parse("91440300708461I36T");
        assert!(matches!(
            error,
            Err(CreditCodeError::InvalidCharacter {
                character: 'I',
                position: 15,
                ..
            })
        ));
        let message = error
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("did you mean digit 1"), "{message}");
        assert!(parse("91440300708461136？").is_err());
    }

    #[test]
    fn every_body_has_exactly_one_accepted_check_character() {
        let body = "91330106MA27XY0AB";
        let Ok(check) = check_character(body) else {
            panic!("body is well formed");
        };
        let accepted = ALPHABET
            .chars()
            .filter(|candidate| parse(&format!("{body}{candidate}")).is_ok_and(|(_, ok)| ok))
            .count();
        assert_eq!(accepted, 1);
        assert!(parse(&format!("{body}{check}")).is_ok_and(|(_, ok)| ok));
    }

    #[test]
    fn division_part_is_characters_three_to_eight() {
        assert_eq!(division_part("91440300708461136T"), Some("440300"));
    }
}
