//! Small text helpers shared by the validators: full-width folding, whitespace removal, and
//! the characters that may not be stored.

/// Folds full-width ASCII forms (Ａ１－（）, U+FF01–U+FF5E) and the ideographic space (U+3000)
/// to their half-width forms, as Chinese input methods often produce them in codes and numbers.
pub fn fold_full_width(text: &str) -> String {
    text.chars().map(fold_full_width_char).collect()
}

/// [`fold_full_width`] for one character.
pub fn fold_full_width_char(character: char) -> char {
    match character {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => {
            char::from_u32(u32::from(character) - 0xFF01 + 0x21).unwrap_or(character)
        }
        _ => character,
    }
}

/// The text folded to half width with every kind of whitespace removed.
pub fn compact(text: &str) -> String {
    text.chars()
        .map(fold_full_width_char)
        .filter(|character| !character.is_whitespace())
        .collect()
}

/// Whether the text holds a character that must not be stored: NUL (which PostgreSQL cannot
/// store) or another control character other than tab, line feed and carriage return.
pub fn has_forbidden_control_character(text: &str) -> bool {
    text.chars()
        .any(|character| character.is_control() && !matches!(character, '\t' | '\n' | '\r'))
}

/// The first character of `text` that changes how text around it is displayed without being
/// visible itself: the bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C) and the zero-width characters (U+200B–U+200D, U+2060, U+FEFF). Public listings would
/// show a name carrying one as a different name (issue 11: spoofed enterprise names).
pub fn first_invisible_format_character(text: &str) -> Option<char> {
    text.chars().find(|character| {
        matches!(
            character,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_digits_and_punctuation_fold_to_ascii() {
        assert_eq!(fold_full_width("ＸＫ１３－００６（苏）"), "XK13-006(苏)");
        assert_eq!(fold_full_width("a\u{3000}b"), "a b");
    }

    #[test]
    fn compact_removes_all_whitespace_after_folding() {
        assert_eq!(compact(" 91 33\u{3000}01\t06 "), "91330106");
    }

    #[test]
    fn nul_and_escape_characters_are_forbidden_but_newlines_are_not() {
        assert!(has_forbidden_control_character("a\u{0}b"));
        assert!(has_forbidden_control_character("a\u{1b}[31m"));
        assert!(!has_forbidden_control_character("第一行\r\n第二行\t。"));
    }

    #[test]
    fn bidirectional_controls_and_zero_width_characters_are_found() {
        for character in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}',
            '\u{200D}', '\u{2060}', '\u{FEFF}',
        ] {
            let text = format!("恒远{character}电缆");
            assert_eq!(first_invisible_format_character(&text), Some(character));
        }
        assert_eq!(
            first_invisible_format_character("杭州恒远电缆有限公司 (A-1)"),
            None
        );
    }
}
