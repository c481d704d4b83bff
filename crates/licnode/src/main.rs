//! The licnode binary: parses the command line and hands each command to its module in the
//! `licnode` library. `demo`, `bench` and `sim` are development tools, built with the `dev-tools`
//! feature (on by default, so `cargo run -p licnode -- demo` works as it stands; a shipped
//! binary is built with `--no-default-features` and carries neither them nor the test kit).

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use licnode::cli::ConfigArg;
use licnode::config::{Config, LogFormat};
use licnode::init_logging;

/// jemalloc instead of the system allocator: a received batch allocates and frees many small
/// buffers on several threads at once, where glibc's allocator spent about a fifth of the sync
/// bench's CPU (consolidating and unlinking free chunks); see docs/BENCHMARKS.md, "Record keys
/// and documents before the change log's lock; jemalloc".
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One node of the production-licence information network (工业产品生产许可证信息管理规定).
#[derive(Parser)]
#[command(name = "licnode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node directory: its configuration and data directory.
    Init {
        /// The node directory to create.
        #[arg(long, env = "LICNODE_DIR")]
        dir: PathBuf,
        /// GB/T 2260 division code of the bureau (100000 for the national node).
        #[arg(long, env = "LICNODE_NODE_CODE")]
        code: String,
        /// national, province, prefecture, county, review_department or inspection_body.
        #[arg(long, env = "LICNODE_NODE_LEVEL")]
        level: String,
        /// The agency's name.
        #[arg(long, env = "LICNODE_NODE_NAME")]
        name: String,
        /// The parent node's URL (absent for the national node).
        #[arg(long, env = "LICNODE_PARENT_URL")]
        parent_url: Option<String>,
        /// A database URL (postgres://…); SQLite in the data directory when absent.
        #[arg(long, env = "LICNODE_DATABASE_URL")]
        database_url: Option<String>,
        /// Address of the staff API.
        #[arg(long, env = "LICNODE_LISTEN", default_value = "127.0.0.1:8640")]
        listen: SocketAddr,
        /// Address of the mutual-TLS listener for child nodes (nodes with children only).
        #[arg(long, env = "LICNODE_PEER_LISTEN")]
        peer_listen: Option<SocketAddr>,
        /// Overwrite an existing configuration.
        #[arg(long)]
        force: bool,
    },
    /// Serve the staff API until interrupted.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Import CSV or JSON lines into a collection; refused rows are reported, the rest imported.
    Import(licnode::transfer_cli::ImportArgs),
    /// Export a collection as CSV or JSON lines.
    Export(licnode::transfer_cli::ExportArgs),
    /// Certificates between nodes: root, CAs, enrollment, renewal, revocation.
    Pki {
        #[command(subcommand)]
        command: licnode::pki_cli::PkiCommand,
    },
    /// The link to the parent node.
    Peer {
        #[command(subcommand)]
        command: licnode::peer_cli::PeerCommand,
    },
    /// This node's replication state: change log, link to the parent, lag, quarantine.
    Status {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Staff accounts of this node.
    User {
        #[command(subcommand)]
        command: licnode::user_cli::UserCommand,
    },
    /// Print generated, realistic records of a collection as JSON lines (for demos and tests).
    Generate(licnode::generate_cli::GenerateArgs),
    /// A live demonstration on SQLite: a seeded node, walked through over its HTTP API.
    #[cfg(feature = "dev-tools")]
    Demo(licnode::demo::DemoOptions),
    /// Replication with the parent node.
    Sync {
        #[command(subcommand)]
        command: licnode::sync_cli::SyncCommand,
    },
    /// Offline bundles: changes carried to the parent on a file, signed.
    Bundle {
        #[command(subcommand)]
        command: licnode::bundle::BundleCommand,
    },
    /// The statutory reports (Art. 18-21, 26): run, list, show, submit, export the forms.
    Report {
        #[command(subcommand)]
        command: licnode::report_cli::ReportCommand,
    },
    /// Statutory limits due and late today (Art. 18-20, 23, 27, 28, 30, 31), as a table.
    Deadlines(licnode::deadlines_cli::DeadlinesArgs),
    /// The hash-chained audit log: verify it, export it.
    Audit {
        #[command(subcommand)]
        command: licnode::audit_cli::AuditCommand,
    },
    /// Keeping and destroying (Art. 37, 38): what is due, requests, approvals, destruction.
    Retention {
        #[command(subcommand)]
        command: licnode::retention_cli::RetentionCommand,
    },
    /// Copy the node's database while it serves, with a manifest of what it holds.
    Backup(licnode::backup::BackupArgs),
    /// Verify a backup and put it in place of a stopped node's database (or only verify).
    Restore(licnode::backup::RestoreArgs),
    /// Benchmarks of this machine and database; prints a table.
    #[cfg(feature = "dev-tools")]
    Bench {
        #[command(subcommand)]
        bench: licnode::bench::BenchCommand,
    },
    /// The country simulated in one process: every agency of the division tree a node with its
    /// own store, engine and sync loop; measures latencies, memory and CPU, bursts and outages.
    #[cfg(feature = "dev-tools")]
    Sim(licnode::sim::SimOptions),
}

fn main() -> anyhow::Result<()> {
    licnode::broken_pipe::exit_quietly_when_stdout_closes();
    licnode_pki::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(run(cli.command)) {
        Err(error) if licnode::broken_pipe::is_broken_pipe(&error) => Ok(()),
        outcome => outcome,
    }
}

/// Warnings and errors only, as text on stderr: the commands' own output is on stdout.
fn quiet_logs() {
    init_logging(LogFormat::Text, "warn");
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init {
            dir,
            code,
            level,
            name,
            parent_url,
            database_url,
            listen,
            peer_listen,
            force,
        } => licnode::init::run(licnode::init::InitOptions {
            dir,
            code,
            level,
            name,
            parent_url,
            database_url,
            listen,
            peer_listen,
            force,
        }),
        Command::Serve { config } => licnode::serve_cli::run(&config.config).await,
        Command::Import(args) => {
            quiet_logs();
            licnode::transfer_cli::import(args).await
        }
        Command::Export(args) => {
            quiet_logs();
            licnode::transfer_cli::export(args).await
        }
        Command::Generate(args) => licnode::generate_cli::run(args),
        #[cfg(feature = "dev-tools")]
        Command::Demo(options) => {
            quiet_logs();
            licnode::demo::run(options).await
        }
        Command::Pki { command } => licnode::pki_cli::run(command).await,
        Command::Peer { command } => {
            quiet_logs();
            licnode::peer_cli::run(command).await
        }
        Command::Sync { command } => {
            quiet_logs();
            licnode::sync_cli::run(command).await
        }
        Command::Bundle { command } => {
            quiet_logs();
            licnode::bundle::run(command).await
        }
        Command::Status { config } => {
            let config = Config::load(&config.config)?;
            quiet_logs();
            licnode::status_cli::run(&config).await
        }
        Command::User { command } => licnode::user_cli::run(command).await,
        Command::Audit { command } => {
            quiet_logs();
            licnode::audit_cli::run(command).await
        }
        Command::Backup(args) => {
            quiet_logs();
            licnode::backup::backup_command(args).await
        }
        Command::Restore(args) => {
            quiet_logs();
            println!("{}", licnode::backup::restore(args).await?);
            Ok(())
        }
        #[cfg(feature = "dev-tools")]
        Command::Bench { bench } => licnode::bench::run(bench).await,
        #[cfg(feature = "dev-tools")]
        Command::Sim(options) => {
            // The outages it stages make every child below warn at each retry.
            init_logging(LogFormat::Text, "warn,licnode::sync_loop=error");
            licnode::sim::run(options).await
        }
        Command::Report { command } => {
            quiet_logs();
            licnode::report_cli::run(command).await
        }
        Command::Deadlines(args) => {
            quiet_logs();
            licnode::deadlines_cli::run(args).await
        }
        Command::Retention { command } => {
            quiet_logs();
            licnode::retention_cli::run(command).await
        }
    }
}
