//! Stable machine codes of validation issues, in one place so clients can rely on them.

/// A field the collection does not have (including names starting with `_`, reserved for system
/// metadata).
pub const UNKNOWN_FIELD: &str = "unknown_field";
/// A required field is absent, null or empty when a record is created, or empty in a patch.
pub const MISSING_REQUIRED: &str = "missing_required";
/// A patch sets a required field to null.
pub const REQUIRED_FIELD_CLEARED: &str = "required_field_cleared";
/// The JSON value has the wrong type (e.g. an object where text was expected).
pub const WRONG_TYPE: &str = "wrong_type";
/// Text longer than the field allows, or a table with too many rows.
pub const TOO_LONG: &str = "too_long";
/// Text containing characters that cannot be stored (NUL, other control characters) or
/// invisible bidirectional and zero-width characters that change how text is displayed.
pub const INVALID_TEXT: &str = "invalid_text";
/// Not a real calendar date.
pub const INVALID_DATE: &str = "invalid_date";
/// Not an RFC 3339 date and time.
pub const INVALID_DATETIME: &str = "invalid_datetime";
/// Not a whole number.
pub const INVALID_INTEGER: &str = "invalid_integer";
/// Not true/false (是/否).
pub const INVALID_BOOLEAN: &str = "invalid_boolean";
/// Neither an allowed value nor its Chinese label.
pub const INVALID_ENUM_VALUE: &str = "invalid_enum_value";
/// Not 18 characters of the GB 32100-2015 alphabet.
pub const INVALID_CREDIT_CODE: &str = "invalid_credit_code";
/// A well-formed credit code whose check character is wrong; stored anyway (warning only).
pub const CREDIT_CODE_CHECK_FAILED: &str = "credit_code_check_failed";
/// Not a production-licence number `(苏)XK13-006-00032`.
pub const INVALID_LICENCE_NUMBER: &str = "invalid_licence_number";
/// Not a GB/T 2260 code present in the 2023 division tree.
pub const INVALID_DIVISION_CODE: &str = "invalid_division_code";
/// Not a valid GB 11643-1999 identity number.
pub const INVALID_ID_NUMBER: &str = "invalid_id_number";
/// Not a telephone number.
pub const INVALID_PHONE: &str = "invalid_phone";
/// Not an e-mail address.
pub const INVALID_EMAIL: &str = "invalid_email";
/// Not a six-digit postcode.
pub const INVALID_POSTCODE: &str = "invalid_postcode";
/// Not a usable record id.
pub const INVALID_RECORD_REF: &str = "invalid_record_ref";
/// A report period that does not fit the report kind (`2024-05` monthly, `2024` yearly).
pub const INVALID_PERIOD: &str = "invalid_period";
/// The mask of a secret field (`MASKED_SECRET`, Art. 36) written as its value: a record read
/// masked and sent back whole would otherwise overwrite the secret with its mask.
pub const MASKED_VALUE: &str = "masked_value";
/// Two dates in an order that cannot be right (e.g. validity ending before approval); stored
/// anyway (warning only).
pub const DATES_OUT_OF_ORDER: &str = "dates_out_of_order";

/// Every code an error may carry.
pub const ERRORS: &[&str] = &[
    UNKNOWN_FIELD,
    MISSING_REQUIRED,
    REQUIRED_FIELD_CLEARED,
    WRONG_TYPE,
    TOO_LONG,
    INVALID_TEXT,
    INVALID_DATE,
    INVALID_DATETIME,
    INVALID_INTEGER,
    INVALID_BOOLEAN,
    INVALID_ENUM_VALUE,
    INVALID_CREDIT_CODE,
    INVALID_LICENCE_NUMBER,
    INVALID_DIVISION_CODE,
    INVALID_ID_NUMBER,
    INVALID_PHONE,
    INVALID_EMAIL,
    INVALID_POSTCODE,
    INVALID_RECORD_REF,
    INVALID_PERIOD,
    MASKED_VALUE,
];

/// Every code a warning may carry (the record is accepted and stored).
pub const WARNINGS: &[&str] = &[CREDIT_CODE_CHECK_FAILED, DATES_OUT_OF_ORDER];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_never_both_error_and_warning() {
        let mut seen = std::collections::HashSet::new();
        for code in ERRORS.iter().chain(WARNINGS) {
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(
                code.bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
                "{code}"
            );
        }
    }
}
