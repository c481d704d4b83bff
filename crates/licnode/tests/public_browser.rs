//! The public search page in a real browser: headless Chromium, driven through WebDriver
//! (`licnode_testkit::browser`), against a node serving the public service on its own listener
//! (`[public] listen`). A visitor types two characters of an enterprise's name into the search
//! form, submits it, and finds the enterprise; a screenshot is kept under
//! `target/test-artifacts/`. Also: a node's `[public]` listener answers nothing but `/public`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails when `CI` is set and is skipped, saying why, otherwise.

use std::time::Duration;

use licnode::{Config, Node};
use licnode_app::Author;
use licnode_testkit::browser::{Browser, Viewport};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_an_enterprise_by_two_characters_of_its_name_in_chromium() {
    let Some(browser) = Browser::start(Viewport::Phone)
        .await
        .expect("headless Chromium starts")
    else {
        return;
    };

    // A provincial node with the public service on its own listener.
    let dir = tempfile::tempdir().expect("dir");
    let config_path = dir.path().join("licnode.toml");
    std::fs::write(
        &config_path,
        "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"浙江省市场监督管理局\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n[public]\nlisten = \"127.0.0.1:0\"\n",
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config loads");
    let node = Node::start(&config).await.expect("node starts");
    let public_addr = node.public_addr().expect("the public listener");
    assert_ne!(public_addr, node.local_addr());

    let model = licnode_model::collection("licences").expect("licences");
    let mut generator = licnode_gen::Generator::new(61);
    for _ in 0..5 {
        let input = generator.record(model, "330106");
        node.archive()
            .create(
                "licences",
                Some("330106"),
                &input,
                &Author::clerk("clerk-wang"),
            )
            .await
            .expect("noise licence");
    }
    let mut input = generator.record(model, "330106");
    let enterprise_name = "杭州澜湄精密电缆有限公司";
    input.insert("enterprise_name".into(), json!(enterprise_name));
    // In force: the list shows those by default (Art. 27).
    input.insert("status".into(), json!("valid"));
    input.insert("valid_until".into(), json!("2099-12-31"));
    node.archive()
        .create(
            "licences",
            Some("330106"),
            &input,
            &Author::clerk("clerk-wang"),
        )
        .await
        .expect("licence");
    let fragment = "澜湄";

    // Open the search page, type the fragment, submit.
    let search_page = format!("http://{public_addr}/public/licences");
    browser.open(&search_page).await.expect("search page");
    let title = browser.client().title().await.expect("title");
    assert!(title.contains("获证企业查询"), "{title}");
    browser
        .fill("input[name=q]", fragment)
        .await
        .expect("type the fragment");
    browser
        .click("form button[type=submit]")
        .await
        .expect("submit");
    // The page before the search lists the newest licences too: the results are read only
    // once the submitted search is the page shown.
    browser
        .wait_for_url("q=", Duration::from_secs(15))
        .await
        .expect("the search is submitted");
    browser
        .wait_for_text(enterprise_name, Duration::from_secs(15))
        .await
        .expect("the results show the enterprise");
    assert!(browser.current_url().await.expect("url").contains("q="));

    // The enterprise is the first result's heading.
    let heading = browser.text("section.card h2").await.expect("a result");
    assert_eq!(heading, enterprise_name);

    browser
        .screenshot("public-search-chromium")
        .await
        .expect("screenshot");
    browser.close().await.expect("browser closes");
    node.shutdown().await.expect("node stops");
}

#[tokio::test]
async fn a_node_with_a_public_section_serves_only_the_public_service_on_that_listener() {
    let dir = tempfile::tempdir().expect("dir");
    let config_path = dir.path().join("licnode.toml");
    std::fs::write(
        &config_path,
        "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"浙江省市场监督管理局\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n[public]\nlisten = \"127.0.0.1:0\"\n",
    )
    .expect("config");
    let config = Config::load(&config_path).expect("config loads");
    let node = Node::start(&config).await.expect("node starts");
    let public = format!("http://{}", node.public_addr().expect("public listener"));
    let staff = format!("http://{}", node.local_addr());
    let client = reqwest::Client::new();
    let status = |url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("answer")
                .status()
                .as_u16()
        }
    };
    for path in [
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/api/v1/collections",
    ] {
        assert_eq!(status(format!("{public}{path}")).await, 404, "{path}");
    }
    assert_eq!(status(format!("{public}/public/licences")).await, 200);
    assert_eq!(status(format!("{public}/public/api/licences")).await, 200);
    // The staff listener serves the same pages under the same prefix.
    assert_eq!(status(format!("{staff}/public/api/licences")).await, 200);
    assert_eq!(status(format!("{staff}/healthz")).await, 200);
    node.shutdown().await.expect("node stops");
}
