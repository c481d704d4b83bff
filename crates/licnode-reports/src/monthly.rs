//! The monthly report's content (Art. 18, 19; Attachment 1): last month's applicants and the
//! four tables, built from the records' projections. The content is frozen into the `reports`
//! record as JSON, so a submitted report reads the same however the records change later.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::period::Period;

/// One row of 获得工业产品生产许可证企业汇总表 (from a `licences` record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedRow {
    pub record: String,
    pub enterprise_name: String,
    pub residence_address: String,
    pub production_address: String,
    pub product_category: String,
    pub product_name: String,
    pub application_units: String,
    pub licence_number: String,
    pub valid_until: String,
    pub issue_date: String,
    /// 发证 or 换证 (the form's note: "备注"栏中注明"发证"或"换证").
    pub remark: String,
}

/// One row of 不予行政许可证企业汇总表 (from a `refusals` record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRow {
    pub record: String,
    pub enterprise_name: String,
    pub residence_address: String,
    pub production_address: String,
    pub product_category: String,
    pub product_name: String,
    pub application_units: String,
    pub refusal_reason: String,
    /// The date of the refusal decision (the form's note 1).
    pub refusal_date: String,
    pub remark: String,
}

/// One row of 工业产品生产许可证企业变更汇总表 (from a `licence_events` record of kind change).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedRow {
    pub record: String,
    pub enterprise_name: String,
    pub residence_address: String,
    pub production_address: String,
    pub product_category: String,
    pub product_name: String,
    pub application_units: String,
    pub licence_number: String,
    pub valid_until: String,
    pub issue_date: String,
    pub change_items: String,
    pub change_date: String,
    /// "无" when there is nothing to remark (the form's note).
    pub remark: String,
}

/// One row of 撤回、撤销、吊销和注销工业产品生产许可证企业汇总表 (from a `licence_events`
/// record of kind withdrawal, revocation, revocation as penalty or cancellation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminatedRow {
    pub record: String,
    pub enterprise_name: String,
    pub residence_address: String,
    pub production_address: String,
    pub product_category: String,
    pub product_name: String,
    pub application_units: String,
    pub licence_number: String,
    /// The kind (撤回 / 撤销 / 吊销 / 注销), then the reason: the table's 注销原因 is worded by
    /// the Administrative Licensing Law's categories (the form's note 1).
    pub reason: String,
    pub date: String,
    /// The event's remarks; "无" when there are none (the form's note 2).
    pub remark: String,
}

/// One applicant of the month (Art. 18: the applicant database of last month).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantRow {
    pub record: String,
    pub enterprise_name: String,
    pub credit_code: String,
    pub product_name: String,
    pub application_units: String,
    pub application_kind: String,
    pub application_date: String,
    pub stage: String,
}

/// The four tables of Attachment 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyTables {
    pub granted: Vec<GrantedRow>,
    pub refused: Vec<RefusedRow>,
    pub changed: Vec<ChangedRow>,
    pub terminated: Vec<TerminatedRow>,
}

/// What a monthly report holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyContent {
    pub period: String,
    pub applicants: Vec<ApplicantRow>,
    pub tables: MonthlyTables,
}

/// The figures of a yearly report (Art. 20) that the records allow computing; the narrative
/// is written by staff.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearlyFigures {
    pub year: i32,
    /// Enterprises (by credit code) holding a licence that was valid at some point of the year.
    pub licensed_enterprise_count: i64,
    /// Reviews (年度审查) in the year: on-site verifications carried out, plus enterprises whose
    /// quality archive records an annual review.
    pub review_count: i64,
    /// Enterprises with a patrol visit (巡查回访) in the year.
    pub patrol_visit_count: i64,
    /// Enterprises with periodic supervision (定期监督检查) in the year.
    pub periodic_supervision_count: i64,
    /// Enterprises with a nonconforming supervision result in the year.
    pub problem_enterprise_count: i64,
}

fn text(data: &Map<String, Value>, field: &str) -> String {
    match data.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// 发证 / 换证 from an issuance-kind value.
fn issuance_label(value: &str) -> String {
    match value {
        "new" => "发证".into(),
        "renewal" => "换证".into(),
        other => other.into(),
    }
}

fn event_label(value: &str) -> &str {
    licnode_event_label(value).unwrap_or(value)
}

fn licnode_event_label(value: &str) -> Option<&'static str> {
    Some(match value {
        "change" => "变更",
        "withdrawal" => "撤回",
        "revocation" => "撤销",
        "penalty_revocation" => "吊销",
        "cancellation" => "注销",
        _ => return None,
    })
}

impl GrantedRow {
    pub fn from_licence(record: &str, data: &Map<String, Value>) -> GrantedRow {
        GrantedRow {
            record: record.into(),
            enterprise_name: text(data, "enterprise_name"),
            residence_address: text(data, "residence_address"),
            production_address: text(data, "production_address"),
            product_category: text(data, "product_category"),
            product_name: text(data, "product_name"),
            application_units: text(data, "application_units"),
            licence_number: text(data, "licence_number"),
            valid_until: text(data, "valid_until"),
            issue_date: text(data, "issue_date"),
            remark: issuance_label(&text(data, "issuance_kind")),
        }
    }
}

impl RefusedRow {
    pub fn from_refusal(record: &str, data: &Map<String, Value>) -> RefusedRow {
        RefusedRow {
            record: record.into(),
            enterprise_name: text(data, "enterprise_name"),
            residence_address: text(data, "residence_address"),
            production_address: text(data, "production_address"),
            product_category: text(data, "product_category"),
            product_name: text(data, "product_name"),
            application_units: text(data, "application_units"),
            refusal_reason: text(data, "refusal_reason"),
            refusal_date: text(data, "refusal_date"),
            remark: issuance_label(&text(data, "application_kind")),
        }
    }
}

fn remark_or_none(remarks: String) -> String {
    if remarks.trim().is_empty() {
        "无".into()
    } else {
        remarks
    }
}

impl ChangedRow {
    pub fn from_event(record: &str, data: &Map<String, Value>) -> ChangedRow {
        ChangedRow {
            record: record.into(),
            enterprise_name: text(data, "enterprise_name"),
            residence_address: text(data, "residence_address"),
            production_address: text(data, "production_address"),
            product_category: text(data, "product_category"),
            product_name: text(data, "product_name"),
            application_units: text(data, "application_units"),
            licence_number: text(data, "licence_number"),
            valid_until: text(data, "valid_until"),
            issue_date: text(data, "licence_date"),
            change_items: text(data, "change_items"),
            change_date: text(data, "event_date"),
            remark: remark_or_none(text(data, "remarks")),
        }
    }
}

impl TerminatedRow {
    pub fn from_event(record: &str, data: &Map<String, Value>) -> TerminatedRow {
        let kind = event_label(&text(data, "event_kind")).to_string();
        let reason = text(data, "reason");
        TerminatedRow {
            record: record.into(),
            enterprise_name: text(data, "enterprise_name"),
            residence_address: text(data, "residence_address"),
            production_address: text(data, "production_address"),
            product_category: text(data, "product_category"),
            product_name: text(data, "product_name"),
            application_units: text(data, "application_units"),
            licence_number: text(data, "licence_number"),
            reason: if reason.trim().is_empty() {
                kind
            } else {
                format!("{kind}：{reason}")
            },
            date: text(data, "event_date"),
            remark: remark_or_none(text(data, "remarks")),
        }
    }
}

impl ApplicantRow {
    pub fn from_application(record: &str, data: &Map<String, Value>) -> ApplicantRow {
        ApplicantRow {
            record: record.into(),
            enterprise_name: text(data, "enterprise_name"),
            credit_code: text(data, "credit_code"),
            product_name: text(data, "product_name"),
            application_units: text(data, "application_units"),
            application_kind: issuance_label(&text(data, "application_kind")),
            application_date: text(data, "application_date"),
            stage: text(data, "stage"),
        }
    }
}

/// The records a monthly roll-up found, as `(id, projection)` pairs, each list in date order.
#[derive(Clone, Debug, Default)]
pub struct MonthlySource {
    pub applications: Vec<(String, Map<String, Value>)>,
    pub licences: Vec<(String, Map<String, Value>)>,
    pub refusals: Vec<(String, Map<String, Value>)>,
    /// Licence events of every kind; split here into changes and terminations.
    pub events: Vec<(String, Map<String, Value>)>,
}

impl MonthlyContent {
    /// The report of `period` from the records found for it.
    pub fn build(period: &Period, source: &MonthlySource) -> MonthlyContent {
        let mut tables = MonthlyTables {
            granted: source
                .licences
                .iter()
                .map(|(id, data)| GrantedRow::from_licence(id, data))
                .collect(),
            refused: source
                .refusals
                .iter()
                .map(|(id, data)| RefusedRow::from_refusal(id, data))
                .collect(),
            ..MonthlyTables::default()
        };
        for (id, data) in &source.events {
            if data.get("event_kind").and_then(Value::as_str) == Some("change") {
                tables.changed.push(ChangedRow::from_event(id, data));
            } else {
                tables.terminated.push(TerminatedRow::from_event(id, data));
            }
        }
        MonthlyContent {
            period: period.to_string(),
            applicants: source
                .applications
                .iter()
                .map(|(id, data)| ApplicantRow::from_application(id, data))
                .collect(),
            tables,
        }
    }

    /// The counts stored beside the content: applicants, granted, refused, changed, terminated.
    pub fn counts(&self) -> [i64; 5] {
        [
            self.applicants.len() as i64,
            self.tables.granted.len() as i64,
            self.tables.refused.len() as i64,
            self.tables.changed.len() as i64,
            self.tables.terminated.len() as i64,
        ]
    }
}
