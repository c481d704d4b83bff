//! Art. 36 (issue 13, item 10) at the node's doors, on SQLite and PostgreSQL: the JSON API's
//! reads, its CSV export and the web application's pages show secret fields masked; an
//! approver who asks sees them and the read is audited (`secret_disclosed`); a clerk who asks
//! is refused (`secret_not_for_role`); the collection description and the OpenAPI document mark
//! the secret fields; an edit made in the web form leaves a masked secret as it was.

mod web_client;
mod web_support;

use licnode_app::Author;
use licnode_model::MASKED_SECRET;
use licnode_store::{AuditKind, TokenKind};
use licnode_testkit::BACKENDS;
use reqwest::StatusCode;
use serde_json::{Value, json};
use web_support::{Browser, WebNode, province, record};

/// The secret production scale of the quality archive the tests read.
const SCALE: &str = "年产电缆一万二千千米";

/// A quality archive in Xihu with its (secret) production scale, entered by a clerk.
async fn quality_archive(node: &WebNode) -> String {
    node.archive
        .create(
            "quality_archives",
            Some("330106"),
            &record(
                "quality_archives",
                "330106",
                36,
                json!({ "production_scale": SCALE, "quality_notes": "抽查合格" }),
            ),
            &Author::clerk("clerk"),
        )
        .await
        .expect("quality archive")
        .record
        .id
}

/// `GET path` on the staff API as `user`; the status and the body (JSON, or the text as a JSON
/// string).
async fn api_get(node: &WebNode, user: &str, path: &str) -> (StatusCode, Value) {
    let token = node
        .store
        .issue_token(user, TokenKind::Api, "test", None)
        .await
        .expect("token")
        .token;
    let response = reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("response");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The details of the `secret_disclosed` entries of the audit log, oldest first.
async fn disclosures(node: &WebNode) -> Vec<Value> {
    node.store
        .audit_entries(0, 1_000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|entry| entry.kind == AuditKind::SecretDisclosed)
        .map(|entry| {
            let mut detail = entry.detail;
            detail["user"] = json!(entry.user);
            detail["record_id"] = json!(entry.record_id);
            detail
        })
        .collect()
}

#[tokio::test]
async fn a_clerk_reads_a_record_through_the_api_with_its_secret_fields_masked() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let id = quality_archive(&node).await;

        let (status, read) = api_get(&node, "clerk", &format!("/api/v1/records/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {read}");
        assert_eq!(read["fields"]["production_scale"], json!(MASKED_SECRET));
        assert_eq!(read["fields"]["quality_notes"], json!("抽查合格"));
        assert_eq!(
            read["masked_fields"],
            json!([
                "production_scale",
                "annual_output_value",
                "production_conditions"
            ])
        );
        let (_, listed) = api_get(&node, "clerk", "/api/v1/quality_archives/records").await;
        assert_eq!(
            listed["items"][0]["fields"]["production_scale"],
            json!(MASKED_SECRET),
            "{backend}: a list is masked too"
        );

        let (status, refused) = api_get(
            &node,
            "clerk",
            &format!("/api/v1/records/{id}?unmasked=true"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {refused}");
        assert_eq!(refused["error"]["code"], json!("secret_not_for_role"));
        let (status, _) = api_get(
            &node,
            "clerk",
            "/api/v1/quality_archives/records?production_scale=%E5%B9%B4",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{backend}: a clerk may not probe a secret with a filter"
        );
        assert!(disclosures(&node).await.is_empty(), "{backend}");
    }
}

#[tokio::test]
async fn an_approver_asks_the_api_for_secret_fields_unmasked_and_the_audit_log_holds_the_read() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let id = quality_archive(&node).await;

        let (_, masked) = api_get(&node, "approver", &format!("/api/v1/records/{id}")).await;
        assert_eq!(
            masked["fields"]["production_scale"],
            json!(MASKED_SECRET),
            "{backend}: an approver too reads masked unless asking"
        );
        assert!(disclosures(&node).await.is_empty(), "{backend}");

        let (status, read) = api_get(
            &node,
            "approver",
            &format!("/api/v1/records/{id}?unmasked=true"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {read}");
        assert_eq!(read["fields"]["production_scale"], json!(SCALE));
        assert_eq!(read["masked_fields"], json!([]));
        let entries = disclosures(&node).await;
        assert_eq!(entries.len(), 1, "{backend}: {entries:?}");
        assert_eq!(entries[0]["user"], json!("approver"));
        assert_eq!(entries[0]["record_id"], json!(id));
        assert_eq!(entries[0]["via"], json!("api"));
        assert_eq!(
            entries[0]["fields"],
            json!([
                "production_scale",
                "annual_output_value",
                "production_conditions"
            ])
        );
    }
}

#[tokio::test]
async fn an_export_is_masked_by_default_and_unmasked_only_at_an_approvers_request() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        quality_archive(&node).await;
        let export = "/api/v1/quality_archives/records/export?format=csv";

        for user in ["clerk", "approver"] {
            let (status, csv) = api_get(&node, user, export).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {csv}");
            let text = csv.as_str().expect("CSV text");
            assert!(
                text.contains(MASKED_SECRET) && !text.contains(SCALE),
                "{backend}: {user}'s export without asking is masked: {text}"
            );
        }
        assert!(disclosures(&node).await.is_empty(), "{backend}");

        let (status, refused) = api_get(&node, "clerk", &format!("{export}&unmasked=true")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        assert_eq!(refused["error"]["code"], json!("secret_not_for_role"));

        let (status, csv) = api_get(&node, "approver", &format!("{export}&unmasked=true")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {csv}");
        assert!(csv.as_str().expect("CSV text").contains(SCALE), "{backend}");
        let entries = disclosures(&node).await;
        assert_eq!(entries.len(), 1, "{backend}: {entries:?}");
        assert_eq!(entries[0]["via"], json!("api export"));
        assert_eq!(entries[0]["records"], json!(1));
    }
}

#[tokio::test]
async fn the_collection_description_and_the_openapi_document_mark_the_secret_fields() {
    let node = province(BACKENDS[0], "2026-11-20").await;
    let (_, collections) = api_get(&node, "clerk", "/api/v1/collections").await;
    let quality_archives = collections
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == json!("quality_archives")))
        .expect("quality_archives described");
    assert_eq!(
        quality_archives["secret_fields"],
        json!([
            "production_scale",
            "annual_output_value",
            "production_conditions"
        ])
    );
    let (_, inspections) = api_get(&node, "clerk", "/api/v1/collections/inspections").await;
    assert_eq!(
        inspections["secret_fields"],
        json!(["raw_records", "inspection_items[].measured_result"])
    );
    assert_eq!(
        inspections["secret_readers"],
        json!(["approver", "administrator"])
    );
    assert_eq!(inspections["masked_as"], json!(MASKED_SECRET));

    let (_, openapi) = api_get(&node, "clerk", "/openapi.json").await;
    let scale = &openapi["components"]["schemas"]["quality_archivesFields"]["properties"]["production_scale"];
    assert_eq!(scale["x-classification"], json!("secret"));
    assert!(
        scale["description"]
            .as_str()
            .is_some_and(|text| text.contains("Art. 36") && text.contains("unmasked=true")),
        "{scale}"
    );
    let read = &openapi["paths"]["/api/v1/records/{id}"]["get"];
    assert!(
        read.to_string().contains("secret_not_for_role"),
        "the read names its refusal: {read}"
    );
}

#[tokio::test]
async fn the_record_page_masks_secret_fields_and_shows_them_to_an_approver_who_asks() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let id = quality_archive(&node).await;
        let page = format!("/records/{id}");

        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let seen = clerk.get(&page).await;
        assert_eq!(seen.status, StatusCode::OK, "{backend}");
        assert!(seen.body.contains(MASKED_SECRET) && !seen.body.contains(SCALE));
        assert!(seen.body.contains("id=\"secrets-masked\""));
        assert!(!seen.body.contains("id=\"show-secrets\""), "{backend}");
        let refused = clerk.get(&format!("{page}?unmasked=1")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}");
        assert_eq!(refused.error_code(), "secret_not_for_role");
        let list = clerk.get("/collections/quality_archives").await;
        assert!(!list.body.contains(SCALE), "{backend}: the list is masked");

        let mut approver = Browser::signed_in(&node, "approver").await;
        let masked = approver.get(&page).await;
        assert!(!masked.body.contains(SCALE), "{backend}");
        let shown = approver.get(&masked.link("show-secrets")).await;
        assert_eq!(shown.status, StatusCode::OK, "{backend}");
        assert!(shown.body.contains(SCALE) && shown.body.contains("id=\"secrets-shown\""));
        let entries = disclosures(&node).await;
        assert_eq!(entries.len(), 1, "{backend}: {entries:?}");
        assert_eq!(entries[0]["via"], json!("web"));
        assert_eq!(entries[0]["user"], json!("approver"));
    }
}

#[tokio::test]
async fn an_edit_in_the_web_form_leaves_a_masked_secret_field_as_it_was() {
    for backend in BACKENDS {
        let node = province(backend, "2026-11-20").await;
        let id = quality_archive(&node).await;
        let edit = format!("/records/{id}/edit");
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let form = clerk.get(&edit).await;
        assert!(
            form.body.contains(MASKED_SECRET) && !form.body.contains(SCALE),
            "{backend}: the form shows the mask"
        );

        // The form as the browser sends it: the mask as shown, one other field changed.
        let saved = clerk
            .submit(
                &edit,
                &edit,
                &[
                    ("production_scale", MASKED_SECRET),
                    ("quality_notes", "复查合格"),
                ],
            )
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            saved.body
        );
        let stored = node.archive.get(&id).await.expect("record");
        assert_eq!(stored.data["production_scale"], json!(SCALE), "{backend}");
        assert_eq!(stored.data["quality_notes"], json!("复查合格"), "{backend}");
    }
}
