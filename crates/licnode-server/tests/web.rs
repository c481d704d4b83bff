//! The staff web application through real HTTP, as a browser without JavaScript uses it: a
//! cookie jar kept by hand (so the cookies' attributes are checked too), forms posted as
//! `application/x-www-form-urlencoded`, on SQLite and PostgreSQL (issue 12, items 1, 2 and
//! the hostile-input acceptance).

use licnode_app::{Archive, Author};
use licnode_server::{AppState, NodeInfo};
use licnode_store::{ListQuery, Role, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::{Map, Value};
use web_client::{Browser, NO_FIELDS, PASSWORD, WebBase, pairs};

mod web_client;

/// A node serving its staff listener on a free port.
struct WebNode {
    base: String,
    archive: Archive,
    store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Drop for WebNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn spawn(backend: Backend, code: &str, level: &str, name: &str) -> WebNode {
    spawn_behind(backend, code, level, name, &[]).await
}

/// A node believing `X-Forwarded-*` from these reverse proxies.
async fn spawn_behind(
    backend: Backend,
    code: &str,
    level: &str,
    name: &str,
    trusted_proxies: &[&str],
) -> WebNode {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    let store = Store::open(&url).await.expect("store");
    for (user, role) in [
        ("clerk", Role::Clerk),
        ("approver", Role::Approver),
        ("auditor", Role::Auditor),
    ] {
        store
            .add_user(user, &format!("{user}-显示名"), role, PASSWORD)
            .await
            .expect("user");
    }
    let archive = Archive::new(store.clone(), code);
    let state = AppState::new(
        archive.clone(),
        NodeInfo {
            code: code.into(),
            level: level.into(),
            name: name.into(),
            parent_url: None,
        },
    )
    .with_trusted_proxies(
        licnode_server::client_address::TrustedProxies::parse(trusted_proxies).expect("proxies"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(licnode_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    WebNode {
        base: format!("http://{address}"),
        archive,
        store,
        stop: Some(stop),
        _database: database,
        _dir: dir,
    }
}

async fn province(backend: Backend) -> WebNode {
    spawn(backend, "330000", "province", "浙江省市场监督管理局").await
}

impl WebBase for WebNode {
    fn base_url(&self) -> &str {
        &self.base
    }
}

/// A valid record of `collection` as a form posts it: every value as text, tables row by row.
fn form_of(record: &Map<String, Value>) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "是".to_string(),
        Value::Bool(false) => "否".to_string(),
        other => other.to_string(),
    };
    let mut form = Vec::new();
    for (name, value) in record {
        match value {
            Value::Array(rows) => {
                for (index, row) in rows.iter().enumerate() {
                    for (column, cell) in row.as_object().into_iter().flatten() {
                        form.push((format!("{name}[{index}].{column}"), text(cell)));
                    }
                }
            }
            Value::Null => {}
            other => form.push((name.clone(), text(other))),
        }
    }
    form
}

fn generated(collection: &str, jurisdiction: &str, seed: u64) -> Map<String, Value> {
    let model = licnode_model::collection(collection).expect("collection");
    licnode_gen::Generator::new(seed).record(model, jurisdiction)
}

fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    form.retain(|(known, _)| known != name);
    form.push((name.to_string(), value.to_string()));
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

#[tokio::test]
async fn staff_sign_in_with_a_cookie_session_and_signing_out_ends_it() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut browser = Browser::new(&node);

        // A page without a session leads to the sign-in page.
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(home.location(), "/login");

        // A wrong password: the form again, the name kept, no session.
        let refused = browser.sign_in("clerk", "wrong password").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{backend}");
        assert!(refused.body.contains("用户名或密码错误"));
        assert!(refused.body.contains("value=\"clerk\""));
        assert!(
            !browser
                .cookies
                .contains_key(licnode_server::web::SESSION_COOKIE)
        );

        let signed_in = browser.sign_in("clerk", PASSWORD).await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            signed_in.body
        );
        assert_eq!(signed_in.location(), "/");
        let session_cookie = browser
            .set_cookies
            .iter()
            .find(|cookie| cookie.starts_with("licnode_session=") && !cookie.contains("Max-Age=0"))
            .expect("a session cookie")
            .clone();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
            assert!(session_cookie.contains(attribute), "{session_cookie}");
        }
        // Served over plain HTTP, not through a trusted TLS proxy.
        assert!(!session_cookie.contains("Secure"), "{session_cookie}");

        // Every page shows the node (code, name, level), the user and the role.
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{backend}");
        for shown in [
            "浙江省市场监督管理局",
            "330000",
            "省级",
            "clerk-显示名",
            "经办人",
        ] {
            assert!(home.body.contains(shown), "{shown} missing: {}", home.body);
        }

        // The cookie is not a bearer token: the JSON API does not take it.
        let session_token = browser.cookies["licnode_session"].clone();
        let api = browser.get("/api/v1/auth/me").await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        // The same session token works as a bearer token, unchanged (one accounts service).
        let me = reqwest::Client::new()
            .get(format!("{}/api/v1/auth/me", node.base))
            .bearer_auth(&session_token)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), StatusCode::OK);

        let token = home.csrf_token();
        let signed_out = browser
            .post("/logout", &pairs(&[("csrf_token", &token)]))
            .await;
        assert_eq!(
            signed_out.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_out.body
        );
        assert_eq!(signed_out.location(), "/login");
        assert!(!browser.cookies.contains_key("licnode_session"));

        // The old cookie is dead: the token was revoked, not only forgotten by the browser.
        browser
            .cookies
            .insert("licnode_session".into(), session_token.clone());
        let after = browser.get("/").await;
        assert_eq!(after.status, StatusCode::SEE_OTHER);
        assert_eq!(after.location(), "/login");
    }
}

#[tokio::test]
async fn a_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let form_page = browser.get("/collections/quality_archives/new").await;
        assert_eq!(form_page.status, StatusCode::OK, "{}", form_page.body);
        let token = form_page.csrf_token();
        let record = form_of(&generated("quality_archives", "330106", 3));

        let mut missing = record.clone();
        missing.retain(|(name, _)| name != "csrf_token");
        let refused = browser
            .post("/collections/quality_archives/new", &missing)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(refused.body.contains("bad_csrf_token"), "{}", refused.body);

        let mut wrong = record.clone();
        set(&mut wrong, "csrf_token", &"0".repeat(64));
        let refused = browser
            .post("/collections/quality_archives/new", &wrong)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(count(&node, "quality_archives").await, 0, "{backend}");

        // Sign-out without the token does not end the session.
        let refused = browser.post("/logout", NO_FIELDS).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.get("/").await.status, StatusCode::OK);

        // A sign-in form posted without its token is refused too.
        let mut stranger = Browser::new(&node);
        let refused = stranger
            .post(
                "/login",
                &pairs(&[("name", "clerk"), ("password", PASSWORD)]),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!stranger.cookies.contains_key("licnode_session"));

        // With the token the same form is accepted: the refusals above were for the token.
        let mut accepted = record.clone();
        set(&mut accepted, "csrf_token", &token);
        let created = browser
            .post("/collections/quality_archives/new", &accepted)
            .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            created.body
        );
        assert_eq!(count(&node, "quality_archives").await, 1);
    }
}

#[tokio::test]
async fn a_post_without_a_session_goes_to_sign_in_and_stores_nothing() {
    let node = province(Backend::Sqlite).await;
    let mut browser = Browser::new(&node);
    let record = form_of(&generated("quality_archives", "330106", 4));
    let answer = browser
        .post("/collections/quality_archives/new", &record)
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/login");
    assert_eq!(count(&node, "quality_archives").await, 0);
}

#[tokio::test]
async fn script_tags_and_quotes_typed_into_every_text_field_come_back_escaped() {
    const HOSTILE: &str = "<script>alert(\"x\")</script>'\"><img src=x onerror=alert(1)>";
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let model = licnode_model::collection("quality_archives").expect("model");
        let token = browser
            .get("/collections/quality_archives/new")
            .await
            .csrf_token();
        let mut form = form_of(&generated("quality_archives", "330106", 5));
        let mut hostile_fields = Vec::new();
        for field in model.fields {
            if matches!(
                field.field_type,
                licnode_model::FieldType::Text | licnode_model::FieldType::LongText
            ) {
                set(&mut form, field.name, HOSTILE);
                hostile_fields.push(field.name);
            }
        }
        assert!(hostile_fields.len() >= 4, "{hostile_fields:?}");
        set(&mut form, "csrf_token", &token);

        // Refused for another field: the form comes back with every hostile input kept, escaped.
        let mut invalid = form.clone();
        set(&mut invalid, "credit_code", "not a code");
        let again = browser
            .post("/collections/quality_archives/new", &invalid)
            .await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            again.body
        );
        assert_escaped(&again.body, HOSTILE);
        assert!(again.body.matches("&lt;script&gt;").count() >= hostile_fields.len());

        // Stored: the record's page and the list show them escaped.
        let created = browser
            .post("/collections/quality_archives/new", &form)
            .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            created.body
        );
        let record_page = browser.get(created.location()).await;
        assert_eq!(record_page.status, StatusCode::OK);
        assert_escaped(&record_page.body, HOSTILE);
        assert!(record_page.body.matches("&lt;script&gt;").count() >= hostile_fields.len());
        let list = browser.get("/collections/quality_archives").await;
        assert_escaped(&list.body, HOSTILE);
        assert!(list.body.contains("&lt;script&gt;"));
        let edit = browser.get(&format!("{}/edit", created.location())).await;
        assert_escaped(&edit.body, HOSTILE);
    }
}

fn assert_escaped(body: &str, hostile: &str) {
    assert!(!body.contains(hostile), "raw input on the page: {body}");
    assert!(
        !body.contains("<script>"),
        "a script tag on the page: {body}"
    );
    assert!(
        !body.contains("<img src=x"),
        "an image tag on the page: {body}"
    );
    assert!(!body.contains("alert(\"x\")"), "an unescaped quote: {body}");
}

#[tokio::test]
async fn a_countys_home_has_no_licence_form_and_a_forged_one_is_refused() {
    for backend in BACKENDS {
        let county = spawn(backend, "330106", "county", "杭州市西湖区市场监督管理局").await;
        let mut browser = Browser::signed_in(&county, "clerk").await;
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("县级"));
        assert!(
            !home.body.contains("/collections/licences/new"),
            "{}",
            home.body
        );
        assert!(home.body.contains("/collections/quality_archives/new"));
        // Articles next to each collection (Art. 12, 29 for the quality archive).
        assert!(home.body.contains("第12、29条"));

        let form = browser.get("/collections/licences/new").await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
        assert!(form.body.contains("author_not_allowed"), "{}", form.body);

        // A forged POST is decided by the records service, and refused there.
        let mut forged = form_of(&generated("licences", "330106", 6));
        set(&mut forged, "csrf_token", &home.csrf_token());
        let refused = browser.post("/collections/licences/new", &forged).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(count(&county, "licences").await, 0);

        // A province's home does offer the licence form: the county's lack of it is its level.
        let province = province(backend).await;
        let mut browser = Browser::signed_in(&province, "clerk").await;
        assert!(
            browser
                .get("/")
                .await
                .body
                .contains("/collections/licences/new")
        );
    }
}

#[tokio::test]
async fn a_validation_error_shows_the_chinese_message_next_to_the_field_with_the_input_kept() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let token = browser
            .get("/collections/quality_archives/new")
            .await
            .csrf_token();
        let mut form = form_of(&generated("quality_archives", "330106", 7));
        set(&mut form, "csrf_token", &token);
        set(&mut form, "credit_code", "12345");
        set(&mut form, "enterprise_name", "杭州保留输入有限公司");
        let again = browser
            .post("/collections/quality_archives/new", &form)
            .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let at = again
            .body
            .find("id=\"credit_code\"")
            .expect("the credit code input");
        let field = &again.body[at..];
        let field = &field[..field.find("class=\"field\"").unwrap_or(field.len())];
        assert!(field.contains("value=\"12345\""), "{field}");
        assert!(field.contains("统一社会信用代码应为18位"), "{field}");
        assert!(again.body.contains("value=\"杭州保留输入有限公司\""));
        assert_eq!(count(&node, "quality_archives").await, 0);
    }
}

#[tokio::test]
async fn a_clerks_forged_revocation_is_refused_and_an_approvers_is_stored() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut input = generated("licences", "330106", 8);
        input.insert("status".into(), Value::String("valid".into()));
        let licence = node
            .archive
            .create("licences", None, &input, &Author::approver("approver"))
            .await
            .expect("licence");
        let id = licence.record.id;

        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let page = clerk.get(&format!("/records/{id}")).await;
        assert!(
            page.body.contains("/edit"),
            "a clerk may edit the licence's other fields"
        );
        let token = clerk.get(&format!("/records/{id}/edit")).await.csrf_token();
        // Art. 28: revocation is an approver's; the form offers it, the service decides.
        let revoke = pairs(&[("csrf_token", &token), ("status", "revoked")]);
        let refused = clerk.post(&format!("/records/{id}/edit"), &revoke).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{backend}: {}",
            refused.body
        );
        assert!(refused.body.contains("approval_required"));
        assert!(refused.body.contains("须由审批人批准"));
        let stored = node.archive.get(&id).await.expect("licence");
        assert_eq!(stored.data["status"], "valid", "{backend}");

        let mut approver = Browser::signed_in(&node, "approver").await;
        let token = approver
            .get(&format!("/records/{id}/edit"))
            .await
            .csrf_token();
        let revoke = pairs(&[("csrf_token", &token), ("status", "revoked")]);
        let done = approver.post(&format!("/records/{id}/edit"), &revoke).await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            done.body
        );
        let stored = node.archive.get(&id).await.expect("licence");
        assert_eq!(stored.data["status"], "revoked");
        // The history names who changed what, at which node.
        let page = approver.get(&format!("/records/{id}")).await;
        assert!(page.body.contains("证书状态"));
        assert!(page.body.contains("330000"));
    }
}

#[tokio::test]
async fn read_only_copies_and_auditors_get_no_edit_button() {
    for backend in BACKENDS {
        let node = province(backend).await;
        // A registry that flows down from national (Art. 32), as a copy at this province.
        let registry = licnode_sync::rules()
            .iter()
            .find(|rule| {
                rule.route == licnode_sync::authority::Route::Down
                    && rule.author(licnode_model::Level::National).is_some()
            })
            .expect("a collection national publishes down");
        let national = Archive::new(node.store.clone(), "100000");
        let copy = national
            .create(
                registry.collection,
                None,
                &generated(registry.collection, "100000", 9),
                &Author::approver("national-approver"),
            )
            .await
            .expect("a national record");
        let mut clerk = Browser::signed_in(&node, "clerk").await;
        let page = clerk.get(&format!("/records/{}", copy.record.id)).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(!page.body.contains("id=\"edit\""), "{}", page.body);
        let edit = clerk
            .get(&format!("/records/{}/edit", copy.record.id))
            .await;
        assert_ne!(edit.status, StatusCode::OK);

        let own = node
            .archive
            .create(
                "quality_archives",
                None,
                &generated("quality_archives", "330106", 10),
                &Author::clerk("clerk"),
            )
            .await
            .expect("a quality archive");
        let page = clerk.get(&format!("/records/{}", own.record.id)).await;
        assert!(page.body.contains("id=\"edit\""), "{}", page.body);
        let mut auditor = Browser::signed_in(&node, "auditor").await;
        let page = auditor.get(&format!("/records/{}", own.record.id)).await;
        assert!(!page.body.contains("id=\"edit\""));
        assert!(page.body.contains("审计员"));
    }
}

#[tokio::test]
async fn a_list_filters_searches_by_two_characters_and_pages() {
    let node = province(Backend::Sqlite).await;
    for seed in 0..3 {
        let mut input = generated("quality_archives", "330106", 100 + seed);
        input.insert(
            "enterprise_name".into(),
            Value::String(format!("杭州列表测试{seed}号有限公司")),
        );
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
    let mut browser = Browser::signed_in(&node, "clerk").await;
    let page = browser.get("/collections/quality_archives?limit=2").await;
    assert_eq!(page.body.matches("/records/").count(), 2, "{}", page.body);
    assert!(page.body.contains("下一页"));
    let found = browser
        .get("/collections/quality_archives?q=%E5%88%97%E8%A1%A8")
        .await;
    assert_eq!(found.body.matches("列表测试").count(), 3, "{}", found.body);
    let too_short = browser
        .get("/collections/quality_archives?q=%E5%88%97")
        .await;
    assert_eq!(too_short.status, StatusCode::BAD_REQUEST);
    assert!(too_short.body.contains("至少需要两个字"));
    let elsewhere = browser
        .get("/collections/quality_archives?within=330100")
        .await;
    assert_eq!(elsewhere.body.matches("列表测试").count(), 3);
    let nowhere = browser
        .get("/collections/quality_archives?jurisdiction=330102")
        .await;
    assert!(nowhere.body.contains("没有符合条件的记录"));
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_a_trusted_proxy_served_the_page_over_tls() {
    let node = spawn_behind(
        Backend::Sqlite,
        "330000",
        "province",
        "浙江省市场监督管理局",
        &["127.0.0.1"],
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(format!("{}/login", node.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("page");
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // Without the proxy's word, the same request over plain HTTP gets no Secure cookie.
    let plain = spawn(
        Backend::Sqlite,
        "330000",
        "province",
        "浙江省市场监督管理局",
    )
    .await;
    let page = client
        .get(format!("{}/login", plain.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("page");
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn web_sign_in_is_throttled_by_the_same_limiter_as_the_api_login() {
    let node = province(Backend::Sqlite).await;
    let mut browser = Browser::new(&node);
    for attempt in 0..10 {
        let refused = browser.sign_in("clerk", "wrong password").await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // The right password from the same address waits, like the API's login.
    let throttled = browser.sign_in("clerk", PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers.contains_key("retry-after"));
    assert!(throttled.body.contains("too_many_attempts"));
    assert!(!browser.cookies.contains_key("licnode_session"));
    let api = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", node.base))
        .json(&serde_json::json!({ "name": "approver", "password": PASSWORD }))
        .send()
        .await
        .expect("api login");
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// The home page's count of a collection in its row (`data-collection`).
fn home_count(body: &str, collection: &str) -> String {
    let row = format!("data-collection=\"{collection}\"");
    let at = body
        .find(&row)
        .unwrap_or_else(|| panic!("no row {collection}"));
    let rest = &body[at..];
    let cell = "<td class=\"number\">";
    let start = rest.find(cell).expect("the count cell") + cell.len();
    rest[start..start + rest[start..].find('<').expect("cell end")].to_string()
}

#[tokio::test]
async fn the_home_pages_counts_follow_every_write_although_they_are_kept_between_views() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut browser = Browser::signed_in(&node, "clerk").await;
        let before = browser.get("/").await;
        assert_eq!(
            home_count(&before.body, "quality_archives"),
            "0",
            "{backend}"
        );
        // Counts are kept between views; a write (it moves the audit log) makes them read again.
        let model = licnode_model::collection("quality_archives").expect("collection");
        for seed in 0..2 {
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
            let after = browser.get("/").await;
            assert_eq!(
                home_count(&after.body, "quality_archives"),
                (seed + 1).to_string(),
                "{backend}"
            );
        }
    }
}
