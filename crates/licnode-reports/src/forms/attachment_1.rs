//! Attachment 1: 工业产品生产许可省级发证工作信息汇总表 (Art. 19), four tables, one sheet each,
//! from a monthly report's frozen content.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{Block, Form, HeaderCell, Orientation, cell};
use crate::monthly::{ChangedRow, GrantedRow, MonthlyContent, RefusedRow, TerminatedRow};
use crate::period::date_zh;

pub const ATTACHMENT_1_LABEL: &str = "附件1：";
pub const ATTACHMENT_1_TITLE: &str = "工业产品生产许可省级发证工作信息汇总表";
pub const GRANTED_TITLE: &str = "获得工业产品生产许可证企业汇总表";
pub const REFUSED_TITLE: &str = "不予行政许可证企业汇总表";
pub const CHANGED_TITLE: &str = "工业产品生产许可证企业变更汇总表";
pub const TERMINATED_TITLE: &str = "撤回、撤销、吊销和注销工业产品生产许可证企业汇总表";

const REPORTING_UNIT: &str = "填报单位（章）：";
const FILL_DATE: &str = "填报日期：";
/// The date as the original leaves it, for the bureau to write by hand (its spaces included).
const BLANK_FILL_DATE: &str = "填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日";

/// The original's numbered rows per table; a table with fewer records keeps the rest blank.
const GRANTED_ROWS: usize = 10;
const REFUSED_ROWS: usize = 11;
const CHANGED_ROWS: usize = 8;
const TERMINATED_ROWS: usize = 8;

/// What the notes of tables 3 and 4 ask for when there is nothing to remark.
const NO_REMARK: &str = "无";

/// Whether Attachment 1 states the report's 填报日期 or leaves it blank, as the original
/// prints it, for the bureau to write by hand beside its seal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillDate {
    /// The report's 填报日期 (the default).
    #[default]
    Report,
    /// `填报日期：    年　 月　 日`, written by hand.
    Blank,
}

impl FillDate {
    /// `report` or `blank`.
    pub fn parse(text: &str) -> Option<FillDate> {
        match text.trim() {
            "report" => Some(FillDate::Report),
            "blank" => Some(FillDate::Blank),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FillDate::Report => "report",
            FillDate::Blank => "blank",
        }
    }
}

const COMMON_COLUMNS: [&str; 7] = [
    "序号",
    "企业名称",
    "住所",
    "生产地址",
    "产品类别",
    "产品名称",
    "申证单元",
];

fn columns(extra: &[&'static str]) -> Vec<HeaderCell> {
    COMMON_COLUMNS
        .iter()
        .chain(extra)
        .enumerate()
        .map(|(index, text)| cell(text, index as u16))
        .collect()
}

pub fn granted_header() -> Vec<HeaderCell> {
    columns(&["证书编号", "有效期", "发证日期", "备注"])
}

pub fn refused_header() -> Vec<HeaderCell> {
    columns(&["不予许可原因", "不予许可日期", "备注"])
}

/// Two rows deep: 变更情况 spans 变更事项 and 变更日期; every other heading spans both rows.
pub fn changed_header() -> Vec<HeaderCell> {
    let mut header: Vec<HeaderCell> = columns(&["证书编号", "有效期", "发证日期"])
        .into_iter()
        .map(|cell| HeaderCell { rows: 2, ..cell })
        .collect();
    header.extend([
        HeaderCell {
            text: "变更情况",
            row: 0,
            col: 10,
            rows: 1,
            cols: 2,
        },
        HeaderCell {
            text: "备注",
            row: 0,
            col: 12,
            rows: 2,
            cols: 1,
        },
        HeaderCell {
            text: "变更事项",
            row: 1,
            col: 10,
            rows: 1,
            cols: 1,
        },
        HeaderCell {
            text: "变更日期",
            row: 1,
            col: 11,
            rows: 1,
            cols: 1,
        },
    ]);
    header
}

pub fn terminated_header() -> Vec<HeaderCell> {
    columns(&["证书编号", "注销原因", "注销时间", "备注"])
}

/// `填报单位（章）：…` and `填报日期：…`, the line above each table of Attachment 1.
fn filled_by(reporting_unit: &str, fill_date: Option<NaiveDate>) -> Vec<String> {
    vec![
        format!("{REPORTING_UNIT}{reporting_unit}"),
        fill_date.map_or_else(
            || BLANK_FILL_DATE.to_string(),
            |date| format!("{FILL_DATE}{}", date_zh(date)),
        ),
    ]
}

/// The rows numbered from 1, then numbered blank rows up to the original's `printed` rows.
fn numbered<T>(
    rows: &[T],
    printed: usize,
    width: usize,
    cells: impl Fn(&T) -> Vec<String>,
) -> Vec<Vec<String>> {
    let mut numbered: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let mut line = vec![(index + 1).to_string()];
            line.extend(cells(row));
            line
        })
        .collect();
    for number in rows.len() + 1..=printed {
        numbered.push(super::padded(number.to_string(), width));
    }
    numbered
}

/// `无` for an empty 备注, as the notes of tables 3 and 4 ask.
fn remark_or_none(remark: &str) -> String {
    if remark.trim().is_empty() {
        NO_REMARK.into()
    } else {
        remark.into()
    }
}

/// The four tables of Attachment 1, one sheet each; the first carries the label 附件1： and the
/// overall title above its own. `fill_date` `None` leaves 填报日期 blank.
pub fn attachment_1(
    content: &MonthlyContent,
    reporting_unit: &str,
    fill_date: Option<NaiveDate>,
) -> Vec<Form> {
    let above = filled_by(reporting_unit, fill_date);
    let tables = &content.tables;
    let mut granted = granted_form(&tables.granted, above.clone());
    granted.attachment_label = Some(ATTACHMENT_1_LABEL.into());
    granted.titles.insert(0, ATTACHMENT_1_TITLE.into());
    vec![
        granted,
        refused_form(&tables.refused, above.clone()),
        changed_form(&tables.changed, above.clone()),
        terminated_form(&tables.terminated, above),
    ]
}

/// A landscape sheet of Attachment 1 (the tables are wider than an upright page).
fn sheet(name: &str, title: &str, above: Vec<String>, block: Block, below: &[&str]) -> Form {
    let mut column_widths = vec![5];
    column_widths.resize(block.width(), 13);
    Form {
        sheet_name: name.into(),
        attachment_label: None,
        titles: vec![title.into()],
        above,
        blocks: vec![block],
        below: below.iter().map(|line| line.to_string()).collect(),
        footer: Vec::new(),
        orientation: Orientation::Landscape,
        column_widths,
    }
}

/// Attachment 1, table 1: the enterprises granted a licence.
fn granted_form(rows: &[GrantedRow], above: Vec<String>) -> Form {
    let header = granted_header();
    let rows = numbered(rows, GRANTED_ROWS, header.len(), |row| {
        vec![
            row.enterprise_name.clone(),
            row.residence_address.clone(),
            row.production_address.clone(),
            row.product_category.clone(),
            row.product_name.clone(),
            row.application_units.clone(),
            row.licence_number.clone(),
            row.valid_until.clone(),
            row.issue_date.clone(),
            row.remark.clone(),
        ]
    });
    sheet(
        "获证企业",
        GRANTED_TITLE,
        above,
        Block::plain(header, rows),
        &["注：“备注”栏中注明“发证”或“换证”。"],
    )
}

/// Attachment 1, table 2: the enterprises refused a licence.
fn refused_form(rows: &[RefusedRow], above: Vec<String>) -> Form {
    let header = refused_header();
    let rows = numbered(rows, REFUSED_ROWS, header.len(), |row| {
        vec![
            row.enterprise_name.clone(),
            row.residence_address.clone(),
            row.production_address.clone(),
            row.product_category.clone(),
            row.product_name.clone(),
            row.application_units.clone(),
            row.refusal_reason.clone(),
            row.refusal_date.clone(),
            row.remark.clone(),
        ]
    });
    sheet(
        "不予许可企业",
        REFUSED_TITLE,
        above,
        Block::plain(header, rows),
        &[
            "注：1.“不予许可日期”填写发放不予许可决定书的日期；",
            "\u{a0} \u{a0}\u{a0} 2.“备注”栏中注明“发证”或“换证”。",
        ],
    )
}

/// Attachment 1, table 3: the enterprises whose licence changed.
fn changed_form(rows: &[ChangedRow], above: Vec<String>) -> Form {
    let rows = numbered(rows, CHANGED_ROWS, 13, |row| {
        vec![
            row.enterprise_name.clone(),
            row.residence_address.clone(),
            row.production_address.clone(),
            row.product_category.clone(),
            row.product_name.clone(),
            row.application_units.clone(),
            row.licence_number.clone(),
            row.valid_until.clone(),
            row.issue_date.clone(),
            row.change_items.clone(),
            row.change_date.clone(),
            remark_or_none(&row.remark),
        ]
    });
    sheet(
        "变更企业",
        CHANGED_TITLE,
        above,
        Block::plain(changed_header(), rows),
        &["注：“备注”栏若没有填写“无”。"],
    )
}

/// Attachment 1, table 4: the licences withdrawn, revoked or cancelled.
fn terminated_form(rows: &[TerminatedRow], above: Vec<String>) -> Form {
    let header = terminated_header();
    let rows = numbered(rows, TERMINATED_ROWS, header.len(), |row| {
        vec![
            row.enterprise_name.clone(),
            row.residence_address.clone(),
            row.production_address.clone(),
            row.product_category.clone(),
            row.product_name.clone(),
            row.application_units.clone(),
            row.licence_number.clone(),
            row.reason.clone(),
            row.date.clone(),
            remark_or_none(&row.remark),
        ]
    });
    sheet(
        "撤回撤销吊销注销企业",
        TERMINATED_TITLE,
        above,
        Block::plain(header, rows),
        &[
            "注：1.“注销原因”栏应该按照《中华人民共和国行政许可法》及国家质检总局有关规定填写；",
            "    2.“备注”栏若没有填写“无”。",
        ],
    )
}

/// Attachment 1 of a stored monthly report (a `reports` record's fields): its frozen content,
/// its 填报单位 and, unless `fill_date` asks for a blank one, its 填报日期. `None` when the
/// fields are not a monthly report's.
pub fn attachment_1_of_report(
    report: &Map<String, Value>,
    fill_date: FillDate,
) -> Option<Vec<Form>> {
    if report.get("report_kind").and_then(Value::as_str) != Some("monthly") {
        return None;
    }
    let content: MonthlyContent =
        serde_json::from_str(report.get("content").and_then(Value::as_str)?).ok()?;
    let stated =
        NaiveDate::parse_from_str(report.get("fill_date").and_then(Value::as_str)?, "%Y-%m-%d")
            .ok()?;
    let unit = report
        .get("reporting_unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let date = match fill_date {
        FillDate::Report => Some(stated),
        FillDate::Blank => None,
    };
    Some(attachment_1(&content, unit, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_table_heading_is_two_rows_deep() {
        let header = changed_header();
        let at = |row: u16, col: u16| {
            header
                .iter()
                .find(|cell| cell.row == row && cell.col == col)
                .map(|cell| (cell.text, cell.rows, cell.cols))
        };
        assert_eq!(at(0, 10), Some(("变更情况", 1, 2)));
        assert_eq!(at(0, 11), None);
        assert_eq!(at(1, 10), Some(("变更事项", 1, 1)));
        assert_eq!(at(1, 11), Some(("变更日期", 1, 1)));
        assert_eq!(at(0, 12), Some(("备注", 2, 1)));
        assert_eq!(at(0, 0), Some(("序号", 2, 1)));
    }

    #[test]
    fn a_table_with_fewer_records_keeps_the_originals_numbered_blank_rows() {
        let rows = numbered(&["甲"], 4, 3, |name| vec![name.to_string(), String::new()]);
        assert_eq!(
            rows,
            [
                vec!["1", "甲", ""],
                vec!["2", "", ""],
                vec!["3", "", ""],
                vec!["4", "", ""]
            ]
        );
        // More records than the original's rows: all of them, numbered on.
        assert_eq!(
            numbered(&["甲", "乙"], 1, 2, |name| vec![name.to_string()]).len(),
            2
        );
    }

    #[test]
    fn fill_date_is_the_reports_or_blank() {
        assert_eq!(FillDate::parse("blank"), Some(FillDate::Blank));
        assert_eq!(FillDate::parse("report"), Some(FillDate::Report));
        assert_eq!(FillDate::parse("today"), None);
        assert_eq!(filled_by("某局", None)[1], BLANK_FILL_DATE);
        assert_eq!(
            filled_by("某局", NaiveDate::from_ymd_opt(2026, 11, 2))[1],
            "填报日期：2026年11月2日"
        );
    }
}
