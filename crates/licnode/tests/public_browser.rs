//! The public search page in a real browser: headless Chromium, driven by chromedriver over
//! the W3C WebDriver HTTP API, against a node serving the public service on its own listener
//! (`[public] listen`). A visitor types two characters of an enterprise's name into the search
//! form, submits it, and finds the enterprise; a screenshot is kept under
//! `target/test-artifacts/`. Also: a node's `[public]` listener answers nothing but `/public`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails when `CI` is set and is skipped, saying why, otherwise.

use licnode_app::Author;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use licnode::{Config, Node};
use serde_json::{Value, json};

/// The W3C WebDriver key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.is_absolute() {
            if path.is_file() {
                return Some(path.to_path_buf());
            }
            continue;
        }
        let paths = std::env::var_os("PATH").unwrap_or_default();
        for directory in std::env::split_paths(&paths) {
            let found = directory.join(candidate);
            if found.is_file() {
                return Some(found);
            }
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session, deleted when `close` is called.
struct Session {
    client: reqwest::Client,
    url: String,
}

impl Session {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("webdriver request");
        let status = response.status();
        let value: Value = response.json().await.expect("webdriver answer");
        assert!(
            status.is_success(),
            "webdriver {method} {path}: {status} {value}"
        );
        value["value"].clone()
    }

    async fn find(&self, css: &str) -> String {
        let element = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        element[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {element}"))
            .to_string()
    }

    async fn close(&self) {
        let _ = self
            .client
            .delete(&self.url)
            .send()
            .await
            .map(|response| response.status());
    }
}

/// Decodes standard base64 (the screenshot's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |byte: u8| -> Option<u32> {
        Some(u32::from(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for sextet in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | sextet;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    bytes
}

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("test-artifacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_an_enterprise_by_two_characters_of_its_name_in_chromium() {
    let chromium = find_program(&["/usr/bin/chromium", "chromium", "chromium-browser"]);
    let chromedriver = find_program(&["/usr/bin/chromedriver", "chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let message = "headless Chromium test needs `chromium` and `chromedriver` \
                       (Debian: apt-get install -y chromium chromium-driver)";
        if std::env::var_os("CI").is_some() {
            panic!("{message}; CI is set, so this is a failure");
        }
        eprintln!("skipped: {message}");
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

    // chromedriver on a free port, and a session of headless Chromium (run as root here).
    let port = free_port();
    let driver = Driver {
        child: Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = match client.get(format!("{}/status", driver.url)).send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|status| status["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let capabilities = json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium.display().to_string(),
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--disable-dev-shm-usage",
                        format!("--user-data-dir={}", profile.path().display()),
                        // A phone's viewport.
                        "--window-size=412,915",
                    ],
                    // The pages must work without JavaScript: the browser runs none.
                    "prefs": {"profile.managed_default_content_settings.javascript": 2},
                }
            }
        }
    });
    let created: Value = client
        .post(format!("{}/session", driver.url))
        .json(&capabilities)
        .send()
        .await
        .expect("new session")
        .json()
        .await
        .expect("session answer");
    let session_id = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {created}"))
        .to_string();
    let session = Session {
        client: client.clone(),
        url: format!("{}/session/{session_id}", driver.url),
    };

    // Open the search page, type the fragment, submit.
    let search_page = format!("http://{public_addr}/public/licences");
    session
        .command(
            reqwest::Method::POST,
            "/url",
            Some(json!({ "url": search_page })),
        )
        .await;
    let title = session.command(reqwest::Method::GET, "/title", None).await;
    assert!(
        title.as_str().unwrap_or("").contains("获证企业查询"),
        "{title}"
    );
    let input = session.find("input[name=q]").await;
    session
        .command(
            reqwest::Method::POST,
            &format!("/element/{input}/value"),
            Some(json!({ "text": fragment })),
        )
        .await;
    let button = session.find("form button[type=submit]").await;
    session
        .command(
            reqwest::Method::POST,
            &format!("/element/{button}/click"),
            Some(json!({})),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = session.command(reqwest::Method::GET, "/url", None).await;
        if url.as_str().unwrap_or("").contains("q=") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the form was not submitted: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The enterprise is among the results.
    let heading = session.find("section.card h2").await;
    let text = session
        .command(
            reqwest::Method::GET,
            &format!("/element/{heading}/text"),
            None,
        )
        .await;
    let source = session.command(reqwest::Method::GET, "/source", None).await;
    let source = source.as_str().unwrap_or("");
    assert!(
        source.contains(enterprise_name),
        "the results do not show {enterprise_name}"
    );
    assert_eq!(text.as_str(), Some(enterprise_name));

    // Keep a screenshot of the results.
    let screenshot = session
        .command(reqwest::Method::GET, "/screenshot", None)
        .await;
    let png = base64_decode(screenshot.as_str().unwrap_or(""));
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let screenshot_path = artifacts.join("public-search-chromium.png");
    std::fs::write(&screenshot_path, &png).expect("screenshot written");
    eprintln!("screenshot: {}", screenshot_path.display());

    session.close().await;
    drop(driver);
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

#[test]
fn base64_decodes_padded_text() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("iVBORw=="), b"\x89PNG");
}
