//! Attachment 2: 实地核查计划 (Art. 21), from a `review_plans` record: the enterprises, the
//! review team under its vertical label, the printed 依据 and 要求 unless the plan words its
//! own, the organiser in 说明, and the 编制 / 审批 / date and seal line.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{Block, Form, HeaderCell, Orientation, cell, field, padded};
use crate::period::date_zh;

pub const ATTACHMENT_2_LABEL: &str = "附件2：";
pub const ATTACHMENT_2_TITLE: &str = "实地核查计划";
/// 依据 as the original prints it; a plan's own `basis` replaces it.
pub const ATTACHMENT_2_BASIS: &str = "1、《中华人民共和国工业产品生产许可证管理条例》、《中华人民共和国工业产品生产许可证管理条例实施办法》；\n2、 产品实施细则及实地核查办法作业指导书。";
/// 要求 as the original prints it; a plan's own `requirements` replaces it.
pub const ATTACHMENT_2_REQUIREMENTS: &str = "1、请企业安排好生产计划，以保证现场核查过程中能正常生产；\n2、请企业按照《××产品生产许可证实施细则》中关于产品许可证检验规则的有关规定准备好待抽检样品；\n3、请企业与审查组成员联系，如有不清楚之处，请直接与审查组织单位联系。";
/// 说明 as the original prints it: what the organiser's line holds, in this order.
const ORGANISER_TEMPLATE: &str = "审查组织单位名称、地址、邮编、联系人、联系电话、传真、电子邮箱。";
const ORGANISER_FIELDS: [&str; 7] = [
    "organiser_name",
    "organiser_address",
    "organiser_postcode",
    "organiser_contact_person",
    "organiser_phone",
    "organiser_fax",
    "organiser_email",
];
const TEAM_LABEL: &str = "审\n查\n组\n成\n员";
const BLANK_DATE: &str = "年   月   日";
const SEAL: &str = " （审查组织机构盖章）";

/// The original's rows: three for enterprises, four for the team; more records take more.
const ENTERPRISE_ROWS: usize = 3;
const TEAM_ROWS: usize = 4;
/// The sheet's columns: the enterprise table's eight.
const WIDTH: u16 = 8;

pub fn plan_enterprise_header() -> Vec<HeaderCell> {
    [
        "序号",
        "企 业 名 称",
        "实际生产地址",
        "邮编",
        "联系人、电话",
        "申请单元",
        "计划审查时间",
        "受理时间",
    ]
    .iter()
    .enumerate()
    .map(|(index, text)| cell(text, index as u16))
    .collect()
}

/// The team block's heading, right of the vertical label 审查组成员: 所在单位名称 and
/// 审查员证书注册号 take two columns each, so the team fills the enterprise table's width.
pub fn plan_team_header() -> Vec<HeaderCell> {
    TEAM_COLUMNS
        .iter()
        .scan(1u16, |col, (text, cols)| {
            let heading = HeaderCell {
                cols: *cols,
                ..cell(text, *col)
            };
            *col += cols;
            Some(heading)
        })
        .collect()
}

const TEAM_COLUMNS: [(&str, u16); 5] = [
    ("姓 名", 1),
    ("组内职务", 1),
    ("所在单位名称", 2),
    ("联系电话", 1),
    ("审查员证书注册号", 2),
];

fn team_role_label(value: &str) -> String {
    match value {
        "leader" => "组长".into(),
        "member" => "组员".into(),
        "technical_expert" => "技术专家".into(),
        "observer" => "观察员".into(),
        other => other.into(),
    }
}

fn rows_of<'a>(data: &'a Map<String, Value>, name: &str) -> Vec<&'a Map<String, Value>> {
    data.get(name)
        .and_then(Value::as_array)
        .map(|rows| rows.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// The non-empty values joined with 、.
fn joined(values: impl IntoIterator<Item = String>) -> String {
    values
        .into_iter()
        .filter(|value| !value.trim().is_empty())
        .collect::<Vec<_>>()
        .join("、")
}

/// One enterprise row: the plan's own enterprise, or a row of its `further_enterprises` (the
/// same field names, Art. 21: one plan may list several enterprises, as Attachment 2 does).
fn enterprise_row(number: usize, enterprise: &Map<String, Value>) -> Vec<String> {
    vec![
        number.to_string(),
        field(enterprise, "enterprise_name"),
        field(enterprise, "production_address"),
        field(enterprise, "postcode"),
        joined([
            field(enterprise, "contact_person"),
            field(enterprise, "contact_phone"),
        ]),
        field(enterprise, "application_units"),
        field(enterprise, "planned_review_date"),
        field(enterprise, "acceptance_date"),
    ]
}

fn enterprise_block(plan: &Map<String, Value>) -> Block {
    let enterprises: Vec<&Map<String, Value>> = if field(plan, "enterprise_name").is_empty() {
        // A plan not yet naming its enterprise: the original's blank rows.
        Vec::new()
    } else {
        std::iter::once(plan)
            .chain(rows_of(plan, "further_enterprises"))
            .collect()
    };
    let mut rows: Vec<Vec<String>> = enterprises
        .iter()
        .enumerate()
        .map(|(index, enterprise)| enterprise_row(index + 1, enterprise))
        .collect();
    // The original's blank rows carry no number.
    rows.resize(ENTERPRISE_ROWS.max(rows.len()), padded(String::new(), 8));
    Block::plain(plan_enterprise_header(), rows)
}

fn team_block(plan: &Map<String, Value>) -> Block {
    let mut rows: Vec<Vec<String>> = rows_of(plan, "team_members")
        .into_iter()
        .map(|member| {
            vec![
                field(member, "name"),
                team_role_label(&field(member, "team_role")),
                field(member, "employer"),
                field(member, "phone"),
                field(member, "reviewer_registration_number"),
            ]
        })
        .collect();
    rows.resize(TEAM_ROWS.max(rows.len()), padded(String::new(), 5));
    Block {
        header: plan_team_header(),
        rows,
        cell_spans: TEAM_COLUMNS.iter().map(|(_, cols)| *cols).collect(),
        side_label: Some(TEAM_LABEL.into()),
    }
}

/// `text`, or the original's when the plan leaves it empty.
fn or_printed(text: String, printed: &str) -> String {
    if text.trim().is_empty() {
        printed.into()
    } else {
        text
    }
}

/// 依据, 要求 and 说明: a label and its text across the rest of the width.
fn terms_block(plan: &Map<String, Value>) -> Block {
    let organiser = joined(ORGANISER_FIELDS.iter().map(|name| field(plan, name)));
    let explanation = if organiser.is_empty() {
        ORGANISER_TEMPLATE.to_string()
    } else {
        format!("{organiser}。")
    };
    Block {
        header: Vec::new(),
        rows: vec![
            vec![
                "依据".into(),
                or_printed(field(plan, "basis"), ATTACHMENT_2_BASIS),
            ],
            vec![
                "要求".into(),
                or_printed(field(plan, "requirements"), ATTACHMENT_2_REQUIREMENTS),
            ],
            vec!["说明".into(), explanation],
        ],
        cell_spans: vec![1, WIDTH - 1],
        side_label: None,
    }
}

/// Attachment 2 from a review plan's fields.
pub fn attachment_2(plan: &Map<String, Value>) -> Form {
    let date = NaiveDate::parse_from_str(&field(plan, "plan_date"), "%Y-%m-%d")
        .map_or_else(|_| BLANK_DATE.to_string(), date_zh);
    Form {
        sheet_name: ATTACHMENT_2_TITLE.into(),
        attachment_label: Some(ATTACHMENT_2_LABEL.into()),
        titles: vec![ATTACHMENT_2_TITLE.into()],
        above: vec![
            format!("产品名称：{}", field(plan, "product_name")),
            format!("编号：{}", field(plan, "plan_number")),
        ],
        blocks: vec![enterprise_block(plan), team_block(plan), terms_block(plan)],
        below: Vec::new(),
        footer: vec![
            format!("编制：{}", field(plan, "prepared_by")),
            format!("审批：{}", field(plan, "approved_by")),
            format!("{date}{SEAL}"),
        ],
        orientation: Orientation::Landscape,
        column_widths: vec![6, 24, 24, 9, 18, 18, 14, 14],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_fills_the_enterprise_tables_width_right_of_its_label() {
        let block = team_block(&Map::new());
        assert_eq!(block.width(), usize::from(WIDTH));
        assert_eq!(block.cell_positions(5)[4], (6, 2));
        assert_eq!(block.rows.len(), TEAM_ROWS);
    }

    #[test]
    fn the_organiser_is_listed_in_the_originals_order_with_its_full_stop() {
        let plan = serde_json::json!({
            "organiser_email": "a@b.cn", "organiser_name": "某审查部", "organiser_phone": "0571-1"
        });
        let block = terms_block(plan.as_object().expect("object"));
        assert_eq!(block.rows[2][1], "某审查部、0571-1、a@b.cn。");
    }
}
