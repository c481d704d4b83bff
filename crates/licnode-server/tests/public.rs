//! The public query service through its routers, on SQLite and PostgreSQL: nothing but
//! classified-public fields ever leaves (Art. 36), the searches and lists the regulation asks
//! for (Art. 27, 28, 30, 31, 33–35), paging, caching and rate limiting, and that the public
//! listener serves nothing else.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use licnode_app::Author;
use licnode_app::{Archive, ArchiveError};
use licnode_model::{Collection, FieldType, Level, Mode};
use licnode_server::public::{self, PublicOptions};
use licnode_server::{AppState, NodeInfo, app};
use licnode_store::{Store, StoredRecord};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

const NODE_CODE: &str = "330000";
const COUNTY: &str = "330106";

struct TestNode {
    state: AppState,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

async fn node(backend: Backend) -> TestNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    TestNode {
        state: AppState::new(
            Archive::new(store, NODE_CODE),
            NodeInfo {
                code: NODE_CODE.into(),
                level: "province".into(),
                name: "浙江省市场监督管理局".into(),
                parent_url: None,
            },
        ),
        _database: database,
        _dir: dir,
    }
}

/// The public service alone, without rate limiting (tests make many requests at once).
fn unlimited(node: &TestNode) -> Router {
    public::public_app(
        node.state.clone(),
        PublicOptions {
            requests_per_second: 0.0,
            burst: 1,
        },
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn get_with(router: &Router, uri: &str, headers: &[(&str, &str)], peer: [u8; 4]) -> Answer {
    let mut request = Request::builder().method("GET").uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((peer, 40_000))));
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(router: &Router, uri: &str) -> Answer {
    get_with(router, uri, &[], [192, 0, 2, 1]).await
}

fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn collection(name: &str) -> &'static Collection {
    licnode_model::collection(name).expect("collection")
}

/// Creates a record as a node that may author it (the authority table decides), writing into
/// the test node's database as replication would deliver it.
async fn create(node: &TestNode, collection: &str, input: &Map<String, Value>) -> StoredRecord {
    let mut input = input.clone();
    if collection == "licences" {
        // In force, so that the list shows it by default (Art. 27); the validity filter has
        // its own tests (`public_regulation.rs`).
        input.insert("status".into(), json!("valid"));
        input.insert("valid_until".into(), json!("2099-12-31"));
    }
    if collection == "licence_events" {
        // An event names a licence the node holds (the records service refuses any other).
        let model = licnode_model::collection("licences").expect("licences");
        let licence = licnode_gen::Generator::new(5).record(model, COUNTY);
        let licence = Box::pin(create(node, "licences", &licence)).await;
        input.insert("licence".into(), json!(licence.id));
    }
    let input = &input;
    let store = node.state.archive.store_for_tests().clone();
    let authors = [
        Archive::new(store.clone(), "100000"),
        Archive::new(store.clone(), NODE_CODE),
        Archive::new(store.clone(), "330100"),
        Archive::new(store.clone(), COUNTY),
        Archive::with_level(store.clone(), "RD0001", Level::ReviewDepartment),
        Archive::with_level(store, "IB0001", Level::InspectionBody),
    ];
    for author in &authors {
        match author
            .create(
                collection,
                Some(COUNTY),
                input,
                // Generated records hold decisions (terminal licences, events, submitted
                // reports): an approver's to write.
                &Author::approver("approver-li"),
            )
            .await
        {
            Ok(created) => return created.record,
            Err(ArchiveError::NotAuthorised(_)) => continue,
            Err(error) => panic!("create {collection}: {error:?}"),
        }
    }
    panic!("no node may author {collection}")
}

// ---------------------------------------------------------------------------------------------
// Art. 36: every field that may not be published carries a recognisable value, and none of
// them appears in any public response.

/// A record of `collection` whose every non-publishable field holds a recognisable value, and
/// those values (as stored, after normalisation).
struct Marked {
    input: Map<String, Value>,
    markers: Vec<String>,
}

struct Marker {
    generator: licnode_gen::Generator,
    counter: i64,
}

impl Marker {
    /// A distinctive valid value for a field that may not be published, or `None` where the
    /// type has no distinctive values (enumerations: checked by their JSON key instead).
    fn value(&mut self, collection: &str, path: &str, field_type: FieldType) -> Option<Value> {
        self.counter += 1;
        let counter = self.counter;
        let text = match field_type {
            FieldType::Text | FieldType::LongText => {
                if collection == "reports" && path == "period" {
                    // Validated as YYYY-MM (monthly report): a month nobody else uses.
                    "1907-03".to_string()
                } else {
                    format!("LEAK-{collection}-{path}")
                }
            }
            FieldType::Date => {
                let date = chrono::NaiveDate::from_ymd_opt(1930, 1, 1).expect("date")
                    + chrono::Duration::days(counter * 3);
                date.format("%Y-%m-%d").to_string()
            }
            FieldType::YearMonth => format!("{}-{:02}", 1910 + counter % 80, 1 + counter % 12),
            FieldType::DateTime => format!("1931-02-03T04:05:{:02}+08:00", counter % 60),
            FieldType::Integer => return Some(Value::from(970_000_000 + counter * 1013)),
            FieldType::Boolean | FieldType::Enum(_) => return None,
            FieldType::CreditCode => self.generator.credit_code("654326"),
            FieldType::LicenceNumber => format!("(新)XK05-001-{:05}", 90_000 + counter),
            FieldType::DivisionCode => {
                let counties = licnode_model::divisions::counties_within("650000");
                counties[counter as usize % counties.len()].code.clone()
            }
            FieldType::IdNumber => {
                let birth = chrono::NaiveDate::from_ymd_opt(1950, 5, 5).expect("date");
                self.generator.id_number("654326", birth, true)
            }
            FieldType::Phone => format!("139{:08}", 55_000_000 + counter),
            FieldType::Email => format!(
                "leak-{}-{}@example.org",
                collection.replace('_', "-"),
                path.replace(['_', '.'], "-")
            ),
            FieldType::Postcode => format!("{:06}", 835_000 + counter),
            // A reference names a record the node holds (the records service refuses any
            // other): no distinctive value of its own.
            FieldType::RecordRef(_) => return None,
            FieldType::Table(_) => return None,
        };
        Some(Value::String(text))
    }

    /// A valid record of `collection` (from the generator) with every non-publishable field,
    /// and every non-publishable column of a table, overwritten with a recognisable value.
    fn record(&mut self, collection: &'static Collection) -> Marked {
        let mut input = self.generator.record(collection, COUNTY);
        // Values that make the record appear in its public listing.
        match collection.name {
            "licence_events" => {
                input.insert("event_kind".into(), json!("cancellation"));
            }
            "reviewers" | "review_departments" | "inspection_bodies" => {
                input.insert("status".into(), json!("active"));
            }
            "reports" => {
                input.insert("report_kind".into(), json!("monthly"));
            }
            _ => {}
        }
        for field in collection.fields {
            let publishable = collection.is_public_field(field.name);
            if let FieldType::Table(columns) = field.field_type {
                let rows = input
                    .get(field.name)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let rows: Vec<Value> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(index, row)| {
                        let mut row = row.as_object().cloned().unwrap_or_default();
                        for column in columns {
                            if publishable
                                && column.classification == licnode_model::Classification::Public
                            {
                                continue;
                            }
                            let path = format!("{}.{index}.{}", field.name, column.name);
                            if let Some(value) =
                                self.value(collection.name, &path, column.field_type)
                            {
                                row.insert(column.name.into(), value);
                            }
                        }
                        Value::Object(row)
                    })
                    .collect();
                input.insert(field.name.into(), Value::Array(rows));
                continue;
            }
            if publishable {
                continue;
            }
            if let Some(value) = self.value(collection.name, field.name, field.field_type) {
                input.insert(field.name.into(), value);
            }
        }
        // The markers as they will be stored: validation normalises typed values.
        let validated = licnode_model::validate(collection, &input, Mode::Create)
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", collection.name));
        let mut markers = Vec::new();
        for field in collection.fields {
            let publishable = collection.is_public_field(field.name);
            let Some(value) = validated.values.get(field.name) else {
                continue;
            };
            match field.field_type {
                FieldType::Enum(_) | FieldType::Boolean => {}
                FieldType::Table(columns) => {
                    for row in value.as_array().into_iter().flatten() {
                        for column in columns {
                            let hidden = !publishable
                                || column.classification != licnode_model::Classification::Public;
                            if hidden
                                && !matches!(column.field_type, FieldType::Enum(_))
                                && let Some(cell) = row.get(column.name)
                            {
                                markers.push(plain(cell));
                            }
                        }
                    }
                }
                _ if !publishable => {
                    markers.push(plain(value));
                    if field.field_type == FieldType::LicenceNumber
                        && let Some((_, bare)) = plain(value).split_once(')')
                    {
                        markers.push(bare.to_string());
                    }
                }
                _ => {}
            }
        }
        Marked { input, markers }
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Extracts the `rel="next"` link of an HTML page.
fn next_link(html: &str) -> Option<String> {
    let start = html.find("rel=\"next\" href=\"")? + "rel=\"next\" href=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn no_internal_or_secret_value_reaches_any_public_response() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut marker = Marker {
            generator: licnode_gen::Generator::new(36),
            counter: 0,
        };
        let mut markers: Vec<(String, String)> = Vec::new();
        let mut licence: Option<StoredRecord> = None;
        for model in licnode_model::collections() {
            let marked = marker.record(model);
            assert!(!marked.markers.is_empty() || model.public, "{}", model.name);
            let record = create(&node, model.name, &marked.input).await;
            if model.name == "licences" {
                licence = Some(record);
            }
            for value in marked.markers {
                assert!(
                    value.len() >= 6,
                    "{}: marker {value:?} too short",
                    model.name
                );
                markers.push((model.name.to_string(), value));
            }
        }
        let licence = licence.expect("licence");
        let text_of = |name: &str| plain(licence.data.get(name).expect("field"));
        let enterprise_name = text_of("enterprise_name");
        let fragment: String = enterprise_name.chars().skip(2).take(2).collect();
        let internal_credit_code = markers
            .iter()
            .find(|(_, value)| value.starts_with("91654326"))
            .map(|(_, value)| value.clone())
            .expect("an internal credit code");

        // Every page and endpoint, with every kind of filter, and errors.
        let mut queries: Vec<String> = vec![
            String::new(),
            format!("q={}", encode(&fragment)),
            "q=LEAK".into(),
            format!("q={}", encode(&text_of("licence_number"))),
            format!("q={}", encode(&text_of("credit_code"))),
            format!("q={}", encode(&internal_credit_code)),
            format!("category={}", encode(&text_of("product_category"))),
            "province=33".into(),
            "province=65".into(),
            "q=%E4%B8%80".into(),
            "after=abc".into(),
            "unknown=1".into(),
        ];
        for kind in [
            "cancellation",
            "withdrawal",
            "technical_expert",
            "reviewer",
            "law",
            "application_guide",
        ] {
            queries.push(format!("kind={kind}"));
        }
        let router = unlimited(&node);
        let mut bodies: Vec<(String, String)> = Vec::new();
        let mut paths = public::endpoints();
        paths.extend([
            "/public/nonexistent".to_string(),
            "/public/api/nonexistent".to_string(),
            "/".to_string(),
        ]);
        let listings = public::endpoints();
        for path in &paths {
            for query in &queries {
                let uri = if query.is_empty() {
                    path.clone()
                } else {
                    format!("{path}?{query}")
                };
                let answer = get(&router, &uri).await;
                assert_ne!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
                assert!(!answer.status.is_server_error(), "{uri}: {}", answer.body);
                bodies.push((uri, answer.body));
            }
            // Every page, one record at a time, in JSON and in HTML.
            if !listings.contains(path) {
                continue;
            }
            if path.starts_with("/public/api/") {
                let mut uri = format!("{path}?limit=1");
                for _ in 0..50 {
                    let answer = get(&router, &uri).await;
                    assert_eq!(answer.status, StatusCode::OK, "{uri}");
                    let json = answer.json();
                    let model = collection(json["collection"].as_str().expect("collection"));
                    for item in json["items"].as_array().expect("items") {
                        for key in item.as_object().expect("item").keys() {
                            assert!(
                                model.is_public_field(key),
                                "{uri}: {}.{key} is not public",
                                model.name
                            );
                        }
                    }
                    let next = json["next"].as_str().map(str::to_string);
                    bodies.push((uri.clone(), answer.body));
                    match next {
                        Some(next) => uri = format!("{path}?limit=1&after={next}"),
                        None => break,
                    }
                }
            } else if path != "/public" && path.starts_with("/public/") && path != "/public/api" {
                let mut uri = format!("{path}?limit=1");
                for _ in 0..50 {
                    let answer = get(&router, &uri).await;
                    let next = next_link(&answer.body);
                    bodies.push((uri.clone(), answer.body));
                    match next {
                        Some(next) => uri = next,
                        None => break,
                    }
                }
            }
        }
        // The staff listener's mount answers the same pages.
        let staff = app(node.state.clone());
        for path in public::endpoints() {
            let answer = get(&staff, &path).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{path} on the staff listener"
            );
            bodies.push((format!("staff {path}"), answer.body));
        }

        for (uri, body) in &bodies {
            // What the client sent may be shown back to it (the search form keeps its text).
            let asked = decode(uri);
            for (collection, value) in &markers {
                if asked.contains(value.as_str()) {
                    continue;
                }
                assert!(
                    !body.contains(value.as_str()),
                    "{backend}: {uri} shows {value:?}, a value of {collection} that may not be \
                     published"
                );
            }
            for model in licnode_model::collections() {
                if !model.public {
                    assert!(
                        !body.contains(&format!("LEAK-{}-", model.name)),
                        "{backend}: {uri} shows a record of {}",
                        model.name
                    );
                }
            }
        }
        // Not vacuous: the public values were there to be seen, in HTML and JSON.
        let shown = |needle: &str, json: bool| {
            bodies.iter().any(|(uri, body)| {
                uri.contains("/api/") == json && !uri.starts_with("staff") && body.contains(needle)
            })
        };
        for json in [false, true] {
            assert!(shown(&enterprise_name, json), "{backend}: name not shown");
            assert!(shown(&text_of("licence_number"), json));
        }
        for model in licnode_model::collections().iter().filter(|m| m.public) {
            let name_field = model.enterprise_name_field.expect("name field");
            assert!(
                bodies.iter().any(|(uri, body)| uri.contains("/api/")
                    && body.contains(&format!("\"{name_field}\""))),
                "{backend}: no record of {} was shown",
                model.name
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Searching and listing.

async fn licences(node: &TestNode, count: u64) -> Vec<StoredRecord> {
    let mut generator = licnode_gen::Generator::new(27);
    let mut created = Vec::new();
    for _ in 0..count {
        let input = generator.record(collection("licences"), COUNTY);
        created.push(create(node, "licences", &input).await);
    }
    created
}

fn names_in(json: &Value, field: &str) -> Vec<String> {
    json["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item[field].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn licences_are_found_by_fragment_number_code_category_and_province() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let created = licences(&node, 12).await;
        let router = unlimited(&node);
        let target = &created[5];
        let field = |name: &str| plain(target.data.get(name).expect("field"));
        let name = field("enterprise_name");
        let fragment: String = name.chars().skip(2).take(2).collect();

        let answer = get(
            &router,
            &format!("/public/api/licences?q={}", encode(&fragment)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let found = names_in(&answer.json(), "enterprise_name");
        assert!(found.contains(&name), "{backend}: {fragment} → {found:?}");
        assert!(found.iter().all(|other| other.contains(&fragment)));

        for q in [field("licence_number"), field("credit_code")] {
            let answer = get(&router, &format!("/public/api/licences?q={}", encode(&q))).await;
            let found = names_in(&answer.json(), "enterprise_name");
            assert!(found.contains(&name), "{backend}: {q} → {found:?}");
        }
        // The licence number without its provincial prefix finds it too.
        let number = field("licence_number");
        if let Some((_, bare)) = number.split_once(')') {
            let answer = get(&router, &format!("/public/api/licences?q={}", encode(bare))).await;
            assert!(names_in(&answer.json(), "enterprise_name").contains(&name));
        }

        // With its provincial prefix a number names one licence; without, all that share it.
        let mut twins = Vec::new();
        for number in ["(浙)XK13-010-77777", "(苏)XK13-010-77777"] {
            let mut input = licnode_gen::Generator::new(77).record(collection("licences"), COUNTY);
            input.insert("licence_number".into(), json!(number));
            twins.push(create(&node, "licences", &input).await);
        }
        let prefixed = get(
            &router,
            &format!("/public/api/licences?q={}", encode("（浙）XK13-010-77777")),
        )
        .await;
        assert_eq!(
            names_in(&prefixed.json(), "licence_number"),
            vec!["(浙)XK13-010-77777".to_string()],
            "{backend}"
        );
        let bare = get(&router, "/public/api/licences?q=XK13-010-77777").await;
        assert_eq!(names_in(&bare.json(), "licence_number").len(), 2);

        let category = field("product_category");
        let expected_extra = twins
            .iter()
            .filter(|r| r.data.get("product_category") == Some(&Value::String(category.clone())))
            .count();
        let answer = get(
            &router,
            &format!(
                "/public/api/licences?category={}&limit=100",
                encode(&category)
            ),
        )
        .await;
        let categories = names_in(&answer.json(), "product_category");
        assert!(categories.iter().all(|c| *c == category));
        let expected = created
            .iter()
            .filter(|r| r.data.get("product_category") == Some(&Value::String(category.clone())))
            .count();
        assert_eq!(categories.len(), expected + expected_extra, "{backend}");

        let in_zhejiang = get(&router, "/public/api/licences?province=330000&limit=100").await;
        assert_eq!(names_in(&in_zhejiang.json(), "enterprise_name").len(), 14);
        let in_xinjiang = get(&router, "/public/api/licences?province=65").await;
        assert!(names_in(&in_xinjiang.json(), "enterprise_name").is_empty());

        // The HTML page finds it through the form's parameters.
        let page = get(
            &router,
            &format!(
                "/public/licences?q={}&category=&province=33",
                encode(&fragment)
            ),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&name));
        assert!(
            page.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );

        // Refusals are stable codes in JSON and a page in HTML.
        let short = get(&router, "/public/api/licences?q=%E6%81%92").await;
        assert_eq!(short.status, StatusCode::BAD_REQUEST);
        assert_eq!(short.json()["error"]["code"], "query_too_short");
        let unknown = get(&router, "/public/licences?jurisdiction=330106").await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.body.contains("<!DOCTYPE html>"));
    }
}

#[tokio::test]
async fn a_renamed_enterprise_is_found_by_its_new_name_and_not_its_old_one() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut input = licnode_gen::Generator::new(29).record(collection("licences"), COUNTY);
        input.insert("enterprise_name".into(), json!("杭州澜湄电缆有限公司"));
        let record = create(&node, "licences", &input).await;
        let router = unlimited(&node);
        let found = |json: Value| names_in(&json, "enterprise_name");
        let before = get(&router, "/public/api/licences?q=%E6%BE%9C%E6%B9%84").await;
        assert_eq!(
            found(before.json()),
            vec!["杭州澜湄电缆有限公司".to_string()]
        );

        let mut patch = Map::new();
        patch.insert("enterprise_name".into(), json!("杭州沣渚电缆有限公司"));
        let store = node.state.archive.store_for_tests().clone();
        let updated = Archive::new(store, NODE_CODE)
            .update(&record.id, &patch, &Author::clerk("clerk-wang"))
            .await;
        assert!(updated.is_ok(), "{backend}: {updated:?}");

        let old = get(&router, "/public/api/licences?q=%E6%BE%9C%E6%B9%84").await;
        assert!(
            found(old.json()).is_empty(),
            "{backend}: old name still found"
        );
        for fragment in ["沣渚", "沣渚电缆"] {
            let new = get(
                &router,
                &format!("/public/api/licences?q={}", encode(fragment)),
            )
            .await;
            assert_eq!(
                found(new.json()),
                vec!["杭州沣渚电缆有限公司".to_string()],
                "{backend}: {fragment}"
            );
        }
    }
}

#[tokio::test]
async fn pages_follow_a_stable_newest_first_order_without_gaps_or_repeats() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let created = licences(&node, 7).await;
        let router = unlimited(&node);
        let mut seen = Vec::new();
        let mut uri = "/public/api/licences?limit=2".to_string();
        loop {
            let answer = get(&router, &uri).await;
            let json = answer.json();
            seen.extend(names_in(&json, "licence_number"));
            match json["next"].as_str() {
                Some(next) => uri = format!("/public/api/licences?limit=2&after={next}"),
                None => break,
            }
        }
        let mut expected: Vec<String> = created
            .iter()
            .map(|r| plain(r.data.get("licence_number").expect("number")))
            .collect();
        expected.reverse();
        assert_eq!(seen, expected, "{backend}");
    }
}

#[tokio::test]
async fn the_cancellation_list_shows_terminations_and_not_changes() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut generator = licnode_gen::Generator::new(28);
        let events = collection("licence_events");
        let mut change = generator.record(events, COUNTY);
        change.insert("event_kind".into(), json!("change"));
        change.insert("change_items".into(), json!("企业名称"));
        let change = create(&node, "licence_events", &change).await;
        let mut cancellation = generator.record(events, COUNTY);
        cancellation.insert("event_kind".into(), json!("cancellation"));
        let cancellation = create(&node, "licence_events", &cancellation).await;

        let router = unlimited(&node);
        let answer = get(&router, "/public/api/cancellations").await;
        let numbers = names_in(&answer.json(), "licence_number");
        let number_of = |record: &StoredRecord| plain(&record.data["licence_number"]);
        assert_eq!(numbers, vec![number_of(&cancellation)], "{backend}");
        // Art. 28: name, product, licence number, licence date and reason are published.
        let item = &answer.json()["items"][0];
        for field in [
            "enterprise_name",
            "product_name",
            "licence_number",
            "licence_date",
            "reason",
        ] {
            assert!(item.get(field).is_some(), "{field}");
        }
        let page = get(&router, "/public/cancellations").await;
        assert!(page.body.contains(&number_of(&cancellation)));
        assert!(!page.body.contains(&number_of(&change)));
        assert!(page.body.contains("注销"));
    }
}

#[tokio::test]
async fn registries_list_current_registrations_with_their_contacts() {
    for backend in BACKENDS {
        let node = node(backend).await;
        let mut generator = licnode_gen::Generator::new(30);
        let mut active = generator.record(collection("reviewers"), COUNTY);
        active.insert("status".into(), json!("active"));
        active.insert("registration_level".into(), json!("technical_expert"));
        let active = create(&node, "reviewers", &active).await;
        let mut cancelled = generator.record(collection("reviewers"), COUNTY);
        cancelled.insert("status".into(), json!("cancelled"));
        let cancelled = create(&node, "reviewers", &cancelled).await;
        let department = generator.record(collection("review_departments"), COUNTY);
        let department = create(&node, "review_departments", &department).await;
        let body = generator.record(collection("inspection_bodies"), COUNTY);
        let body = create(&node, "inspection_bodies", &body).await;
        let mut guide = generator.record(collection("publications"), COUNTY);
        guide.insert("publication_kind".into(), json!("application_guide"));
        let guide = create(&node, "publications", &guide).await;

        let router = unlimited(&node);
        let registration = |record: &StoredRecord| plain(&record.data["registration_number"]);
        let reviewers = get(&router, "/public/api/reviewers").await;
        let numbers = names_in(&reviewers.json(), "registration_number");
        assert_eq!(numbers, vec![registration(&active)], "{backend}");
        assert!(!reviewers.body.contains(&registration(&cancelled)));
        let experts = get(&router, "/public/reviewers?kind=technical_expert").await;
        assert!(experts.body.contains(&registration(&active)));

        for (path, record) in [
            ("review-departments", &department),
            ("inspection-bodies", &body),
        ] {
            let answer = get(&router, &format!("/public/api/{path}")).await;
            let item = &answer.json()["items"][0];
            // Art. 31, 35: the current contacts.
            assert_eq!(item["phone"], record.data["phone"], "{path}");
            assert_eq!(item["contact_person"], record.data["contact_person"]);
            assert_eq!(item["address"], record.data["address"]);
        }
        let guides = get(&router, "/public/api/publications?kind=application_guide").await;
        assert_eq!(
            names_in(&guides.json(), "title"),
            vec![plain(&guide.data["title"])]
        );
        let laws = get(&router, "/public/api/publications?kind=law").await;
        assert!(names_in(&laws.json(), "title").is_empty());
    }
}

#[tokio::test]
async fn stored_markup_is_escaped_in_pages() {
    let node = node(Backend::Sqlite).await;
    let mut input = licnode_gen::Generator::new(3).record(collection("licences"), COUNTY);
    input.insert(
        "enterprise_name".into(),
        json!("杭州<script>alert(\"x\")</script>&恒远有限公司"),
    );
    create(&node, "licences", &input).await;
    let page = get(&unlimited(&node), "/public/licences?q=%E6%81%92%E8%BF%9C").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;恒远")
    );
}

// ---------------------------------------------------------------------------------------------
// Caching, rate limiting and where the service is served.

#[tokio::test]
async fn pages_carry_an_etag_and_an_unchanged_page_is_answered_304() {
    let node = node(Backend::Sqlite).await;
    licences(&node, 2).await;
    let router = unlimited(&node);
    for path in ["/public/licences", "/public/api/licences", "/public"] {
        let first = get(&router, path).await;
        assert_eq!(first.status, StatusCode::OK);
        let etag = first.headers[header::ETAG]
            .to_str()
            .expect("etag")
            .to_string();
        assert!(
            first.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap_or("")
                .contains("max-age")
        );
        let again = get_with(&router, path, &[("if-none-match", &etag)], [192, 0, 2, 1]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.headers[header::ETAG], etag.as_str());
        let other = get_with(
            &router,
            path,
            &[("if-none-match", "\"0000-0\"")],
            [192, 0, 2, 1],
        )
        .await;
        assert_eq!(other.status, StatusCode::OK);
    }
    // A new licence changes the list, and so its tag.
    let before = get(&router, "/public/api/licences").await;
    licences(&node, 1).await;
    let after = get(&router, "/public/api/licences").await;
    assert_ne!(before.headers[header::ETAG], after.headers[header::ETAG]);
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not() {
    let node = node(Backend::Sqlite).await;
    let router = public::public_app(
        node.state.clone(),
        PublicOptions {
            requests_per_second: 0.5,
            burst: 3,
        },
    );
    let greedy = [198, 51, 100, 7];
    for _ in 0..3 {
        let answer = get_with(&router, "/public/api/licences", &[], greedy).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let refused = get_with(&router, "/public/api/licences", &[], greedy).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.json()["error"]["code"], "rate_limited");
    let retry_after: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|value| value.parse().ok())
        .expect("retry-after");
    assert!((1..=2).contains(&retry_after));
    let page = get_with(&router, "/public/licences", &[], greedy).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("<!DOCTYPE html>"));
    let other = get_with(&router, "/public/api/licences", &[], [198, 51, 100, 8]).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn the_public_listener_serves_the_public_service_and_nothing_else() {
    let node = node(Backend::Sqlite).await;
    let router = unlimited(&node);
    for path in [
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/api/v1/search?q=XK06-001-00123",
        "/api/v1/licences/records",
        "/api/v1/changes",
    ] {
        let answer = get(&router, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let root = get(&router, "/").await;
    assert!(root.status.is_redirection());
    assert_eq!(root.headers[header::LOCATION], "/public");
    for path in public::endpoints() {
        let answer = get(&router, &path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.headers.contains_key("x-request-id"));
    }
    let home = get(&router, "/public").await;
    assert!(home.body.contains("name=\"viewport\""));
    assert!(home.body.contains("浙江省市场监督管理局"));
}

#[tokio::test]
async fn the_staff_application_serves_the_public_pages_under_the_prefix_without_login() {
    let node = node(Backend::Sqlite).await;
    licences(&node, 1).await;
    let staff = app(node.state.clone());
    let page = get(&staff, "/public/licences").await;
    assert_eq!(page.status, StatusCode::OK);
    let json = get(&staff, "/public/api/licences").await;
    assert_eq!(names_in(&json.json(), "licence_number").len(), 1);
    let fields: BTreeSet<String> = json.json()["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect();
    let public: BTreeSet<String> = collection("licences")
        .public_fields()
        .map(|f| f.name.to_string())
        .collect();
    assert_eq!(fields, public);
}
