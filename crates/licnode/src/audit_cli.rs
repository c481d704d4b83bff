//! `licnode audit verify` and `licnode audit export`: the node's hash-chained audit log checked
//! end to end, or written out as JSON lines for an auditor (Art. 37, 38).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use licnode_store::{AuditReport, Store};

use crate::config::Config;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every entry of the audit log against its hash and its place in the chain; list
    /// every altered, deleted or re-ordered entry. Exits non-zero when anything is found.
    Verify {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// Print the report as JSON instead of lines for people.
        #[arg(long)]
        json: bool,
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
        AuditCommand::Verify { config, json } => {
            let config = Config::load(&config)?;
            let store = Store::open(&config.database_url()).await?;
            let report = store.audit_verify().await;
            store.close().await;
            let report = report?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            if !report.is_clean() {
                bail!(
                    "the audit log is not intact: {} finding(s)",
                    report.findings.len()
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
            let store = Store::open(&config.database_url()).await?;
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
                let page = store.audit_entries(cursor, 5_000).await?;
                let Some(last) = page.last() else { break };
                cursor = last.seq;
                for entry in &page {
                    writeln!(out, "{}", serde_json::to_string(entry)?)?;
                    written += 1;
                }
            }
            out.flush()?;
            drop(out);
            store.close().await;
            eprintln!("exported {written} audit entries");
            Ok(())
        }
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
