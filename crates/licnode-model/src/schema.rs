//! The vocabulary the collections are written in: fields, their types and classifications.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

use crate::level::Level;

/// How widely a field may be shown (Chapter 5, Art. 33–36).
///
/// Ordered from the most open to the most closed, so `classification <= Classification::Internal`
/// reads "may be shown to staff".
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    /// May be published (Art. 27, 28, 30, 31, 33–35), but only in a collection marked public.
    Public,
    /// For the licensing agencies only.
    Internal,
    /// An enterprise's commercial or technical secret, or a person's private data (Art. 36).
    Secret,
}

/// What a secret field (Art. 36) holds in every answer, page and export that did not ask for
/// it unmasked: the same text whatever the field's type, so a reader sees that something is
/// there and hidden. Writing it back into a secret field is refused (`masked_value`).
pub const MASKED_SECRET: &str = "******";

impl Classification {
    /// All classifications, from the most open to the most closed.
    pub const ALL: [Classification; 3] = [Self::Public, Self::Internal, Self::Secret];

    /// The serialised name: `public`, `internal` or `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Secret => "secret",
        }
    }

    /// The Chinese label: 公开, 内部, 秘密.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Public => "公开",
            Self::Internal => "内部",
            Self::Secret => "秘密",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known classification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown classification {0:?}: expected public, internal or secret")]
pub struct UnknownClassification(pub String);

impl FromStr for Classification {
    type Err = UnknownClassification;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|classification| {
                classification.as_str().eq_ignore_ascii_case(trimmed)
                    || classification.label_zh() == trimmed
            })
            .ok_or_else(|| UnknownClassification(text.to_owned()))
    }
}

/// One allowed value of an [`FieldType::Enum`] field: the stored value and its Chinese label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EnumValue {
    /// Stored value, snake_case ASCII.
    pub value: &'static str,
    /// What people see and may type instead of the value.
    pub label_zh: &'static str,
}

/// What a field holds and how [`crate::validate`] checks and normalises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "of", rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text (at most [`crate::validate::TEXT_MAX_CHARS`] characters).
    Text,
    /// Free text of any reasonable length (at most [`crate::validate::LONG_TEXT_MAX_CHARS`]).
    LongText,
    /// A calendar date, stored as `YYYY-MM-DD`.
    Date,
    /// A year and month, stored as `YYYY-MM` (出生年月, Art. 15); a full date given is kept to
    /// its year and month.
    YearMonth,
    /// An instant, stored as RFC 3339 (`2024-05-01T09:30:00+08:00`).
    DateTime,
    /// A whole number (i64).
    Integer,
    /// True or false.
    Boolean,
    /// One of a fixed set of values.
    Enum(&'static [EnumValue]),
    /// Unified social credit code, GB 32100-2015.
    CreditCode,
    /// Production-licence certificate number, `(苏)XK13-006-00032`.
    LicenceNumber,
    /// GB/T 2260 division code present in the 2023 tree.
    DivisionCode,
    /// Resident identity card number, GB 11643-1999.
    IdNumber,
    /// Telephone number.
    Phone,
    /// E-mail address.
    Email,
    /// Chinese postcode, six digits.
    Postcode,
    /// The id of a record in the named collection.
    RecordRef(&'static str),
    /// A list of rows, each an object of these sub-fields (e.g. review team members).
    Table(&'static [Field]),
}

impl FieldType {
    /// A short machine name for the type: `text`, `long_text`, `date`, …
    pub fn name(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::LongText => "long_text",
            Self::Date => "date",
            Self::YearMonth => "year_month",
            Self::DateTime => "date_time",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Enum(_) => "enum",
            Self::CreditCode => "credit_code",
            Self::LicenceNumber => "licence_number",
            Self::DivisionCode => "division_code",
            Self::IdNumber => "id_number",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Postcode => "postcode",
            Self::RecordRef(_) => "record_ref",
            Self::Table(_) => "table",
        }
    }
}

/// One field of a collection (or one column of a [`FieldType::Table`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// snake_case ASCII; never starts with `_` (reserved for system metadata).
    pub name: &'static str,
    /// The heading people see, as the regulation or its attachments word it where they do.
    pub label_zh: &'static str,
    /// What the field holds.
    pub field_type: FieldType,
    /// Must be present and non-empty when a record is created.
    pub required: bool,
    /// Who may see it (Art. 27, 28, 30, 31, 33–36).
    pub classification: Classification,
}

/// Which way records of a collection replicate through the tree of agencies (DOMAIN.md ch. 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Entered below, reported upwards (Art. 18–23, 27, 28).
    Up,
    /// National registries, copied downwards (Art. 32).
    Down,
    /// Either way: addressed down (Art. 24) or up (Art. 25).
    Both,
    /// Never leaves the node.
    Local,
}

/// One of the databases or archives the regulation asks for (Chapter 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Collection {
    /// snake_case ASCII name, used in URLs and storage.
    pub name: &'static str,
    /// Chinese name.
    pub label_zh: &'static str,
    /// The articles that ask for it.
    pub articles: &'static [u16],
    /// How its records replicate.
    pub direction: Direction,
    /// Who may author its records (advisory: the replication layer decides and enforces).
    pub authoring_levels: &'static [Level],
    /// Whether any of its fields may be published at all (Art. 27, 28, 30, 31, 33–35).
    pub public: bool,
    /// Its fields, in the order of the regulation's forms.
    pub fields: &'static [Field],
    /// The field searched by a name fragment: the enterprise's name, or for the registries the
    /// reviewer's, department's or body's own name.
    pub enterprise_name_field: Option<&'static str>,
    /// The field holding a licence number, if any.
    pub licence_number_field: Option<&'static str>,
    /// The field holding an enterprise's unified social credit code, if any.
    pub credit_code_field: Option<&'static str>,
    /// The field holding the record's state (an [`FieldType::Enum`]), if any.
    pub status_field: Option<&'static str>,
}

impl Collection {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The fields that may be published: public fields of a public collection, nothing otherwise
    /// (ARCHITECTURE.md, principle 8; Art. 27, 28, 30, 31, 33–35).
    pub fn public_fields(&self) -> impl Iterator<Item = &'static Field> + use<> {
        let collection_is_public = self.public;
        let fields: &'static [Field] = self.fields;
        fields.iter().filter(move |field| {
            collection_is_public && field.classification == Classification::Public
        })
    }

    /// Whether the field called `name` may be published.
    pub fn is_public_field(&self, name: &str) -> bool {
        self.public_fields().any(|field| field.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifications_serialise_in_lowercase() {
        assert_eq!(
            serde_json::to_string(&Classification::Secret)
                .ok()
                .as_deref(),
            Some("\"secret\"")
        );
        assert_eq!(
            serde_json::from_str::<Classification>("\"public\"").ok(),
            Some(Classification::Public)
        );
    }

    #[test]
    fn classifications_are_ordered_from_open_to_closed() {
        assert!(Classification::Public < Classification::Internal);
        assert!(Classification::Internal < Classification::Secret);
    }

    #[test]
    fn classification_parses_from_english_or_chinese() {
        assert_eq!(
            "Internal".parse::<Classification>(),
            Ok(Classification::Internal)
        );
        assert_eq!("秘密".parse::<Classification>(), Ok(Classification::Secret));
        assert!("open".parse::<Classification>().is_err());
    }

    #[test]
    fn field_types_serialise_with_a_type_tag() {
        let json = serde_json::to_value(FieldType::RecordRef("licences")).ok();
        assert_eq!(
            json,
            Some(serde_json::json!({"type": "record_ref", "of": "licences"}))
        );
        let json = serde_json::to_value(FieldType::Date).ok();
        assert_eq!(json, Some(serde_json::json!({"type": "date"})));
    }
}
