//! The README's "Setting up a hierarchy" commands, run exactly as written (with the built
//! `licnode` first on PATH), in a fresh directory.

use std::process::{Child, Command, Stdio};

/// The shell commands of the README block that follows `<!-- hierarchy -->`, with line
/// continuations joined and comments dropped.
fn hierarchy_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let block = readme
        .split("<!-- hierarchy -->")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README has a hierarchy block");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn the_readme_hierarchy_commands_create_certify_and_connect_three_nodes() {
    let dir = tempfile::tempdir().expect("dir");
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_licnode"));
    let path = format!(
        "{}:{}",
        binary.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commands = hierarchy_commands();
    assert!(commands.len() > 15, "{commands:?}");
    let mut servers = Servers(Vec::new());
    let mut checks = Vec::new();
    for command in &commands {
        if let Some(background) = command.strip_suffix('&') {
            let child = Command::new("sh")
                .args(["-c", &format!("exec {background}")])
                .current_dir(dir.path())
                .env("PATH", &path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            servers.0.push(child);
            continue;
        }
        let output = Command::new("sh")
            .args(["-c", command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "`{command}` failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if command.contains("peer check") {
            checks.push(String::from_utf8_lossy(&output.stdout).into_owned());
        }
    }
    assert_eq!(checks.len(), 2);
    assert!(
        checks[0].contains("connected to 100000") && checks[0].contains("as 330000 (province)"),
        "{}",
        checks[0]
    );
    assert!(
        checks[1].contains("connected to 330000 浙江省市场监督管理局 (province)")
            && checks[1].contains("as 330106 (county)"),
        "{}",
        checks[1]
    );
}
