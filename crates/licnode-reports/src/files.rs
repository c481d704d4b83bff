//! The forms as files: XLSX (one sheet per form, merged cells and print setup as in the
//! original: orientation, A4, fitted to the page's width, the table's heading repeated on every
//! page) and CSV (the same grid, forms one after another). Bytes only; the caller writes or
//! serves them.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::forms::{Form, Orientation};

/// The forms could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("csv: {0}")]
    Io(#[from] std::io::Error),
}

/// How a placed cell looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellStyle {
    /// 附件N：, top left.
    AttachmentLabel,
    Title,
    /// A part of a line outside the table, by where it sits on the line.
    LineLeft,
    LineCentre,
    LineRight,
    /// A table heading, or a row's label in a table without one (依据, 检验机构意见).
    Heading,
    /// A table cell.
    Body,
    /// A note under the table, its leading spaces kept.
    Note,
}

/// One cell of the sheet, merged over its range when that is more than one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedCell {
    pub first_row: u32,
    pub first_col: u16,
    pub last_row: u32,
    pub last_col: u16,
    pub text: String,
    pub style: CellStyle,
}

/// A form laid out on a sheet: its cells, its width, and the rows repeated atop every printed
/// page (the first table's heading).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SheetLayout {
    pub cells: Vec<PlacedCell>,
    pub width: u16,
    pub repeat_rows: Option<(u32, u32)>,
}

impl SheetLayout {
    fn place(&mut self, row: u32, col: u16, rows: u32, cols: u16, text: &str, style: CellStyle) {
        self.cells.push(PlacedCell {
            first_row: row,
            first_col: col,
            last_row: row + rows.max(1) - 1,
            last_col: col + cols.max(1) - 1,
            text: text.to_string(),
            style,
        });
    }

    /// A line outside the table in parts: the first at the left, the last at the right, any
    /// between in the middle, each over its share of the width.
    fn line(&mut self, row: u32, parts: &[String]) {
        let count = parts.len() as u16;
        for (index, part) in parts.iter().enumerate() {
            let index = index as u16;
            let first = self.width * index / count;
            let last = (self.width * (index + 1) / count).max(first + 1);
            let style = match index {
                0 => CellStyle::LineLeft,
                _ if index + 1 == count => CellStyle::LineRight,
                _ => CellStyle::LineCentre,
            };
            self.place(row, first, 1, last - first, part, style);
        }
    }

    /// The grid of text, merged cells' other positions empty.
    pub fn grid(&self) -> Vec<Vec<String>> {
        let rows = self.cells.iter().map(|cell| cell.last_row + 1).max();
        let mut grid =
            vec![vec![String::new(); usize::from(self.width)]; rows.unwrap_or(0) as usize];
        for cell in &self.cells {
            if let Some(slot) = grid
                .get_mut(cell.first_row as usize)
                .and_then(|row| row.get_mut(usize::from(cell.first_col)))
            {
                slot.clone_from(&cell.text);
            }
        }
        grid
    }
}

/// Where each string of the form goes: label, titles, the line above, each block's heading and
/// rows, the notes, the footer. XLSX and CSV both write this layout, so they agree on positions.
pub fn layout(form: &Form) -> SheetLayout {
    let width = form.width() as u16;
    let mut sheet = SheetLayout {
        width,
        ..SheetLayout::default()
    };
    let mut row: u32 = 0;
    if let Some(label) = &form.attachment_label {
        sheet.place(row, 0, 1, width, label, CellStyle::AttachmentLabel);
        row += 1;
    }
    for title in &form.titles {
        sheet.place(row, 0, 1, width, title, CellStyle::Title);
        row += 1;
    }
    if !form.above.is_empty() {
        sheet.line(row, &form.above);
        row += 1;
    }
    for block in &form.blocks {
        let header_rows = u32::from(block.header_rows());
        if let Some(label) = &block.side_label {
            let rows = header_rows + block.rows.len() as u32;
            sheet.place(row, 0, rows, 1, label, CellStyle::Heading);
        }
        for cell in &block.header {
            let first_row = row + u32::from(cell.row);
            let (rows, cols) = (u32::from(cell.rows), cell.cols);
            sheet.place(
                first_row,
                cell.col,
                rows,
                cols,
                cell.text,
                CellStyle::Heading,
            );
        }
        if header_rows > 0 && sheet.repeat_rows.is_none() {
            sheet.repeat_rows = Some((row, row + header_rows - 1));
        }
        row += header_rows;
        for values in &block.rows {
            let positions = block.cell_positions(values.len());
            for (index, (value, (col, span))) in values.iter().zip(positions).enumerate() {
                let style = if block.header.is_empty() && index == 0 {
                    CellStyle::Heading
                } else {
                    CellStyle::Body
                };
                sheet.place(row, col, 1, span, value, style);
            }
            row += 1;
        }
    }
    for note in &form.below {
        sheet.place(row, 0, 1, width, note, CellStyle::Note);
        row += 1;
    }
    if !form.footer.is_empty() {
        sheet.line(row, &form.footer);
    }
    sheet
}

/// Columns' widths in characters: the form's, a default for the rest.
fn column_width(form: &Form, col: u16) -> f64 {
    const DEFAULT_WIDTH: u16 = 14;
    f64::from(
        form.column_widths
            .get(usize::from(col))
            .copied()
            .unwrap_or(DEFAULT_WIDTH),
    )
}

/// How wide `text` prints, in column-width characters (a Chinese character takes two).
fn print_width(text: &str) -> f64 {
    text.chars()
        .map(|character| if character.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

/// The height a row needs for the cells that lie in it alone: one line per paragraph, more
/// where a paragraph is wider than its cell. `None` for one line (the default height).
fn row_height(form: &Form, cells: &[&PlacedCell]) -> Option<f64> {
    const LINE_HEIGHT: f64 = 15.0;
    let lines = cells
        .iter()
        .filter(|cell| cell.first_row == cell.last_row)
        .filter(|cell| matches!(cell.style, CellStyle::Body | CellStyle::Heading))
        .map(|cell| {
            let width: f64 = (cell.first_col..=cell.last_col)
                .map(|col| column_width(form, col))
                .sum::<f64>()
                .max(1.0);
            cell.text
                .split('\n')
                .map(|paragraph| (print_width(paragraph) / width).ceil().max(1.0))
                .sum::<f64>()
        })
        .fold(1.0, f64::max);
    (lines > 1.0).then_some(lines * LINE_HEIGHT)
}

/// The formats of the cell styles.
struct Formats {
    label: Format,
    title: Format,
    left: Format,
    centre: Format,
    right: Format,
    heading: Format,
    body: Format,
}

impl Formats {
    fn new() -> Formats {
        let bordered = Format::new()
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter);
        Formats {
            label: Format::new(),
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            left: Format::new().set_align(FormatAlign::Left),
            centre: Format::new().set_align(FormatAlign::Center),
            right: Format::new().set_align(FormatAlign::Right),
            heading: bordered.clone().set_align(FormatAlign::Center),
            body: bordered,
        }
    }

    fn of(&self, style: CellStyle) -> &Format {
        match style {
            CellStyle::AttachmentLabel | CellStyle::Note => &self.label,
            CellStyle::Title => &self.title,
            CellStyle::LineLeft => &self.left,
            CellStyle::LineCentre => &self.centre,
            CellStyle::LineRight => &self.right,
            CellStyle::Heading => &self.heading,
            CellStyle::Body => &self.body,
        }
    }
}

/// One form on its sheet, laid out and set up to print as the original.
fn write_sheet(sheet: &mut Worksheet, form: &Form, formats: &Formats) -> Result<(), FileError> {
    sheet.set_name(form.sheet_name.as_str())?;
    let placed = layout(form);
    for col in 0..placed.width {
        sheet.set_column_width(col, column_width(form, col))?;
    }
    for cell in &placed.cells {
        let format = formats.of(cell.style);
        if cell.first_row == cell.last_row && cell.first_col == cell.last_col {
            if cell.text.is_empty() {
                sheet.write_blank(cell.first_row, cell.first_col, format)?;
            } else {
                sheet.write_string_with_format(
                    cell.first_row,
                    cell.first_col,
                    cell.text.as_str(),
                    format,
                )?;
            }
        } else {
            sheet.merge_range(
                cell.first_row,
                cell.first_col,
                cell.last_row,
                cell.last_col,
                cell.text.as_str(),
                format,
            )?;
        }
    }
    let last_row = placed.cells.iter().map(|cell| cell.last_row).max();
    for row in 0..=last_row.unwrap_or(0) {
        let in_row: Vec<&PlacedCell> = placed.cells.iter().filter(|c| c.first_row == row).collect();
        if let Some(height) = row_height(form, &in_row) {
            sheet.set_row_height(row, height)?;
        }
    }
    // Print as the original: its orientation on A4, as wide as the page, the table's heading
    // atop every page.
    const A4: u8 = 9;
    match form.orientation {
        Orientation::Landscape => sheet.set_landscape(),
        Orientation::Portrait => sheet.set_portrait(),
    };
    sheet.set_paper_size(A4);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_print_center_horizontally(true);
    if let Some((first, last)) = placed.repeat_rows {
        sheet.set_repeat_rows(first, last)?;
    }
    Ok(())
}

/// The forms as one workbook, one sheet per form.
///
/// The workbook's bytes depend only on the forms: its creation time is set to a fixed date
/// (rust_xlsxwriter would stamp the current time), so every download of one report — from the
/// web, the JSON API or the CLI — is byte for byte the same file.
pub fn to_xlsx(forms: &[Form]) -> Result<Vec<u8>, FileError> {
    let mut workbook = Workbook::new();
    let fixed_creation_time = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&fixed_creation_time));
    let formats = Formats::new();
    for form in forms {
        write_sheet(workbook.add_worksheet(), form, &formats)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// The forms as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese
/// right), the same grid as the XLSX, forms separated by an empty line.
pub fn to_csv(forms: &[Form]) -> Result<Vec<u8>, FileError> {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    for (index, form) in forms.iter().enumerate() {
        if index > 0 {
            bytes.extend_from_slice(b"\r\n");
        }
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for row in layout(form).grid() {
            writer.write_record(&row)?;
        }
        bytes.extend(writer.into_inner().map_err(|error| error.into_error())?);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{Block, changed_header};

    #[test]
    fn csv_and_xlsx_carry_the_same_heading() {
        let form = Form {
            sheet_name: "变更企业".into(),
            titles: vec![crate::forms::CHANGED_TITLE.into()],
            above: vec![
                "填报单位（章）：某局".into(),
                "填报日期：2026年11月2日".into(),
            ],
            blocks: vec![Block::plain(changed_header(), vec![vec!["1".into(); 13]])],
            below: vec!["注".into()],
            ..Form::default()
        };
        let csv = String::from_utf8(to_csv(std::slice::from_ref(&form)).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[2],
            "序号,企业名称,住所,生产地址,产品类别,产品名称,申证单元,证书编号,有效期,发证日期,变更情况,,备注"
        );
        assert_eq!(lines[3], ",,,,,,,,,,变更事项,变更日期,");
        let xlsx = to_xlsx(std::slice::from_ref(&form)).unwrap();
        assert!(xlsx.starts_with(b"PK"));
        // Written again a moment later, the workbook is the same file.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(to_xlsx(&[form]).unwrap(), xlsx);
    }

    #[test]
    fn a_line_outside_the_table_puts_its_parts_left_middle_and_right() {
        let mut sheet = SheetLayout {
            width: 8,
            ..SheetLayout::default()
        };
        sheet.line(0, &["编制：".into(), "审批：".into(), "年".into()]);
        let spans: Vec<(u16, u16, CellStyle)> = sheet
            .cells
            .iter()
            .map(|cell| (cell.first_col, cell.last_col, cell.style))
            .collect();
        assert_eq!(
            spans,
            [
                (0, 1, CellStyle::LineLeft),
                (2, 4, CellStyle::LineCentre),
                (5, 7, CellStyle::LineRight)
            ]
        );
    }

    #[test]
    fn a_cell_of_two_paragraphs_gets_a_row_two_lines_high() {
        let form = Form::default();
        let cell = PlacedCell {
            first_row: 0,
            first_col: 0,
            last_row: 0,
            last_col: 0,
            text: "一\n二".into(),
            style: CellStyle::Body,
        };
        assert_eq!(row_height(&form, &[&cell]), Some(30.0));
        let one = PlacedCell {
            text: "一".into(),
            ..cell
        };
        assert_eq!(row_height(&form, &[&one]), None);
    }
}
