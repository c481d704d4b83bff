//! The official forms' layouts: Attachment 1 (the four tables of the provincial licensing work
//! summary), Attachment 2 (实地核查计划) and Attachment 3 (检验机构信息变更备案登记表). Every
//! heading is written character for character as the original prints it, spaces included
//! ("企 业 名 称", "电    话"); the tests compare them with the original's text.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::monthly::{ChangedRow, GrantedRow, MonthlyContent, RefusedRow, TerminatedRow};
use crate::period::date_zh;

/// One heading cell, spanning `rows` × `cols` cells from (`row`, `col`) of its block's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderCell {
    pub text: &'static str,
    pub row: u16,
    pub col: u16,
    pub rows: u16,
    pub cols: u16,
}

const fn cell(text: &'static str, col: u16) -> HeaderCell {
    HeaderCell {
        text,
        row: 0,
        col,
        rows: 1,
        cols: 1,
    }
}

/// One table of a form: its heading cells (possibly two rows deep) and its rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub header: Vec<HeaderCell>,
    pub rows: Vec<Vec<String>>,
}

impl Block {
    /// How many rows the heading takes.
    pub fn header_rows(&self) -> u16 {
        self.header
            .iter()
            .map(|cell| cell.row + cell.rows)
            .max()
            .unwrap_or(0)
    }

    /// The heading as a grid of text, merged cells' other positions empty.
    pub fn header_grid(&self) -> Vec<Vec<String>> {
        let width = self.width();
        let mut grid = vec![vec![String::new(); width]; usize::from(self.header_rows())];
        for cell in &self.header {
            if let Some(slot) = grid
                .get_mut(usize::from(cell.row))
                .and_then(|row| row.get_mut(usize::from(cell.col)))
            {
                *slot = cell.text.to_string();
            }
        }
        grid
    }

    pub fn width(&self) -> usize {
        let header = self
            .header
            .iter()
            .map(|cell| usize::from(cell.col + cell.cols))
            .max()
            .unwrap_or(0);
        let rows = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        header.max(rows)
    }
}

/// One sheet of an official form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// The worksheet's name (at most 31 characters).
    pub sheet_name: String,
    pub title: String,
    /// Lines between the title and the table (填报单位（章）：…, 填报日期：…).
    pub above: Vec<String>,
    pub blocks: Vec<Block>,
    /// Notes under the table (注：…).
    pub below: Vec<String>,
}

impl Form {
    pub fn width(&self) -> usize {
        self.blocks
            .iter()
            .map(Block::width)
            .max()
            .unwrap_or(1)
            .max(2)
    }
}

// ---------------------------------------------------------------------------------------------
// Attachment 1: 工业产品生产许可省级发证工作信息汇总表 (Art. 19).

pub const ATTACHMENT_1_TITLE: &str = "工业产品生产许可省级发证工作信息汇总表";
pub const GRANTED_TITLE: &str = "获得工业产品生产许可证企业汇总表";
pub const REFUSED_TITLE: &str = "不予行政许可证企业汇总表";
pub const CHANGED_TITLE: &str = "工业产品生产许可证企业变更汇总表";
pub const TERMINATED_TITLE: &str = "撤回、撤销、吊销和注销工业产品生产许可证企业汇总表";

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
    header.push(HeaderCell {
        text: "变更情况",
        row: 0,
        col: 10,
        rows: 1,
        cols: 2,
    });
    header.push(HeaderCell {
        text: "备注",
        row: 0,
        col: 12,
        rows: 2,
        cols: 1,
    });
    header.push(HeaderCell {
        text: "变更事项",
        row: 1,
        col: 10,
        rows: 1,
        cols: 1,
    });
    header.push(HeaderCell {
        text: "变更日期",
        row: 1,
        col: 11,
        rows: 1,
        cols: 1,
    });
    header
}

pub fn terminated_header() -> Vec<HeaderCell> {
    columns(&["证书编号", "注销原因", "注销时间", "备注"])
}

/// `填报单位（章）：…` and `填报日期：…`, the lines above each table of Attachment 1.
fn filled_by(reporting_unit: &str, fill_date: NaiveDate) -> Vec<String> {
    vec![
        format!("填报单位（章）：{reporting_unit}"),
        format!("填报日期：{}", date_zh(fill_date)),
    ]
}

fn numbered<T>(rows: &[T], cells: impl Fn(&T) -> Vec<String>) -> Vec<Vec<String>> {
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let mut line = vec![(index + 1).to_string()];
            line.extend(cells(row));
            line
        })
        .collect()
}

/// The four tables of Attachment 1, one sheet each.
pub fn attachment_1(
    content: &MonthlyContent,
    reporting_unit: &str,
    fill_date: NaiveDate,
) -> Vec<Form> {
    let above = filled_by(reporting_unit, fill_date);
    let tables = &content.tables;
    vec![
        granted_form(&tables.granted, above.clone()),
        refused_form(&tables.refused, above.clone()),
        changed_form(&tables.changed, above.clone()),
        terminated_form(&tables.terminated, above),
    ]
}

/// Attachment 1, table 1: the enterprises granted a licence.
fn granted_form(rows: &[GrantedRow], above: Vec<String>) -> Form {
    Form {
        sheet_name: "获证企业".into(),
        title: GRANTED_TITLE.into(),
        above,
        blocks: vec![Block {
            header: granted_header(),
            rows: numbered(rows, |row| {
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
            }),
        }],
        below: vec!["注：“备注”栏中注明“发证”或“换证”。".into()],
    }
}

/// Attachment 1, table 2: the enterprises refused a licence.
fn refused_form(rows: &[RefusedRow], above: Vec<String>) -> Form {
    Form {
        sheet_name: "不予许可企业".into(),
        title: REFUSED_TITLE.into(),
        above,
        blocks: vec![Block {
            header: refused_header(),
            rows: numbered(rows, |row| {
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
            }),
        }],
        below: vec![
            "注：1.“不予许可日期”填写发放不予许可决定书的日期；".into(),
            "2.“备注”栏中注明“发证”或“换证”。".into(),
        ],
    }
}

/// Attachment 1, table 3: the enterprises whose licence changed.
fn changed_form(rows: &[ChangedRow], above: Vec<String>) -> Form {
    Form {
        sheet_name: "变更企业".into(),
        title: CHANGED_TITLE.into(),
        above,
        blocks: vec![Block {
            header: changed_header(),
            rows: numbered(rows, |row| {
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
                    row.remark.clone(),
                ]
            }),
        }],
        below: vec!["注：“备注”栏若没有填写“无”。".into()],
    }
}

/// Attachment 1, table 4: the licences withdrawn, revoked or cancelled.
fn terminated_form(rows: &[TerminatedRow], above: Vec<String>) -> Form {
    Form {
        sheet_name: "撤回撤销吊销注销企业".into(),
        title: TERMINATED_TITLE.into(),
        above,
        blocks: vec![Block {
            header: terminated_header(),
            rows: numbered(rows, |row| {
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
                    row.remark.clone(),
                ]
            }),
        }],
        below: vec![
            "注：1.“注销原因”栏应该按照《中华人民共和国行政许可法》及国家质检总局有关规定填写；"
                .into(),
            "2.“备注”栏若没有填写“无”。".into(),
        ],
    }
}

/// Attachment 1 of a stored monthly report (a `reports` record's fields): its frozen content,
/// its 填报单位 and 填报日期. `None` when the fields are not a monthly report's.
pub fn attachment_1_of_report(report: &Map<String, Value>) -> Option<Vec<Form>> {
    if report.get("report_kind").and_then(Value::as_str) != Some("monthly") {
        return None;
    }
    let content: MonthlyContent =
        serde_json::from_str(report.get("content").and_then(Value::as_str)?).ok()?;
    let fill_date =
        NaiveDate::parse_from_str(report.get("fill_date").and_then(Value::as_str)?, "%Y-%m-%d")
            .ok()?;
    let unit = report
        .get("reporting_unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(attachment_1(&content, unit, fill_date))
}

/// The three official forms, by the name the CLI and the API use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormName {
    /// 工业产品生产许可省级发证工作信息汇总表, from a monthly `reports` record.
    Attachment1,
    /// 实地核查计划, from a `review_plans` record.
    Attachment2,
    /// 检验机构信息变更备案登记表, from an `inspection_bodies` record.
    Attachment3,
}

impl FormName {
    /// `attachment1`, `attachment2`, `attachment3`.
    pub fn parse(text: &str) -> Option<FormName> {
        match text.trim() {
            "attachment1" => Some(FormName::Attachment1),
            "attachment2" => Some(FormName::Attachment2),
            "attachment3" => Some(FormName::Attachment3),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FormName::Attachment1 => "attachment1",
            FormName::Attachment2 => "attachment2",
            FormName::Attachment3 => "attachment3",
        }
    }

    /// The collection whose records make this form.
    pub fn collection(self) -> &'static str {
        match self {
            FormName::Attachment1 => "reports",
            FormName::Attachment2 => "review_plans",
            FormName::Attachment3 => "inspection_bodies",
        }
    }

    /// The form from the fields of a record of [`FormName::collection`]; `None` when the record
    /// cannot make it (a yearly report as Attachment 1). `filing_date` picks the filing of
    /// Attachment 3 (the latest when absent).
    pub fn build(
        self,
        fields: &Map<String, Value>,
        filing_date: Option<&str>,
    ) -> Option<Vec<Form>> {
        match self {
            FormName::Attachment1 => attachment_1_of_report(fields),
            FormName::Attachment2 => Some(vec![attachment_2(fields)]),
            FormName::Attachment3 => Some(vec![attachment_3(fields, filing_date)]),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attachment 2: 实地核查计划 (Art. 21), from a `review_plans` record.

pub const ATTACHMENT_2_TITLE: &str = "实地核查计划";

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

/// The team block; its first column holds the vertical label 审查组成员 in the original.
pub fn plan_team_header() -> Vec<HeaderCell> {
    [
        "审查组成员",
        "姓 名",
        "组内职务",
        "所在单位名称",
        "联系电话",
        "审查员证书注册号",
    ]
    .iter()
    .enumerate()
    .map(|(index, text)| cell(text, index as u16))
    .collect()
}

fn field(data: &Map<String, Value>, name: &str) -> String {
    match data.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn team_role_label(value: &str) -> String {
    match value {
        "leader" => "组长".into(),
        "member" => "组员".into(),
        "technical_expert" => "技术专家".into(),
        "observer" => "观察员".into(),
        other => other.into(),
    }
}

/// Attachment 2 from a review plan's fields.
pub fn attachment_2(plan: &Map<String, Value>) -> Form {
    let team = plan
        .get("team_members")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let team_rows = team
        .iter()
        .filter_map(Value::as_object)
        .map(|member| {
            vec![
                String::new(),
                field(member, "name"),
                team_role_label(&field(member, "team_role")),
                field(member, "employer"),
                field(member, "phone"),
                field(member, "reviewer_registration_number"),
            ]
        })
        .collect();
    let organiser = [
        "organiser_name",
        "organiser_address",
        "organiser_postcode",
        "organiser_contact_person",
        "organiser_phone",
        "organiser_fax",
        "organiser_email",
    ]
    .iter()
    .map(|name| field(plan, name))
    .filter(|value| !value.is_empty())
    .collect::<Vec<_>>()
    .join("、");
    Form {
        sheet_name: ATTACHMENT_2_TITLE.into(),
        title: ATTACHMENT_2_TITLE.into(),
        above: vec![
            format!("产品名称：{}", field(plan, "product_name")),
            format!("编号：{}", field(plan, "plan_number")),
        ],
        blocks: vec![
            Block {
                header: plan_enterprise_header(),
                rows: vec![vec![
                    "1".into(),
                    field(plan, "enterprise_name"),
                    field(plan, "production_address"),
                    field(plan, "postcode"),
                    format!(
                        "{}、{}",
                        field(plan, "contact_person"),
                        field(plan, "contact_phone")
                    ),
                    field(plan, "application_units"),
                    field(plan, "planned_review_date"),
                    field(plan, "acceptance_date"),
                ]],
            },
            Block {
                header: plan_team_header(),
                rows: team_rows,
            },
            Block {
                header: Vec::new(),
                rows: vec![
                    vec!["依据".into(), field(plan, "basis")],
                    vec!["要求".into(), field(plan, "requirements")],
                    vec!["说明".into(), organiser],
                ],
            },
        ],
        below: vec![format!(
            "编制：{}    审批：{}    {}（审查组织机构盖章）",
            field(plan, "prepared_by"),
            field(plan, "approved_by"),
            NaiveDate::parse_from_str(&field(plan, "plan_date"), "%Y-%m-%d")
                .map(date_zh)
                .unwrap_or_else(|_| "年   月   日".into())
        )],
    }
}

// ---------------------------------------------------------------------------------------------
// Attachment 3: 工业产品许可证检验机构信息变更备案登记表 (Art. 26), from an
// `inspection_bodies` record's change filings.

pub const ATTACHMENT_3_TITLE: &str = "工业产品许可证检验机构信息变更备案登记表";

/// The items of the form, in its order, with the headings as the original prints them, keyed
/// by the model's `changed_item` values.
pub const ATTACHMENT_3_ITEMS: [(&str, &str); 12] = [
    ("name", "检验机构名称"),
    ("competent_authority", "主管部门"),
    ("host_unit", "挂靠单位名称"),
    ("nature", "单位性质"),
    ("asset_nature", "资产性质"),
    ("address", "通信地址"),
    ("postcode", "邮政编码"),
    ("phone", "电    话"),
    ("fax", "传    真"),
    ("email", "电子信箱"),
    ("contact_person", "联 系 人"),
    ("other", "其    他"),
];

/// 变更内容 over 变更事项 / 变更前 / 变更后.
pub fn change_filing_header() -> Vec<HeaderCell> {
    vec![
        HeaderCell {
            text: "变更内容",
            row: 0,
            col: 0,
            rows: 1,
            cols: 3,
        },
        HeaderCell {
            text: "变更事项",
            row: 1,
            col: 0,
            rows: 1,
            cols: 1,
        },
        HeaderCell {
            text: "变更前",
            row: 1,
            col: 1,
            rows: 1,
            cols: 1,
        },
        HeaderCell {
            text: "变更后",
            row: 1,
            col: 2,
            rows: 1,
            cols: 1,
        },
    ]
}

/// Attachment 3 for one filing of an inspection body: the change-filing rows of
/// `filing_date` (the latest when `None`). Items that did not change stay blank (the form's
/// instruction 2: 信息未发生变更的栏目不填).
pub fn attachment_3(body: &Map<String, Value>, filing_date: Option<&str>) -> Form {
    let filings: Vec<&Map<String, Value>> = body
        .get("change_filings")
        .and_then(Value::as_array)
        .map(|rows| rows.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let date = filing_date
        .map(str::to_string)
        .or_else(|| filings.iter().map(|row| field(row, "filing_date")).max());
    let of_date: Vec<_> = filings
        .into_iter()
        .filter(|row| Some(field(row, "filing_date")) == date)
        .collect();
    let rows = ATTACHMENT_3_ITEMS
        .iter()
        .map(|(value, heading)| {
            let change = of_date
                .iter()
                .find(|row| field(row, "changed_item") == *value);
            vec![
                heading.to_string(),
                change
                    .map(|row| field(row, "value_before"))
                    .unwrap_or_default(),
                change
                    .map(|row| field(row, "value_after"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let opinion = |name: &str| {
        of_date
            .iter()
            .map(|row| field(row, name))
            .find(|text| !text.is_empty())
            .unwrap_or_default()
    };
    Form {
        sheet_name: "检验机构信息变更备案".into(),
        title: ATTACHMENT_3_TITLE.into(),
        above: Vec::new(),
        blocks: vec![
            Block {
                header: Vec::new(),
                rows: vec![
                    vec!["检验机构名称".into(), field(body, "name")],
                    vec!["承检产品名称".into(), field(body, "products_inspected")],
                ],
            },
            Block {
                header: change_filing_header(),
                rows,
            },
            Block {
                header: Vec::new(),
                rows: vec![
                    vec!["检验机构意见".into(), opinion("body_opinion")],
                    vec![
                        "省级质量技术监督局意见".into(),
                        opinion("provincial_opinion"),
                    ],
                ],
            },
        ],
        below: date
            .map(|date| vec![format!("备案日期：{date}")])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_table_heading_is_two_rows_deep() {
        let block = Block {
            header: changed_header(),
            rows: Vec::new(),
        };
        let grid = block.header_grid();
        assert_eq!(grid.len(), 2);
        assert_eq!(grid[0][10], "变更情况");
        assert_eq!(grid[0][11], "");
        assert_eq!(
            grid[1][10..12],
            ["变更事项".to_string(), "变更日期".to_string()]
        );
        assert_eq!(grid[0][12], "备注");
    }
}
