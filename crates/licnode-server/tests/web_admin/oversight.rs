//! The audit log and its verification, the node's health and "sync now", the quarantine and
//! the deadline board (issue 12, items 5 and 6).

use std::sync::Arc;

use licnode_app::{Author, ManualClock};
use licnode_model::Level;
use licnode_server::sync::LinkHandle;
use licnode_testkit::{BACKENDS, Backend};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Browser, Options, arrive, garbage_from, province, spawn};
use crate::web_client::NO_FIELDS;

#[tokio::test]
async fn an_auditor_sees_an_altered_audit_entry_reported_with_its_number() {
    for backend in BACKENDS {
        let node = province(backend).await;
        for seed in 0..3 {
            let model = licnode_model::collection("quality_archives").expect("collection");
            let input = licnode_gen::Generator::new(seed).record(model, "330106");
            node.archive
                .create(
                    "quality_archives",
                    Some("330106"),
                    &input,
                    &Author::clerk("clerk"),
                )
                .await
                .expect("record");
        }
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        // Viewing the page does not verify (it reads the whole chain): it says so and offers
        // the button.
        let not_yet = auditor.get("/audit/verify").await;
        assert_eq!(
            not_yet.status,
            StatusCode::OK,
            "{backend}: {}",
            not_yet.body
        );
        assert!(
            not_yet.body.contains("id=\"not-verified\""),
            "{}",
            not_yet.body
        );
        assert!(!not_yet.body.contains("data-intact"), "{}", not_yet.body);
        let token = auditor.csrf().await;
        // Without the session's CSRF token the verification is not run.
        let forged = auditor.post_form("/audit/verify", NO_FIELDS).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(forged.body.contains("bad_csrf_token"));
        let ran = auditor
            .post_form("/audit/verify", &[("csrf_token", &token)])
            .await;
        assert_eq!(ran.status, StatusCode::SEE_OTHER, "{backend}: {}", ran.body);
        assert_eq!(ran.location(), "/audit/verify");
        let intact = auditor.get("/audit/verify").await;
        assert_eq!(intact.status, StatusCode::OK, "{backend}: {}", intact.body);
        assert!(
            intact.body.contains("data-intact=\"true\""),
            "{}",
            intact.body
        );
        assert!(intact.body.contains("审计链完整"));

        // Someone with the database rewrites who made the second entry.
        node.tamper("UPDATE audit_log SET user_name = 'intruder' WHERE seq = 2")
            .await;
        // The page shows the last run until the verification runs again.
        assert!(
            auditor
                .get("/audit/verify")
                .await
                .body
                .contains("data-intact=\"true\"")
        );
        auditor
            .post_form("/audit/verify", &[("csrf_token", &token)])
            .await;
        let broken = auditor.get("/audit/verify").await;
        assert_eq!(broken.status, StatusCode::OK, "{backend}");
        assert!(
            broken.body.contains("data-intact=\"false\""),
            "{}",
            broken.body
        );
        assert!(broken.body.contains("审计链不完整"));
        let first = broken.between("<p id=\"first-finding\">", "</p>");
        assert!(
            first.contains("<strong>2</strong>") && first.contains("记录内容被改动"),
            "{first}"
        );

        // The administrator sees the same; a clerk does not see the log at all.
        let mut admin = Browser::signed_in(&node, "admin").await;
        let admin_token = admin.csrf().await;
        admin
            .post_form("/audit/verify", &[("csrf_token", &admin_token)])
            .await;
        assert!(
            admin
                .get("/audit/verify")
                .await
                .body
                .contains("data-intact=\"false\"")
        );
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        for path in ["/audit", "/audit/verify", "/health"] {
            let refused = clerk.get(path).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend} {path}");
            assert!(refused.body.contains("forbidden_role"));
        }
        let clerk_token = clerk.csrf().await;
        let refused = clerk
            .post_form("/audit/verify", &[("csrf_token", &clerk_token)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(refused.body.contains("forbidden_role"));
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_kind_user_record_and_date_and_pages_newest_first() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut ids = Vec::new();
        for seed in 0..60 {
            let model = licnode_model::collection("quality_archives").expect("collection");
            let input = licnode_gen::Generator::new(seed).record(model, "330106");
            let created = node
                .archive
                .create(
                    "quality_archives",
                    Some("330106"),
                    &input,
                    &Author::clerk("clerk"),
                )
                .await
                .expect("record");
            ids.push(created.record.id);
        }
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        // Newest first: the last write is on the first page, the first one on the second.
        let first_page = auditor.get("/audit?kind=write").await;
        assert_eq!(
            first_page.status,
            StatusCode::OK,
            "{backend}: {}",
            first_page.body
        );
        assert!(first_page.body.contains(ids.last().expect("last").as_str()));
        assert!(!first_page.body.contains(ids[0].as_str()));
        let older = first_page
            .between("id=\"older\" href=\"", "\"")
            .replace("&amp;", "&");
        let second_page = auditor.get(&older).await;
        assert!(
            second_page.body.contains(ids[0].as_str()),
            "{backend}: {older}"
        );

        // By record: its one write entry.
        let by_record = auditor.get(&format!("/audit?record={}", ids[7])).await;
        assert_eq!(by_record.body.matches("data-seq=").count(), 1, "{backend}");
        // By kind and user: the auditor's own sign-in, not the writes.
        let logins = auditor.get("/audit?kind=login&user=auditor").await;
        assert_eq!(
            logins.body.matches("data-seq=").count(),
            1,
            "{}",
            logins.body
        );
        assert!(logins.body.contains("登录"));
        // A date range before anything happened finds nothing; a malformed one is refused.
        let empty = auditor.get("/audit?from=2001-01-01&until=2001-01-31").await;
        assert!(empty.body.contains("id=\"no-entries\""), "{backend}");
        let malformed = auditor.get("/audit?from=yesterday").await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert!(malformed.body.contains("bad_query"));
    }
}

#[tokio::test]
async fn the_health_page_shows_the_links_the_database_and_backups_and_sync_now_wakes_the_loop() {
    for backend in BACKENDS {
        let link = Arc::new(LinkHandle::default());
        {
            let mut status = link.status.lock().expect("status");
            status.parent_url = "https://parent.example:7443".into();
            status.parent = Some("100000".into());
            status.last_success_ms = Some(1_796_458_440_000);
            status.consecutive_failures = 3;
            status.last_error = Some("connection refused".into());
        }
        let node = spawn(
            backend,
            Options {
                link: Some(link.clone()),
                ..Options::default()
            },
        )
        .await;
        licnode_app::replication::store_batch(&node.store, garbage_from("330100"), |_, _| Ok(()))
            .await
            .expect("batch");
        node.archive
            .audit(
                licnode_store::AuditEntry::new(licnode_store::AuditKind::Backup, "330000", "operator", 1_796_458_440_000)
                    .detail(json!({ "file": "backups/2026-12-05.db", "sha256": "ab".repeat(32), "records": 42, "last_change_seq": 9 })),
            )
            .await
            .expect("backup entry");

        let mut admin = Browser::signed_in(&node, "admin").await;
        let health = admin.get("/health").await;
        assert_eq!(health.status, StatusCode::OK, "{backend}: {}", health.body);
        for shown in [
            "2026-12-05 16:14:00",
            "connection refused",
            "data-failures=\"3\"",
            "data-peer=\"330100\"",
            "330100 杭州市",
            "backups/2026-12-05.db",
            "还没有节点证书",
            "id=\"database-size\"",
            "立即同步",
        ] {
            assert!(
                health.body.contains(shown),
                "{backend}: {shown} missing: {}",
                health.body
            );
        }

        // "Sync now" wakes the loop, as POST /api/v1/sync/now does.
        let token = health.csrf_token();
        let woken = admin
            .post_form("/health/sync", &[("csrf_token", &token)])
            .await;
        assert_eq!(
            woken.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            woken.body
        );
        assert_eq!(woken.location(), "/health?sync=started");
        tokio::time::timeout(std::time::Duration::from_secs(1), link.wake.notified())
            .await
            .expect("the sync loop was woken");

        // The auditor reads the page without the button, and a forged POST is refused.
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let read = auditor.get("/health").await;
        assert_eq!(read.status, StatusCode::OK, "{backend}");
        assert!(!read.body.contains("立即同步"));
        let token = read.csrf_token();
        let forged = auditor
            .post_form("/health/sync", &[("csrf_token", &token)])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(forged.body.contains("forbidden_role"));
        let not_woken =
            tokio::time::timeout(std::time::Duration::from_millis(100), link.wake.notified()).await;
        assert!(
            not_woken.is_err(),
            "{backend}: a refused POST wakes nothing"
        );
    }
}

#[tokio::test]
async fn sync_now_without_a_parent_link_is_refused_with_its_code() {
    let node = province(Backend::Sqlite).await;
    let mut admin = Browser::signed_in(&node, "admin").await;
    let health = admin.get("/health").await;
    assert!(health.body.contains("没有上级链路"));
    let refused = admin
        .post_form("/health/sync", &[("csrf_token", &health.csrf_token())])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("no_parent_link"));
}

#[tokio::test]
async fn the_quarantine_shows_refused_changes_with_their_reason_in_chinese_and_pages() {
    for backend in BACKENDS {
        let node = province(backend).await;
        for index in 0..55 {
            let mut batch = garbage_from("330100");
            batch.changes[0].bytes = format!("<script>garbage {index}</script>").into_bytes();
            licnode_app::replication::store_batch(&node.store, batch, |_, _| Ok(()))
                .await
                .expect("batch");
        }
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let page = clerk.get("/quarantine").await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        assert!(page.body.contains("隔离区共有 55 项"), "{}", page.body);
        assert!(page.body.contains("数据无法解析") && page.body.contains("malformed_change"));
        assert!(page.body.contains("330100") && page.body.contains("获证企业质量档案"));
        assert_eq!(page.body.matches("data-reason=").count(), 50);
        let older = page
            .between("id=\"older\" href=\"", "\"")
            .replace("&amp;", "&");
        let rest = clerk.get(&older).await;
        assert_eq!(rest.body.matches("data-reason=").count(), 5, "{backend}");
        assert!(!rest.body.contains("id=\"older\""));
        let malformed = clerk.get("/quarantine?before=soon").await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn the_deadline_board_puts_late_items_first_counts_them_by_rule_and_province_and_links_records()
 {
    for backend in BACKENDS {
        let clock = ManualClock::at_date("2026-03-12".parse().expect("date"));
        let node = spawn(
            backend,
            Options {
                national: true,
                clock: Some(clock),
                ..Options::default()
            },
        )
        .await;
        // Art. 23: an inspection finished on 2 March and not reported is late by the 12th.
        let late = arrive(
            &node,
            "IB0001",
            Level::InspectionBody,
            "inspections",
            "330106",
            json!({ "completion_date": "2026-03-02", "reported_date": null }),
        )
        .await;
        let due = arrive(
            &node,
            "IB0001",
            Level::InspectionBody,
            "inspections",
            "320106",
            json!({ "completion_date": "2026-03-11", "reported_date": null }),
        )
        .await;

        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let board = clerk.get("/deadlines?rule=inspection_result").await;
        assert_eq!(board.status, StatusCode::OK, "{backend}: {}", board.body);
        let late_at = board
            .body
            .find(&format!("/records/{late}"))
            .expect("the late item links its record");
        let due_at = board
            .body
            .find(&format!("/records/{due}"))
            .expect("the due item links its record");
        assert!(late_at < due_at, "{backend}: late first");
        assert!(board.body.contains("逾期 5 天"), "{}", board.body);
        assert!(board.body.contains("产品检验信息报送审查组织单位"));
        // At national: by province.
        let by_province = board.between("<table class=\"list\" id=\"by-province\">", "</table>");
        assert!(
            by_province.contains("330000 浙江省") && by_province.contains("320000 江苏省"),
            "{by_province}"
        );

        // Filtered by state and province.
        let only_late = clerk
            .get("/deadlines?rule=inspection_result&state=late")
            .await;
        assert!(only_late.body.contains(late.as_str()) && !only_late.body.contains(due.as_str()));
        let jiangsu = clerk
            .get("/deadlines?rule=inspection_result&province=320106")
            .await;
        assert!(jiangsu.body.contains(due.as_str()) && !jiangsu.body.contains(late.as_str()));
        for bad in [
            "/deadlines?rule=soon",
            "/deadlines?state=overdue",
            "/deadlines?province=999999",
            "/deadlines?page=0",
        ] {
            let refused = clerk.get(bad).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{backend} {bad}");
            assert!(refused.body.contains("错误代码"), "{bad}");
        }
    }
}

#[tokio::test]
async fn the_deadline_board_follows_new_records_and_the_clock_between_two_views() {
    for backend in BACKENDS {
        let clock = ManualClock::at_date("2026-03-12".parse().expect("date"));
        let node = spawn(
            backend,
            Options {
                national: true,
                clock: Some(clock.clone()),
                ..Options::default()
            },
        )
        .await;
        let inspection = |jurisdiction: &'static str| {
            arrive(
                &node,
                "IB0001",
                Level::InspectionBody,
                "inspections",
                jurisdiction,
                json!({ "completion_date": "2026-03-02", "reported_date": null }),
            )
        };
        let first = inspection("330106").await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let board = clerk.get("/deadlines?rule=inspection_result").await;
        assert!(board.body.contains(first.as_str()) && board.body.contains("逾期 5 天"));

        // A record arrives between two views: the second view shows it.
        let second = inspection("320106").await;
        let board = clerk.get("/deadlines?rule=inspection_result").await;
        assert!(
            board.body.contains(second.as_str()),
            "{backend}: {}",
            board.body
        );

        // The next day, each is a day later.
        clock.set_date("2026-03-13".parse().expect("date"));
        let board = clerk.get("/deadlines?rule=inspection_result").await;
        assert_eq!(
            board.body.matches("逾期 6 天").count(),
            2,
            "{backend}: {}",
            board.body
        );
    }
}

#[tokio::test]
async fn a_hostile_name_tried_at_sign_in_comes_back_escaped_in_the_audit_log() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let hostile = "<script>alert(\"x\")</script>";
        let refused = Browser::new(&node).sign_in(hostile, "wrong password").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{backend}");
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let log = auditor.get("/audit?kind=login_failed").await;
        assert_eq!(log.status, StatusCode::OK, "{backend}");
        assert_eq!(log.body.matches("data-seq=").count(), 1, "{}", log.body);
        assert!(
            !log.body.contains("<script>alert"),
            "{backend}: {}",
            log.body
        );
        assert!(
            log.body
                .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
        );
    }
}

#[tokio::test]
async fn the_json_api_searches_the_audit_log_newest_first_with_the_pages_filters() {
    for backend in BACKENDS {
        let node = province(backend).await;
        for seed in 0..3 {
            let model = licnode_model::collection("quality_archives").expect("collection");
            let input = licnode_gen::Generator::new(seed).record(model, "330106");
            node.archive
                .create(
                    "quality_archives",
                    Some("330106"),
                    &input,
                    &Author::clerk("clerk"),
                )
                .await
                .expect("record");
        }
        let token = |user: &'static str| {
            let archive = node.archive.clone();
            async move {
                archive
                    .issue_api_token(
                        &licnode_app::Author::operator("console"),
                        user,
                        "test",
                        None,
                    )
                    .await
                    .expect("token")
                    .token
            }
        };
        let client = reqwest::Client::new();
        let auditor = token("auditor").await;
        let answer: serde_json::Value = client
            .get(format!(
                "{}/api/v1/audit/search?kind=write&limit=2",
                node.base
            ))
            .bearer_auth(&auditor)
            .send()
            .await
            .expect("response")
            .json()
            .await
            .expect("json");
        let numbers: Vec<i64> = answer["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|entry| entry["seq"].as_i64().expect("seq"))
            .collect();
        assert_eq!(numbers, vec![3, 2], "{backend}: newest first");
        assert_eq!(answer["next_before"], json!(2));
        let refused = client
            .get(format!("{}/api/v1/audit/search?from=yesterday", node.base))
            .bearer_auth(&auditor)
            .send()
            .await
            .expect("response");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{backend}");
        let clerk = token("clerk").await;
        let forbidden = client
            .get(format!("{}/api/v1/audit/search", node.base))
            .bearer_auth(&clerk)
            .send()
            .await
            .expect("response");
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN, "{backend}");
    }
}

#[tokio::test]
async fn the_health_page_shows_when_the_node_certificate_and_its_crls_expire() {
    let node = spawn(
        Backend::Sqlite,
        Options {
            certificate: true,
            ..Options::default()
        },
    )
    .await;
    let mut auditor = Browser::signed_in(&node, "auditor").await;
    let health = auditor.get("/health").await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    let certificate = health.between("<dl class=\"fields\" id=\"certificate\"", "</dl>");
    assert!(
        certificate.contains("330000") && certificate.contains("省级"),
        "{certificate}"
    );
    let days_left: i64 = health
        .between("data-days-left=\"", "\"")
        .parse()
        .expect("days left");
    assert!(
        days_left > 30,
        "a fresh certificate has time left: {days_left}"
    );
    let crls = health.between("<table class=\"list\" id=\"crls\">", "</table>");
    assert_eq!(
        crls.matches("<tr").count(),
        2,
        "a header and the root's CRL: {crls}"
    );
}
