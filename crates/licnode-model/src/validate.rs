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
    if field.classification == crate::schema::Classification::Secret
        && raw.as_str().map(str::trim) == Some(crate::schema::MASKED_SECRET)
    {
        // Art. 36: a secret read masked and sent back whole must not replace the secret.
        findings.errors.push(Issue::new(
            path,
            codes::MASKED_VALUE,
            format!("{label} holds the mask of a secret field, not a value: leave it out to keep the stored value"),
        ));
        return Outcome::Invalid;
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

/// An issue about the value of `label` at `path`, with the detail after the label.
fn invalid_value(path: &str, label: &str, code: &'static str, detail: String) -> Issue {
    Issue::new(path, code, format!("{label}: {detail}"))
}

fn convert_scalar(
    field: &Field,
    raw: &Value,
    path: &str,
    findings: &mut Findings,
) -> Result<Value, Issue> {
    let label = field.label_zh;
    let invalid = |code: &'static str, detail: String| invalid_value(path, label, code, detail);
    match field.field_type {
        FieldType::Text => convert_trimmed_text(raw, path, label, TEXT_MAX_CHARS),
        FieldType::LongText => convert_trimmed_text(raw, path, label, LONG_TEXT_MAX_CHARS),
        FieldType::Date => {
            let text = text_of(raw, path, label)?;
            crate::date::CalendarDate::parse(text)
                .map(|date| Value::String(date.to_string()))
                .map_err(|error| invalid(codes::INVALID_DATE, error.to_string()))
        }
        FieldType::YearMonth => {
            let text = text_of(raw, path, label)?;
            crate::year_month::YearMonth::parse(text)
                .map(|month| Value::String(month.to_string()))
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
        FieldType::Enum(allowed) => convert_enum(allowed, raw, path, label),
        FieldType::CreditCode => convert_credit_code(raw, path, label, findings),
        FieldType::LicenceNumber => {
            let text = text_of(raw, path, label)?;
            crate::licence_number::normalise(text)
                .map(|number| Value::String(number.canonical()))
                .map_err(|error| invalid(codes::INVALID_LICENCE_NUMBER, error.to_string()))
        }
        FieldType::DivisionCode => convert_division_code(raw, path, label),
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
        FieldType::RecordRef(target) => convert_record_ref(target, raw, path, label),
        FieldType::Table(_) => Err(wrong_type(path, label, "a list of rows")),
    }
}

/// Text or long text: trimmed, at most `max_chars` characters.
fn convert_trimmed_text(
    raw: &Value,
    path: &str,
    label: &str,
    max_chars: usize,
) -> Result<Value, Issue> {
    let text = text_of(raw, path, label)?.trim();
    check_length(text, max_chars, path, label)?;
    Ok(Value::String(text.to_owned()))
}

/// One of the `allowed` values, given as the value or its Chinese label.
fn convert_enum(
    allowed: &'static [EnumValue],
    raw: &Value,
    path: &str,
    label: &str,
) -> Result<Value, Issue> {
    let text = text_of(raw, path, label)?;
    enum_value(allowed, text)
        .map(|value| Value::String(value.to_owned()))
        .ok_or_else(|| {
            let choices: Vec<String> = allowed
                .iter()
                .map(|allowed| format!("{} ({})", allowed.value, allowed.label_zh))
                .collect();
            invalid_value(
                path,
                label,
                codes::INVALID_ENUM_VALUE,
                format!("{:?} is not one of {}", text.trim(), choices.join(", ")),
            )
        })
}

/// A unified social credit code; a wrong check character is only a warning and the code is
/// kept as given.
fn convert_credit_code(
    raw: &Value,
    path: &str,
    label: &str,
    findings: &mut Findings,
) -> Result<Value, Issue> {
    let text = text_of(raw, path, label)?;
    let (code, check_ok) = crate::credit_code::parse(text).map_err(|error| {
        invalid_value(path, label, codes::INVALID_CREDIT_CODE, error.to_string())
    })?;
    if !check_ok {
        findings.warnings.push(invalid_value(
            path,
            label,
            codes::CREDIT_CODE_CHECK_FAILED,
            format!("the check character of {code} does not match (GB 32100-2015); kept as given"),
        ));
    }
    Ok(Value::String(code))
}

/// A division code of the GB/T 2260 tree, written without spaces.
fn convert_division_code(raw: &Value, path: &str, label: &str) -> Result<Value, Issue> {
    let text = text_of(raw, path, label)?;
    let code = crate::text::compact(text);
    match crate::divisions::lookup(&code) {
        Some(division) => Ok(Value::String(division.code.clone())),
        None => Err(invalid_value(
            path,
            label,
            codes::INVALID_DIVISION_CODE,
            format!("{code:?} is not a division code of the 2023 GB/T 2260 tree"),
        )),
    }
}

/// The id of a record of `target`: short, without whitespace or control characters.
fn convert_record_ref(target: &str, raw: &Value, path: &str, label: &str) -> Result<Value, Issue> {
    let text = text_of(raw, path, label)?.trim();
    let well_formed = text.chars().count() <= RECORD_REF_MAX_CHARS
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(Value::String(text.to_owned()))
    } else {
        Err(invalid_value(
            path,
            label,
            codes::INVALID_RECORD_REF,
            format!("not the id of a record of {target}"),
        ))
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
mod tests;
