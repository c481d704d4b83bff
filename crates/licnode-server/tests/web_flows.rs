//! The work flows of the staff web application through real HTTP, as a browser without
//! JavaScript uses them (issue 12, item 5): the licence lifecycle (a clerk prepares, an approver
//! approves in one click or refuses), the reports (schedule, run, Attachment 1 as a page,
//! submission, downloads, the print views of Attachments 1–3 against the original's text) and retention (due records, request, the parent's
//! decision, certificates). Every role refusal is the service's, shown with its stable code,
//! and changes nothing; hostile input comes back escaped; every test runs on SQLite and
//! PostgreSQL.

#[path = "web_flows/harness.rs"]
mod harness;
mod web_client;

use chrono::{Datelike, NaiveDate};
use harness::{
    Browser, COUNTY, HOSTILE, PROVINCE, WebNode, assert_escaped, database, pairs, serve,
};
use licnode_app::{Author, Clock as _};
use licnode_store::ListQuery;
use licnode_testkit::BACKENDS;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn today() -> NaiveDate {
    licnode_app::SystemClock.today()
}

/// A valid licence of the county, entered at the province.
async fn licence(node: &WebNode, seed: u64) -> String {
    let model = licnode_model::collection("licences").expect("model");
    let mut input = licnode_gen::Generator::new(seed).record(model, COUNTY);
    input.insert("status".into(), json!("valid"));
    node.archive
        .create("licences", None, &input, &Author::approver("approver"))
        .await
        .expect("licence")
        .record
        .id
}

async fn status_of(node: &WebNode, id: &str) -> String {
    let licence = node.archive.get(id).await.expect("licence");
    licence.data["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn count(node: &WebNode, collection: &str) -> usize {
    node.archive
        .list(&ListQuery {
            collection: collection.into(),
            limit: 1_000,
            ..ListQuery::default()
        })
        .await
        .expect("list")
        .items
        .len()
}

/// The id of the action a prepare redirected to.
fn action_path(answer: &harness::Answer) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let path = answer.location().to_string();
    assert!(path.starts_with("/licence-actions/"), "{path}");
    path
}

/// A clerk prepares a revocation of `licence` from its page; the path of the action.
async fn prepare_revocation(clerk: &mut Browser, licence: &str, reason: &str) -> String {
    let form_path = format!("/licences/{licence}/actions/new?kind=revocation");
    let prepared = clerk
        .submit(
            &form_path,
            &format!("/licences/{licence}/actions/new"),
            &[
                ("event_kind", "revocation"),
                ("reason", reason),
                ("event_date", "2026-11-20"),
                ("decision_number", "浙市监许撤〔2026〕1号"),
            ],
        )
        .await;
    action_path(&prepared)
}

#[tokio::test]
async fn a_clerk_prepares_a_revocation_and_the_approver_approves_it_in_one_click() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 3).await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;

        // The licence's page offers each event the model knows (Art. 13, 19, 28).
        let page = clerk.get(&format!("/records/{licence}")).await;
        for kind in [
            "change",
            "withdrawal",
            "revocation",
            "penalty_revocation",
            "cancellation",
        ] {
            assert!(
                page.body.contains(&format!("/actions/new?kind={kind}")),
                "{kind}"
            );
        }
        let form = clerk
            .get(&format!("/licences/{licence}/actions/new?kind=revocation"))
            .await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("原因（注销原因）") && form.body.contains("第13、19、28条"));

        let action = prepare_revocation(&mut clerk, &licence, "以欺骗手段取得许可").await;
        // Prepared only: nothing written to the licence or its events yet.
        assert_eq!(status_of(&node, &licence).await, "valid", "{backend}");
        assert_eq!(count(&node, "licence_events").await, 0);
        let waiting = clerk.get(&action).await;
        assert!(waiting.body.contains("待审批") && !waiting.body.contains("/approve"));

        let mut approver = Browser::signed_in(&node, "approver").await;
        let pending = approver.get("/licence-actions").await;
        assert!(pending.body.contains("待审批的许可证事项"));
        assert!(pending.body.contains(&format!("{action}/approve")));
        // One click: the list's button posts the approval.
        let approved = approver
            .submit("/licence-actions", &format!("{action}/approve"), &[])
            .await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
        assert_eq!(status_of(&node, &licence).await, "revoked", "{backend}");
        let events = node
            .archive
            .list(&ListQuery {
                collection: "licence_events".into(),
                limit: 10,
                ..ListQuery::default()
            })
            .await
            .expect("events");
        assert_eq!(events.items.len(), 1);
        let event = &events.items[0];
        assert_eq!(event.data["event_kind"], "revocation");
        assert_eq!(event.data["licence"], Value::String(licence.clone()));
        assert_eq!(event.data["reason"], "以欺骗手段取得许可");
        // Both written by the approver.
        for id in [&event.id, &licence] {
            let history = node.archive.history(id).await.expect("history");
            assert_eq!(
                history.last().and_then(|entry| entry.user.as_deref()),
                Some("approver")
            );
        }
        let done = approver.get(&action).await;
        assert!(done.body.contains("已批准") && done.body.contains(&event.id));
        // Art. 28: nothing more is prepared for a revoked licence.
        let page = clerk.get(&format!("/records/{licence}")).await;
        assert!(!page.body.contains("/actions/new?kind="));
        let again = clerk
            .submit(
                &format!("/records/{licence}"),
                &format!("/licences/{licence}/actions/new"),
                &[
                    ("event_kind", "cancellation"),
                    ("reason", "x"),
                    ("event_date", "2026-11-21"),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(again.body.contains("licence_not_active"));
    }
}

#[tokio::test]
async fn a_clerks_forged_approval_or_refusal_is_refused_with_its_code_and_changes_nothing() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 4).await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let action = prepare_revocation(&mut clerk, &licence, "违法生产").await;

        // The clerk's page has no button; a forged POST with the clerk's own token is refused
        // by the service on the session's typed role.
        for (path, fields) in [
            (format!("{action}/approve"), vec![]),
            (format!("{action}/refuse"), vec![("reason", "伪造")]),
        ] {
            let refused = clerk.submit(&action, &path, &fields).await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{backend}: {}",
                refused.body
            );
            assert_eq!(refused.error_code(), "approval_required");
            assert!(refused.body.contains("须由审批人批准"));
        }
        assert_eq!(status_of(&node, &licence).await, "valid");
        assert_eq!(count(&node, "licence_events").await, 0);
        let id: i64 = action
            .rsplit('/')
            .next()
            .expect("id")
            .parse()
            .expect("number");
        let stored = node.archive.licence_action(id).await.expect("action");
        assert_eq!(stored.state, "pending");

        // An auditor cannot prepare one either.
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let form = auditor
            .get(&format!(
                "/licences/{licence}/actions/new?kind=cancellation"
            ))
            .await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
        assert_eq!(form.error_code(), "forbidden_role");
    }
}

#[tokio::test]
async fn an_approver_refuses_with_a_reason_and_a_decided_action_is_not_decided_again() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 5).await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let action = prepare_revocation(&mut clerk, &licence, "证据不足").await;
        let mut approver = Browser::signed_in(&node, "approver").await;

        let no_reason = approver
            .submit(&action, &format!("{action}/refuse"), &[("reason", "  ")])
            .await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(no_reason.error_code(), "reason_required");

        let refused = approver
            .submit(&action, &format!("{action}/refuse"), &[("reason", HOSTILE)])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            refused.body
        );
        let page = approver.get(&action).await;
        assert!(page.body.contains("已退回"));
        assert_escaped(&page.body);

        let late = approver
            .submit(&action, &format!("{action}/approve"), &[])
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert_eq!(late.error_code(), "action_not_pending");
        assert_eq!(status_of(&node, &licence).await, "valid");
        assert_eq!(count(&node, "licence_events").await, 0);
    }
}

#[tokio::test]
async fn script_tags_and_quotes_in_every_text_field_of_the_action_form_come_back_escaped() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 6).await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let model = licnode_model::collection("licence_events").expect("model");
        let mut fields = vec![("event_kind", "change"), ("event_date", "2026-11-20")];
        let texts: Vec<&str> = model
            .fields
            .iter()
            .filter(|field| {
                matches!(
                    field.field_type,
                    licnode_model::FieldType::Text | licnode_model::FieldType::LongText
                )
            })
            .map(|field| field.name)
            .collect();
        assert!(texts.len() >= 8, "{texts:?}");
        fields.extend(texts.iter().map(|name| (*name, HOSTILE)));
        let path = format!("/licences/{licence}/actions/new");

        // Refused for a bad date: the form comes back with every input kept, escaped.
        let mut invalid = fields.clone();
        invalid.retain(|(name, _)| *name != "event_date");
        invalid.push(("event_date", "not a date"));
        let again = clerk
            .submit(&format!("/records/{licence}"), &path, &invalid)
            .await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            again.body
        );
        assert_escaped(&again.body);
        assert!(again.body.matches("&lt;script&gt;").count() >= texts.len());

        let prepared = clerk
            .submit(&format!("/records/{licence}"), &path, &fields)
            .await;
        let action = action_path(&prepared);
        for page in [action.as_str(), "/licence-actions"] {
            let shown = clerk.get(page).await;
            assert_eq!(shown.status, StatusCode::OK);
            assert_escaped(&shown.body);
        }
    }
}

#[tokio::test]
async fn a_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 7).await;
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let action = prepare_revocation(&mut clerk, &licence, "违法生产").await;
        let mut approver = Browser::signed_in(&node, "approver").await;
        for path in [
            format!("{action}/approve"),
            format!("/licences/{licence}/actions/new"),
            "/reports/run".to_string(),
            "/retention/requests".to_string(),
        ] {
            let refused = approver
                .post(
                    &path,
                    &pairs(&[("event_kind", "revocation"), ("kind", "monthly")]),
                )
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(refused.error_code(), "bad_csrf_token", "{path}");
        }
        assert_eq!(status_of(&node, &licence).await, "valid", "{backend}");
        assert_eq!(count(&node, "licence_events").await, 0);
        let pending = node
            .archive
            .pending_licence_action_count()
            .await
            .expect("count");
        assert_eq!(pending, 1);
    }
}

#[tokio::test]
async fn a_county_holding_a_licence_is_offered_no_action_and_a_forged_one_is_refused() {
    for backend in BACKENDS {
        let db = database(backend).await;
        // One database seen by the province, which keeps the licence, and by a county.
        let province = serve(&db.store, PROVINCE, "province", today()).await;
        let county = serve(&db.store, COUNTY, "county", today()).await;
        let licence = licence(&province, 10).await;
        let mut clerk = Browser::signed_in(&county, "clerk").await;
        let page = clerk.get(&format!("/records/{licence}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("licence-actions"), "the panel is shown");
        assert!(!page.body.contains("/actions/new?kind="), "{backend}");
        // Art. 13, 19, 28: licence events are recorded by the national centre and provinces.
        let forged = clerk
            .submit(
                &format!("/records/{licence}"),
                &format!("/licences/{licence}/actions/new"),
                &[
                    ("event_kind", "revocation"),
                    ("reason", "x"),
                    ("event_date", "2026-11-20"),
                ],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert_eq!(forged.error_code(), "author_not_allowed");
        let pending = county
            .archive
            .pending_licence_action_count()
            .await
            .expect("count");
        assert_eq!(pending, 0);
    }
}

/// A bearer token of `user` from the JSON API's login.
async fn token(client: &reqwest::Client, node: &WebNode, user: &str) -> String {
    let answer: Value = client
        .post(format!("{}/api/v1/auth/login", node.base))
        .json(&json!({ "name": user, "password": harness::PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    answer["token"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn the_json_api_prepares_lists_and_approves_through_the_same_service() {
    for backend in BACKENDS {
        let db = database(backend).await;
        let node = serve(&db.store, PROVINCE, "province", today()).await;
        let licence = licence(&node, 9).await;
        let client = reqwest::Client::new();
        let clerk = token(&client, &node, "clerk").await;
        let approver = token(&client, &node, "approver").await;
        let prepared = client
            .post(format!("{}/api/v1/licences/{licence}/actions", node.base))
            .bearer_auth(&clerk)
            .json(&json!({ "event_kind": "cancellation",
                           "fields": { "reason": "企业申请注销", "event_date": "2026-11-20" } }))
            .send()
            .await
            .expect("prepare");
        assert_eq!(prepared.status(), StatusCode::CREATED, "{backend}");
        let action: Value = prepared.json().await.expect("json");
        let id = action["id"].as_i64().expect("id");
        assert_eq!(action["state"], "pending");

        let approve = |token: String| {
            let client = client.clone();
            let url = format!("{}/api/v1/licence-actions/{id}/approve", node.base);
            async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("approve")
            }
        };
        let refused = approve(clerk.clone()).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["error"]["code"], "approval_required");
        assert_eq!(status_of(&node, &licence).await, "valid");

        let list: Value = client
            .get(format!(
                "{}/api/v1/licence-actions?state=pending",
                node.base
            ))
            .bearer_auth(&approver)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        assert_eq!(list["items"][0]["id"], id);

        let approved = approve(approver.clone()).await;
        assert_eq!(approved.status(), StatusCode::OK);
        assert_eq!(status_of(&node, &licence).await, "cancelled", "{backend}");
        let again = approve(approver).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let body: Value = again.json().await.expect("json");
        assert_eq!(body["error"]["code"], "action_not_pending");
    }
}

#[path = "web_flows/official_forms.rs"]
mod official_forms;
#[path = "web_flows/reports_retention.rs"]
mod reports_retention;

/// The first day of the month after the one a report covers: its period has ended.
pub(crate) fn day_in_next_month() -> NaiveDate {
    let today = today();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 2).expect("date")
}

#[path = "web_flows/regulation_flows.rs"]
mod regulation_flows;
