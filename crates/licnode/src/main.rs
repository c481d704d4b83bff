//! The licnode binary: parse the command line, load the configuration, run the command.

#![forbid(unsafe_code)]

use std::io::{BufReader, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use licnode::config::{Config, LogFormat};
use licnode::transfer::{Format, ImportSummary};
use licnode::{Node, init_logging};
use licnode_app::Archive;
use licnode_store::Store;

/// One node of the production-licence information network (工业产品生产许可证信息管理规定).
#[derive(Parser)]
#[command(name = "licnode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    config: PathBuf,
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
    Import {
        #[command(flatten)]
        config: ConfigArg,
        /// The collection to import into (e.g. licences).
        #[arg(long)]
        collection: String,
        /// The input file (`-` for standard input).
        file: PathBuf,
        /// Input format; guessed from the file name when absent.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Jurisdiction of the rows that do not name one (default: the node's own code).
        #[arg(long)]
        jurisdiction: Option<String>,
        /// The staff user the import is recorded under.
        #[arg(long, env = "LICNODE_USER", default_value = "import")]
        user: String,
        /// Write the refused rows, as JSON lines, to this file.
        #[arg(long)]
        refused: Option<PathBuf>,
    },
    /// Export a collection as CSV or JSON lines.
    Export {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        collection: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Only records at or below this division code.
        #[arg(long)]
        within: Option<String>,
        /// CSV headers in Chinese (the fields' labels) instead of field names.
        #[arg(long)]
        chinese_headers: bool,
        /// Output file; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Certificates between nodes: root, CAs, enrollment, renewal, revocation.
    Pki {
        #[command(subcommand)]
        command: licnode::pki_cli::PkiCommand,
    },
    /// The link to the parent node.
    Peer {
        #[command(subcommand)]
        command: PeerCommand,
    },
    /// This node's replication state: change log, link to the parent, lag, quarantine.
    Status {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Staff accounts of this node.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print generated, realistic records of a collection as JSON lines (for demos and tests).
    Generate {
        #[arg(long)]
        collection: String,
        #[arg(long, default_value_t = 100)]
        count: u64,
        /// Jurisdiction of the records: a division code; counties below it are drawn at random.
        #[arg(long, default_value = "330000")]
        within: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A live demonstration on SQLite: a seeded node, walked through over its HTTP API.
    Demo {
        /// The demo node's directory (kept between runs).
        #[arg(long, default_value = "licnode-demo")]
        dir: PathBuf,
        /// Address of the demo node's staff API.
        #[arg(long, default_value = "127.0.0.1:8640")]
        listen: SocketAddr,
        /// Licences to seed.
        #[arg(long, default_value_t = 20_000)]
        licences: usize,
        /// Stop after the walk-through instead of serving until interrupted.
        #[arg(long)]
        exit: bool,
    },
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
    Bench {
        #[command(subcommand)]
        bench: licnode::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum PeerCommand {
    /// Dial the parent over mutual TLS and show who answered and who it saw.
    Check {
        #[command(flatten)]
        config: ConfigArg,
        /// Keep trying this many seconds while the parent is unreachable.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

async fn peer_command(command: PeerCommand) -> anyhow::Result<()> {
    match command {
        PeerCommand::Check { config, wait } => {
            let config = Config::load(&config.config)?;
            let parent_url = config
                .node
                .parent_url
                .clone()
                .context("this node has no parent_url: it is the root of the tree")?;
            let tls = licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings::for_node_dir(
                &config.base_dir(),
            ))
            .context("the node has no certificate yet: see `licnode pki request` / `install`")?;
            let client =
                licnode_pki::PeerClient::for_node(&tls, licnode_pki::ExpectedPeer::AnyNode)?;
            let url = format!("{}/sync/v1/hello", parent_url.trim_end_matches('/'));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
            let answer: serde_json::Value = loop {
                match client.get_json(&url).await {
                    Ok(answer) => break answer,
                    Err(error) if std::time::Instant::now() < deadline => {
                        tracing::debug!(%error, "parent not reachable yet");
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                    Err(error) => bail!("cannot reach the parent at {url}: {error}"),
                }
            };
            println!(
                "connected to {} {} ({}) over mutual TLS; it sees this node as {} ({})",
                answer["me"]["code"].as_str().unwrap_or_default(),
                answer["me"]["name"].as_str().unwrap_or_default(),
                answer["me"]["level"].as_str().unwrap_or_default(),
                answer["you"]["code"].as_str().unwrap_or_default(),
                answer["you"]["level"].as_str().unwrap_or_default(),
            );
            Ok(())
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account. The password is read from standard input (one line), or from
    /// LICNODE_PASSWORD.
    Add {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
        /// clerk, approver, administrator or auditor.
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Disable an account and revoke its tokens.
    Disable {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
    },
    /// Issue an API token for scripts (printed once).
    Token {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "script")]
        label: String,
        /// Days until it expires; never when absent.
        #[arg(long)]
        days: Option<u32>,
    },
}

async fn user_command(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            config,
            name,
            role,
            display_name,
        } => {
            let config = Config::load(&config.config)?;
            let role: licnode_store::Role = role
                .parse()
                .map_err(|message: String| anyhow::anyhow!(message))?;
            let password = match std::env::var("LICNODE_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    if std::io::stdin().is_terminal() {
                        eprint!(
                            "password for {name} (at least {} characters): ",
                            licnode_store::MIN_PASSWORD_CHARS
                        );
                    }
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let archive = open_archive(&config).await?;
            let user = archive
                .add_user(
                    &name,
                    display_name.as_deref().unwrap_or(&name),
                    role,
                    &password,
                )
                .await?;
            archive.close().await;
            println!("added {} ({})", user.name, user.role.as_str());
            Ok(())
        }
        UserCommand::List { config } => {
            let config = Config::load(&config.config)?;
            let archive = open_archive(&config).await?;
            for user in archive.users().await? {
                println!(
                    "{:<20} {:<14} {:<20} {}",
                    user.name,
                    user.role.as_str(),
                    user.display_name,
                    if user.disabled { "disabled" } else { "enabled" }
                );
            }
            archive.close().await;
            Ok(())
        }
        UserCommand::Disable { config, name } => set_disabled(&config, &name, true).await,
        UserCommand::Enable { config, name } => set_disabled(&config, &name, false).await,
        UserCommand::Token {
            config,
            name,
            label,
            days,
        } => {
            let config = Config::load(&config.config)?;
            let archive = open_archive(&config).await?;
            let issued = archive
                .issue_token(
                    &name,
                    licnode_store::TokenKind::Api,
                    &label,
                    days.map(|d| i64::from(d) * 86_400_000),
                )
                .await?;
            archive.close().await;
            println!("{}", issued.token);
            Ok(())
        }
    }
}

async fn status_command(config: &Config) -> anyhow::Result<()> {
    let archive = open_archive(config).await?;
    let last_seq = archive.last_seq().await?;
    println!(
        "node            {} ({}, {})",
        config.node.code, config.node.name, config.node.level
    );
    println!("change log      {last_seq} changes");
    println!(
        "quarantined     {} received changes",
        archive.quarantine_count().await?
    );
    let links = archive.replication_store().link_states().await?;
    match (&config.node.parent_url, links.first()) {
        (None, _) => println!("parent          none (the root of the tree)"),
        (Some(url), None) => println!("parent          {url}: no session yet"),
        (Some(url), Some((_, state))) => {
            let millis = |key: &str| {
                state[key]
                    .as_i64()
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_else(|| "never".to_string())
            };
            let acknowledged = state["acknowledged"].as_i64().unwrap_or(0);
            println!(
                "parent          {url} ({})",
                state["parent"].as_str().unwrap_or("unknown")
            );
            println!("last success    {}", millis("last_success_ms"));
            println!("last attempt    {}", millis("last_attempt_ms"));
            println!(
                "last error      {}",
                state["last_error"].as_str().unwrap_or("none")
            );
            println!(
                "failures        {} in a row",
                state["consecutive_failures"].as_u64().unwrap_or(0)
            );
            println!(
                "lag up          {} changes not acknowledged by the parent",
                (last_seq - acknowledged).max(0)
            );
            println!(
                "lag down        {} changes pulled in the last session",
                state["pulled_last_session"].as_u64().unwrap_or(0)
            );
            println!(
                "totals          pushed {}, pulled {}, quarantined by the parent {}",
                state["pushed_total"].as_u64().unwrap_or(0),
                state["pulled_total"].as_u64().unwrap_or(0),
                state["quarantined_by_parent_total"].as_u64().unwrap_or(0)
            );
        }
    }
    archive.close().await;
    Ok(())
}

async fn set_disabled(config: &ConfigArg, name: &str, disabled: bool) -> anyhow::Result<()> {
    let config = Config::load(&config.config)?;
    let archive = open_archive(&config).await?;
    archive.set_user_disabled(name, disabled).await?;
    archive.close().await;
    println!(
        "{name} {}",
        if disabled {
            "disabled; its tokens are revoked"
        } else {
            "enabled"
        }
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    licnode_pki::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli.command))
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
        } => {
            let path = licnode::init::init(licnode::init::InitOptions {
                dir,
                code,
                level,
                name,
                parent_url,
                database_url,
                listen,
                peer_listen,
                force,
            })?;
            println!("wrote {}", path.display());
            println!(
                "start the node with: licnode serve --config {}",
                path.display()
            );
            Ok(())
        }
        Command::Serve { config } => {
            let config = Config::load(&config.config)?;
            init_logging(config.log.format, "info");
            let node = Node::start(&config).await?;
            println!(
                "licnode {} ({}) serving on http://{}",
                config.node.code,
                config.node.name,
                node.local_addr()
            );
            node.run_until_signal().await
        }
        Command::Import {
            config,
            collection,
            file,
            format,
            jurisdiction,
            user,
            refused,
        } => {
            let config = Config::load(&config.config)?;
            init_logging(LogFormat::Text, "warn");
            let collection = collection_named(&collection)?;
            let format = match format.or_else(|| Format::from_path(&file)) {
                Some(format) => format,
                None => bail!("say --format csv or --format jsonl"),
            };
            let input: Box<dyn std::io::BufRead + Send> = if file.as_os_str() == "-" {
                Box::new(BufReader::new(std::io::stdin()))
            } else {
                Box::new(BufReader::new(
                    std::fs::File::open(&file)
                        .with_context(|| format!("cannot open {}", file.display()))?,
                ))
            };
            let archive = open_archive(&config).await?;
            let interactive = std::io::stderr().is_terminal();
            let mut progress = |summary: &ImportSummary| {
                let rate = summary.read as f64 / summary.seconds.max(1e-9);
                let line = format!(
                    "imported {:>9}  refused {:>6}  {:>8.0} rows/s",
                    summary.imported,
                    summary.refused.len(),
                    rate
                );
                if interactive {
                    eprint!("\r{line}");
                } else if summary.read.is_multiple_of(10_000) {
                    eprintln!("{line}");
                }
            };
            let summary = licnode::transfer::import(
                &archive,
                collection,
                format,
                input,
                jurisdiction.as_deref(),
                &user,
                &mut progress,
            )
            .await?;
            if interactive {
                eprintln!();
            }
            archive.close().await;
            println!(
                "read {} rows: imported {}, refused {} ({} imported with warnings) in {:.1} s",
                summary.read,
                summary.imported,
                summary.refused.len(),
                summary.warnings,
                summary.seconds
            );
            let mut reasons: std::collections::BTreeMap<&str, u64> = Default::default();
            for refusal in &summary.refused {
                *reasons.entry(refusal.code.as_str()).or_default() += 1;
            }
            for (code, count) in &reasons {
                println!("  refused {count:>6} × {code}");
            }
            for refusal in summary.refused.iter().take(20) {
                println!(
                    "  line {}: {} — {}",
                    refusal.line, refusal.code, refusal.message
                );
            }
            if summary.refused.len() > 20 {
                println!("  … {} more", summary.refused.len() - 20);
            }
            if let Some(path) = refused {
                let mut out = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                for refusal in &summary.refused {
                    writeln!(out, "{}", serde_json::to_string(refusal)?)?;
                }
                println!("refused rows written to {}", path.display());
            }
            Ok(())
        }
        Command::Export {
            config,
            collection,
            format,
            within,
            chinese_headers,
            output,
        } => {
            let config = Config::load(&config.config)?;
            init_logging(LogFormat::Text, "warn");
            let collection = collection_named(&collection)?;
            let archive = open_archive(&config).await?;
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let written = licnode::transfer::export(
                &archive,
                collection,
                format,
                within,
                chinese_headers,
                &mut out,
            )
            .await?;
            drop(out);
            archive.close().await;
            eprintln!("exported {written} records of {}", collection.name);
            Ok(())
        }
        Command::Generate {
            collection,
            count,
            within,
            seed,
        } => {
            let collection = collection_named(&collection)?;
            let counties = licnode_model::divisions::counties_within(&within);
            if counties.is_empty() && licnode_model::divisions::lookup(&within).is_none() {
                bail!("{within:?} is not a division code");
            }
            let mut generator = licnode_gen::Generator::new(seed);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for index in 0..count {
                let jurisdiction = if counties.is_empty() {
                    within.clone()
                } else {
                    counties[(index as usize) % counties.len()].code.clone()
                };
                let fields = generator.record(collection, &jurisdiction);
                let line = serde_json::json!({ "jurisdiction": jurisdiction, "fields": fields });
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
        Command::Demo {
            dir,
            listen,
            licences,
            exit,
        } => {
            init_logging(LogFormat::Text, "warn");
            licnode::demo::run(licnode::demo::DemoOptions {
                dir,
                listen,
                licences,
                exit,
            })
            .await
        }
        Command::Pki { command } => licnode::pki_cli::run(command).await,
        Command::Peer { command } => {
            init_logging(LogFormat::Text, "warn");
            peer_command(command).await
        }
        Command::Sync { command } => {
            init_logging(LogFormat::Text, "warn");
            licnode::sync_cli::run(command).await
        }
        Command::Bundle { command } => {
            init_logging(LogFormat::Text, "warn");
            licnode::bundle::run(command).await
        }
        Command::Status { config } => {
            let config = Config::load(&config.config)?;
            init_logging(LogFormat::Text, "warn");
            status_command(&config).await
        }
        Command::User { command } => user_command(command).await,
        Command::Audit { command } => {
            init_logging(LogFormat::Text, "warn");
            licnode::audit_cli::run(command).await
        }
        Command::Backup(args) => {
            init_logging(LogFormat::Text, "warn");
            let file = args.file.display().to_string();
            let manifest = licnode::backup::backup(args).await?;
            println!(
                "backup written to {file}: {} records, change log to {}, audit log to {} (SHA-256 {})",
                manifest.summary.records,
                manifest.summary.last_change_seq,
                manifest.summary.audit_seq,
                manifest.sha256
            );
            Ok(())
        }
        Command::Restore(args) => {
            init_logging(LogFormat::Text, "warn");
            println!("{}", licnode::backup::restore(args).await?);
            Ok(())
        }
        Command::Bench { bench } => licnode::bench::run(bench).await,
        Command::Report { command } => {
            init_logging(LogFormat::Text, "warn");
            licnode::report_cli::run(command).await
        }
        Command::Deadlines(args) => {
            init_logging(LogFormat::Text, "warn");
            licnode::deadlines_cli::run(args).await
        }
        Command::Retention { command } => {
            init_logging(LogFormat::Text, "warn");
            licnode::retention_cli::run(command).await
        }
    }
}

fn collection_named(name: &str) -> anyhow::Result<&'static licnode_model::Collection> {
    licnode_model::collection(name).with_context(|| {
        let names: Vec<&str> = licnode_model::collections()
            .iter()
            .map(|c| c.name)
            .collect();
        format!(
            "unknown collection {name:?}; the collections are {}",
            names.join(", ")
        )
    })
}

async fn open_archive(config: &Config) -> anyhow::Result<Archive> {
    std::fs::create_dir_all(config.data_dir())
        .with_context(|| format!("cannot create {}", config.data_dir().display()))?;
    let store = Store::open(&config.database_url()).await?;
    let level = config.node.level;
    Ok(Archive::with_level(store, &config.node.code, level))
}
