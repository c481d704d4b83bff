//! The regulation as data: collections, fields, classification, validation. No IO.
//!
//! "工业产品生产许可证信息管理规定" asks every licensing agency to keep certain databases and
//! archives (Chapter 2), pass them along the hierarchy (Chapter 3), keep them current (Chapter 4)
//! and publish some of what they hold while keeping enterprises' secrets (Chapter 5). This crate
//! states those collections as data ([`collections()`]), checks records against them
//! ([`validate()`]) and carries the reference data the checks need: the GB/T 2260 division tree
//! ([`divisions`]), credit codes, licence numbers, identity numbers and the product catalogue.

pub mod boolean;
pub mod catalogue;
pub mod codes;
pub mod collections;
pub mod credit_code;
pub mod date;
pub mod deadlines;
pub mod divisions;
pub mod email;
pub mod id_number;
pub mod integer;
pub mod level;
pub mod licence_number;
pub mod phone;
pub mod postcode;
pub mod retention;
mod rules;
pub mod schema;
pub mod status;
pub mod text;
pub mod validate;
pub mod validity;
pub mod year_month;

pub use collections::{collection, collections};
pub use divisions::{Division, DivisionLevel};
pub use level::Level;
pub use licence_number::LicenceNumber;
pub use schema::{
    Classification, Collection, Direction, EnumValue, Field, FieldType, MASKED_SECRET,
};
pub use status::{DestructionDecision, EventKind, LicenceStatus, ReportStatus};
pub use validate::{Issue, Mode, Validated, ValidationErrors, validate, validate_field};
