//! The official forms' printed text (Attachments 1–3), every string in reading order per sheet,
//! as fixtures copied from the regulation's own text (`fixtures/official_forms/`, whose header
//! says how), and the readers that turn an XLSX sheet's cells or a print page's HTML into the
//! same sequence, so a test compares a form with the original string by string.

/// One sheet (page) of an official form: its worksheet name and its strings in reading order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedSheet {
    pub sheet_name: String,
    pub strings: Vec<String>,
}

/// The fixture of Attachment `number` (1, 2 or 3); empty for any other number.
pub fn attachment(number: u8) -> Vec<PrintedSheet> {
    let text = match number {
        1 => include_str!("../fixtures/official_forms/attachment1.txt"),
        2 => include_str!("../fixtures/official_forms/attachment2.txt"),
        3 => include_str!("../fixtures/official_forms/attachment3.txt"),
        _ => "",
    };
    parse(text)
}

/// Every string of Attachment `number`, all sheets one after another.
pub fn attachment_strings(number: u8) -> Vec<String> {
    attachment(number)
        .into_iter()
        .flat_map(|sheet| sheet.strings)
        .collect()
}

/// A fixture's sheets: `#` lines are comments, `== name` starts a sheet, every other line is
/// one string with `\n`, `\u{a0}`, `\u{3000}` and `\\` unescaped.
pub fn parse(text: &str) -> Vec<PrintedSheet> {
    let mut sheets: Vec<PrintedSheet> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("== ") {
            sheets.push(PrintedSheet {
                sheet_name: name.to_string(),
                strings: Vec::new(),
            });
        } else if let Some(sheet) = sheets.last_mut() {
            sheet.strings.push(unescape(line));
        }
    }
    sheets
}

fn unescape(line: &str) -> String {
    let mut text = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('\\') {
        text.push_str(&rest[..at]);
        let escaped = &rest[at..];
        let (character, length) = [
            ("\\n", '\n'),
            ("\\u{a0}", '\u{a0}'),
            ("\\u{3000}", '\u{3000}'),
            ("\\\\", '\\'),
        ]
        .iter()
        .find(|(escape, _)| escaped.starts_with(escape))
        .map_or(('\\', 1), |(escape, character)| (*character, escape.len()));
        text.push(character);
        rest = &escaped[length..];
    }
    text.push_str(rest);
    text
}

/// The non-empty strings of a grid of cells, row by row, left to right.
pub fn strings_of_grid(grid: &[Vec<String>]) -> Vec<String> {
    grid.iter()
        .flatten()
        .filter(|text| !text.is_empty())
        .cloned()
        .collect()
}

/// The text nodes of an HTML fragment in document order, entities decoded, whitespace-only
/// nodes skipped: what a print page shows, string by string, when every printed string is one
/// element's text.
pub fn strings_of_html(html: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        push_text(&mut strings, &rest[..open]);
        rest = rest[open..]
            .find('>')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    push_text(&mut strings, rest);
    strings
}

fn push_text(strings: &mut Vec<String>, raw: &str) {
    if raw.chars().all(|character| character.is_ascii_whitespace()) {
        return;
    }
    strings.push(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_hold_every_sheet_of_the_three_attachments() {
        let names = |number| -> Vec<String> {
            attachment(number)
                .into_iter()
                .map(|sheet| sheet.sheet_name)
                .collect()
        };
        assert_eq!(
            names(1),
            [
                "获证企业",
                "不予许可企业",
                "变更企业",
                "撤回撤销吊销注销企业"
            ]
        );
        assert_eq!(names(2), ["实地核查计划"]);
        assert_eq!(names(3), ["检验机构信息变更备案"]);
        assert_eq!(attachment_strings(1)[0], "附件1：");
        assert!(
            attachment_strings(1).contains(
                &"填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日".to_string()
            )
        );
        assert!(
            attachment_strings(3).contains(&"负责人签字：\n年   月   日（加盖公章）".to_string())
        );
    }

    #[test]
    fn html_text_comes_out_string_by_string() {
        assert_eq!(
            strings_of_html("<p>附件1：</p>\n<td>a &amp; b</td><td> </td><td>x\ny</td>"),
            ["附件1：", "a & b", "x\ny"]
        );
    }
}
