//! Attachment 3: 工业产品许可证检验机构信息变更备案登记表 (Art. 26), from an
//! `inspection_bodies` record's change filings: the items before and after, both opinions with
//! their signature, date and seal lines, and the 填表说明.

use serde_json::{Map, Value};

use super::{Block, Form, HeaderCell, Orientation, field};

pub const ATTACHMENT_3_LABEL: &str = "附件3：";
pub const ATTACHMENT_3_TITLE: &str = "工业产品许可证检验机构信息变更备案登记表";

/// Signed, dated and sealed by hand under each opinion.
const SIGNATURE_AND_SEAL: &str = "负责人签字：\n年   月   日（加盖公章）";
const INSTRUCTIONS: [&str; 4] = [
    "填表说明：",
    "1、“承检产品名称”填写实施细则对应的产品名称；",
    "2、信息未发生变更的栏目不填；",
    "3、登陆国家质检总局网站下载此表（登陆www.aqsiq.gov.cn，进入“产品质量监督/生产许可/办证指南/表格下载”。）",
];

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
    let heading = |text, row, col, cols| HeaderCell {
        text,
        row,
        col,
        rows: 1,
        cols,
    };
    vec![
        heading("变更内容", 0, 0, 3),
        heading("变更事项", 1, 0, 1),
        heading("变更前", 1, 1, 1),
        heading("变更后", 1, 2, 1),
    ]
}

/// An opinion's cell: the opinion when given, then the lines signed, dated and sealed by hand.
fn opinion_cell(opinion: &str) -> String {
    if opinion.trim().is_empty() {
        SIGNATURE_AND_SEAL.into()
    } else {
        format!("{opinion}\n{SIGNATURE_AND_SEAL}")
    }
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
    let labelled = |rows: Vec<Vec<String>>| Block {
        header: Vec::new(),
        rows,
        cell_spans: vec![1, 2],
        side_label: None,
    };
    Form {
        sheet_name: "检验机构信息变更备案".into(),
        attachment_label: Some(ATTACHMENT_3_LABEL.into()),
        titles: vec![ATTACHMENT_3_TITLE.into()],
        above: Vec::new(),
        blocks: vec![
            labelled(vec![
                vec!["检验机构名称".into(), field(body, "name")],
                vec!["承检产品名称".into(), field(body, "products_inspected")],
            ]),
            Block::plain(change_filing_header(), rows),
            labelled(vec![
                vec![
                    "检验机构意见".into(),
                    opinion_cell(&opinion("body_opinion")),
                ],
                vec![
                    "省级质量技术\n监督局意见".into(),
                    opinion_cell(&opinion("provincial_opinion")),
                ],
            ]),
        ],
        below: INSTRUCTIONS.iter().map(|line| line.to_string()).collect(),
        footer: Vec::new(),
        orientation: Orientation::Portrait,
        column_widths: vec![20, 32, 32],
    }
}

/// The fields Attachment 3 reads ([`attachment_3`]) for a change filing an inspection body made
/// from its own node (`inspection_body_filings`, Art. 26), with the province's answer to it
/// (`opinion`, the record naming the filing) when it has come: the body's name and products,
/// and one change-filing row per changed item, dated the filing's date, carrying both opinions.
pub fn fields_of_filing(
    filing: &Map<String, Value>,
    opinion: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let filing_date = field(filing, "filing_date");
    let body_opinion = field(filing, "body_opinion");
    let provincial_opinion = opinion
        .map(|opinion| field(opinion, "provincial_opinion"))
        .unwrap_or_default();
    let rows: Vec<Value> = filing
        .get("changes")
        .and_then(Value::as_array)
        .map(|rows| rows.iter().filter_map(Value::as_object).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|change| {
            serde_json::json!({
                "changed_item": field(change, "changed_item"),
                "value_before": field(change, "value_before"),
                "value_after": field(change, "value_after"),
                "filing_date": filing_date,
                "body_opinion": body_opinion,
                "provincial_opinion": provincial_opinion,
            })
        })
        .collect();
    let mut fields = Map::new();
    fields.insert("name".into(), Value::String(field(filing, "body_name")));
    fields.insert(
        "products_inspected".into(),
        Value::String(field(filing, "products_inspected")),
    );
    fields.insert("change_filings".into(), Value::Array(rows));
    fields
}
