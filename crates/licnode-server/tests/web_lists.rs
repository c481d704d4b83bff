//! Lists and a record's page through real HTTP with a cookie session, on SQLite and PostgreSQL
//! (issue 12 items 3 and 4): newest first by default with an ascending toggle and paging in
//! either order, CSV and XLSX export of the current filter (audited), the statutory time limits
//! a record is part of, where it has travelled, and choosing a conflicting value as a normal
//! edit that the approval rules judge.

mod web_client;
mod web_support;

use licnode_app::{Archive, Author};
use licnode_model::Level;
use licnode_store::ListQuery;
use licnode_store::link_reports::{LinkDirection, LinkReport};
use licnode_testkit::BACKENDS;
use reqwest::StatusCode;
use serde_json::{Value, json};
use web_support::{Browser, national, pairs, province, record};

/// Creates quality archives named `名称0…` in order, in `jurisdiction`.
async fn archives(node: &web_support::WebNode, jurisdiction: &str, names: &[&str]) {
    for (seed, name) in (0_u64..).zip(names) {
        node.archive
            .create(
                "quality_archives",
                Some(jurisdiction),
                &record(
                    "quality_archives",
                    jurisdiction,
                    40 + seed,
                    json!({ "enterprise_name": name }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("archive");
    }
}

/// The enterprise names of a list page's rows, in order.
fn names_in_order(body: &str, names: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = names
        .iter()
        .filter_map(|name| {
            body.find(&format!(">{name}<"))
                .map(|at| (at, name.to_string()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, name)| name).collect()
}

#[tokio::test]
async fn a_list_shows_the_newest_first_and_toggles_to_the_oldest_first_paging_in_either_order() {
    let names = [
        "一号质量企业",
        "二号质量企业",
        "三号质量企业",
        "四号质量企业",
        "五号质量企业",
    ];
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        archives(&node, "330106", &names).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;

        let first = browser.get("/collections/quality_archives?limit=2").await;
        assert_eq!(first.status, StatusCode::OK, "{backend}: {}", first.body);
        assert_eq!(
            names_in_order(&first.body, &names),
            ["五号质量企业", "四号质量企业"]
        );
        let next = first
            .body
            .split("class=\"pager\"><a href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a next page")
            .replace("&amp;", "&");
        let second = browser.get(&next).await;
        assert_eq!(
            names_in_order(&second.body, &names),
            ["三号质量企业", "二号质量企业"],
            "{backend}"
        );

        // The toggle keeps the filter and turns the order round.
        let toggled = browser.get(&first.link("order-toggle")).await;
        assert_eq!(toggled.status, StatusCode::OK);
        assert!(toggled.body.contains("最早在前"));
        assert_eq!(
            names_in_order(&toggled.body, &names),
            ["一号质量企业", "二号质量企业"]
        );
        let next = toggled
            .body
            .split("class=\"pager\"><a href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a next page")
            .replace("&amp;", "&");
        assert!(next.contains("order=asc"), "{next}");
        let second = browser.get(&next).await;
        assert_eq!(
            names_in_order(&second.body, &names),
            ["三号质量企业", "四号质量企业"],
            "{backend}"
        );

        // The JSON API keeps storage order by default and answers `order=desc` the same way.
        let (store_order, newest) = (
            node.archive
                .list(&ListQuery {
                    collection: "quality_archives".into(),
                    limit: 5,
                    ..ListQuery::default()
                })
                .await
                .expect("list"),
            node.archive
                .list(&ListQuery {
                    collection: "quality_archives".into(),
                    limit: 5,
                    descending: true,
                    ..ListQuery::default()
                })
                .await
                .expect("list"),
        );
        let keys =
            |page: &licnode_store::Page| page.items.iter().map(|item| item.key).collect::<Vec<_>>();
        let mut reversed = keys(&store_order);
        reversed.reverse();
        assert_eq!(keys(&newest), reversed);

        let refused = browser
            .get("/collections/quality_archives?order=sideways")
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(refused.body.contains("data-error-code=\"bad_query\""));
    }
}

#[tokio::test]
async fn the_current_filter_exports_as_csv_and_xlsx_with_every_matching_row_and_is_audited() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        archives(&node, "330106", &["西湖甲厂", "西湖乙厂", "西湖丙厂"]).await;
        archives(&node, "330108", &["滨江甲厂", "滨江乙厂"]).await;
        let mut browser = Browser::signed_in(&node, "auditor").await;
        let list = browser
            .get("/collections/quality_archives?jurisdiction=330106&limit=1")
            .await;
        assert_eq!(list.status, StatusCode::OK, "{backend}: {}", list.body);

        // Every matching row, not the page shown.
        let csv = browser.get(&list.link("export-csv")).await;
        assert_eq!(csv.status, StatusCode::OK, "{backend}: {}", csv.body);
        assert!(csv.header("content-type").starts_with("text/csv"));
        assert!(
            csv.header("content-disposition")
                .contains("quality_archives-20261120.csv")
        );
        let text = csv.body.trim_start_matches('\u{feff}');
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().expect("header").clone();
        assert!(header.iter().any(|label| label == "企业名称"), "{header:?}");
        let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("row")).collect();
        assert_eq!(rows.len(), 3, "{backend}: {text}");
        assert!(text.contains("西湖丙厂") && !text.contains("滨江"));

        let xlsx = browser.get(&list.link("export-xlsx")).await;
        assert_eq!(xlsx.status, StatusCode::OK, "{backend}");
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
        assert!(xlsx.bytes.starts_with(b"PK"), "an XLSX is a zip file");

        let bad = browser
            .get("/collections/quality_archives/export?format=pdf")
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("data-error-code=\"bad_format\""));

        let exports: Vec<Value> = node
            .store
            .audit_entries(0, 1_000)
            .await
            .expect("audit")
            .into_iter()
            .filter(|entry| entry.kind == "export")
            .map(|entry| entry.detail)
            .collect();
        assert_eq!(exports.len(), 2, "{backend}: {exports:?}");
        assert_eq!(exports[0]["rows"], json!(3));
        assert_eq!(exports[0]["via"], json!("web"));
    }
}

#[tokio::test]
async fn a_records_page_shows_the_time_limits_it_is_part_of_and_where_it_travelled() {
    for backend in BACKENDS {
        // Art. 23: an inspection finished on 2 March is reported within 5 days.
        let node = national(backend, "2026-03-05").await;
        let created = Archive::with_level(node.store.clone(), "IB0001", Level::InspectionBody)
            .create(
                "inspections",
                Some("330106"),
                &record(
                    "inspections",
                    "330106",
                    5,
                    json!({ "completion_date": "2026-03-02", "reported_date": null }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("inspection")
            .record;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let page = browser.get(&format!("/records/{}", created.id)).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        let deadlines = &page.body[page.body.find("id=\"deadlines\"").expect("deadlines")..];
        assert!(
            deadlines.contains("data-rule=\"inspection_result\" data-state=\"due\""),
            "{deadlines}"
        );
        assert!(deadlines.contains("还剩2天") && deadlines.contains("2026-03-07"));
        assert!(page.body.contains("第23条"));
        assert!(page.body.contains("本节点尚未与上级或下级同步"));

        // Late once the node's clock passes the due date.
        node.clock.set_date(web_support::date("2026-03-09"));
        let page = browser.get(&format!("/records/{}", created.id)).await;
        assert!(page.body.contains("已逾期2天"), "{backend}");

        // The province reports that it holds national's log up to the change: acknowledged.
        let report = LinkReport {
            node: "330000".into(),
            peer: "100000".into(),
            direction: LinkDirection::Parent,
            last_success_ms: Some(node.clock_now()),
            lag_up: Some(0),
            lag_down: Some(0),
            consecutive_failures: Some(0),
            quarantined: Some(0),
            acknowledged: Some(0),
            pulled: Some(created.last_seq - 1),
            reported_at_ms: node.clock_now(),
        };
        node.store
            .record_link_reports(std::slice::from_ref(&report), "330000", node.clock_now())
            .await
            .expect("report");
        let page = browser.get(&format!("/records/{}", created.id)).await;
        let travel = &page.body[page.body.find("id=\"travel\"").expect("travel")..];
        assert!(
            travel.contains("data-peer=\"330000\" data-travel=\"pending\""),
            "{backend}: {travel}"
        );
        let caught_up = LinkReport {
            pulled: Some(created.last_seq),
            reported_at_ms: node.clock_now() + 1,
            ..report
        };
        node.store
            .record_link_reports(&[caught_up], "330000", node.clock_now())
            .await
            .expect("report");
        let page = browser.get(&format!("/records/{}", created.id)).await;
        let travel = &page.body[page.body.find("id=\"travel\"").expect("travel")..];
        assert!(
            travel.contains("data-peer=\"330000\" data-travel=\"acknowledged\""),
            "{backend}: {travel}"
        );
        assert!(travel.contains("已确认收到"));
    }
}

/// Posts the choice of `value` (JSON text) for `field` from a record's page.
async fn choose(
    browser: &mut Browser,
    path: &str,
    token: &str,
    field: &str,
    value: &str,
) -> web_support::Answer {
    let mut form = pairs(&[("field", field), ("value", value)]);
    if !token.is_empty() {
        form.push(("csrf_token".to_string(), token.to_string()));
    }
    browser.post(path, &form).await
}

#[tokio::test]
async fn choosing_a_value_is_a_normal_edit_so_a_clerk_cannot_choose_a_revocation() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let licence = node
            .archive
            .create(
                "licences",
                Some("330000"),
                &record("licences", "330000", 9, json!({ "status": "valid" })),
                &Author::clerk("clerk"),
            )
            .await
            .expect("licence")
            .record;
        let path = format!("/records/{}/resolve", licence.id);

        // Art. 28: a revocation needs an approver, whichever form carries it.
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let page = clerk.get(&format!("/records/{}", licence.id)).await;
        let token = page.csrf_token();
        let refused = choose(&mut clerk, &path, &token, "status", "\"revoked\"").await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{backend}: {}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("data-error-code=\"approval_required\"")
        );
        assert_eq!(
            node.archive.get(&licence.id).await.expect("get").data["status"],
            json!("valid")
        );

        // Without the session's CSRF token nothing is changed either.
        let forged = choose(&mut clerk, &path, "", "product_name", "\"伪造\"").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.body.contains("bad_csrf_token"));

        // A clerk's choice of an ordinary field is an edit like any other.
        let chosen = choose(&mut clerk, &path, &token, "product_name", "\"电线电缆\"").await;
        assert_eq!(
            chosen.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            chosen.body
        );
        assert_eq!(
            node.archive.get(&licence.id).await.expect("get").data["product_name"],
            json!("电线电缆")
        );

        let mut approver = Browser::signed_in(&node, "approver").await;
        let token = approver
            .get(&format!("/records/{}", licence.id))
            .await
            .csrf_token();
        let approved = choose(&mut approver, &path, &token, "status", "\"revoked\"").await;
        assert_eq!(
            approved.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            approved.body
        );
        assert_eq!(
            node.archive.get(&licence.id).await.expect("get").data["status"],
            json!("revoked")
        );

        let unknown = choose(&mut approver, &path, &token, "no_such_field", "1").await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{backend}");
    }
}

#[tokio::test]
async fn the_json_api_lists_newest_first_exports_a_filter_and_shows_the_network() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        archives(&node, "330106", &["甲号企业", "乙号企业", "丙号企业"]).await;
        let token = node
            .store
            .issue_token("auditor", licnode_store::TokenKind::Api, "test", None)
            .await
            .expect("token")
            .token;
        let client = reqwest::Client::new();
        let get = |path: &str| {
            client
                .get(format!("{}{path}", node.base))
                .bearer_auth(&token)
                .send()
        };

        let newest: Value = get("/api/v1/quality_archives/records?order=desc&limit=2")
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let names: Vec<&str> = newest["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|item| item["fields"]["enterprise_name"].as_str())
            .collect();
        assert_eq!(names, ["丙号企业", "乙号企业"], "{backend}");

        let csv = get("/api/v1/quality_archives/records/export?format=csv&q=乙号")
            .await
            .expect("export");
        assert_eq!(csv.status(), StatusCode::OK, "{backend}");
        let text = csv.text().await.expect("text");
        assert!(
            text.contains("乙号企业") && !text.contains("甲号企业"),
            "{text}"
        );
        let bad = get("/api/v1/quality_archives/records/export?format=pdf")
            .await
            .expect("export");
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

        let network: Value = get("/api/v1/sync/network")
            .await
            .expect("network")
            .json()
            .await
            .expect("json");
        assert_eq!(network["reported_total"], json!(0), "{backend}: {network}");
        assert_eq!(network["page"], json!(1));
    }
}

/// Ships every change of `from` after `cursor` into `to`, as replication delivers it from
/// `origin`; returns the new cursor.
async fn ship(
    from: &licnode_store::Store,
    to: &licnode_store::Store,
    origin: &str,
    cursor: i64,
) -> i64 {
    let rows = from
        .changes_after(cursor, None, 10_000)
        .await
        .expect("changes");
    let last = rows.last().map_or(cursor, |row| row.seq);
    let remote: Vec<licnode_store::LoggedChange> = rows
        .into_iter()
        .map(|row| licnode_store::LoggedChange {
            record_id: row.record_id,
            collection: row.collection,
            jurisdiction: row.jurisdiction,
            author_user: row.author_user,
            at_ms: row.at_ms,
            origin: origin.to_string(),
            bytes: row.bytes,
            ..licnode_store::LoggedChange::default()
        })
        .collect();
    let outcome = to.apply_remote(&remote).await.expect("apply");
    assert!(outcome.refused.is_empty(), "refused: {:?}", outcome.refused);
    last
}

#[tokio::test]
async fn concurrent_values_show_side_by_side_and_a_click_on_one_makes_it_the_value() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        // The county's own database, replicating up to the province.
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _database) = licnode_testkit::database_url(backend, dir.path())
            .await
            .expect("database");
        let county_store = licnode_store::Store::open(&url).await.expect("store");
        let county = Archive::new(county_store.clone(), "330106");
        let created = county
            .create(
                "quality_archives",
                Some("330106"),
                &record("quality_archives", "330106", 21, json!({})),
                &Author::clerk("clerk"),
            )
            .await
            .expect("archive")
            .record;
        let cursor = ship(&county_store, &node.store, "330106", 0).await;
        // Concurrently, the county and the province write another note (a field that is not
        // secret: a secret one shows masked values and no button, Art. 36).
        let note = |text: &str| {
            let mut patch = serde_json::Map::new();
            patch.insert("quality_notes".into(), json!(text));
            patch
        };
        county
            .update(
                &created.id,
                &note("县里核定：中型"),
                &Author::clerk("clerk"),
            )
            .await
            .expect("county edit");
        node.archive
            .update(
                &created.id,
                &note("省里核定：大型"),
                &Author::clerk("clerk"),
            )
            .await
            .expect("province edit");
        ship(&county_store, &node.store, "330106", cursor).await;
        assert_eq!(
            node.archive
                .conflicts(&created.id)
                .await
                .expect("conflicts")
                .len(),
            1,
            "{backend}"
        );

        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let page = clerk.get(&format!("/records/{}", created.id)).await;
        let conflicts = &page.body[page.body.find("id=\"conflicts\"").expect("the conflicts")..];
        assert_eq!(
            conflicts
                .matches("<button type=\"submit\">采用此值</button>")
                .count(),
            2,
            "{backend}: {conflicts}"
        );
        assert!(conflicts.contains("县里核定：中型") && conflicts.contains("省里核定：大型"));
        let token = page.csrf_token();
        let chosen = choose(
            &mut clerk,
            &format!("/records/{}/resolve", created.id),
            &token,
            "quality_notes",
            "\"县里核定：中型\"",
        )
        .await;
        assert_eq!(
            chosen.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            chosen.body
        );
        assert!(
            node.archive
                .conflicts(&created.id)
                .await
                .expect("conflicts")
                .is_empty()
        );
        let record = node.archive.get(&created.id).await.expect("record");
        assert_eq!(record.data["quality_notes"], json!("县里核定：中型"));
        let page = clerk.get(&format!("/records/{}", created.id)).await;
        assert!(!page.body.contains("id=\"conflicts\""), "{backend}");

        // An auditor sees the values but gets no button.
        let county_again = county
            .update(&created.id, &note("县里再次核定"), &Author::clerk("clerk"))
            .await;
        assert!(county_again.is_ok());
        node.archive
            .update(&created.id, &note("省里再次核定"), &Author::clerk("clerk"))
            .await
            .expect("edit");
        ship(&county_store, &node.store, "330106", cursor).await;
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let page = auditor.get(&format!("/records/{}", created.id)).await;
        assert!(page.body.contains("id=\"conflicts\""), "{backend}");
        assert!(!page.body.contains("class=\"choose\""));
        assert!(!page.body.contains("采用此值"));
    }
}

#[tokio::test]
async fn a_cancellations_page_shows_the_ten_days_to_record_it_on_its_licence() {
    for backend in BACKENDS {
        // Art. 28: a province records its own licences' cancellations within 10 days.
        let node = province(backend, "2026-11-20").await;
        let licence = node
            .archive
            .create(
                "licences",
                Some("330000"),
                &record(
                    "licences",
                    "330000",
                    31,
                    json!({ "status": "valid", "issuing_level": "provincial" }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("licence")
            .record;
        let event = node
            .archive
            .create(
                "licence_events",
                Some("330000"),
                &record(
                    "licence_events",
                    "330000",
                    32,
                    json!({ "event_kind": "cancellation", "licence": licence.id, "event_date": "2026-11-15" }),
                ),
                &Author::approver("approver"),
            )
            .await
            .expect("event")
            .record;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let page = browser.get(&format!("/records/{}", event.id)).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}: {}", page.body);
        let deadlines = &page.body[page.body.find("id=\"deadlines\"").expect("deadlines")..];
        assert!(
            deadlines.contains("data-rule=\"provincial_cancellation\" data-state=\"due\""),
            "{backend}: {deadlines}"
        );
        assert!(
            deadlines.contains("2026-11-25") && deadlines.contains("还剩5天"),
            "{deadlines}"
        );
    }
}

/// Creates licences named `names` in order, issued on `issue_dates`, in Hangzhou's Xihu district.
async fn licences_issued(node: &web_support::WebNode, names: &[&str], issue_dates: &[&str]) {
    for (seed, (name, issue_date)) in (0_u64..).zip(names.iter().zip(issue_dates)) {
        let valid_until = format!("{}{}", 2029, &issue_date[4..]);
        node.archive
            .create(
                "licences",
                Some("330106"),
                &record(
                    "licences",
                    "330106",
                    70 + seed,
                    json!({
                        "enterprise_name": name,
                        "approval_date": issue_date,
                        "issue_date": issue_date,
                        "valid_until": valid_until,
                    }),
                ),
                &Author::clerk("clerk"),
            )
            .await
            .expect("licence");
    }
}

/// The `href` of a page's pager link, ampersands unescaped.
fn pager_link(body: &str) -> String {
    body.split("class=\"pager\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn a_list_sorted_by_issue_date_pages_in_that_order_on_the_web_and_in_the_json_api() {
    let names = ["五月甲厂", "三月厂", "五月乙厂", "一月厂"];
    let issue_dates = ["2024-05-01", "2024-03-01", "2024-05-01", "2024-01-15"];
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        licences_issued(&node, &names, &issue_dates).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;

        // The 发证日期 link sorts latest first, keeping the filter; paging keeps the sort.
        let list = browser
            .get("/collections/licences?within=330100&limit=2")
            .await;
        assert_eq!(list.status, StatusCode::OK, "{backend}: {}", list.body);
        let latest_first = browser.get(&list.link("sort-issue_date")).await;
        assert_eq!(latest_first.status, StatusCode::OK, "{backend}");
        assert!(latest_first.body.contains("按发证日期 ↓"));
        assert_eq!(
            names_in_order(&latest_first.body, &names),
            ["五月乙厂", "五月甲厂"],
            "{backend}"
        );
        let next = pager_link(&latest_first.body);
        assert!(next.contains("sort=issue_date") && next.contains("within=330100"));
        let second = browser.get(&next).await;
        assert_eq!(
            names_in_order(&second.body, &names),
            ["三月厂", "一月厂"],
            "{backend}"
        );

        // The same link again turns the order round; the export follows it.
        let earliest_first = browser.get(&latest_first.link("sort-issue_date")).await;
        assert!(earliest_first.body.contains("按发证日期 ↑"));
        assert_eq!(
            names_in_order(&earliest_first.body, &names),
            ["一月厂", "三月厂"],
            "{backend}"
        );
        let csv = browser.get(&earliest_first.link("export-csv")).await;
        assert_eq!(csv.status, StatusCode::OK, "{backend}: {}", csv.body);
        assert_eq!(
            names_in_order(&csv.body.replace(['\n', ','], "<>"), &names),
            ["一月厂", "三月厂", "五月甲厂", "五月乙厂"],
            "{backend}: {}",
            csv.body
        );

        let refused = browser
            .get("/collections/licences?sort=enterprise_name")
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(refused.body.contains("data-error-code=\"bad_query\""));

        // The JSON API: `sort` with `order`, paged by `next`.
        let token = node
            .store
            .issue_token("auditor", licnode_store::TokenKind::Api, "test", None)
            .await
            .expect("token")
            .token;
        let client = reqwest::Client::new();
        let mut seen = Vec::new();
        let mut path = "/api/v1/licences/records?sort=issue_date&order=asc&limit=3".to_string();
        loop {
            let page: Value = client
                .get(format!("{}{path}", node.base))
                .bearer_auth(&token)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            let items = page["items"].as_array().expect("items");
            seen.extend(
                items
                    .iter()
                    .filter_map(|item| item["fields"]["enterprise_name"].as_str())
                    .map(str::to_string),
            );
            match page["next"].as_str() {
                Some(next) => {
                    path = format!(
                        "/api/v1/licences/records?sort=issue_date&order=asc&limit=3&after={next}"
                    )
                }
                None => break,
            }
        }
        assert_eq!(
            seen,
            ["一月厂", "三月厂", "五月甲厂", "五月乙厂"],
            "{backend}"
        );
        for refused_query in ["sort=enterprise_name", "sort=issue_date&after=12"] {
            let refused = client
                .get(format!(
                    "{}/api/v1/licences/records?{refused_query}",
                    node.base
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("list");
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{refused_query}");
        }
    }
}
