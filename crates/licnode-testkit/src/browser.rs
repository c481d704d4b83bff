//! Headless Chromium driven through WebDriver (`fantoccini` over `chromedriver`), for the web
//! application's and the public service's browser tests.
//!
//! [`Browser::start`] finds Debian's `chromium` and `chromedriver` (`.ci/run` installs them).
//! When they are missing it fails under `CI` and otherwise says loudly on stderr that the test
//! is skipped and returns `None`: a browser test never passes silently.
//!
//! The browser runs with JavaScript switched off, as the pages must work without it; so the
//! helpers here only type, click and read through WebDriver commands (no script execution,
//! which is why `fantoccini::Form::set` is not used). Screenshots go to
//! `target/test-artifacts/` ([`artifacts_dir`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// The window a test looks through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewport {
    /// An office screen: 1366 × 768.
    Desktop,
    /// A phone: 412 × 915.
    Phone,
}

impl Viewport {
    fn window_size(self) -> &'static str {
        match self {
            Viewport::Desktop => "--window-size=1366,768",
            Viewport::Phone => "--window-size=412,915",
        }
    }
}

/// A headless Chromium session and its chromedriver; the driver stops when this is dropped.
pub struct Browser {
    client: Client,
    driver: DriverProcess,
    _profile: tempfile::TempDir,
}

struct DriverProcess {
    child: Child,
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where browser tests keep their screenshots: `target/test-artifacts/` (or under
/// `CARGO_TARGET_DIR`).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("test-artifacts")
}

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

impl Browser {
    /// Starts chromedriver and a headless Chromium session with JavaScript off.
    ///
    /// Returns `Ok(None)` after printing `skipped: …` when Chromium or chromedriver is not
    /// installed and `CI` is not set; with `CI` set, a missing browser is an error.
    pub async fn start(viewport: Viewport) -> anyhow::Result<Option<Browser>> {
        let chromium = find_program(&["/usr/bin/chromium", "chromium", "chromium-browser"]);
        let chromedriver = find_program(&["/usr/bin/chromedriver", "chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let message = "browser test needs `chromium` and `chromedriver` \
                           (Debian: apt-get install -y chromium chromium-driver fonts-wqy-microhei)";
            if std::env::var_os("CI").is_some() {
                bail!("{message}; CI is set, so this is a failure");
            }
            eprintln!("skipped: {message}");
            return Ok(None);
        };

        let port = crate::free_port();
        let driver = DriverProcess {
            child: Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("chromedriver starts")?,
        };
        let driver_url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
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
                    "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.path().display()),
                    viewport.window_size(),
                ],
                // The pages must work without JavaScript: the browser runs none.
                "prefs": {"profile.managed_default_content_settings.javascript": 2},
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let mut builder = ClientBuilder::new(connector.clone());
            builder.capabilities(capabilities.clone());
            match builder.connect(&driver_url).await {
                Ok(client) => break client,
                // chromedriver refuses connections until it listens.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => bail!("chromedriver did not start a session: {error}"),
            }
        };
        Ok(Some(Browser {
            client,
            driver,
            _profile: profile,
        }))
    }

    /// The WebDriver client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for the page to load.
    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("open {url}"))
    }

    /// Types `text` into the field matched by `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find(css).await?;
        field
            .clear()
            .await
            .with_context(|| format!("clear {css}"))?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("type into {css}"))
    }

    /// Chooses the option with `value` in the `<select>` matched by `css`.
    pub async fn choose(&self, css: &str, value: &str) -> anyhow::Result<()> {
        self.find(css)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choose {value} in {css}"))
    }

    /// Clicks the element matched by `css` (a button submits its form; a link is followed).
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.find(css)
            .await?
            .click()
            .await
            .with_context(|| format!("click {css}"))
    }

    /// The element matched by `css`, or an error naming the selector and the page.
    pub async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Ok(element),
            Err(error) => {
                let url = self.current_url().await.unwrap_or_default();
                bail!("no element `{css}` on {url}: {error}")
            }
        }
    }

    /// The visible text of the element matched by `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The page's HTML source as the browser holds it.
    pub async fn source(&self) -> anyhow::Result<String> {
        Ok(self.client.source().await?)
    }

    /// The URL the browser shows.
    pub async fn current_url(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// Waits until the page's address contains `needle` (a submitted form's navigation).
    pub async fn wait_for_url(&self, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let held = poll_until(timeout, || async {
            Ok(self.current_url().await?.contains(needle))
        })
        .await?;
        if !held {
            let url = self.current_url().await?;
            bail!("the address did not come to hold `{needle}` within {timeout:?}: {url}");
        }
        Ok(())
    }

    /// Waits until the page's source contains `needle` (after a submit or a redirect).
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let held = poll_until(timeout, || async {
            Ok(self.source().await?.contains(needle))
        })
        .await?;
        if !held {
            let url = self.current_url().await.unwrap_or_default();
            bail!("`{needle}` did not appear on {url} within {timeout:?}");
        }
        Ok(())
    }

    /// Signs `user` in through the sign-in page of the staff web application at `base` and waits
    /// for the signed-in page (it offers 退出登录).
    pub async fn sign_in(&self, base: &str, user: &str, password: &str) -> anyhow::Result<()> {
        self.open(&format!("{base}/login")).await?;
        self.fill("#name", user).await?;
        self.fill("#password", password).await?;
        self.click(".sign-in button[type=submit]").await?;
        self.wait_for_text("退出登录", Duration::from_secs(15))
            .await
    }

    /// Saves a PNG screenshot of the window as `target/test-artifacts/<name>.png` and returns
    /// its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        if !png.starts_with(b"\x89PNG") {
            bail!("the screenshot is not a PNG");
        }
        let directory = artifacts_dir();
        std::fs::create_dir_all(&directory)?;
        let path = directory.join(format!("{name}.png"));
        std::fs::write(&path, &png)?;
        eprintln!("screenshot: {}", path.display());
        Ok(path)
    }

    /// Ends the WebDriver session and stops chromedriver.
    pub async fn close(self) -> anyhow::Result<()> {
        let Browser { client, driver, .. } = self;
        let closed = client.close().await;
        drop(driver);
        closed.context("close the WebDriver session")
    }
}

/// Asks `probe` every 100 ms until it answers true (`Ok(true)`) or `timeout` has passed
/// (`Ok(false)`); an error of the probe ends the wait.
async fn poll_until<F, Fut>(timeout: Duration, mut probe: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if probe().await? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
