//! Nodes as an operator runs them: the `licnode` binary in separate processes, set up with
//! `licnode init` and `licnode user`, served with `licnode serve`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use licnode_testkit::Backend;

use super::{NodeRunner, TestNode, node_name};
use crate::Config;

/// The password every test account gets.
pub const PASSWORD: &str = "a long enough password";

/// How long a node may take to answer `/healthz`, or to exit once asked to stop.
const PROCESS_PATIENCE: Duration = Duration::from_secs(60);

/// The `licnode` executable that the tests of this package run.
///
/// Cargo builds it next to the test executables' `deps` directory and, for integration tests,
/// names it in `CARGO_BIN_EXE_licnode`; that variable wins when it is set.
pub fn licnode_binary_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_licnode") {
        return PathBuf::from(path);
    }
    let test_executable = std::env::current_exe().expect("the path of the running test");
    let profile_dir = test_executable
        .parent()
        .and_then(|deps_dir| deps_dir.parent())
        .expect("the test executable lives in <target>/<profile>/deps");
    let binary_path = profile_dir.join(format!("licnode{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary_path.is_file(),
        "no licnode binary at {}: only the tests of the licnode package can run it",
        binary_path.display()
    );
    binary_path
}

/// A command running the `licnode` binary.
pub fn binary() -> Command {
    Command::new(licnode_binary_path())
}

/// Runs `licnode args…` in `dir` and fails the test with its output if it fails.
pub fn licnode(dir: &Path, args: &[&str]) {
    let output = binary()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run licnode");
    assert!(
        output.status.success(),
        "licnode {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Loopback ports for nodes started as processes: see [`licnode_testkit::free_port`] and
/// [`licnode_testkit::free_ports`].
pub use licnode_testkit::{free_port, free_ports};

/// Runs `command`, which must succeed, and returns its standard output.
pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("run licnode");
    assert!(
        output.status.success(),
        "licnode failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The configuration file `licnode init --dir dir` writes.
pub fn config_of(dir: &Path) -> String {
    dir.join("licnode.toml").display().to_string()
}

/// `licnode init` of the node (code, level, name) in `dir`, its staff API on `port`, on SQLite
/// or the given PostgreSQL URL; returns its configuration file.
pub fn init_node(
    dir: &Path,
    (code, level, name): (&str, &str, &str),
    port: u16,
    database_url: Option<&str>,
) -> String {
    let mut command = binary();
    command.args([
        "init",
        "--dir",
        &dir.display().to_string(),
        "--code",
        code,
        "--level",
        level,
        "--name",
        name,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    run(&mut command);
    config_of(dir)
}

/// Adds a user with `licnode user add` and returns an API token from `licnode user token`.
pub fn user_token(config: &str, name: &str, role: &str) -> String {
    run(binary()
        .args([
            "user", "add", "--config", config, "--name", name, "--role", role,
        ])
        .env("LICNODE_PASSWORD", PASSWORD));
    run(binary().args(["user", "token", "--config", config, "--name", name]))
        .trim()
        .to_string()
}

/// `licnode serve` as a child process.
pub fn serve(config: &str) -> Child {
    serve_with_environment(config, &[])
}

/// `licnode serve` as a child process, with extra environment variables. Its standard error
/// goes to `serve.stderr` beside its configuration (appended across restarts), so that a node
/// that exits early says why ([`wait_healthy`]).
pub fn serve_with_environment(config: &str, environment: &[(String, String)]) -> Child {
    let log_path = Path::new(config).with_file_name("serve.stderr");
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let child = binary()
        .args(["serve", "--config", config])
        .envs(environment.iter().map(|(key, value)| (key, value)))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn licnode serve");
    SERVE_LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(child.id(), log_path);
    child
}

/// Where each served process's standard error goes, by process id.
static SERVE_LOGS: std::sync::Mutex<std::collections::BTreeMap<u32, PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The last lines `child` wrote to its standard error, if [`serve_with_environment`] kept them.
fn serve_log_tail(child: &Child) -> String {
    let path = SERVE_LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&child.id())
        .cloned();
    let Some(text) = path.and_then(|path| std::fs::read_to_string(path).ok()) else {
        return "(its standard error was not kept)".to_string();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Waits until the node at `base` answers `/healthz`, failing if its process exits first.
pub async fn wait_healthy(client: &reqwest::Client, base: &str, child: &mut Child) {
    let deadline = Instant::now() + PROCESS_PATIENCE;
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status().is_success()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "licnode serve exited early: {status}; its standard error ended:\n{}",
                serve_log_tail(child)
            );
        }
        assert!(Instant::now() < deadline, "node did not become healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client that sends `token` with every request.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Asks `licnode serve` to stop as the service manager does (SIGTERM) and waits until it has;
/// kills it if it has not stopped in time.
pub async fn stop_gracefully(child: &mut Child) -> anyhow::Result<()> {
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    anyhow::ensure!(terminated.success(), "kill -TERM {} failed", child.id());
    let deadline = Instant::now() + PROCESS_PATIENCE;
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::ensure!(status.success(), "licnode serve stopped with {status}");
            return Ok(());
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            anyhow::bail!("licnode serve did not stop within {PROCESS_PATIENCE:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestNode {
    /// Starts a node with `code` and `level` on `backend` as an operator does, in a `licnode
    /// serve` process of its own, with an administrator's API token; `restart` and `stop` send it
    /// SIGTERM. Only the tests of the `licnode` package have the binary to run.
    pub async fn spawn_process(
        backend: Backend,
        code: &str,
        level: &str,
    ) -> anyhow::Result<TestNode> {
        let dir = licnode_testkit::temp_dir()?;
        let (database_url, database) = licnode_testkit::database_url(backend, dir.path()).await?;
        let port = free_port();
        let node_dir = dir.path().to_path_buf();
        let name = node_name(code);
        let (code_owned, level_owned) = (code.to_string(), level.to_string());
        // The CLI runs block; keep them off the runtime's worker.
        let (config_file, token) = tokio::task::spawn_blocking(move || {
            let config_file = init_node(
                &node_dir,
                (&code_owned, &level_owned, &name),
                port,
                Some(&database_url),
            );
            let token = user_token(&config_file, "e2e", "administrator");
            (config_file, token)
        })
        .await?;
        let config = Config::load(Path::new(&config_file))?;
        let mut node = TestNode {
            base_url: format!("http://127.0.0.1:{port}"),
            client: client_with(&token),
            config,
            runner: NodeRunner::Process {
                config_file,
                environment: Vec::new(),
                child: None,
            },
            _database: database,
            _dir: std::sync::Arc::new(dir),
        };
        node.start().await?;
        Ok(node)
    }
}
