//! Small text helpers shared by the validators: full-width folding and whitespace removal.

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
}
