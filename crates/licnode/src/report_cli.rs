//! `licnode report run|list|show|submit|export`: the statutory reports from the command line,
//! on the node's own database (Art. 18–21, 26; Attachments 1–3).

use std::path::PathBuf;

use anyhow::{Context, bail};
use licnode_app::{Archive, Author, ReportSettings, Reports, SharedClock, SystemClock};
use licnode_reports::{FillDate, FormName, Period, ReportKind};
use licnode_store::Store;

use crate::config::Config;

#[derive(clap::Args)]
pub struct ReportConfig {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    config: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Build (or rebuild) this node's report of a period now; a submitted report that no longer
    /// matches the records gets a new revision.
    Run {
        #[command(flatten)]
        config: ReportConfig,
        /// monthly or yearly.
        #[arg(long)]
        kind: String,
        /// YYYY-MM (monthly) or YYYY (yearly).
        #[arg(long)]
        period: String,
        /// The staff user the run is recorded under.
        #[arg(long, env = "LICNODE_USER", default_value = "cli")]
        user: String,
    },
    /// The latest report runs, newest first, as JSON lines.
    List {
        #[command(flatten)]
        config: ReportConfig,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// A period as JSON: this node's revisions, and who below has reported it and how late the
    /// others are.
    Show {
        #[command(flatten)]
        config: ReportConfig,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        period: String,
    },
    /// Submit (freeze) a draft report.
    Submit {
        #[command(flatten)]
        config: ReportConfig,
        /// The report's record id.
        id: String,
        #[arg(long, env = "LICNODE_USER", default_value = "cli")]
        user: String,
    },
    /// An official form as XLSX or CSV: attachment1 from a monthly report, attachment2 from a
    /// review plan, attachment3 from an inspection body's change filing.
    Export {
        #[command(flatten)]
        config: ReportConfig,
        /// attachment1, attachment2 or attachment3.
        #[arg(long)]
        form: String,
        /// The record: a report (attachment1), a review plan (attachment2) or an inspection
        /// body (attachment3).
        #[arg(long)]
        record: String,
        /// attachment3 only: the filing date (the latest when absent).
        #[arg(long)]
        filing_date: Option<String>,
        /// attachment1 only: the report's 填报日期 (`report`), or `blank` for the bureau to
        /// write by hand beside its seal, as the original prints it.
        #[arg(long, value_enum, default_value = "report")]
        fill_date: FillDateChoice,
        #[arg(long, value_enum, default_value = "xlsx")]
        format: FileFormat,
        /// Output file.
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FileFormat {
    Xlsx,
    Csv,
}

/// Attachment 1's 填报日期: the report's, or blank.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FillDateChoice {
    Report,
    Blank,
}

impl From<FillDateChoice> for FillDate {
    fn from(choice: FillDateChoice) -> FillDate {
        match choice {
            FillDateChoice::Report => FillDate::Report,
            FillDateChoice::Blank => FillDate::Blank,
        }
    }
}

/// The reports of the node a configuration describes, on its own clock.
pub async fn open_reports(config: &Config, clock: SharedClock) -> anyhow::Result<Reports> {
    std::fs::create_dir_all(config.data_dir())
        .with_context(|| format!("cannot create {}", config.data_dir().display()))?;
    let store = Store::open(&config.database_url()).await?;
    let level = config.node.level;
    Ok(Reports::new(
        Archive::with_level(store, &config.node.code, level),
        clock,
        ReportSettings {
            unit_name: config.node.name.clone(),
            auto_submit: config.schedule.auto_submit,
        },
    ))
}

fn period_of(kind: &str, period: &str) -> anyhow::Result<Period> {
    let kind = ReportKind::parse(kind)?;
    Ok(Period::parse(kind, period)?)
}

pub async fn run(command: ReportCommand) -> anyhow::Result<()> {
    let load = |config: &ReportConfig| Config::load(&config.config);
    let clock: SharedClock = std::sync::Arc::new(SystemClock);
    match command {
        ReportCommand::Run {
            config,
            kind,
            period,
            user,
        } => {
            let reports = open_reports(&load(&config)?, clock).await?;
            let period = period_of(&kind, &period)?;
            let result = reports.run(&period, &user).await;
            reports.archive.close().await;
            let result = result.map_err(|error| anyhow::anyhow!("{}: {error}", error.code()))?;
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        ReportCommand::List {
            config,
            kind,
            limit,
        } => {
            let reports = open_reports(&load(&config)?, clock).await?;
            let kind = kind.as_deref().map(ReportKind::parse).transpose()?;
            for run in reports.archive.report_runs(kind, limit).await? {
                println!("{}", serde_json::to_string(&run)?);
            }
            reports.archive.close().await;
        }
        ReportCommand::Show {
            config,
            kind,
            period,
        } => {
            let reports = open_reports(&load(&config)?, clock).await?;
            let period = period_of(&kind, &period)?;
            let revisions = reports.revisions(&period).await?;
            let summary = reports.summary(&period).await?;
            reports.archive.close().await;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "revisions": revisions,
                    "received": summary,
                }))?
            );
        }
        ReportCommand::Submit { config, id, user } => {
            let reports = open_reports(&load(&config)?, clock).await?;
            let result = reports.submit(&id, &Author::operator(user)).await;
            reports.archive.close().await;
            let record = result.map_err(|error| anyhow::anyhow!("{}: {error}", error.code()))?;
            println!("{}", serde_json::to_string_pretty(&record)?);
        }
        ReportCommand::Export {
            config,
            form,
            record,
            filing_date,
            fill_date,
            format,
            output,
        } => {
            let Some(form) = FormName::parse(&form) else {
                bail!("unknown_form: {form:?} (attachment1, attachment2 or attachment3)");
            };
            let reports = open_reports(&load(&config)?, clock).await?;
            let made = reports
                .archive
                .official_form(form, &record, filing_date.as_deref(), fill_date.into())
                .await;
            reports.archive.close().await;
            let forms = match made {
                Ok((_, forms)) => forms,
                Err(licnode_app::official_forms::OfficialFormError::NotFound {
                    collection,
                    id,
                }) => {
                    bail!("not_found: no {collection} record {id:?}")
                }
                Err(licnode_app::official_forms::OfficialFormError::WrongKind(id)) => {
                    bail!("wrong_report_kind: {id} is not a monthly report")
                }
                Err(error) => return Err(error.into()),
            };
            let bytes = match format {
                FileFormat::Xlsx => licnode_reports::to_xlsx(&forms)?,
                FileFormat::Csv => licnode_reports::to_csv(&forms)?,
            };
            std::fs::write(&output, bytes)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("wrote {}", output.display());
        }
    }
    Ok(())
}
