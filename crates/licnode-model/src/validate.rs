//! Checking and normalising a record's fields against its collection before it is stored.
//!
//! [`validate`] collects every problem at once, so a person correcting a form or a CSV row sees
//! them all. Values arriving from CSV are strings; dates, numbers and yes/no are converted.

use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

use crate::codes;
use crate::rules;
use crate::schema::{Collection, EnumValue, Field, FieldType};

/// The most characters a [`FieldType::Text`] value may have.
pub const TEXT_MAX_CHARS: usize = 2_000;
/// The most characters a [`FieldType::LongText`] value may have.
pub const LONG_TEXT_MAX_CHARS: usize = 4_000_000;
/// The most rows a [`FieldType::Table`] may have.
pub const TABLE_MAX_ROWS: usize = 1_000;
/// The most characters a [`FieldType::RecordRef`] id may have.
pub const RECORD_REF_MAX_CHARS: usize = 200;

/// Whether the input creates a record or changes some of its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A new record: every required field must be present and non-empty.
    Create,
    /// A change: only the fields given are checked; `null` clears an optional field.
    Patch,
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// The field's name, or its path inside a table: `team_members[2].phone` (rows count from 0).
    pub field: String,
    /// A stable machine code from [`crate::codes`].
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl Issue {
    /// An issue about `field`.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Issue {
        Issue {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}: {} ({})",
            self.field, self.message, self.code
        )
    }
}

/// Every error found in an input; never empty when returned by [`validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<Issue>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            formatter,
            "{count} validation error{}",
            if count == 1 { "" } else { "s" }
        )?;
        for (index, issue) in self.0.iter().enumerate() {
            let separator = if index == 0 { ": " } else { "; " };
            write!(formatter, "{separator}{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl ValidationErrors {
    /// The issues about one field (or path).
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Issue> + 'a {
        self.0.iter().filter(move |issue| issue.field == field)
    }

    /// Whether some issue has this code.
    pub fn has_code(&self, code: &str) -> bool {
        self.0.iter().any(|issue| issue.code == code)
    }
}

/// An input that passed: the normalised values and any warnings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Validated {
    /// The normalised values. In a patch, `null` means "clear this field".
    pub values: Map<String, Value>,
    /// Problems that do not stop the record from being stored (e.g. a credit code whose check
    /// character fails).
    pub warnings: Vec<Issue>,
}

/// Errors and warnings gathered while checking.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) errors: Vec<Issue>,
    pub(crate) warnings: Vec<Issue>,
}

/// What became of one field's input.
enum Outcome {
    /// Store this normalised value.
    Keep(Value),
    /// Patch: clear the field (store `null`).
    Clear,
    /// Create: an empty optional value, left out.
    Drop,
    /// An error was recorded.
    Invalid,
}

/// Checks `input` against `collection` and returns the normalised values, or every error.
///
/// - a field the collection does not have → `unknown_field`;
/// - [`Mode::Create`]: a required field absent, null or empty → `missing_required`; empty
///   optional fields are left out;
/// - [`Mode::Patch`]: `null` (or empty text) clears an optional field, kept in `values` as
///   `null`; `null` for a required field → `required_field_cleared`, empty text →
///   `missing_required`;
/// - a JSON value of the wrong kind → `wrong_type`; then each type's own check.
pub fn validate(
    collection: &Collection,
    input: &Map<String, Value>,
    mode: Mode,
) -> Result<Validated, ValidationErrors> {
    let mut findings = Findings::default();
    let values = validate_object(collection.fields, input, mode, "", &mut findings);
    if mode == Mode::Create {
        rules::check_create_rules(collection, &values, &mut findings);
    }
    rules::check_rules(collection, &values, &mut findings);
    if findings.errors.is_empty() {
        Ok(Validated {
            values,
            warnings: findings.warnings,
        })
    } else {
        Err(ValidationErrors(findings.errors))
    }
}

/// Checks one value for one field, as in a create: `Ok(Value::Null)` for an empty optional value.
/// Useful for normalising a search term (`licence_number=苏XK13…`).
pub fn validate_field(
    field: &Field,
    value: &Value,
) -> Result<(Value, Vec<Issue>), ValidationErrors> {
    let mut findings = Findings::default();
    let outcome = validate_value(field, value, field.name, Mode::Create, &mut findings);
    match outcome {
        Outcome::Keep(value) if findings.errors.is_empty() => Ok((value, findings.warnings)),
        Outcome::Drop | Outcome::Clear if findings.errors.is_empty() => {
            Ok((Value::Null, findings.warnings))
        }
        _ => Err(ValidationErrors(findings.errors)),
    }
}

fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn validate_object(
    fields: &'static [Field],
    input: &Map<String, Value>,
    mode: Mode,
    prefix: &str,
    findings: &mut Findings,
) -> Map<String, Value> {
    let mut values = Map::new();
    for (name, raw) in input {
        let path = join_path(prefix, name);
        let Some(field) = fields.iter().find(|field| field.name == name) else {
            let message = if name.starts_with('_') {
                format!("no field {name:?}: names starting with _ are reserved for system metadata")
            } else {
                format!("no field {name:?} here")
            };
            findings
                .errors
                .push(Issue::new(path, codes::UNKNOWN_FIELD, message));
            continue;
        };
        match validate_value(field, raw, &path, mode, findings) {
            Outcome::Keep(value) => {
                values.insert(name.clone(), value);
            }
            Outcome::Clear => {
                values.insert(name.clone(), Value::Null);
            }
            Outcome::Drop | Outcome::Invalid => {}
        }
    }
    if mode == Mode::Create {
        for field in fields.iter().filter(|field| field.required) {
            if !input.contains_key(field.name) {
                findings.errors.push(Issue::new(
                    join_path(prefix, field.name),
                    codes::MISSING_REQUIRED,
                    format!("{} is required", field.label_zh),
                ));
            }
        }
    }
    values
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

fn validate_value(
    field: &Field,
    raw: &Value,
    path: &str,
    mode: Mode,
    findings: &mut Findings,
) -> Outcome {
    let label = field.label_zh;
    if raw.is_null() {
        return match (field.required, mode) {
            (true, Mode::Create) => {
                findings.errors.push(Issue::new(
                    path,
                    codes::MISSING_REQUIRED,
                    format!("{label} is required"),
                ));
                Outcome::Invalid
            }
            (true, Mode::Patch) => {
                findings.errors.push(Issue::new(
                    path,
                    codes::REQUIRED_FIELD_CLEARED,
                    format!("{label} is required and cannot be cleared"),
                ));
                Outcome::Invalid
            }
            (false, Mode::Create) => Outcome::Drop,
            (false, Mode::Patch) => Outcome::Clear,
        };
    }
    if is_blank(raw) {
        return match (field.required, mode) {
            (true, _) => {
                findings.errors.push(Issue::new(
                    path,
                    codes::MISSING_REQUIRED,
                    format!("{label} is required and may not be empty"),
                ));
                Outcome::Invalid
            }
            (false, Mode::Create) => Outcome::Drop,
            (false, Mode::Patch) => Outcome::Clear,
        };
    }
    let result = match field.field_type {
        FieldType::Table(sub_fields) => {
            return validate_table(field, sub_fields, raw, path, findings);
        }
        _ => convert_scalar(field, raw, path, findings),
    };
    match result {
        Ok(value) => Outcome::Keep(value),
        Err(issue) => {
            findings.errors.push(issue);
            Outcome::Invalid
        }
    }
}

fn validate_table(
    field: &Field,
    sub_fields: &'static [Field],
    raw: &Value,
    path: &str,
    findings: &mut Findings,
) -> Outcome {
    let label = field.label_zh;
    let Value::Array(rows) = raw else {
        findings
            .errors
            .push(wrong_type(path, label, "a list of rows"));
        return Outcome::Invalid;
    };
    if rows.is_empty() && field.required {
        findings.errors.push(Issue::new(
            path,
            codes::MISSING_REQUIRED,
            format!("{label} needs at least one row"),
        ));
        return Outcome::Invalid;
    }
    if rows.len() > TABLE_MAX_ROWS {
        findings.errors.push(Issue::new(
            path,
            codes::TOO_LONG,
            format!(
                "{label} has {} rows, at most {TABLE_MAX_ROWS} are allowed",
                rows.len()
            ),
        ));
        return Outcome::Invalid;
    }
    let errors_before = findings.errors.len();
    let mut normalised_rows = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let row_path = format!("{path}[{index}]");
        let Value::Object(row_object) = row else {
            findings
                .errors
                .push(wrong_type(&row_path, label, "an object (one row)"));
            continue;
        };
        // Rows are always complete: a patch replaces the whole table.
        let row_values = validate_object(sub_fields, row_object, Mode::Create, &row_path, findings);
        normalised_rows.push(Value::Object(row_values));
    }
    if findings.errors.len() > errors_before {
        Outcome::Invalid
    } else {
        Outcome::Keep(Value::Array(normalised_rows))
    }
}

fn wrong_type(path: &str, label: &str, expected: &str) -> Issue {
    Issue::new(
        path,
        codes::WRONG_TYPE,
        format!("{label} must be {expected}"),
    )
}

/// The text of a string value, or a `wrong_type` issue.
fn text_of<'a>(raw: &'a Value, path: &str, label: &str) -> Result<&'a str, Issue> {
    match raw {
        Value::String(text) => {
            if crate::text::has_forbidden_control_character(text) {
                Err(Issue::new(
                    path,
                    codes::INVALID_TEXT,
                    format!("{label} contains a control character that cannot be stored"),
                ))
            } else if let Some(character) = crate::text::first_invisible_format_character(text) {
                // Issue 11: an invisible bidirectional or zero-width character makes a name
                // display as another name in public listings.
                Err(Issue::new(
                    path,
                    codes::INVALID_TEXT,
                    format!(
                        "{label} contains the invisible character U+{:04X}, which would change \
                         how the text is displayed",
                        u32::from(character)
                    ),
                ))
            } else {
                Ok(text)
            }
        }
        _ => Err(wrong_type(path, label, "text")),
    }
}

fn check_length(text: &str, max: usize, path: &str, label: &str) -> Result<(), Issue> {
    let length = text.chars().count();
    if length > max {
        Err(Issue::new(
            path,
            codes::TOO_LONG,
            format!("{label} has {length} characters, at most {max} are allowed"),
        ))
    } else {
        Ok(())
    }
}

fn convert_scalar(
    field: &Field,
    raw: &Value,
    path: &str,
    findings: &mut Findings,
) -> Result<Value, Issue> {
    let label = field.label_zh;
    let invalid =
        |code: &'static str, detail: String| Issue::new(path, code, format!("{label}: {detail}"));
    match field.field_type {
        FieldType::Text => {
            let text = text_of(raw, path, label)?.trim();
            check_length(text, TEXT_MAX_CHARS, path, label)?;
            Ok(Value::String(text.to_owned()))
        }
        FieldType::LongText => {
            let text = text_of(raw, path, label)?.trim();
            check_length(text, LONG_TEXT_MAX_CHARS, path, label)?;
            Ok(Value::String(text.to_owned()))
        }
        FieldType::Date => {
            let text = text_of(raw, path, label)?;
            crate::date::CalendarDate::parse(text)
                .map(|date| Value::String(date.to_string()))
                .map_err(|error| invalid(codes::INVALID_DATE, error.to_string()))
        }
        FieldType::DateTime => {
            let text = text_of(raw, path, label)?;
            crate::date::parse_date_time(text)
                .map(Value::String)
                .map_err(|error| invalid(codes::INVALID_DATETIME, error.to_string()))
        }
        FieldType::Integer => match crate::integer::from_json(raw) {
            Ok(integer) => Ok(Value::from(integer)),
            Err(crate::integer::IntegerError::WrongType) => {
                Err(wrong_type(path, label, "a whole number"))
            }
            Err(error) => Err(invalid(codes::INVALID_INTEGER, error.to_string())),
        },
        FieldType::Boolean => match crate::boolean::from_json(raw) {
            Ok(flag) => Ok(Value::Bool(flag)),
            Err(crate::boolean::BooleanError::WrongType) => {
                Err(wrong_type(path, label, "true or false"))
            }
            Err(error) => Err(invalid(codes::INVALID_BOOLEAN, error.to_string())),
        },
        FieldType::Enum(allowed) => {
            let text = text_of(raw, path, label)?;
            enum_value(allowed, text)
                .map(|value| Value::String(value.to_owned()))
                .ok_or_else(|| {
                    let choices: Vec<String> = allowed
                        .iter()
                        .map(|allowed| format!("{} ({})", allowed.value, allowed.label_zh))
                        .collect();
                    invalid(
                        codes::INVALID_ENUM_VALUE,
                        format!("{:?} is not one of {}", text.trim(), choices.join(", ")),
                    )
                })
        }
        FieldType::CreditCode => {
            let text = text_of(raw, path, label)?;
            let (code, check_ok) = crate::credit_code::parse(text)
                .map_err(|error| invalid(codes::INVALID_CREDIT_CODE, error.to_string()))?;
            if !check_ok {
                findings.warnings.push(invalid(
                    codes::CREDIT_CODE_CHECK_FAILED,
                    format!("the check character of {code} does not match (GB 32100-2015); kept as given"),
                ));
            }
            Ok(Value::String(code))
        }
        FieldType::LicenceNumber => {
            let text = text_of(raw, path, label)?;
            crate::licence_number::normalise(text)
                .map(|number| Value::String(number.canonical()))
                .map_err(|error| invalid(codes::INVALID_LICENCE_NUMBER, error.to_string()))
        }
        FieldType::DivisionCode => {
            let text = text_of(raw, path, label)?;
            let code = crate::text::compact(text);
            match crate::divisions::lookup(&code) {
                Some(division) => Ok(Value::String(division.code.clone())),
                None => Err(invalid(
                    codes::INVALID_DIVISION_CODE,
                    format!("{code:?} is not a division code of the 2023 GB/T 2260 tree"),
                )),
            }
        }
        FieldType::IdNumber => {
            let text = text_of(raw, path, label)?;
            crate::id_number::parse(text)
                .map(|id| Value::String(id.number))
                .map_err(|error| invalid(codes::INVALID_ID_NUMBER, error.to_string()))
        }
        FieldType::Phone => {
            let text = text_of(raw, path, label)?;
            crate::phone::normalise(text)
                .map(Value::String)
                .map_err(|error| invalid(codes::INVALID_PHONE, error.to_string()))
        }
        FieldType::Email => {
            let text = text_of(raw, path, label)?;
            crate::email::normalise(text)
                .map(Value::String)
                .map_err(|error| invalid(codes::INVALID_EMAIL, error.to_string()))
        }
        FieldType::Postcode => {
            let text = text_of(raw, path, label)?;
            crate::postcode::normalise(text)
                .map(Value::String)
                .map_err(|error| invalid(codes::INVALID_POSTCODE, error.to_string()))
        }
        FieldType::RecordRef(target) => {
            let text = text_of(raw, path, label)?.trim();
            let well_formed = text.chars().count() <= RECORD_REF_MAX_CHARS
                && !text.chars().any(|c| c.is_whitespace() || c.is_control());
            if well_formed {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(invalid(
                    codes::INVALID_RECORD_REF,
                    format!("not the id of a record of {target}"),
                ))
            }
        }
        FieldType::Table(_) => Err(wrong_type(path, label, "a list of rows")),
    }
}

/// The stored value for `text`: an allowed value (any ASCII case) or its Chinese label.
fn enum_value(allowed: &'static [EnumValue], text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    allowed
        .iter()
        .find(|candidate| candidate.value == trimmed)
        .or_else(|| {
            allowed.iter().find(|candidate| {
                candidate.value.eq_ignore_ascii_case(trimmed) || candidate.label_zh == trimmed
            })
        })
        .map(|candidate| candidate.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::collection;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn licences() -> &'static Collection {
        collection("licences").unwrap_or_else(|| panic!("licences collection exists"))
    }

    fn review_plans() -> &'static Collection {
        collection("review_plans").unwrap_or_else(|| panic!("review_plans collection exists"))
    }

    fn a_valid_licence() -> Map<String, Value> {
        object(json!({
            "enterprise_name": "杭州西湖恒远电缆有限公司",
            "credit_code": "91440300708461136T",
            "residence_address": "浙江省杭州市西湖区文三路100号",
            "production_address": "浙江省杭州市西湖区三墩镇工业园8号",
            "division_code": "330106",
            "product_category": "电线电缆",
            "product_name": "电线电缆",
            "application_units": "架空绞线",
            "licence_number": "（浙）XK06-001-00123",
            "issuing_level": "省级发证",
            "issuing_authority": "浙江省市场监督管理局",
            "approval_date": "2023/3/1",
            "issue_date": "2023年3月5日",
            "valid_until": "2028-02-28",
            "issuance_kind": "new",
            "status": "有效"
        }))
    }

    /// (field, code) pairs, sorted: the order of a JSON object's keys depends on serde_json's
    /// features, so tests never rely on it.
    fn codes_of(errors: &ValidationErrors) -> Vec<(&str, &str)> {
        let mut found: Vec<_> = errors
            .0
            .iter()
            .map(|issue| (issue.field.as_str(), issue.code))
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn a_complete_licence_is_accepted_and_normalised() {
        let result = validate(licences(), &a_valid_licence(), Mode::Create);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert!(validated.warnings.is_empty());
        let values = &validated.values;
        assert_eq!(values["licence_number"], json!("(浙)XK06-001-00123"));
        assert_eq!(values["issuing_level"], json!("provincial"));
        assert_eq!(values["approval_date"], json!("2023-03-01"));
        assert_eq!(values["issue_date"], json!("2023-03-05"));
        assert_eq!(values["status"], json!("valid"));
    }

    #[test]
    fn all_errors_are_collected_not_just_the_first() {
        let mut input = a_valid_licence();
        input.insert("licence_number".into(), json!("XK6-1-123"));
        input.insert("approval_date".into(), json!("2023-02-30"));
        input.insert("colour".into(), json!("red"));
        input.remove("enterprise_name");
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        let found = codes_of(&errors);
        assert!(found.contains(&("licence_number", codes::INVALID_LICENCE_NUMBER)));
        assert!(found.contains(&("approval_date", codes::INVALID_DATE)));
        assert!(found.contains(&("colour", codes::UNKNOWN_FIELD)));
        assert!(found.contains(&("enterprise_name", codes::MISSING_REQUIRED)));
        assert_eq!(found.len(), 4, "{errors}");
    }

    #[test]
    fn fields_starting_with_an_underscore_are_unknown() {
        let mut input = a_valid_licence();
        input.insert("_id".into(), json!("abc"));
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        assert_eq!(codes_of(&errors), [("_id", codes::UNKNOWN_FIELD)]);
        assert!(errors.0[0].message.contains("reserved"));
    }

    #[test]
    fn null_or_empty_required_fields_are_missing_on_create() {
        let mut input = a_valid_licence();
        input.insert("enterprise_name".into(), Value::Null);
        input.insert("product_name".into(), json!("   "));
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [
                ("enterprise_name", codes::MISSING_REQUIRED),
                ("product_name", codes::MISSING_REQUIRED)
            ]
        );
    }

    #[test]
    fn empty_optional_fields_are_left_out_on_create() {
        let mut input = a_valid_licence();
        input.insert("remarks".into(), json!(""));
        input.insert("status".into(), Value::Null);
        let result = validate(licences(), &input, Mode::Create);
        assert!(
            result.as_ref().is_ok_and(|validated| {
                !validated.values.contains_key("remarks")
                    && !validated.values.contains_key("status")
            }),
            "{result:?}"
        );
    }

    #[test]
    fn a_patch_checks_only_what_it_gives() {
        let input = object(json!({"remarks": "更正地址", "valid_until": "2029/1/1"}));
        let result = validate(licences(), &input, Mode::Patch);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert_eq!(validated.values.len(), 2);
        assert_eq!(validated.values["valid_until"], json!("2029-01-01"));
    }

    #[test]
    fn null_in_a_patch_clears_an_optional_field_and_is_refused_for_a_required_one() {
        let input = object(json!({"remarks": null, "status": ""}));
        let result = validate(licences(), &input, Mode::Patch);
        assert!(
            result.as_ref().is_ok_and(|validated| {
                validated.values.get("remarks") == Some(&Value::Null)
                    && validated.values.get("status") == Some(&Value::Null)
            }),
            "{result:?}"
        );

        let input = object(json!({"enterprise_name": null, "licence_number": ""}));
        let Err(errors) = validate(licences(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [
                ("enterprise_name", codes::REQUIRED_FIELD_CLEARED),
                ("licence_number", codes::MISSING_REQUIRED)
            ]
        );
    }

    #[test]
    fn wrong_json_types_are_refused() {
        let input = object(json!({
            "enterprise_name": 12,
            "approval_date": 20230301,
            "issuing_level": ["provincial"],
            "status": true
        }));
        let Err(errors) = validate(licences(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert!(
            errors.0.iter().all(|issue| issue.code == codes::WRONG_TYPE),
            "{errors}"
        );
        assert_eq!(errors.0.len(), 4);
    }

    #[test]
    fn a_bad_credit_code_check_is_a_warning_and_the_code_is_kept() {
        let mut input = a_valid_licence();
        input.insert("credit_code".into(), json!("91440300708461136u"));
        let result = validate(licences(), &input, Mode::Create);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert_eq!(validated.values["credit_code"], json!("91440300708461136U"));
        assert_eq!(validated.warnings.len(), 1);
        assert_eq!(validated.warnings[0].code, codes::CREDIT_CODE_CHECK_FAILED);
        assert_eq!(validated.warnings[0].field, "credit_code");
    }

    #[test]
    fn a_malformed_credit_code_is_an_error() {
        let mut input = a_valid_licence();
        input.insert("credit_code".into(), json!("9144030070846113"));
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [("credit_code", codes::INVALID_CREDIT_CODE)]
        );
    }

    #[test]
    fn division_codes_must_exist_in_the_tree() {
        let mut input = a_valid_licence();
        input.insert("division_code".into(), json!("110100"));
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [("division_code", codes::INVALID_DIVISION_CODE)]
        );
    }

    #[test]
    fn enum_fields_accept_value_label_or_other_case_and_refuse_the_rest() {
        let input = object(json!({"issuance_kind": "换证", "issuing_level": "NATIONAL"}));
        let result = validate(licences(), &input, Mode::Patch);
        assert!(
            result
                .as_ref()
                .is_ok_and(|v| v.values["issuance_kind"] == json!("renewal")
                    && v.values["issuing_level"] == json!("national")),
            "{result:?}"
        );
        let input = object(json!({"issuance_kind": "续证"}));
        let Err(errors) = validate(licences(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(errors.0[0].code, codes::INVALID_ENUM_VALUE);
        assert!(
            errors.0[0].message.contains("renewal (换证)"),
            "{}",
            errors.0[0].message
        );
    }

    #[test]
    fn text_with_nul_or_over_the_length_limit_is_refused() {
        let input = object(json!({
            "enterprise_name": "恒远\u{0}电缆",
            "product_name": "长".repeat(TEXT_MAX_CHARS + 1)
        }));
        let Err(errors) = validate(licences(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [
                ("enterprise_name", codes::INVALID_TEXT),
                ("product_name", codes::TOO_LONG)
            ]
        );
    }

    #[test]
    fn text_with_bidirectional_or_zero_width_characters_is_refused_in_every_text_field() {
        let input = object(json!({
            "enterprise_name": "恒远\u{202E}司公限有缆电",
            "remarks": "备注\u{200B}",
            "status": "valid\u{2060}",
            "licence_number": "(浙)XK06-001-00123\u{FEFF}",
        }));
        let Err(errors) = validate(licences(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [
                ("enterprise_name", codes::INVALID_TEXT),
                ("licence_number", codes::INVALID_TEXT),
                ("remarks", codes::INVALID_TEXT),
                ("status", codes::INVALID_TEXT),
            ]
        );
        let rows = object(json!({"team_members": [{
            "name": "张\u{200D}伟", "team_role": "组长",
            "employer": "浙江省产品质量安全检测研究院", "phone": "13812345678"
        }]}));
        let Err(errors) = validate(review_plans(), &rows, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [("team_members[0].name", codes::INVALID_TEXT)]
        );
    }

    #[test]
    fn text_is_trimmed() {
        let input = object(json!({"enterprise_name": "  恒远电缆有限公司\n"}));
        let result = validate(licences(), &input, Mode::Patch);
        assert!(result.is_ok_and(|v| v.values["enterprise_name"] == json!("恒远电缆有限公司")));
    }

    fn team_member(phone: &str) -> Value {
        json!({"name": "张伟", "team_role": "组长", "employer": "浙江省产品质量安全检测研究院", "phone": phone})
    }

    #[test]
    fn table_rows_are_validated_and_errors_name_the_row_and_sub_field() {
        let input = object(json!({
            "team_members": [
                team_member("13812345678"),
                team_member("0571-88881234"),
                team_member("12"),
                {"name": "李娜", "team_role": "组员", "phone": "13912345678", "colour": "red"},
                "not a row"
            ]
        }));
        let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        let found = codes_of(&errors);
        assert!(
            found.contains(&("team_members[2].phone", codes::INVALID_PHONE)),
            "{errors}"
        );
        assert!(
            found.contains(&("team_members[3].colour", codes::UNKNOWN_FIELD)),
            "{errors}"
        );
        assert!(
            found.contains(&("team_members[3].employer", codes::MISSING_REQUIRED)),
            "{errors}"
        );
        assert!(
            found.contains(&("team_members[4]", codes::WRONG_TYPE)),
            "{errors}"
        );
        assert_eq!(found.len(), 4, "{errors}");
    }

    #[test]
    fn valid_table_rows_are_normalised() {
        let input = object(json!({"team_members": [team_member(" 138 1234 5678 ")]}));
        let result = validate(review_plans(), &input, Mode::Patch);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert_eq!(
            validated.values["team_members"][0]["team_role"],
            json!("leader")
        );
        assert_eq!(
            validated.values["team_members"][0]["phone"],
            json!("138 1234 5678")
        );
    }

    #[test]
    fn a_required_table_needs_a_row_and_must_be_a_list() {
        let input = object(json!({"team_members": []}));
        let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [("team_members", codes::MISSING_REQUIRED)]
        );
        let input = object(json!({"team_members": {"name": "张伟"}}));
        let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(codes_of(&errors), [("team_members", codes::WRONG_TYPE)]);
    }

    #[test]
    fn csv_strings_are_converted_for_integers_booleans_and_dates() {
        let Some(reports) = collection("reports") else {
            panic!("reports collection exists");
        };
        let input = object(json!({
            "revision": "2",
            "granted_count": " 1,204 ",
            "fill_date": "2024年6月3日",
            "generated_at": "2024-06-03 08:00:00"
        }));
        let result = validate(reports, &input, Mode::Patch);
        let Ok(validated) = result else {
            panic!("expected success, got {result:?}");
        };
        assert_eq!(validated.values["revision"], json!(2));
        assert_eq!(validated.values["granted_count"], json!(1204));
        assert_eq!(validated.values["fill_date"], json!("2024-06-03"));
        assert_eq!(
            validated.values["generated_at"],
            json!("2024-06-03T08:00:00+08:00")
        );
    }

    #[test]
    fn id_numbers_phones_emails_and_postcodes_are_checked() {
        let Some(reviewers) = collection("reviewers") else {
            panic!("reviewers collection exists");
        };
        let input = object(json!({
            "id_number": "110105194912310021",
            "phone": "call me",
            "email": "zhang@",
        }));
        let Err(errors) = validate(reviewers, &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(
            codes_of(&errors),
            [
                ("email", codes::INVALID_EMAIL),
                ("id_number", codes::INVALID_ID_NUMBER),
                ("phone", codes::INVALID_PHONE),
            ]
        );
        let input = object(json!({"id_number": "11010519491231002x"}));
        let result = validate(reviewers, &input, Mode::Patch);
        assert!(result.is_ok_and(|v| v.values["id_number"] == json!("11010519491231002X")));
    }

    #[test]
    fn record_references_must_be_plain_ids() {
        let Some(events) = collection("licence_events") else {
            panic!("licence_events collection exists");
        };
        let input = object(json!({"licence": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}));
        assert!(validate(events, &input, Mode::Patch).is_ok());
        let input = object(json!({"licence": "two words"}));
        let Err(errors) = validate(events, &input, Mode::Patch) else {
            panic!("expected errors");
        };
        assert_eq!(codes_of(&errors), [("licence", codes::INVALID_RECORD_REF)]);
    }

    #[test]
    fn every_error_code_used_is_listed_in_codes() {
        let input = object(json!({"x": 1, "valid_until": "bad"}));
        let Err(errors) = validate(licences(), &input, Mode::Create) else {
            panic!("expected errors");
        };
        assert!(
            errors
                .0
                .iter()
                .all(|issue| codes::ERRORS.contains(&issue.code))
        );
    }

    #[test]
    fn errors_display_every_issue_and_serialise_as_a_list() {
        let errors = ValidationErrors(vec![
            Issue::new("a", codes::MISSING_REQUIRED, "A is required"),
            Issue::new("b", codes::WRONG_TYPE, "B must be text"),
        ]);
        let shown = errors.to_string();
        assert!(
            shown.starts_with("2 validation errors: a: A is required"),
            "{shown}"
        );
        assert!(
            shown.contains("; b: B must be text (wrong_type)"),
            "{shown}"
        );
        let serialised = serde_json::to_value(&errors).ok();
        assert_eq!(
            serialised,
            Some(json!([
                {"field": "a", "code": "missing_required", "message": "A is required"},
                {"field": "b", "code": "wrong_type", "message": "B must be text"}
            ]))
        );
    }

    #[test]
    fn validate_field_normalises_a_single_value() {
        let Some(field) = licences().field("licence_number") else {
            panic!("licence_number field exists");
        };
        let result = validate_field(field, &json!("苏xk13 006 00032"));
        assert_eq!(
            result.map(|(value, _)| value),
            Ok(json!("(苏)XK13-006-00032"))
        );
        assert!(validate_field(field, &json!("nonsense")).is_err());
    }
}
