//! The official forms' layouts: Attachment 1 (the four tables of the provincial licensing work
//! summary), Attachment 2 (实地核查计划) and Attachment 3 (检验机构信息变更备案登记表). Every
//! printed string — labels, titles, headings, the lines above and below the tables, the notes,
//! the blank numbered rows, the signature and seal lines — is written character for character
//! as the original prints it, spaces included ("企 业 名 称", "电    话"); the tests compare
//! every one of them with the original's text.

mod attachment_1;
mod attachment_2;
mod attachment_3;

use serde_json::{Map, Value};

pub use attachment_1::{
    ATTACHMENT_1_LABEL, ATTACHMENT_1_TITLE, CHANGED_TITLE, FillDate, GRANTED_TITLE, REFUSED_TITLE,
    TERMINATED_TITLE, attachment_1, attachment_1_of_report, changed_header, granted_header,
    refused_header, terminated_header,
};
pub use attachment_2::{
    ATTACHMENT_2_BASIS, ATTACHMENT_2_LABEL, ATTACHMENT_2_REQUIREMENTS, ATTACHMENT_2_TITLE,
    attachment_2, plan_enterprise_header, plan_team_header,
};
pub use attachment_3::{
    ATTACHMENT_3_ITEMS, ATTACHMENT_3_LABEL, ATTACHMENT_3_TITLE, attachment_3, change_filing_header,
    fields_of_filing,
};

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

/// One table of a form: its heading cells (possibly two rows deep), its rows, how many columns
/// each cell of a row spans, and an optional label down its first column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub header: Vec<HeaderCell>,
    pub rows: Vec<Vec<String>>,
    /// How many columns each cell of a row spans, left to right; one each when empty.
    pub cell_spans: Vec<u16>,
    /// A label written down the block's first column and merged over its heading and all its
    /// rows (the vertical 审查组成员 of Attachment 2); the rows then start in the second column,
    /// and the heading cells' `col` already count it.
    pub side_label: Option<String>,
}

impl Block {
    /// A table whose cells each take one column.
    pub fn plain(header: Vec<HeaderCell>, rows: Vec<Vec<String>>) -> Block {
        Block {
            header,
            rows,
            ..Block::default()
        }
    }

    /// How many rows the heading takes.
    pub fn header_rows(&self) -> u16 {
        self.header
            .iter()
            .map(|cell| cell.row + cell.rows)
            .max()
            .unwrap_or(0)
    }

    /// The first column of each cell of a row and how many columns it spans.
    pub fn cell_positions(&self, cells: usize) -> Vec<(u16, u16)> {
        let mut col = u16::from(self.side_label.is_some());
        (0..cells)
            .map(|index| {
                let span = self.cell_spans.get(index).copied().unwrap_or(1).max(1);
                let position = (col, span);
                col += span;
                position
            })
            .collect()
    }

    /// How many columns the block takes.
    pub fn width(&self) -> usize {
        let header = self
            .header
            .iter()
            .map(|cell| usize::from(cell.col + cell.cols))
            .max()
            .unwrap_or(0);
        let rows = self
            .rows
            .iter()
            .map(|row| {
                self.cell_positions(row.len())
                    .last()
                    .map_or(0, |(col, span)| usize::from(col + span))
            })
            .max()
            .unwrap_or(0);
        header.max(rows)
    }
}

/// How the original is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Orientation {
    #[default]
    Portrait,
    Landscape,
}

/// One sheet of an official form, top to bottom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// The worksheet's name (at most 31 characters).
    pub sheet_name: String,
    /// "附件N：", above the title on the first sheet of an attachment.
    pub attachment_label: Option<String>,
    /// The titles, one centred line each: Attachment 1's overall title on its first sheet,
    /// then the table's own.
    pub titles: Vec<String>,
    /// One line between the titles and the table, in parts from left to right
    /// (填报单位（章）：… 填报日期：…).
    pub above: Vec<String>,
    pub blocks: Vec<Block>,
    /// Lines under the table, one each (注：…, 填表说明：…), leading spaces kept.
    pub below: Vec<String>,
    /// One last line in parts from left to right (编制：… 审批：… 年 月 日 （…盖章）).
    pub footer: Vec<String>,
    pub orientation: Orientation,
    /// Column widths in characters, left to right; missing ones take a default.
    pub column_widths: Vec<u16>,
}

impl Form {
    /// How many columns the sheet takes (at least two, so a line can have two ends).
    pub fn width(&self) -> usize {
        self.blocks
            .iter()
            .map(Block::width)
            .max()
            .unwrap_or(1)
            .max(2)
    }

    /// The title the page shows: the table's own (the last of `titles`).
    pub fn title(&self) -> &str {
        self.titles.last().map_or("", String::as_str)
    }
}

/// `text` followed by empty cells up to `count` cells.
fn padded(first: String, count: usize) -> Vec<String> {
    let mut row = vec![first];
    row.resize(count.max(1), String::new());
    row
}

/// A field's text: strings as they are, numbers and booleans as JSON writes them.
fn field(data: &Map<String, Value>, name: &str) -> String {
    match data.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
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
    /// Attachment 3 (the latest when absent); `fill_date` says whether Attachment 1's
    /// 填报日期 is the report's or left blank to be written by hand.
    pub fn build(
        self,
        fields: &Map<String, Value>,
        filing_date: Option<&str>,
        fill_date: FillDate,
    ) -> Option<Vec<Form>> {
        match self {
            FormName::Attachment1 => attachment_1_of_report(fields, fill_date),
            FormName::Attachment2 => Some(vec![attachment_2(fields)]),
            FormName::Attachment3 => Some(vec![attachment_3(fields, filing_date)]),
        }
    }
}
