//! The official forms written as XLSX and read back with a reader crate: their headings equal
//! the original's (Attachments 1–3 of 工业产品生产许可证信息管理规定), character for character —
//! the strings below are copied from the original text, not from the code.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use licnode_reports::monthly::{ChangedRow, GrantedRow, RefusedRow, TerminatedRow};
use licnode_reports::{MonthlyContent, MonthlyTables, forms, to_csv, to_xlsx};
use serde_json::json;

fn read(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an xlsx file");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(text) => text.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn content() -> MonthlyContent {
    MonthlyContent {
        period: "2026-10".into(),
        applicants: Vec::new(),
        tables: MonthlyTables {
            granted: vec![GrantedRow {
                enterprise_name: "杭州某某电线电缆有限公司".into(),
                licence_number: "(浙)XK06-001-00001".into(),
                remark: "发证".into(),
                ..GrantedRow::default()
            }],
            refused: vec![RefusedRow::default()],
            changed: vec![ChangedRow::default()],
            terminated: vec![TerminatedRow::default()],
        },
    }
}

const COMMON: [&str; 7] = [
    "序号",
    "企业名称",
    "住所",
    "生产地址",
    "产品类别",
    "产品名称",
    "申证单元",
];

fn with_common(extra: &[&str]) -> Vec<String> {
    COMMON.iter().chain(extra).map(|s| s.to_string()).collect()
}

#[test]
fn attachment_1_has_the_four_tables_with_the_originals_titles_and_headings() {
    let fill_date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let sheets = forms::attachment_1(&content(), "浙江省市场监督管理局", fill_date);
    let bytes = to_xlsx(&sheets).expect("xlsx");

    let granted = read(bytes.clone(), "获证企业");
    assert_eq!(granted[0][0], "获得工业产品生产许可证企业汇总表");
    assert_eq!(granted[1][0], "填报单位（章）：浙江省市场监督管理局");
    assert_eq!(granted[1][10], "填报日期：2026年11月2日");
    assert_eq!(
        granted[2],
        with_common(&["证书编号", "有效期", "发证日期", "备注"])
    );
    assert_eq!(granted[3][1], "杭州某某电线电缆有限公司");
    assert_eq!(granted[3][10], "发证");
    assert_eq!(granted[4][0], "注：“备注”栏中注明“发证”或“换证”。");

    let refused = read(bytes.clone(), "不予许可企业");
    assert_eq!(refused[0][0], "不予行政许可证企业汇总表");
    assert_eq!(
        refused[2],
        with_common(&["不予许可原因", "不予许可日期", "备注"])
    );

    let changed = read(bytes.clone(), "变更企业");
    assert_eq!(changed[0][0], "工业产品生产许可证企业变更汇总表");
    // Two heading rows: 变更情况 over 变更事项 and 变更日期.
    let mut first = with_common(&["证书编号", "有效期", "发证日期", "变更情况", "", "备注"]);
    first.truncate(13);
    assert_eq!(changed[2], first);
    let mut second = vec![String::new(); 13];
    second[10] = "变更事项".into();
    second[11] = "变更日期".into();
    assert_eq!(changed[3], second);

    let terminated = read(bytes, "撤回撤销吊销注销企业");
    assert_eq!(
        terminated[0][0],
        "撤回、撤销、吊销和注销工业产品生产许可证企业汇总表"
    );
    assert_eq!(
        terminated[2],
        with_common(&["证书编号", "注销原因", "注销时间", "备注"])
    );
}

#[test]
fn attachment_1_as_csv_has_the_same_headings() {
    let fill_date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let sheets = forms::attachment_1(&content(), "浙江省市场监督管理局", fill_date);
    let csv = String::from_utf8(to_csv(&sheets).expect("csv")).expect("utf-8");
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains(
        "序号,企业名称,住所,生产地址,产品类别,产品名称,申证单元,证书编号,有效期,发证日期,备注\r\n"
    ));
    assert!(csv.contains("撤回、撤销、吊销和注销工业产品生产许可证企业汇总表"));
}

#[test]
fn attachment_2_is_the_site_verification_plan_with_its_team() {
    let plan = json!({
        "plan_number": "JH-2026-001",
        "product_name": "电线电缆",
        "enterprise_name": "杭州某某电线电缆有限公司",
        "production_address": "杭州市西湖区某路1号",
        "postcode": "310000",
        "contact_person": "张三",
        "contact_phone": "0571-88888888",
        "application_units": "额定电压450/750V及以下聚氯乙烯绝缘电缆",
        "planned_review_date": "2026-11-20",
        "acceptance_date": "2026-10-15",
        "team_members": [
            {"name": "李四", "team_role": "leader", "employer": "某审查部", "phone": "13800000000",
             "reviewer_registration_number": "SC-0001"}
        ],
        "basis": "《中华人民共和国工业产品生产许可证管理条例》",
        "organiser_name": "某审查部",
        "plan_date": "2026-11-01"
    });
    let form = forms::attachment_2(plan.as_object().unwrap());
    let rows = read(to_xlsx(&[form]).expect("xlsx"), "实地核查计划");
    assert_eq!(rows[0][0], "实地核查计划");
    assert_eq!(rows[1][0], "产品名称：电线电缆");
    assert_eq!(
        rows[2],
        [
            "序号",
            "企 业 名 称",
            "实际生产地址",
            "邮编",
            "联系人、电话",
            "申请单元",
            "计划审查时间",
            "受理时间"
        ]
    );
    assert_eq!(rows[3][1], "杭州某某电线电缆有限公司");
    assert_eq!(
        rows[4][..6],
        [
            "审查组成员",
            "姓 名",
            "组内职务",
            "所在单位名称",
            "联系电话",
            "审查员证书注册号"
        ]
    );
    assert_eq!(rows[5][1..3], ["李四", "组长"]);
    assert_eq!(rows[6][0], "依据");
    assert_eq!(rows[7][0], "要求");
    assert_eq!(rows[8][0], "说明");
}

#[test]
fn attachment_3_is_the_inspection_body_change_filing_before_and_after() {
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
    let form = forms::attachment_3(body.as_object().unwrap(), None);
    let rows = read(to_xlsx(&[form]).expect("xlsx"), "检验机构信息变更备案");
    assert_eq!(rows[0][0], "工业产品许可证检验机构信息变更备案登记表");
    assert_eq!(rows[1][..2], ["检验机构名称", "浙江省某产品质量检验研究院"]);
    assert_eq!(rows[2][..2], ["承检产品名称", "电线电缆"]);
    assert_eq!(rows[3][0], "变更内容");
    assert_eq!(rows[4], ["变更事项", "变更前", "变更后"]);
    let items: Vec<&str> = rows[5..17].iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        items,
        [
            "检验机构名称",
            "主管部门",
            "挂靠单位名称",
            "单位性质",
            "资产性质",
            "通信地址",
            "邮政编码",
            "电    话",
            "传    真",
            "电子信箱",
            "联 系 人",
            "其    他"
        ]
    );
    assert_eq!(rows[10][1..3], ["旧址", "新址"]);
    assert_eq!(rows[12][1..3], ["0571-1", "0571-2"]);
    // The fax changed in another filing: blank here (信息未发生变更的栏目不填).
    assert_eq!(rows[13][1..3], ["", ""]);
    assert_eq!(rows[17][0], "检验机构意见");
    assert_eq!(rows[18][..2], ["省级质量技术监督局意见", "同意"]);
}
