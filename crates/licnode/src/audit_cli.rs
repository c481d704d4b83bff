//! `licnode audit verify` and `licnode audit export`: the node's hash-chained audit log checked
//! end to end — the chain, the change log against it, backup manifests and the anchors signed
//! for the parent, the newest of which the parent holds (issue 11 item 5) — or written out as
//! JSON lines for an auditor (Art. 37, 38).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use licnode_app::Archive;
use licnode_pki::{NodeTls, NodeTlsSettings};
use licnode_server::anchors::AnchorStanding;
use licnode_store::anchors::{AuditCheck, PointCheck};
use licnode_store::{AuditFinding, AuditReport, Store};

use crate::backup::{MANIFEST_FORMAT, Manifest};
use crate::config::Config;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every entry of the audit log against its hash and its place in the chain; every
    /// change of the change log against its audit entry; the chain at the audit head recorded
    /// by each backup manifest (`--backups`), by the last anchor this node signed, and by the
    /// newest anchor its parent holds (dialled over mutual TLS). Lists every altered, deleted
    /// or re-ordered entry. Exits non-zero when anything is found, or when the parent cannot be
    /// reached (`--offline` skips it, and says so).
    Verify {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// Print the report as JSON instead of lines for people.
        #[arg(long)]
        json: bool,
        /// A directory of backups: every `*.manifest.json` of this node in it is checked.
        #[arg(long, env = "LICNODE_BACKUPS")]
        backups: Option<PathBuf>,
        /// Do not dial the parent: the check against the anchor it holds is skipped.
        #[arg(long)]
        offline: bool,
    },
    /// Write the audit log as JSON lines, one entry a line, in order.
    Export {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// Only entries after this number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Output file; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// Runs a `licnode audit` command.
pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify {
            config,
            json,
            backups,
            offline,
        } => {
            let config = Config::load(&config)?;
            let archive = open(&config).await?;
            let outcome = verify(&archive, &config, backups.as_deref(), offline).await;
            archive.close().await;
            let (check, unreachable) = outcome?;
            if json {
                println!("{}", serde_json::to_string_pretty(&check)?);
            } else {
                print_check(&check);
            }
            if !check.is_clean() {
                bail!(
                    "the audit log is not intact: {} finding(s)",
                    check.findings().len()
                );
            }
            if let Some(reason) = unreachable {
                bail!(
                    "the chain was not checked against the parent's anchor: {reason} (run with \
                     --offline to check without it)"
                );
            }
            Ok(())
        }
        AuditCommand::Export {
            config,
            after,
            output,
        } => {
            let config = Config::load(&config)?;
            let archive = open(&config).await?;
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut cursor = after;
            let mut written = 0_u64;
            loop {
                let page = archive.audit_entries(cursor, 5_000).await?;
                let Some(last) = page.last() else { break };
                cursor = last.seq;
                for entry in &page {
                    writeln!(out, "{}", serde_json::to_string(entry)?)?;
                    written += 1;
                }
            }
            out.flush()?;
            drop(out);
            archive.close().await;
            eprintln!("exported {written} audit entries");
            Ok(())
        }
    }
}

/// The node's archive, for the audit service: the database in the configuration.
async fn open(config: &Config) -> anyhow::Result<Archive> {
    let store = Store::open(&config.database_url()).await?;
    Ok(Archive::new(store, &config.node.code))
}

/// Every check of `licnode audit verify`; also returns why the parent could not be asked, when
/// it could not.
async fn verify(
    archive: &Archive,
    config: &Config,
    backups: Option<&Path>,
    offline: bool,
) -> anyhow::Result<(AuditCheck, Option<String>)> {
    let mut check = archive.audit_check(&config.node.code).await?;
    match backups {
        Some(directory) => check_backups(archive, config, directory, &mut check).await?,
        None => check
            .not_checked
            .push("backups: no backup directory given (--backups)".to_owned()),
    }
    let mut unreachable = None;
    // The anchor is asked of the parent's preferred URL.
    match (config.node.parent_urls().first(), offline) {
        (_, true) => check.not_checked.push(
            "parent: --offline, the chain was not checked against the anchor the parent holds"
                .to_owned(),
        ),
        (None, false) => check.not_checked.push(
            "parent: this node has no parent (no parent_url): no anchor is held above it"
                .to_owned(),
        ),
        (Some(parent_url), false) => {
            let standing = match NodeTls::load(NodeTlsSettings::for_node_dir(&config.base_dir())) {
                Ok(tls) => crate::anchors::parent_standing(&tls, parent_url).await,
                Err(error) => {
                    Err(anyhow::Error::from(error).context("the node has no certificate"))
                }
            };
            match standing {
                Ok((parent_code, standing)) => {
                    check_parent(archive, &parent_code, &standing, &mut check).await?
                }
                Err(error) => {
                    let reason = format!("{error:#}");
                    check.not_checked.push(format!("parent: {reason}"));
                    unreachable = Some(reason);
                }
            }
        }
    }
    Ok((check, unreachable))
}

/// The chain at the audit head each manifest of this node in `directory` recorded.
async fn check_backups(
    archive: &Archive,
    config: &Config,
    directory: &Path,
    check: &mut AuditCheck,
) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(directory)
        .with_context(|| format!("cannot read the backup directory {}", directory.display()))?;
    let mut manifests: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".manifest.json"))
        .collect();
    manifests.sort();
    if manifests.is_empty() {
        check
            .not_checked
            .push(format!("backups: no manifest in {}", directory.display()));
    }
    for path in manifests {
        let manifest = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .filter(|manifest| manifest.format == MANIFEST_FORMAT);
        let Some(manifest) = manifest else {
            check
                .not_checked
                .push(format!("backups: {} is not a manifest", path.display()));
            continue;
        };
        if manifest.node != config.node.code {
            check.not_checked.push(format!(
                "backups: {} is a backup of {}",
                path.display(),
                manifest.node
            ));
            continue;
        }
        let source = format!("the backup manifest {}", path.display());
        check.points.push(
            archive
                .audit_check_point(
                    &source,
                    manifest.summary.audit_seq,
                    &manifest.summary.audit_hash,
                    "backup_mismatch",
                )
                .await?,
        );
    }
    Ok(())
}

/// The chain at the newest anchor the parent holds, and every anchor the parent found not to
/// extend the one before.
async fn check_parent(
    archive: &Archive,
    parent_code: &str,
    standing: &AnchorStanding,
    check: &mut AuditCheck,
) -> anyhow::Result<()> {
    match &standing.newest {
        Some(newest) => {
            let source = format!("the parent {parent_code}'s newest anchor");
            check.points.push(
                archive
                    .audit_check_point(
                        &source,
                        newest.audit_seq,
                        &newest.audit_hash,
                        "anchor_mismatch",
                    )
                    .await?,
            );
        }
        None => check.not_checked.push(format!(
            "parent: {parent_code} holds no anchor of this node yet (none until the next session)"
        )),
    }
    for broken in &standing.broken {
        check.points.push(PointCheck {
            source: format!("the parent {parent_code}"),
            audit_seq: broken.audit_seq,
            audit_hash: broken.audit_hash.clone(),
            finding: Some(AuditFinding {
                seq: broken.previous_seq,
                until_seq: broken.audit_seq.max(broken.previous_seq),
                problem: "anchor_not_extended",
                message: format!(
                    "上级节点 {parent_code} 发现本节点的审计链不再接续其在第 {} 条持有的锚点：\
                     其于 {} 收到的第 {} 条锚点未接续前者",
                    broken.previous_seq,
                    chrono::DateTime::from_timestamp_millis(broken.received_at_ms)
                        .map(|at| at.to_rfc3339())
                        .unwrap_or_else(|| format!("{} ms", broken.received_at_ms)),
                    broken.audit_seq,
                ),
            }),
        });
    }
    Ok(())
}

/// Prints every check of `licnode audit verify` for people: the chain, the change log, each
/// point checked, what was not checked, then one line per finding.
pub fn print_check(check: &AuditCheck) {
    let chain = &check.chain;
    println!(
        "audit log: {} entries, head {} ({})",
        chain.entries, chain.head_seq, chain.head_hash
    );
    if chain.is_clean() {
        println!("chain: intact, every entry matches its hash and follows the one before");
    }
    if check.change_log.without_entry == 0 {
        println!(
            "change log: {} changes, every one has its audit entry",
            check.change_log.changes
        );
    }
    for point in &check.points {
        if point.finding.is_none() {
            println!(
                "holds entry {} as {}: {}",
                point.audit_seq, point.source, point.audit_hash
            );
        }
    }
    for reason in &check.not_checked {
        println!("not checked: {reason}");
    }
    let findings = check.findings();
    if findings.is_empty() {
        println!("intact: nothing found");
        return;
    }
    for finding in &findings {
        let at = if finding.until_seq == finding.seq {
            format!("{}", finding.seq)
        } else {
            format!("{}-{}", finding.seq, finding.until_seq)
        };
        println!("{:<20} {:<12} {}", finding.problem, at, finding.message);
    }
    if chain.truncated {
        println!("… more findings not listed");
    }
}

/// Prints a verification report for people: the totals, then one line per finding.
pub fn print_report(report: &AuditReport) {
    println!(
        "audit log: {} entries, head {} ({})",
        report.entries, report.head_seq, report.head_hash
    );
    if report.is_clean() {
        println!("intact: every entry matches its hash and follows the one before");
        return;
    }
    for finding in &report.findings {
        let at = if finding.until_seq == finding.seq {
            format!("{}", finding.seq)
        } else {
            format!("{}-{}", finding.seq, finding.until_seq)
        };
        println!("{:<14} {:<12} {}", finding.problem, at, finding.message);
    }
    if report.truncated {
        println!("… more findings not listed");
    }
}
