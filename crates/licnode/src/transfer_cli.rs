//! `licnode import` and `licnode export`: CSV or JSON lines into and out of a collection.

use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::cli::{ConfigArg, collection_named, open_archive};
use crate::config::{Config, LogFormat};
use crate::init_logging;
use crate::transfer::{Format, ImportSummary};

/// The arguments of `licnode import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The collection to import into (e.g. licences).
    #[arg(long)]
    pub collection: String,
    /// The input file (`-` for standard input).
    pub file: PathBuf,
    /// Input format; guessed from the file name when absent.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Jurisdiction of the rows that do not name one (default: the node's own code).
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// The staff user the import is recorded under.
    #[arg(long, env = "LICNODE_USER", default_value = "import")]
    pub user: String,
    /// Write the refused rows, as JSON lines, to this file.
    #[arg(long)]
    pub refused: Option<PathBuf>,
}

/// The arguments of `licnode export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[arg(long)]
    pub collection: String,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Only records at or below this division code.
    #[arg(long)]
    pub within: Option<String>,
    /// CSV headers in Chinese (the fields' labels) instead of field names.
    #[arg(long)]
    pub chinese_headers: bool,
    /// Output file; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write secret fields (Art. 36) as stored instead of masked as `******`; the export is
    /// then audited as `secret_disclosed`. Needed for a file meant to be imported again.
    #[arg(long, env = "LICNODE_EXPORT_UNMASKED")]
    pub unmasked: bool,
    /// The operator named in the audit log.
    #[arg(long, env = "LICNODE_USER", default_value = "export")]
    pub user: String,
}

/// Imports the rows; refused rows are reported (and written out when asked), the rest imported.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let ImportArgs {
        config,
        collection,
        file,
        format,
        jurisdiction,
        user,
        refused,
    } = args;
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
    let summary = crate::transfer::import(
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

/// Exports a collection.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let ExportArgs {
        config,
        collection,
        format,
        within,
        chinese_headers,
        output,
        unmasked,
        user,
    } = args;
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
    let options = crate::transfer::ExportOptions {
        within,
        chinese_headers,
        secrets: if unmasked {
            licnode_app::SecretFields::Unmasked
        } else {
            licnode_app::SecretFields::Masked
        },
        user,
    };
    let written = crate::transfer::export(&archive, collection, format, options, &mut out).await?;
    drop(out);
    archive.close().await;
    eprintln!("exported {written} records of {}", collection.name);
    Ok(())
}
