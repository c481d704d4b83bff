//! The binary's output to a reader that goes away: `licnode pki show | head -1` ends quietly
//! (status 0, nothing on stderr) instead of panicking on the closed pipe (issue 17, item 6).

use std::process::{Command, Stdio};

#[test]
fn a_command_printing_to_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().expect("dir");
    let ca_dir = dir.path().join("ca");
    let created = Command::new(env!("CARGO_BIN_EXE_licnode"))
        .args(["pki", "init-root", "--ca-dir"])
        .arg(&ca_dir)
        .output()
        .expect("licnode pki init-root");
    assert!(created.status.success(), "{created:?}");

    // The reading end is closed before the command starts: its first write fails with EPIPE.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let shown = Command::new(env!("CARGO_BIN_EXE_licnode"))
        .args(["pki", "show", "--cert"])
        .arg(ca_dir.join("root.crt"))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("licnode pki show");
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(shown.status.success(), "{:?}: {stderr}", shown.status);
    assert!(stderr.is_empty(), "{stderr}");
}
