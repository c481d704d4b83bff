//! Signals to a node's process by its id, through the system's `kill` command (the workspace
//! forbids `unsafe`, so no direct `kill(2)`): kill -9, SIGSTOP and SIGCONT.

use std::process::{Command, Stdio};

/// A signal the fault harness sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: the process ends at once, with no chance to flush or close anything.
    Kill,
    /// SIGSTOP: the process is frozen; its sockets stay open and answer nothing.
    Stop,
    /// SIGCONT: a frozen process runs again.
    Continue,
}

impl Signal {
    fn flag(self) -> &'static str {
        match self {
            Signal::Kill => "-KILL",
            Signal::Stop => "-STOP",
            Signal::Continue => "-CONT",
        }
    }
}

/// Sends `signal` to process `pid` and waits for `kill` to return (the signal is delivered
/// when this returns; a SIGKILLed process may still need reaping).
pub fn send(pid: u32, signal: Signal) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args([signal.flag(), &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "kill {} {pid} failed", signal.flag());
    Ok(())
}
