//! `licnode retention due|request|approve|refuse|destroy|certificates`: keeping and destroying
//! (Art. 37, 38) from the shell, and the node's daily sweep of what has come due.
//!
//! The commands work on the node's database directly, like `licnode user`; approving, refusing
//! and destroying need the node's certificate (`pki/` beside the configuration), whose key signs
//! decisions and whose trust material verifies them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use licnode_app::retention::{DEFAULT_APPROVAL_DAYS, RetentionError, years_or_default};
use licnode_app::{Archive, Author, SharedClock};
use licnode_server::retention::{PkiNodeKey, RetentionSettings};
use licnode_store::Store;
use licnode_store::retention::NodeKey;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::once_only::OnceOnly;
use crate::supervisor::Supervisor;
use tokio_util::sync::CancellationToken;

/// `[retention]`: how long archives are kept (Art. 37) and how long approvals are valid.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    /// Years records are kept after their period starts; the regulation's 5 by default.
    #[serde(default = "default_years")]
    pub years: u32,
    /// Days an approval this node signs stays valid.
    #[serde(default = "default_approval_days")]
    pub approval_days: u32,
    /// How often the sweep lists what has come due (at least once a minute is kept to).
    #[serde(
        default = "default_sweep_every",
        with = "crate::config::human_duration"
    )]
    pub sweep_every: Duration,
    /// At the national node, which has no superior (Art. 38): the staff designated to approve
    /// its own destructions as a second approver. Empty: the national node destroys nothing.
    #[serde(default)]
    pub national_approvers: Vec<String>,
}

impl RetentionSection {
    /// Refuses a retention shorter than Art. 37's five years, and second approvers anywhere but
    /// at the national node; each message names its key.
    pub fn check(&self, level: licnode_model::Level) -> anyhow::Result<()> {
        let minimum_years = licnode_model::deadlines::RETENTION_YEARS;
        if self.years < minimum_years {
            bail!(
                "[retention] years: {} is below the {minimum_years} years Art. 37 keeps archives \
                 and databases (set {minimum_years} or more)",
                self.years
            );
        }
        if !self.national_approvers.is_empty() && level != licnode_model::Level::National {
            bail!(
                "[retention] national_approvers: only the national node designates second \
                 approvers (Art. 38); every other node asks its superior"
            );
        }
        if self
            .national_approvers
            .iter()
            .any(|name| name.trim().is_empty())
        {
            bail!("[retention] national_approvers: a name is empty");
        }
        Ok(())
    }
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            years: default_years(),
            approval_days: default_approval_days(),
            sweep_every: default_sweep_every(),
            national_approvers: Vec::new(),
        }
    }
}

fn default_years() -> u32 {
    years_or_default(None)
}

fn default_approval_days() -> u32 {
    DEFAULT_APPROVAL_DAYS
}

fn default_sweep_every() -> Duration {
    Duration::from_secs(24 * 60 * 60)
}

/// The node's retention settings for the HTTP API, with its PKI key when it has a certificate.
pub fn settings(config: &Config, tls: Option<&licnode_pki::NodeTls>) -> RetentionSettings {
    RetentionSettings {
        years: years_or_default(Some(config.retention.years)),
        approval_days: config.retention.approval_days.max(1),
        key: tls.map(|tls| Arc::new(PkiNodeKey(tls.clone())) as Arc<dyn NodeKey>),
    }
}

/// The scheduled sweep, under the node's supervisor (started again if it dies: every sweep
/// stands on its own): lists what has come due as of the node's clock, at start and then every
/// `[retention] sweep_every` (daily), until the node stops. It destroys nothing — that needs an
/// approval.
pub fn spawn_sweep(
    supervisor: &Supervisor,
    once_only: &OnceOnly,
    archive: &Archive,
    clock: &SharedClock,
    config: &Config,
) {
    // A second is the floor, so a mistyped interval cannot make a busy loop.
    let every = config.retention.sweep_every.max(Duration::from_secs(1));
    let years = years_or_default(Some(config.retention.years));
    let (archive, clock) = (archive.clone(), clock.clone());
    let sweeping = once_only.clone();
    // One process of the node sweeps (issue 15 item 2), every `every` after the last sweep
    // whichever process made it.
    once_only.spawn_task(supervisor, "retention sweep", move |cancel| {
        sweep(
            sweeping.clone(),
            archive.clone(),
            clock.clone(),
            every,
            years,
            cancel,
        )
    });
}

/// The name the sweep's runs are recorded under (`once_only_runs.task`).
pub const SWEEP_TASK: &str = "retention sweep";

async fn sweep(
    once_only: OnceOnly,
    archive: Archive,
    clock: SharedClock,
    every: Duration,
    years: u32,
    cancel: CancellationToken,
) {
    loop {
        let wait = once_only.until_due(SWEEP_TASK, every).await;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let today = clock.today();
        let due = once_only
            .recorded(SWEEP_TASK, archive.due_records(today, years))
            .await;
        match due {
            Ok(due) if due.is_empty() => {
                tracing::debug!(%today, "retention sweep: nothing due")
            }
            Ok(due) => tracing::info!(
                %today,
                due = due.len(),
                "retention sweep: records whose retention period is over \
                 (licnode retention request asks the superior's approval)"
            ),
            Err(error) => tracing::warn!(%error, "retention sweep failed"),
        }
    }
}

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// List the records whose retention period is over.
    Due {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask the superior to approve destroying due records (all of them without --id).
    Request {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// A record to destroy; repeat for several.
        #[arg(long = "id")]
        ids: Vec<String>,
        #[arg(long)]
        reason: Option<String>,
        /// The staff account the request is recorded under.
        #[arg(long)]
        user: String,
    },
    /// Approve a request of a node below this one, signing the decision with the node key.
    Approve {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// The request's record id.
        request: String,
        #[arg(long)]
        remarks: Option<String>,
        /// Days the approval stays valid ([retention] approval_days by default).
        #[arg(long)]
        valid_days: Option<u32>,
        /// The approver's staff account (role approver or administrator).
        #[arg(long)]
        user: String,
    },
    /// Refuse a request of a node below this one.
    Refuse {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        request: String,
        #[arg(long)]
        remarks: Option<String>,
        #[arg(long)]
        user: String,
    },
    /// Destroy what a valid approval of the superior names; prints the certificate.
    Destroy {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        request: String,
        #[arg(long)]
        user: String,
    },
    /// List the destruction certificates (JSON).
    Certificates {
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
    },
}

async fn open(config: &Path) -> anyhow::Result<(Config, Archive)> {
    let config = Config::load(config)?;
    let store = Store::open(&config.database_url()).await?;
    let level = config.node.level;
    let archive = Archive::with_level(store, &config.node.code, level)
        .with_destruction_approvers(config.retention.national_approvers.clone());
    Ok((config, archive))
}

/// The node key from `pki/` beside the configuration.
fn node_key(config: &Config) -> anyhow::Result<PkiNodeKey> {
    let pki_dir = config.base_dir().join("pki");
    if !pki_dir.join("node.crt").exists() {
        bail!("this node has no certificate (licnode pki install): it cannot sign or verify");
    }
    let tls = licnode_pki::NodeTls::load(licnode_pki::NodeTlsSettings::for_node_dir(
        &config.base_dir(),
    ))
    .context("cannot load the node's certificate")?;
    Ok(PkiNodeKey(tls))
}

/// The account must exist, be enabled and hold a role that may `approve` (else write); the
/// write is then made as that account, with its role.
async fn check_user(archive: &Archive, name: &str, approve: bool) -> anyhow::Result<Author> {
    let user = archive
        .users()
        .await?
        .into_iter()
        .find(|user| user.name == name)
        .with_context(|| format!("no staff account {name:?}"))?;
    if user.disabled {
        bail!("the account {name:?} is disabled");
    }
    let allowed = if approve {
        user.role.may_approve()
    } else {
        user.role.may_write()
    };
    if !allowed {
        bail!(
            "the account {name:?} ({}) may not do this",
            user.role.as_str()
        );
    }
    Ok(Author::staff(user.name, user.role))
}

fn refused(error: RetentionError) -> anyhow::Error {
    anyhow::anyhow!("{}: {error}", error.code())
}

/// Runs a `licnode retention` command.
pub async fn run(command: RetentionCommand) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(licnode_app::SystemClock);
    match command {
        RetentionCommand::Due { config, json } => {
            let (config, archive) = open(&config).await?;
            let years = years_or_default(Some(config.retention.years));
            let due = archive.due_records(clock.today(), years).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&due)?);
            } else {
                for record in &due {
                    println!(
                        "{}  {:<20} {}  due {}",
                        record.id, record.collection, record.jurisdiction, record.due_on
                    );
                }
                println!("{} record(s) due", due.len());
            }
        }
        RetentionCommand::Request {
            config,
            ids,
            reason,
            user,
        } => {
            let (config, archive) = open(&config).await?;
            let author = check_user(&archive, &user, false).await?;
            let years = years_or_default(Some(config.retention.years));
            let ids = (!ids.is_empty()).then_some(ids);
            let record = archive
                .request_destruction(
                    ids.as_deref(),
                    clock.as_ref(),
                    years,
                    reason.as_deref(),
                    &author,
                )
                .await
                .map_err(refused)?;
            println!("{}", serde_json::to_string_pretty(&record)?);
        }
        RetentionCommand::Approve {
            config,
            request,
            remarks,
            valid_days,
            user,
        } => decide(&config, &request, true, remarks, valid_days, &user, &clock).await?,
        RetentionCommand::Refuse {
            config,
            request,
            remarks,
            user,
        } => decide(&config, &request, false, remarks, None, &user, &clock).await?,
        RetentionCommand::Destroy {
            config,
            request,
            user,
        } => {
            let (config, archive) = open(&config).await?;
            let author = check_user(&archive, &user, true).await?;
            let key = node_key(&config)?;
            let years = years_or_default(Some(config.retention.years));
            let certificate = archive
                .destroy_approved(&request, &key, clock.as_ref(), years, &author)
                .await
                .map_err(refused)?;
            println!("{}", serde_json::to_string_pretty(&certificate)?);
        }
        RetentionCommand::Certificates { config } => {
            let (_, archive) = open(&config).await?;
            let certificates = archive.destruction_certificates().await?;
            println!("{}", serde_json::to_string_pretty(&certificates)?);
        }
    }
    Ok(())
}

async fn decide(
    config: &Path,
    request: &str,
    approve: bool,
    remarks: Option<String>,
    valid_days: Option<u32>,
    user: &str,
    clock: &SharedClock,
) -> anyhow::Result<()> {
    let (config, archive) = open(config).await?;
    let author = check_user(&archive, user, true).await?;
    let key = node_key(&config)?;
    let years = years_or_default(Some(config.retention.years));
    let record = archive
        .decide_destruction(
            request,
            approve,
            &key,
            clock.as_ref(),
            years,
            valid_days.unwrap_or(config.retention.approval_days).max(1),
            remarks.as_deref(),
            &author,
        )
        .await
        .map_err(refused)?;
    println!("{}", serde_json::to_string_pretty(&record)?);
    Ok(())
}
