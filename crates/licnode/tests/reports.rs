//! The statutory reports between real nodes (Art. 18–20): a national node and the province
//! 330000, over real mutual TLS on loopback, with one injected clock. The province's scheduler
//! builds and submits its monthly report by itself, catches up a month it was down for, and
//! replication brings the reports to the national node with no manual step; a correction after
//! submission arrives there as revision 2; the national summary names the provinces that did not
//! report and how late they are; the forms come back from the API as XLSX whose headings are
//! the original's.

mod support;

use support::{NATIONAL, Planned, ZHEJIANG, licnode};

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use licnode::{Config, Node, NodeHandle};
use licnode_app::Author;
use licnode_app::{ManualClock, SharedClock, report_id};
use licnode_reports::{Period, ReportKind};
use serde_json::{Value, json};

/// The national node (with the root CA) and the province 330000, certificates made with the
/// CLI as the README does.
fn make_pair(dir: &Path) {
    support::issue_tree(
        dir,
        &[
            NATIONAL,
            Planned {
                has_children: false,
                ..ZHEJIANG
            },
        ],
    );
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("date")
}

/// Waits up to 60 s for `check` to hold.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A staff client of `node` with an approver's API token.
async fn approver(node: &NodeHandle) -> (reqwest::Client, String) {
    let store = node.archive().store_for_tests();
    store
        .add_user(
            "approver",
            "审批人",
            licnode_store::Role::Approver,
            "approver-password",
        )
        .await
        .expect("user");
    let token = store
        .issue_token("approver", licnode_store::TokenKind::Api, "test", None)
        .await
        .expect("token")
        .token;
    let client = support::client_with(&token);
    (client, format!("http://{}/api/v1", node.local_addr()))
}

async fn licence_issued_on(node: &NodeHandle, date: &str, seed: u64) -> String {
    let collection = licnode_model::collection("licences").expect("licences");
    let mut fields = licnode_gen::Generator::new(seed).record(collection, "330000");
    fields.insert("issue_date".into(), json!(date));
    // A Zhejiang decision (Art. 19: the province reports its own issuance only).
    fields.insert("issuing_level".into(), json!("provincial"));
    let number = fields["licence_number"].as_str().expect("number");
    let bare = number.rsplit(')').next().unwrap_or(number).to_string();
    fields.insert("licence_number".into(), json!(format!("(浙){bare}")));
    node.archive()
        .create("licences", None, &fields, &Author::clerk("clerk"))
        .await
        .expect("licence")
        .record
        .id
}

async fn held(node: &NodeHandle, id: &str) -> Option<serde_json::Map<String, Value>> {
    node.archive()
        .find(id)
        .await
        .ok()
        .flatten()
        .map(|record| record.data)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::String(text) => text.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provinces_reports_reach_national_by_themselves_and_late_corrections_are_revisions() {
    for backend in licnode_testkit::BACKENDS {
        scenario(backend).await;
    }
}

async fn scenario(backend: licnode_testkit::Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || make_pair(&root))
        .await
        .expect("certificates");
    let mut databases = Vec::new();
    let mut urls = std::collections::HashMap::new();
    for name in ["national", "zhejiang"] {
        let (url, database) =
            licnode_testkit::database_url(backend, &dir.path().join(name).join("data"))
                .await
                .expect("database");
        urls.insert(name, url);
        databases.extend(database);
    }
    let clock = ManualClock::at_date(day(2026, 10, 20));
    let shared: SharedClock = clock.clone();
    let load = |name: &str, parent: Option<String>| {
        let mut config = Config::load(&dir.path().join(name).join("licnode.toml")).expect("config");
        config.node.parent_url = parent;
        config.storage.database_url = Some(urls[name].clone());
        config.sync.enabled = true;
        config.sync.interval = std::time::Duration::from_secs(1);
        config.sync.debounce = std::time::Duration::from_secs(1);
        config.schedule.check_every = std::time::Duration::from_secs(1);
        config.schedule.auto_submit = true;
        config
    };
    let national = Node::start_with_clock(&load("national", None), Arc::clone(&shared))
        .await
        .expect("national");
    let national_url = format!("https://{}", national.peer_addr().expect("peer"));
    let zhejiang_config = load("zhejiang", Some(national_url.clone()));
    let zhejiang = Node::start_with_clock(&zhejiang_config, Arc::clone(&shared))
        .await
        .expect("zhejiang");

    // On 20 October the province's first check builds nothing: September fell due before its
    // schedule began (it is recorded as skipped; staff may run it by hand).
    let september_skipped = || async {
        zhejiang
            .archive()
            .store_for_tests()
            .report_runs(Some(ReportKind::Monthly), 10)
            .await
            .expect("runs")
            .iter()
            .any(|run| run.period == "2026-09" && run.outcome == "skipped")
    };
    eventually(
        "the first check records September as skipped",
        september_skipped,
    )
    .await;

    // A licence of October, then the province is down across 1 November.
    licence_issued_on(&zhejiang, "2026-10-05", 1).await;
    zhejiang.shutdown().await.expect("shutdown");
    clock.set_date(day(2026, 11, 3));
    let zhejiang = Node::start_with_clock(&zhejiang_config, Arc::clone(&shared))
        .await
        .expect("zhejiang again");

    // It catches October up when it starts, and national receives it with no manual step.
    let october = Period::Month {
        year: 2026,
        month: 10,
    };
    let first_id = report_id("330000", ReportKind::Monthly, &october, 1);
    eventually("October's report reaches national", || async {
        held(&national, &first_id)
            .await
            .is_some_and(|data| data["status"] == json!("submitted"))
    })
    .await;
    let first = held(&national, &first_id).await.expect("held");
    assert_eq!(first["granted_count"], json!(1));
    assert_eq!(first["reporting_unit"], json!("浙江省市场监督管理局"));
    let runs = zhejiang
        .archive()
        .store_for_tests()
        .report_runs(Some(ReportKind::Monthly), 10)
        .await
        .expect("runs");
    assert_eq!(
        runs.iter()
            .filter(|run| run.period == "2026-10" && run.outcome == "created")
            .count(),
        1,
        "{runs:?}"
    );

    // A licence of October entered late: the scheduler's next check sees that the submitted
    // report no longer matches the records and builds revision 2, which goes up by itself.
    licence_issued_on(&zhejiang, "2026-10-30", 2).await;
    let second_id = report_id("330000", ReportKind::Monthly, &october, 2);
    eventually("revision 2 reaches national", || async {
        held(&national, &second_id)
            .await
            .is_some_and(|data| data["status"] == json!("submitted"))
    })
    .await;

    // Running the period by hand now changes nothing; a bad period is refused with its code.
    let (client, api) = approver(&zhejiang).await;
    let again: Value = client
        .post(format!("{api}/reports/runs"))
        .json(&json!({"kind": "monthly", "period": "2026-10"}))
        .send()
        .await
        .expect("run")
        .json()
        .await
        .expect("json");
    assert_eq!(again["run"]["outcome"], json!("unchanged"));
    assert_eq!(again["report"]["id"], json!(second_id));
    let bad = client
        .post(format!("{api}/reports/runs"))
        .json(&json!({"kind": "monthly", "period": "2026-13"}))
        .send()
        .await
        .expect("run");
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.expect("json");
    assert_eq!(bad["error"]["code"], json!("invalid_period"));

    // Clerks do not submit; a submitted report is not submitted twice.
    let store = zhejiang.archive().store_for_tests();
    store
        .add_user(
            "clerk",
            "办事员",
            licnode_store::Role::Clerk,
            "clerk-password",
        )
        .await
        .expect("clerk");
    let clerk_token = store
        .issue_token("clerk", licnode_store::TokenKind::Api, "test", None)
        .await
        .expect("token")
        .token;
    let by_clerk = reqwest::Client::new()
        .post(format!("{api}/reports/{second_id}/submit"))
        .bearer_auth(clerk_token)
        .send()
        .await
        .expect("submit");
    assert_eq!(by_clerk.status(), 403);
    let twice = client
        .post(format!("{api}/reports/{second_id}/submit"))
        .send()
        .await
        .expect("submit");
    assert_eq!(twice.status(), 409);

    let second = held(&national, &second_id).await.expect("held");
    assert_eq!(second["revision"], json!(2));
    assert_eq!(second["supersedes"], json!(first_id));
    assert_eq!(second["granted_count"], json!(2));

    // The national summary, five days after the due date (the 10th).
    clock.set_date(day(2026, 11, 15));
    let (national_client, national_api) = approver(&national).await;
    let summary: Value = national_client
        .get(format!("{national_api}/reports/periods/monthly/2026-10"))
        .send()
        .await
        .expect("summary")
        .json()
        .await
        .expect("json");
    let received = &summary["received"];
    let missing: Vec<&str> = received["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!missing.contains(&"330000"), "{missing:?}");
    assert!(missing.contains(&"320000"), "{missing:?}");
    let reporters = received["reporters"].as_array().expect("reporters");
    let by_code = |code: &str| {
        reporters
            .iter()
            .find(|reporter| reporter["division"] == json!(code))
            .cloned()
            .expect("reporter")
    };
    assert_eq!(by_code("330000")["revision"], json!(2));
    assert_eq!(by_code("330000")["days_late"], json!(0));
    assert_eq!(by_code("320000")["days_late"], json!(5));
    assert_eq!(received["totals"][1], json!(2));

    // Attachment 1 from the national node's copy, as XLSX: its label, overall title, table
    // title and headings are the original's.
    let response = national_client
        .get(format!(
            "{national_api}/reports/forms/attachment1/{second_id}?format=xlsx"
        ))
        .send()
        .await
        .expect("form");
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("bytes").to_vec();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
    let sheet = workbook.worksheet_range("获证企业").expect("sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect();
    assert_eq!(rows[0][0], "附件1：");
    assert_eq!(rows[1][0], "工业产品生产许可省级发证工作信息汇总表");
    assert_eq!(rows[2][0], "获得工业产品生产许可证企业汇总表");
    assert_eq!(rows[3][0], "填报单位（章）：浙江省市场监督管理局");
    assert_eq!(
        rows[4],
        [
            "序号",
            "企业名称",
            "住所",
            "生产地址",
            "产品类别",
            "产品名称",
            "申证单元",
            "证书编号",
            "有效期",
            "发证日期",
            "备注"
        ]
    );
    assert_eq!(rows[5][0], "1");
    assert_eq!(rows[6][0], "2");
    assert_eq!(rows[6][9], "2026-10-30");
    // The original's numbered rows, blank after the records.
    assert_eq!(rows[7][0], "3");
    assert!(rows[7][1..].iter().all(String::is_empty));
    let csv = national_client
        .get(format!(
            "{national_api}/reports/forms/attachment1/{second_id}?format=csv"
        ))
        .send()
        .await
        .expect("form");
    assert_eq!(
        csv.headers()[reqwest::header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let unknown = national_client
        .get(format!(
            "{national_api}/reports/forms/attachment9/{second_id}"
        ))
        .send()
        .await
        .expect("form");
    assert_eq!(unknown.status(), 404);

    zhejiang.shutdown().await.expect("shutdown");
    national.shutdown().await.expect("shutdown");
    drop(databases);
}

#[tokio::test]
async fn a_node_down_for_months_catches_up_every_missed_month_once() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("node.db").display());
    let store = licnode_store::Store::open(&url).await.expect("store");
    let clock = ManualClock::at_date(day(2026, 10, 20));
    let reports = licnode_app::Reports::new(
        licnode_app::Archive::new(store.clone(), "330000"),
        clock.clone(),
        licnode_app::ReportSettings {
            unit_name: "浙江省市场监督管理局".into(),
            auto_submit: false,
        },
    );
    let section = licnode::config::ScheduleSection::default();
    let schedule =
        licnode::scheduler::ReportSchedule::from_section(&section, licnode_model::Level::Province);
    let periods = |ran: Vec<licnode_app::RunResult>| -> Vec<String> {
        ran.into_iter().map(|result| result.run.period).collect()
    };
    assert_eq!(
        periods(licnode::scheduler::check(&reports, &schedule).await),
        Vec::<String>::new(),
        "the first check only marks where the schedule begins"
    );
    let runs = store.report_runs(None, 10).await.expect("runs");
    assert!(runs.iter().all(|run| run.outcome == "skipped"), "{runs:?}");
    assert_eq!(runs.len(), 2, "September and the year 2026: {runs:?}");
    assert!(
        licnode::scheduler::check(&reports, &schedule)
            .await
            .is_empty()
    );
    // Down from 20 October to 5 January: October, November and December, once each.
    clock.set_date(day(2027, 1, 5));
    assert_eq!(
        periods(licnode::scheduler::check(&reports, &schedule).await),
        ["2026-10", "2026-11", "2026-12"]
    );
    assert!(
        licnode::scheduler::check(&reports, &schedule)
            .await
            .is_empty()
    );
    // A licence of December entered late: the next check brings December's report up to date,
    // once.
    let collection = licnode_model::collection("licences").expect("licences");
    let mut fields = licnode_gen::Generator::new(3).record(collection, "330000");
    fields.insert("issue_date".into(), json!("2026-12-30"));
    reports
        .archive
        .create("licences", None, &fields, &Author::clerk("clerk"))
        .await
        .expect("licence");
    let ran = licnode::scheduler::check(&reports, &schedule).await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].run.period, "2026-12");
    assert_eq!(ran[0].run.outcome, "updated");
    assert_eq!(
        ran[0]
            .report
            .as_ref()
            .map(|report| report.data["granted_count"].clone()),
        Some(json!(1))
    );
    assert!(
        licnode::scheduler::check(&reports, &schedule)
            .await
            .is_empty()
    );
    store.close().await;

    // The national node builds its own monthly report (its roll-up of the country's applicants,
    // Art. 18, with its own decisions) and no yearly one (the provinces report theirs to it,
    // Art. 20); a bad expression is refused with its section named, when the configuration is
    // read.
    let national =
        licnode::scheduler::ReportSchedule::from_section(&section, licnode_model::Level::National);
    let kinds: Vec<ReportKind> = national.reports.iter().map(|report| report.kind).collect();
    assert_eq!(kinds, vec![ReportKind::Monthly]);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n\
         [schedule]\nmonthly = \"0 0 2 1 *\"\n",
    )
    .expect("write");
    let error = format!("{:#}", Config::load(&bad).expect_err("a bad expression"));
    assert!(error.to_string().contains("[schedule] monthly"), "{error}");
}

// Issue 16: the first check records the period it skips in two statements (start, finish); a
// kill -9 between them must not make the next start build a report of a month the node did not
// keep. This is what once broke `kill_9_right_after_acknowledged_writes_loses_nothing`'s
// gap-free check: the province built a monthly report on restart, one change more in its log.
#[tokio::test]
async fn a_first_check_killed_half_way_builds_no_report_on_the_next_start() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("node.db").display());
    let store = licnode_store::Store::open(&url).await.expect("store");
    let clock = ManualClock::at_date(day(2026, 10, 20));
    let reports = licnode_app::Reports::new(
        licnode_app::Archive::new(store.clone(), "330000"),
        clock.clone(),
        licnode_app::ReportSettings {
            unit_name: "浙江省市场监督管理局".into(),
            auto_submit: false,
        },
    );
    let schedule = licnode::scheduler::ReportSchedule::from_section(
        &licnode::config::ScheduleSection::default(),
        licnode_model::Level::Province,
    );
    // What the killed first check left: September's run started, never finished.
    let september = Period::parse(ReportKind::Monthly, "2026-09").expect("period");
    store
        .start_report_run(ReportKind::Monthly, &september, "schedule", 0)
        .await
        .expect("run started");
    let ran = licnode::scheduler::check(&reports, &schedule).await;
    assert!(
        ran.is_empty(),
        "built {:?}",
        ran.iter().map(|r| &r.run.period).collect::<Vec<_>>()
    );
    assert!(
        store
            .changes_after(0, None, 10)
            .await
            .expect("log")
            .is_empty(),
        "no report record was written"
    );
    let runs = store
        .report_runs(Some(ReportKind::Monthly), 10)
        .await
        .expect("runs");
    assert!(
        runs.iter()
            .any(|run| run.period == "2026-09" && run.outcome == "skipped"),
        "{runs:?}"
    );
}

fn licnode_output(dir: &Path, args: &[&str]) -> std::process::Output {
    support::binary()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run licnode")
}

#[test]
fn the_report_commands_run_list_submit_and_export_the_forms() {
    let dir = tempfile::tempdir().expect("dir");
    licnode(
        dir.path(),
        &[
            "init",
            "--dir",
            "zhejiang",
            "--code",
            "330000",
            "--level",
            "province",
            "--name",
            "浙江省市场监督管理局",
        ],
    );
    let config = dir.path().join("zhejiang").join("licnode.toml");
    let config = config.to_str().expect("path");
    let ran = licnode_output(
        dir.path(),
        &[
            "report", "run", "--config", config, "--kind", "monthly", "--period", "2020-01",
        ],
    );
    assert!(ran.status.success(), "{ran:?}");
    let ran: Value = serde_json::from_slice(&ran.stdout).expect("json");
    assert_eq!(ran["run"]["outcome"], json!("created"));
    let id = ran["report"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        id,
        report_id(
            "330000",
            ReportKind::Monthly,
            &Period::Month {
                year: 2020,
                month: 1
            },
            1
        )
    );

    let listed = licnode_output(dir.path(), &["report", "list", "--config", config]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"period\":\"2020-01\""));

    let bad = licnode_output(
        dir.path(),
        &[
            "report", "run", "--config", config, "--kind", "weekly", "--period", "2020-01",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown report kind"));

    licnode(dir.path(), &["report", "submit", "--config", config, &id]);
    let xlsx = dir.path().join("attachment1.xlsx");
    licnode(
        dir.path(),
        &[
            "report",
            "export",
            "--config",
            config,
            "--form",
            "attachment1",
            "--record",
            &id,
            "--output",
            xlsx.to_str().expect("path"),
        ],
    );
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(std::fs::read(&xlsx).expect("file"))).expect("xlsx");
    let sheet = workbook
        .worksheet_range("撤回撤销吊销注销企业")
        .expect("sheet");
    let heading: Vec<String> = sheet
        .rows()
        .nth(2)
        .expect("heading")
        .iter()
        .map(cell_text)
        .collect();
    assert_eq!(
        heading,
        [
            "序号",
            "企业名称",
            "住所",
            "生产地址",
            "产品类别",
            "产品名称",
            "申证单元",
            "证书编号",
            "注销原因",
            "注销时间",
            "备注"
        ]
    );
    // 填报日期 left blank for the bureau to write by hand beside its seal.
    let blank = dir.path().join("attachment1-blank.xlsx");
    licnode(
        dir.path(),
        &[
            "report",
            "export",
            "--config",
            config,
            "--form",
            "attachment1",
            "--record",
            &id,
            "--fill-date",
            "blank",
            "--output",
            blank.to_str().expect("path"),
        ],
    );
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(std::fs::read(&blank).expect("file"))).expect("xlsx");
    let sheet = workbook
        .worksheet_range("撤回撤销吊销注销企业")
        .expect("sheet");
    let above: Vec<String> = sheet
        .rows()
        .nth(1)
        .expect("the line above the table")
        .iter()
        .map(cell_text)
        .filter(|text| !text.is_empty())
        .collect();
    assert_eq!(
        above[1],
        "填报日期：\u{a0}\u{a0}\u{a0}\u{a0} 年\u{3000} 月\u{3000} 日"
    );
    let wrong = licnode_output(
        dir.path(),
        &[
            "report",
            "export",
            "--config",
            config,
            "--form",
            "attachment2",
            "--record",
            &id,
            "--output",
            "x.xlsx",
        ],
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not_found"));
}
