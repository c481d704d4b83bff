//! The staff write path through the API (issue 11, items 1, 2 and 7): which writes need an
//! approver is decided on the validated values, for every spelling the validator accepts; a
//! submitted report is frozen for every role; JSON with a repeated key and text with invisible
//! bidirectional or zero-width characters are refused. Refused writes store nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use licnode_app::Archive;
use licnode_model::{EventKind, FieldType, LicenceStatus, ReportStatus};
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::{Role, Store, TokenKind};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

const PROVINCE: &str = "330000";
const PASSWORD: &str = "correct horse battery";

struct TestNode {
    state: AppState,
    tokens: std::collections::HashMap<&'static str, String>,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node(backend: Backend) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    let mut tokens = std::collections::HashMap::new();
    for (name, role) in [
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("administrator", Role::Administrator),
    ] {
        store
            .add_user(name, name, role, PASSWORD)
            .await
            .expect("user");
        let issued = store
            .issue_token(name, TokenKind::Api, "test", None)
            .await
            .expect("token");
        tokens.insert(name, issued.token);
    }
    let clock = licnode_app::ManualClock::at_date(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"),
    );
    TestNode {
        state: AppState::new(
            Archive::new(store, PROVINCE),
            NodeInfo {
                code: PROVINCE.into(),
                level: "province".into(),
                name: "浙江省市场监督管理局".into(),
                parent_url: None,
            },
        )
        .with_clock(clock),
        tokens,
        _database: database,
        _dir: dir,
    }
}

/// Sends one request as `role` with a raw body; returns status and JSON body.
async fn send(
    node: &TestNode,
    role: &str,
    method: &str,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", node.tokens[role]));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let response = app(node.state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

fn error_code(answer: &Value) -> Value {
    answer["error"]["code"].clone()
}

fn generated(collection: &str, seed: u64) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(seed).record(model, "330106")
}

/// Everything a refused write could have touched: the change log's end, and the record's
/// fields and history when there is one.
async fn footprint(node: &TestNode, id: Option<&str>) -> (i64, Value, usize) {
    let last_seq = node.state.archive.last_seq().await.expect("seq");
    let Some(id) = id else {
        return (last_seq, Value::Null, 0);
    };
    let record = node.state.archive.get(id).await.expect("record");
    let history = node.state.archive.history(id).await.expect("history");
    (last_seq, Value::Object(record.data), history.len())
}

/// Every spelling of the values of `collection.field` that the validator accepts: each value
/// and its Chinese label, in upper, lower, title and swapped case, bare and padded with
/// spaces, tabs and newlines. Returned with the value the validator normalises each to.
fn accepted_spellings(collection: &str, field: &str) -> Vec<(String, String)> {
    let model = licnode_model::collection(collection).expect("collection");
    let field = model.field(field).expect("field");
    let FieldType::Enum(values) = field.field_type else {
        panic!("{} is not an enumeration", field.name);
    };
    let title = |text: &str| {
        text.split('_')
            .map(|part| {
                let mut characters = part.chars();
                characters.next().map_or(String::new(), |first| {
                    first.to_uppercase().collect::<String>() + characters.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("_")
    };
    let swapped = |text: &str| {
        text.chars()
            .map(|character| {
                if character.is_ascii_lowercase() {
                    character.to_ascii_uppercase()
                } else {
                    character.to_ascii_lowercase()
                }
            })
            .collect::<String>()
    };
    let mut spellings = Vec::new();
    for value in values {
        let cases = [
            value.value.to_string(),
            value.value.to_uppercase(),
            value.value.to_lowercase(),
            title(value.value),
            swapped(&title(value.value)),
            value.label_zh.to_string(),
        ];
        for case in cases {
            for padded in [
                case.clone(),
                format!(" {case} "),
                format!(" {case}"),
                format!("\t{case}"),
                format!("{case}\n"),
                format!(" \t{case}\t "),
            ] {
                if spellings.iter().any(|(known, _)| *known == padded) {
                    continue;
                }
                if let Ok((Value::String(normalised), _)) =
                    licnode_model::validate_field(field, &Value::String(padded.clone()))
                {
                    spellings.push((padded, normalised));
                }
            }
        }
    }
    spellings
}

fn terminal_status_spellings() -> Vec<String> {
    let spellings: Vec<String> = accepted_spellings("licences", "status")
        .into_iter()
        .filter(|(_, normalised)| {
            normalised
                .parse::<LicenceStatus>()
                .is_ok_and(LicenceStatus::is_terminal)
        })
        .map(|(spelling, _)| spelling)
        .collect();
    // Four terminal statuses, each in several spellings: the generator must find them.
    assert!(spellings.len() >= 4 * 10, "{spellings:?}");
    for needed in [
        " Revoked ",
        "REVOKED",
        "Withdrawn",
        "CANCELLED",
        "Revoked_As_Penalty",
    ] {
        assert!(
            spellings.iter().any(|spelling| spelling == needed),
            "{needed:?} missing"
        );
    }
    spellings
}

fn approval_event_kind_spellings() -> Vec<String> {
    let spellings: Vec<String> = accepted_spellings("licence_events", "event_kind")
        .into_iter()
        .filter(|(_, normalised)| {
            normalised
                .parse::<EventKind>()
                .is_ok_and(|kind| kind != EventKind::Change)
        })
        .map(|(spelling, _)| spelling)
        .collect();
    assert!(spellings.len() >= 4 * 10, "{spellings:?}");
    spellings
}

fn submitted_report_spellings() -> Vec<String> {
    let spellings: Vec<String> = accepted_spellings("reports", "status")
        .into_iter()
        .filter(|(_, normalised)| normalised.parse::<ReportStatus>() == Ok(ReportStatus::Submitted))
        .map(|(spelling, _)| spelling)
        .collect();
    for needed in ["Submitted", " 已报送"] {
        assert!(
            spellings.iter().any(|spelling| spelling == needed),
            "{needed:?} missing"
        );
    }
    spellings
}

async fn create(
    node: &TestNode,
    role: &str,
    collection: &str,
    input: &Map<String, Value>,
) -> String {
    let (status, created) = send(
        node,
        role,
        "POST",
        &format!("/api/v1/{collection}/records"),
        Some(Value::Object(input.clone()).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_string()
}

/// Asserts that the clerk's create of `input` and patch of `patch_field` to `spelling` on
/// `existing` are refused with 403 `approval_required` and change nothing.
async fn assert_clerk_refused(
    node: &TestNode,
    collection: &str,
    input: &Map<String, Value>,
    existing: &str,
    patch_field: &str,
    spelling: &str,
) {
    let before = footprint(node, Some(existing)).await;
    let mut with_spelling = input.clone();
    with_spelling.insert(patch_field.into(), json!(spelling));
    let (status, answer) = send(
        node,
        "clerk",
        "POST",
        &format!("/api/v1/{collection}/records"),
        Some(Value::Object(with_spelling).to_string()),
    )
    .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::FORBIDDEN, json!("approval_required")),
        "create {collection} with {patch_field} {spelling:?}: {answer}"
    );
    let (status, answer) = send(
        node,
        "clerk",
        "PATCH",
        &format!("/api/v1/records/{existing}"),
        Some(json!({ patch_field: spelling }).to_string()),
    )
    .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::FORBIDDEN, json!("approval_required")),
        "patch {collection} with {patch_field} {spelling:?}: {answer}"
    );
    assert_eq!(
        footprint(node, Some(existing)).await,
        before,
        "{spelling:?} changed something"
    );
}

// Issue 11, item 1; Art. 13, 19, 28: withdrawing, revoking and cancelling a licence is a
// decision, an approver's.
#[tokio::test]
async fn clerk_cannot_put_a_licence_into_a_terminal_state_by_any_spelling() {
    let spellings = terminal_status_spellings();
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut input = generated("licences", 7);
        input.insert("status".into(), json!("valid"));
        let licence = create(&node, "clerk", "licences", &input).await;
        input.remove("status");
        for spelling in &spellings {
            assert_clerk_refused(&node, "licences", &input, &licence, "status", spelling).await;
        }
        let (status, answer) = send(
            &node,
            "approver",
            "PATCH",
            &format!("/api/v1/records/{licence}"),
            Some(json!({ "status": " Revoked " }).to_string()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend}: an approver may: {answer}"
        );
        assert_eq!(answer["fields"]["status"], json!("revoked"));
    }
}

// Issue 11, item 1; Art. 19, 28: an event other than a 变更 records such a decision.
#[tokio::test]
async fn clerk_cannot_record_a_licence_event_that_needs_approval_by_any_spelling() {
    let spellings = approval_event_kind_spellings();
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut input = generated("licence_events", 11);
        // The event names a licence the node holds.
        let mut licence = generated("licences", 12);
        licence.remove("status");
        let licence = create(&node, "clerk", "licences", &licence).await;
        input.insert("licence".into(), json!(licence));
        input.insert("event_kind".into(), json!("change"));
        input.insert("change_items".into(), json!("企业名称"));
        let event = create(&node, "clerk", "licence_events", &input).await;
        for spelling in &spellings {
            assert_clerk_refused(
                &node,
                "licence_events",
                &input,
                &event,
                "event_kind",
                spelling,
            )
            .await;
        }
        let mut revocation = input.clone();
        revocation.insert("event_kind".into(), json!(" Revocation "));
        let revocation = create(&node, "approver", "licence_events", &revocation).await;
        // Editing the recorded decision is an approver's too.
        let (status, answer) = send(
            &node,
            "clerk",
            "PATCH",
            &format!("/api/v1/records/{revocation}"),
            Some(json!({ "remarks": "改一下" }).to_string()),
        )
        .await;
        assert_eq!(
            (status, error_code(&answer)),
            (StatusCode::FORBIDDEN, json!("approval_required")),
            "{backend}: {answer}"
        );
    }
}

fn draft_report() -> Map<String, Value> {
    let mut input = Map::new();
    for (field, value) in [
        ("report_kind", json!("monthly")),
        ("period", json!("2026-01")),
        ("revision", json!(1)),
        ("status", json!("draft")),
        ("reporting_unit", json!("浙江省市场监督管理局")),
        ("reporting_division", json!(PROVINCE)),
        ("fill_date", json!("2026-02-03")),
        ("content", json!("{}")),
    ] {
        input.insert(field.into(), value);
    }
    input
}

// Issue 11, item 1; Art. 18–20: submitting a report (报送) is an approver's.
#[tokio::test]
async fn clerk_cannot_submit_a_report_by_any_spelling() {
    let spellings = submitted_report_spellings();
    for backend in BACKENDS {
        let node = node(backend).await;
        let input = draft_report();
        let report = create(&node, "clerk", "reports", &input).await;
        for spelling in &spellings {
            assert_clerk_refused(&node, "reports", &input, &report, "status", spelling).await;
        }
    }
}

// Issue 11, item 2; Art. 18–20: what was reported stays as it was reported.
#[tokio::test]
async fn a_submitted_report_is_frozen_for_every_role_and_corrected_by_the_next_revision() {
    let node = node(Backend::Sqlite).await;
    let (status, run) = send(
        &node,
        "clerk",
        "POST",
        "/api/v1/reports/runs",
        Some(json!({ "kind": "monthly", "period": "2026-02" }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let first = run["report"]["id"].as_str().expect("report id").to_string();
    let (status, answer) = send(
        &node,
        "approver",
        "POST",
        &format!("/api/v1/reports/{first}/submit"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let before = footprint(&node, Some(&first)).await;
    for role in ["clerk", "approver", "administrator"] {
        for patch in [
            json!({ "content": "{\"counts\": [9, 9, 9, 9, 9]}" }),
            json!({ "status": "draft" }),
            json!({ "status": "submitted" }),
            json!({ "remarks": "补充说明" }),
        ] {
            let (status, answer) = send(
                &node,
                role,
                "PATCH",
                &format!("/api/v1/records/{first}"),
                Some(patch.to_string()),
            )
            .await;
            assert_eq!(
                (status, error_code(&answer)),
                (StatusCode::CONFLICT, json!("report_submitted")),
                "{role} {patch}: {answer}"
            );
        }
    }
    assert_eq!(footprint(&node, Some(&first)).await, before);

    // A late licence of the period changes the figures: the correction is revision 2.
    let mut licence = generated("licences", 5);
    licence.insert("approval_date".into(), json!("2026-02-02"));
    licence.insert("issue_date".into(), json!("2026-02-09"));
    licence.insert("valid_until".into(), json!("2031-02-08"));
    licence.insert("status".into(), json!("valid"));
    // Zhejiang's own issuance: Art. 19 reports only the province's decisions.
    licence.insert("issuing_level".into(), json!("provincial"));
    licence.insert("licence_number".into(), json!("(浙)XK13-006-00032"));
    create(&node, "clerk", "licences", &licence).await;
    let (status, run) = send(
        &node,
        "clerk",
        "POST",
        "/api/v1/reports/runs",
        Some(json!({ "kind": "monthly", "period": "2026-02" }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["run"]["outcome"], json!("revised"));
    assert_eq!(run["report"]["data"]["revision"], json!(2));
    assert_eq!(run["report"]["data"]["supersedes"], json!(first));
    let second = run["report"]["id"].as_str().expect("report id").to_string();
    let (status, answer) = send(
        &node,
        "approver",
        "POST",
        &format!("/api/v1/reports/{second}/submit"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(footprint(&node, Some(&first)).await.1, before.1);
}

// Issue 11, item 7: serde_json keeps the last of repeated keys; a check reading one and a
// store reading another must never disagree, so the body is refused.
#[tokio::test]
async fn json_with_a_repeated_key_is_refused_on_create_and_update() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut input = generated("licences", 9);
        input.insert("status".into(), json!("valid"));
        let licence = create(&node, "clerk", "licences", &input).await;
        let before = footprint(&node, Some(&licence)).await;

        input.remove("status");
        let object = Value::Object(input).to_string();
        let repeated = format!(
            "{}, \"status\": \"valid\", \"status\": \"revoked\"}}",
            object.trim_end_matches('}')
        );
        let (status, answer) = send(
            &node,
            "clerk",
            "POST",
            "/api/v1/licences/records",
            Some(repeated),
        )
        .await;
        assert_eq!(
            (status, error_code(&answer)),
            (StatusCode::BAD_REQUEST, json!("duplicate_key")),
            "{backend}: {answer}"
        );
        assert_eq!(answer["error"]["details"]["key"], json!("status"));

        for (body, key) in [
            (r#"{"remarks": "甲", "remarks": "乙"}"#, "remarks"),
            (r#"{"status": "valid", "st\u0061tus": "revoked"}"#, "status"),
            (
                r#"{"remarks": "甲", "team": [{"a": 1, "b": {"c": 1, "c": 2}}]}"#,
                "c",
            ),
        ] {
            for role in ["clerk", "approver"] {
                let (status, answer) = send(
                    &node,
                    role,
                    "PATCH",
                    &format!("/api/v1/records/{licence}"),
                    Some(body.to_string()),
                )
                .await;
                assert_eq!(
                    (status, error_code(&answer)),
                    (StatusCode::BAD_REQUEST, json!("duplicate_key")),
                    "{backend} {role} {body}: {answer}"
                );
                assert_eq!(answer["error"]["details"]["key"], json!(key));
            }
        }
        assert_eq!(footprint(&node, Some(&licence)).await, before);
    }
}

/// The characters that change how text is displayed without being seen.
const INVISIBLE: [char; 17] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
    '\u{FEFF}',
];

// Issue 11, item 7: public listings would show a name with these characters as another name.
#[tokio::test]
async fn names_and_text_with_bidirectional_or_zero_width_characters_are_refused() {
    let node = node(Backend::Sqlite).await;
    let mut input = generated("licences", 13);
    input.insert("status".into(), json!("valid"));
    let licence = create(&node, "clerk", "licences", &input).await;
    let before = footprint(&node, Some(&licence)).await;
    for character in INVISIBLE {
        let name = format!("杭州恒远{character}电缆有限公司");
        input.insert("enterprise_name".into(), json!(name));
        let (status, answer) = send(
            &node,
            "clerk",
            "POST",
            "/api/v1/licences/records",
            Some(Value::Object(input.clone()).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(
            answer["error"]["details"],
            json!([{
                "field": "enterprise_name",
                "code": "invalid_text",
                "message": answer["error"]["details"][0]["message"],
            }]),
            "U+{:04X}",
            u32::from(character)
        );
        let (status, answer) = send(
            &node,
            "clerk",
            "PATCH",
            &format!("/api/v1/records/{licence}"),
            Some(json!({ "remarks": format!("备注{character}") }).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["details"][0]["field"], json!("remarks"));
        assert_eq!(answer["error"]["details"][0]["code"], json!("invalid_text"));
    }
    assert_eq!(footprint(&node, Some(&licence)).await, before);
}

// Art. 3: 本规定不适用于加工食品、直接接触食品的材料等食品相关产品、化妆品等三类产品.
#[tokio::test]
async fn foods_food_contact_materials_and_cosmetics_are_refused_as_outside_the_regulation() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let before = footprint(&node, None).await;
        for (collection, field, product, kind) in [
            ("licences", "product_category", "乳制品", "加工食品"),
            ("applications", "product_name", "化妆品", "化妆品"),
            (
                "licences",
                "product_name",
                "食品用塑料包装容器工具等制品",
                "直接接触食品的材料等食品相关产品",
            ),
        ] {
            let mut input = generated(collection, 3);
            input.insert(field.into(), json!(product));
            let (status, answer) = send(
                &node,
                "approver",
                "POST",
                &format!("/api/v1/{collection}/records"),
                Some(Value::Object(input).to_string()),
            )
            .await;
            assert_eq!(
                (status, error_code(&answer)),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!("outside_regulation")
                ),
                "{backend:?} {product}: {answer}"
            );
            assert_eq!(answer["error"]["details"]["field"], json!(field));
            assert_eq!(answer["error"]["details"]["excluded_products"], json!(kind));
        }
        assert_eq!(footprint(&node, None).await, before, "{backend:?}");

        // A covered product is stored, and cannot be edited into a cosmetic afterwards.
        let id = create(&node, "approver", "licences", &generated("licences", 3)).await;
        let before = footprint(&node, Some(&id)).await;
        let (status, answer) = send(
            &node,
            "approver",
            "PATCH",
            &format!("/api/v1/records/{id}"),
            Some(json!({ "product_category": "化妆品" }).to_string()),
        )
        .await;
        assert_eq!(
            (status, error_code(&answer)),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("outside_regulation")
            ),
            "{answer}"
        );
        assert_eq!(footprint(&node, Some(&id)).await, before, "{backend:?}");
    }
}
