//! The forms as files: XLSX (one sheet per form, merged heading cells as in the original) and
//! CSV (the same grid, forms one after another). Bytes only; the caller writes or serves them.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

use crate::forms::Form;

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

/// A row of the sheet, as laid out: title, the lines above, each block's heading and rows,
/// then the notes. Returned as (row index of each block's heading, grid) so that CSV and XLSX
/// agree on positions.
fn layout(form: &Form) -> Vec<Vec<String>> {
    let width = form.width();
    let mut grid = Vec::new();
    let pad = |mut row: Vec<String>| {
        row.resize(width, String::new());
        row
    };
    grid.push(pad(vec![form.title.clone()]));
    if !form.above.is_empty() {
        grid.push(pad(form.above.clone()));
    }
    for block in &form.blocks {
        for heading in block.header_grid() {
            grid.push(pad(heading));
        }
        for row in &block.rows {
            grid.push(pad(row.clone()));
        }
    }
    for note in &form.below {
        grid.push(pad(vec![note.clone()]));
    }
    grid
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
    let title_format = Format::new().set_bold().set_align(FormatAlign::Center);
    let heading_format = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell_format = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    for form in forms {
        let sheet = workbook.add_worksheet();
        sheet.set_name(form.sheet_name.as_str())?;
        let width = form.width() as u16;
        for col in 0..width {
            sheet.set_column_width(col, if col == 0 { 8 } else { 18 })?;
        }
        let last_col = width.saturating_sub(1);
        let mut row: u32 = 0;
        sheet.merge_range(row, 0, row, last_col, &form.title, &title_format)?;
        row += 1;
        if !form.above.is_empty() {
            for (index, line) in form.above.iter().enumerate() {
                // The first line on the left, the others on the right (填报单位 … 填报日期).
                let col = if index == 0 { 0 } else { last_col };
                sheet.write_string(row, col, line.as_str())?;
            }
            row += 1;
        }
        for block in &form.blocks {
            for cell in &block.header {
                let first_row = row + u32::from(cell.row);
                let last_row = first_row + u32::from(cell.rows) - 1;
                let last = cell.col + cell.cols - 1;
                if first_row == last_row && cell.col == last {
                    sheet.write_string_with_format(
                        first_row,
                        cell.col,
                        cell.text,
                        &heading_format,
                    )?;
                } else {
                    sheet.merge_range(
                        first_row,
                        cell.col,
                        last_row,
                        last,
                        cell.text,
                        &heading_format,
                    )?;
                }
            }
            row += u32::from(block.header_rows());
            for values in &block.rows {
                for (col, value) in values.iter().enumerate() {
                    sheet.write_string_with_format(
                        row,
                        col as u16,
                        value.as_str(),
                        &cell_format,
                    )?;
                }
                row += 1;
            }
        }
        for note in &form.below {
            sheet.write_string(row, 0, note.as_str())?;
            row += 1;
        }
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
        for row in layout(form) {
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
            title: crate::forms::CHANGED_TITLE.into(),
            above: vec![
                "填报单位（章）：某局".into(),
                "填报日期：2026年11月2日".into(),
            ],
            blocks: vec![Block {
                header: changed_header(),
                rows: vec![vec!["1".into(); 13]],
            }],
            below: vec!["注".into()],
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
}
