//! The licnode binary's library: configuration, the node value, and each command's body in a
//! module of its own (`*_cli`, `init`, `transfer`, `backup`, …). `main.rs` only parses
//! arguments and calls into here. `bench`, `demo`, `sim` and the test harness (`testing`) are
//! development tools behind the `dev-tools` feature, which alone pulls in the test kit.

#![forbid(unsafe_code)]

pub mod anchors;
pub mod audit_cli;
pub mod backup;
#[cfg(feature = "dev-tools")]
pub mod bench;
pub mod broken_pipe;
pub mod bundle;
pub mod certificate_upkeep;
pub mod cli;
pub mod config;
pub mod deadlines_cli;
#[cfg(feature = "dev-tools")]
pub mod demo;
pub mod generate_cli;
pub mod init;
pub mod link_reports;
pub mod node;
pub mod once_only;
pub mod peer_cli;
pub mod pki_cli;
pub mod refusal_audit;
pub mod report_cli;
pub mod retention_cli;
pub mod scheduler;
pub mod serve_cli;
#[cfg(feature = "dev-tools")]
pub mod sim;
pub mod status_cli;
pub mod supervisor;
pub mod sync_cli;
pub mod sync_loop;
#[cfg(test)]
mod test_logs;
#[cfg(feature = "dev-tools")]
pub mod testing;
pub mod transfer;
pub mod transfer_cli;
pub mod user_cli;

pub use config::Config;
pub use node::{Node, NodeHandle};

/// Sets up structured logging (to stderr): `RUST_LOG` filters (`default_filter` when unset),
/// `json` for machine-read logs.
pub fn init_logging(format: config::LogFormat, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // A log line that cannot be written (standard error on a full disk) is lost, not
    // reported on standard error again: that report panics when standard error fails, and the
    // node would die of its full disk instead of refusing writes and staying up.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let _ = match format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text => builder.try_init(),
    };
}
