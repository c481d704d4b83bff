//! The official forms written as XLSX and CSV and read back: every printed string of each
//! attachment, in order, equals the original's (the fixtures of `licnode_testkit::
//! official_forms`, copied from the regulation's text), the records' values sit in their cells
//! between them, the merged cells are the original's, and each sheet prints as the original
//! (orientation, A4, one page wide, the heading repeated).

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use licnode_reports::monthly::{ChangedRow, GrantedRow, TerminatedRow};
use licnode_reports::{Form, MonthlyContent, MonthlyTables, forms, to_csv, to_xlsx};
use licnode_testkit::official_forms::{self, PrintedSheet, strings_of_grid};
use serde_json::{Map, Value, json};

fn grid(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    assert_eq!(range.start(), Some((0, 0)), "{sheet} starts top left");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(text) => text.clone(),
                    Data::Empty => String::new(),
                    other => panic!("{sheet}: a cell that is not text: {other:?}"),
                })
                .collect()
        })
        .collect()
}

/// Each sheet of the workbook as its name and its strings in reading order.
fn printed_sheets(bytes: &[u8]) -> Vec<PrintedSheet> {
    let workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    workbook
        .sheet_names()
        .into_iter()
        .map(|name| PrintedSheet {
            strings: strings_of_grid(&grid(bytes, &name)),
            sheet_name: name,
        })
        .collect()
}

/// The strings of the CSV, forms one after another.
fn csv_strings(forms: &[Form]) -> Vec<String> {
    let bytes = to_csv(forms).expect("csv");
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.expect("a row").iter().map(String::from).collect())
        .collect();
    strings_of_grid(&rows)
}

fn assert_prints_the_original(forms: &[Form], attachment: u8) {
    let expected = official_forms::attachment(attachment);
    let bytes = to_xlsx(forms).expect("xlsx");
    let printed = printed_sheets(&bytes);
    assert_eq!(printed.len(), expected.len());
    for (printed, expected) in printed.iter().zip(&expected) {
        assert_eq!(printed.sheet_name, expected.sheet_name);
        for (index, (got, want)) in printed.strings.iter().zip(&expected.strings).enumerate() {
            assert_eq!(got, want, "{}: string {index}", expected.sheet_name);
        }
        assert_eq!(
            printed.strings.len(),
            expected.strings.len(),
            "{}",
            expected.sheet_name
        );
    }
    assert_eq!(
        csv_strings(forms),
        official_forms::attachment_strings(attachment)
    );
}

#[test]
fn blank_attachment_1_prints_every_string_of_the_original_in_order() {
    let sheets = forms::attachment_1(&MonthlyContent::default(), "", None);
    assert_prints_the_original(&sheets, 1);
}

#[test]
fn blank_attachment_2_prints_every_string_of_the_original_in_order() {
    assert_prints_the_original(&[forms::attachment_2(&Map::new())], 2);
}

#[test]
fn blank_attachment_3_prints_every_string_of_the_original_in_order() {
    assert_prints_the_original(&[forms::attachment_3(&Map::new(), None)], 3);
}

/// `strings` with `from` replaced by `to` (exactly once).
fn replaced(strings: &mut [String], from: &str, to: &str) {
    let at: Vec<usize> = (0..strings.len()).filter(|&i| strings[i] == from).collect();
    assert_eq!(at.len(), 1, "{from:?} once");
    strings[at[0]] = to.to_string();
}

/// `strings` with `values` inserted after the first `after`.
fn inserted(strings: &mut Vec<String>, after: &str, values: &[&str]) {
    let at = strings.iter().position(|text| text == after).expect(after) + 1;
    for (offset, value) in values.iter().enumerate() {
        strings.insert(at + offset, value.to_string());
    }
}

fn monthly_content() -> MonthlyContent {
    MonthlyContent {
        period: "2026-10".into(),
        applicants: Vec::new(),
        tables: MonthlyTables {
            granted: vec![GrantedRow {
                enterprise_name: "杭州某某电线电缆有限公司".into(),
                residence_address: "杭州市西湖区某路1号".into(),
                production_address: "杭州市余杭区某路2号".into(),
                product_category: "电线电缆".into(),
                product_name: "电线电缆".into(),
                application_units: "电力电缆".into(),
                licence_number: "(浙)XK06-001-00001".into(),
                valid_until: "2031-10-07".into(),
                issue_date: "2026-10-08".into(),
                remark: "发证".into(),
                ..GrantedRow::default()
            }],
            refused: Vec::new(),
            changed: vec![ChangedRow {
                enterprise_name: "宁波某某化工有限公司".into(),
                change_items: "企业名称".into(),
                change_date: "2026-10-12".into(),
                ..ChangedRow::default()
            }],
            terminated: vec![TerminatedRow::from_event(
                "r1",
                json!({"enterprise_name": "温州某某厂", "event_kind": "penalty_revocation",
                       "reason": "违法生产", "event_date": "2026-10-20"})
                .as_object()
                .expect("object"),
            )],
        },
    }
}

#[test]
fn a_filled_attachment_1_keeps_the_originals_text_around_its_records() {
    let fill_date = NaiveDate::from_ymd_opt(2026, 11, 2);
    let sheets = forms::attachment_1(&monthly_content(), "浙江省市场监督管理局", fill_date);
    let bytes = to_xlsx(&sheets).expect("xlsx");
    let blank_date = "填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日";
    let mut expected = official_forms::attachment(1);
    for sheet in &mut expected {
        replaced(
            &mut sheet.strings,
            "填报单位（章）：",
            "填报单位（章）：浙江省市场监督管理局",
        );
        replaced(&mut sheet.strings, blank_date, "填报日期：2026年11月2日");
    }
    let granted = [
        "杭州某某电线电缆有限公司",
        "杭州市西湖区某路1号",
        "杭州市余杭区某路2号",
        "电线电缆",
        "电线电缆",
        "电力电缆",
        "(浙)XK06-001-00001",
        "2031-10-07",
        "2026-10-08",
        "发证",
    ];
    inserted(&mut expected[0].strings, "1", &granted);
    // Notes of tables 3 and 4: "备注"栏若没有填写"无"; table 4's 注销原因 starts with its kind.
    inserted(
        &mut expected[2].strings,
        "1",
        &["宁波某某化工有限公司", "企业名称", "2026-10-12", "无"],
    );
    inserted(
        &mut expected[3].strings,
        "1",
        &["温州某某厂", "吊销：违法生产", "2026-10-20", "无"],
    );
    assert_eq!(printed_sheets(&bytes), expected);

    // Cell by cell: the record in the first numbered row, under its heading.
    let rows = grid(&bytes, "获证企业");
    assert_eq!(rows[4][7], "证书编号");
    assert_eq!(rows[5][0], "1");
    assert_eq!(rows[5][7], "(浙)XK06-001-00001");
    assert_eq!(rows[6][0], "2");
    assert_eq!(rows[3][0], "填报单位（章）：浙江省市场监督管理局");
    assert_eq!(rows[3][5], "填报日期：2026年11月2日");
    let changed = grid(&bytes, "变更企业");
    assert_eq!(changed[4][10..13], ["企业名称", "2026-10-12", "无"]);
    let terminated = grid(&bytes, "撤回撤销吊销注销企业");
    assert_eq!(terminated[3][8..11], ["吊销：违法生产", "2026-10-20", "无"]);
}

#[test]
fn attachment_1_leaves_the_fill_date_blank_when_the_bureau_writes_it_by_hand() {
    let report = json!({
        "report_kind": "monthly", "fill_date": "2026-11-02", "reporting_unit": "某局",
        "content": serde_json::to_string(&MonthlyContent::default()).expect("json")
    });
    let report = report.as_object().expect("object");
    let line = |fill_date| {
        let sheets = forms::attachment_1_of_report(report, fill_date).expect("monthly");
        sheets[1].above[1].clone()
    };
    assert_eq!(line(forms::FillDate::Report), "填报日期：2026年11月2日");
    assert_eq!(
        line(forms::FillDate::Blank),
        "填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日"
    );
}

fn review_plan() -> Value {
    json!({
        "plan_number": "JH-2026-001",
        "product_name": "电线电缆",
        "enterprise_name": "杭州某某电线电缆有限公司",
        "production_address": "杭州市西湖区某路1号",
        "postcode": "310000",
        "contact_person": "张三",
        "contact_phone": "0571-88888888",
        "application_units": "电力电缆",
        "planned_review_date": "2026-11-20",
        "acceptance_date": "2026-10-15",
        "team_members": [
            {"name": "李四", "team_role": "leader", "employer": "某审查部", "phone": "13800000000",
             "reviewer_registration_number": "SC-0001"},
            {"name": "王五", "team_role": "member", "employer": "某检验院", "phone": "13900000000",
             "reviewer_registration_number": "SC-0002"}
        ],
        "organiser_name": "某审查部",
        "organiser_address": "杭州市某路3号",
        "organiser_email": "review@example.cn",
        "prepared_by": "赵六",
        "approved_by": "钱七",
        "plan_date": "2026-11-01"
    })
}

#[test]
fn a_filled_attachment_2_prints_the_originals_basis_and_requirements_by_default() {
    let plan = review_plan();
    let form = forms::attachment_2(plan.as_object().expect("object"));
    let bytes = to_xlsx(&[form]).expect("xlsx");
    let mut expected = official_forms::attachment(2);
    let strings = &mut expected[0].strings;
    replaced(strings, "产品名称：", "产品名称：电线电缆");
    replaced(strings, "编号：", "编号：JH-2026-001");
    inserted(
        strings,
        "受理时间",
        &[
            "1",
            "杭州某某电线电缆有限公司",
            "杭州市西湖区某路1号",
            "310000",
            "张三、0571-88888888",
            "电力电缆",
            "2026-11-20",
            "2026-10-15",
        ],
    );
    inserted(
        strings,
        "审查员证书注册号",
        &["李四", "组长", "某审查部", "13800000000", "SC-0001"],
    );
    inserted(
        strings,
        "SC-0001",
        &["王五", "组员", "某检验院", "13900000000", "SC-0002"],
    );
    // 说明: the organiser in the original's order, with its full stop.
    replaced(
        strings,
        "审查组织单位名称、地址、邮编、联系人、联系电话、传真、电子邮箱。",
        "某审查部、杭州市某路3号、review@example.cn。",
    );
    replaced(strings, "编制：", "编制：赵六");
    replaced(strings, "审批：", "审批：钱七");
    replaced(
        strings,
        "年   月   日 （审查组织机构盖章）",
        "2026年11月1日 （审查组织机构盖章）",
    );
    assert_eq!(printed_sheets(&bytes), expected);

    // A plan that words its own basis prints it instead.
    let mut own = review_plan();
    own["basis"] = json!("《电线电缆产品生产许可证实施细则》");
    let rows = grid(
        &to_xlsx(&[forms::attachment_2(own.as_object().expect("object"))]).expect("xlsx"),
        "实地核查计划",
    );
    let basis = rows.iter().find(|row| row[0] == "依据").expect("依据");
    assert_eq!(basis[1], "《电线电缆产品生产许可证实施细则》");
}

#[test]
fn a_filled_attachment_3_prints_the_changes_and_both_opinions_over_their_signature_lines() {
    let body = json!({
        "name": "浙江省某产品质量检验研究院",
        "products_inspected": "电线电缆",
        "change_filings": [
            {"changed_item": "phone", "value_before": "0571-1", "value_after": "0571-2",
             "filing_date": "2026-10-08", "provincial_opinion": "同意"},
            {"changed_item": "address", "value_before": "旧址", "value_after": "新址",
             "filing_date": "2026-10-08"},
            {"changed_item": "fax", "value_before": "早", "value_after": "更早",
             "filing_date": "2025-01-01"}
        ]
    });
    let form = forms::attachment_3(body.as_object().expect("object"), None);
    let bytes = to_xlsx(&[form]).expect("xlsx");
    let mut expected = official_forms::attachment(3);
    let strings = &mut expected[0].strings;
    // The first 检验机构名称 and 承检产品名称 are the body's own; each is followed by its value.
    inserted(strings, "检验机构名称", &["浙江省某产品质量检验研究院"]);
    inserted(strings, "承检产品名称", &["电线电缆"]);
    inserted(strings, "通信地址", &["旧址", "新址"]);
    inserted(strings, "电    话", &["0571-1", "0571-2"]);
    let provincial = strings
        .iter()
        .rposition(|text| text == "负责人签字：\n年   月   日（加盖公章）")
        .expect("the province's signature line");
    strings[provincial] = "同意\n负责人签字：\n年   月   日（加盖公章）".into();
    assert_eq!(printed_sheets(&bytes), expected);

    let rows = grid(&bytes, "检验机构信息变更备案");
    // The fax changed in another filing: blank here (信息未发生变更的栏目不填).
    let fax = rows.iter().find(|row| row[0] == "传    真").expect("传真");
    assert_eq!(fax[1..3], ["", ""]);
}

/// The merged ranges of a sheet as (first row, first col, last row, last col).
fn merged(bytes: &[u8], sheet: &str) -> Vec<(u32, u32, u32, u32)> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let mut ranges: Vec<(u32, u32, u32, u32)> = workbook
        .merge_cells_by_sheet_name(sheet)
        .expect("its merged cells")
        .into_iter()
        .map(|range| (range.start.0, range.start.1, range.end.0, range.end.1))
        .collect();
    ranges.sort_unstable();
    ranges
}

#[test]
fn the_forms_merge_their_cells_as_the_original() {
    let attachment_1 =
        to_xlsx(&forms::attachment_1(&MonthlyContent::default(), "", None)).expect("xlsx");
    let changed = merged(&attachment_1, "变更企业");
    // 变更情况 over 变更事项 and 变更日期; 序号 … 发证日期 and 备注 two rows deep.
    assert!(changed.contains(&(2, 10, 2, 11)));
    assert!(changed.contains(&(2, 0, 3, 0)));
    assert!(changed.contains(&(2, 12, 3, 12)));
    // The titles across the table's width.
    assert!(merged(&attachment_1, "获证企业").contains(&(1, 0, 1, 10)));

    let attachment_2 = to_xlsx(&[forms::attachment_2(
        review_plan().as_object().expect("plan"),
    )])
    .expect("xlsx");
    let plan = merged(&attachment_2, "实地核查计划");
    let rows = grid(&attachment_2, "实地核查计划");
    let team = rows
        .iter()
        .position(|row| row[0] == "审\n查\n组\n成\n员")
        .expect("team") as u32;
    // The team label down its block: its heading and the original's four rows.
    assert!(plan.contains(&(team, 0, team + 4, 0)), "{plan:?}");
    assert!(plan.contains(&(team, 3, team, 4)) && plan.contains(&(team, 6, team, 7)));
    let basis = rows.iter().position(|row| row[0] == "依据").expect("依据") as u32;
    for offset in 0..3 {
        assert!(plan.contains(&(basis + offset, 1, basis + offset, 7)));
    }

    let attachment_3 = to_xlsx(&[forms::attachment_3(&Map::new(), None)]).expect("xlsx");
    let filing = merged(&attachment_3, "检验机构信息变更备案");
    // 变更内容 over its three columns; the body's name and the opinions across two.
    assert!(filing.contains(&(4, 0, 4, 2)));
    assert!(filing.contains(&(2, 1, 2, 2)));
    assert!(filing.contains(&(18, 1, 18, 2)) && filing.contains(&(19, 1, 19, 2)));
}

/// A file of the XLSX package as text.
fn package_file(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a zip package");
    let mut text = String::new();
    archive
        .by_name(name)
        .expect(name)
        .read_to_string(&mut text)
        .expect("utf-8");
    text
}

#[test]
fn each_sheet_prints_as_the_original_on_a4_one_page_wide_with_its_heading_repeated() {
    let mut sheets = forms::attachment_1(&MonthlyContent::default(), "", None);
    sheets.push(forms::attachment_2(&Map::new()));
    sheets.push(forms::attachment_3(&Map::new(), None));
    let bytes = to_xlsx(&sheets).expect("xlsx");
    let orientations = [
        "landscape",
        "landscape",
        "landscape",
        "landscape",
        "landscape",
        "portrait",
    ];
    for (index, orientation) in orientations.iter().enumerate() {
        let sheet = package_file(&bytes, &format!("xl/worksheets/sheet{}.xml", index + 1));
        assert!(
            sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"),
            "sheet {index}"
        );
        assert!(sheet.contains("paperSize=\"9\""), "sheet {index}: A4");
        assert!(
            sheet.contains("fitToHeight=\"0\""),
            "sheet {index}: one page wide, any height"
        );
        assert!(
            sheet.contains(&format!("orientation=\"{orientation}\"")),
            "sheet {index}: {orientation}"
        );
    }
    let workbook = package_file(&bytes, "xl/workbook.xml");
    for titles in [
        "获证企业!$5:$5",
        "不予许可企业!$3:$3",
        "变更企业!$3:$4",
        "撤回撤销吊销注销企业!$3:$3",
        "实地核查计划!$4:$4",
    ] {
        assert!(
            workbook.contains(titles),
            "print titles {titles}: {workbook}"
        );
    }
}

#[test]
fn a_plan_listing_further_enterprises_prints_one_numbered_row_for_each() {
    // Art. 21, Attachment 2: one plan may cover several enterprises; each is a row of its own.
    let mut plan = review_plan();
    plan["further_enterprises"] = json!([
        {"enterprise_name": "宁波某某线缆有限公司", "production_address": "宁波市某路2号",
         "postcode": "315000", "contact_person": "孙八", "contact_phone": "0574-87777777",
         "application_units": "通信电缆", "planned_review_date": "2026-11-22",
         "acceptance_date": "2026-10-18"}
    ]);
    let form = forms::attachment_2(plan.as_object().expect("object"));
    let sheet = grid(&to_xlsx(&[form]).expect("xlsx"), "实地核查计划");
    let row_of = |name: &str| {
        sheet
            .iter()
            .find(|row| row.iter().any(|cell| cell == name))
            .unwrap_or_else(|| panic!("a row names {name}: {sheet:?}"))
            .clone()
    };
    let first = row_of("杭州某某电线电缆有限公司");
    let second = row_of("宁波某某线缆有限公司");
    assert_eq!(first.first().map(String::as_str), Some("1"), "{first:?}");
    assert_eq!(second.first().map(String::as_str), Some("2"), "{second:?}");
    for value in [
        "宁波市某路2号",
        "315000",
        "孙八、0574-87777777",
        "通信电缆",
        "2026-11-22",
        "2026-10-18",
    ] {
        assert!(
            second.iter().any(|cell| cell == value),
            "{value} in {second:?}"
        );
    }
}
