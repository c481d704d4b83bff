//! Offline bundles, for offices with no link at all: `licnode bundle export` at a child writes
//! the changes its parent has not acknowledged — exactly the push batches a network session
//! would send, after the cursor the parent acknowledged at the last session — signed with the
//! node key; `licnode bundle import` at the parent verifies the signature and the signer's
//! chain (the same checks as a mutual-TLS peer), then applies every batch exactly as
//! `POST /sync/v1/push` does (the engine's [`licnode_app::replication::parent::push`]): the same checks on
//! arrival, quarantine, and the child's push cursor advanced in the same transaction, so the
//! next network session does not resend it.
//!
//! # Format (`licnode-bundle/1`)
//!
//! Three lines of UTF-8:
//!
//! 1. `licnode-bundle/1`
//! 2. the payload, one line of JSON: `{"from", "from_level", "to", "created_at_ms", "batches"}`
//!    where `batches` are the protocol's push requests
//!    ([`licnode_sync::protocol::PushRequest`]), in order;
//! 3. the signature, one line of JSON: `{"scheme", "signature", "chain"}` — the TLS signature
//!    scheme code point, the signature (base64) over the exact bytes of lines 1 and 2 including
//!    their newlines, and the signer's certificate chain (leaf first, DER in base64).

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use licnode_app::Archive;
use licnode_model::Level;
use licnode_model::divisions::{self, DivisionLevel};
use licnode_pki::{NodeTls, NodeTlsSettings};
use licnode_store::Store;
use licnode_sync::protocol::PushRequest;
use licnode_sync::{Flow, Link, NodeRef, collections_for};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use licnode_app::replication::child::next_push_batch;
use licnode_app::replication::parent;

/// The first line of every bundle.
pub const MAGIC: &str = "licnode-bundle/1";

/// `licnode bundle …`
#[derive(clap::Subcommand, Debug)]
pub enum BundleCommand {
    /// Write the changes the parent has not acknowledged to a signed file.
    Export {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// The parent's code (the node that will import the bundle).
        #[arg(long)]
        parent: String,
        /// The parent's level, when its code is not a division code.
        #[arg(long)]
        parent_level: Option<String>,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a child's bundle and apply it as a network push would.
    Import {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
        /// The bundle file.
        file: PathBuf,
    },
}

/// A bundle refused: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleError {
    /// `malformed_bundle`, `bad_signature`, `signer_mismatch`, `wrong_parent`,
    /// `not_a_child`, `cursor_gap`, `bad_batch`, a certificate refusal code (`revoked`,
    /// `expired`, `unknown_issuer`, …) or `internal`.
    pub code: String,
    pub message: String,
}

impl BundleError {
    fn new(code: &str, message: impl Into<String>) -> Self {
        BundleError {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "bundle refused ({}): {}",
            self.code, self.message
        )
    }
}

impl std::error::Error for BundleError {}

#[derive(Serialize, Deserialize)]
struct Payload {
    from: String,
    from_level: Level,
    to: String,
    created_at_ms: i64,
    batches: Vec<PushRequest>,
}

#[derive(Serialize, Deserialize)]
struct Signature {
    scheme: u16,
    signature: String,
    chain: Vec<String>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    pub changes: usize,
    pub batches: usize,
    /// The child's log range covered: `(after, up_to]`.
    pub after: i64,
    pub up_to: i64,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} changes in {} batches, seq ({}, {}]",
            self.changes, self.batches, self.after, self.up_to
        )
    }
}

/// What an import applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub child: String,
    pub applied: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    /// This node's cursor for the child afterwards.
    pub acknowledged: i64,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "bundle from {}: applied {} ({} already here, {} quarantined); acknowledged up to {}",
            self.child, self.applied, self.duplicates, self.quarantined, self.acknowledged
        )
    }
}

/// Runs a `licnode bundle` command.
pub async fn run(command: BundleCommand) -> anyhow::Result<()> {
    match command {
        BundleCommand::Export {
            config,
            parent,
            parent_level,
            out,
        } => {
            let level = match parent_level {
                Some(level) => level
                    .parse()
                    .map_err(|_| anyhow::anyhow!("unknown level {level:?}"))?,
                None => division_level(&parent).with_context(|| {
                    format!("{parent} is not a division code: give --parent-level")
                })?,
            };
            let (archive, tls) = open(&config).await?;
            let (bytes, summary) =
                export(&archive, &tls, &NodeRef::new(parent.clone(), level)).await?;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "bundle for {parent} written to {}: {summary}",
                out.display()
            );
            archive.close().await;
            Ok(())
        }
        BundleCommand::Import { config, file } => {
            let (archive, tls) = open(&config).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let result = import(&archive, &tls, &bytes).await;
            archive.close().await;
            println!("{}", result?);
            Ok(())
        }
    }
}

async fn open(config: &std::path::Path) -> anyhow::Result<(Archive, NodeTls)> {
    let config = Config::load(config)?;
    let level = config.node.level;
    let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&config.base_dir()))
        .context("the node has no certificate yet: see `licnode pki request` / `install`")?;
    let store = Store::open(&config.database_url()).await?;
    let archive = Archive::with_level(store, &config.node.code, level)
        .with_child_prefectures(config.node.child_prefectures.clone());
    Ok((archive, tls))
}

fn division_level(code: &str) -> Option<Level> {
    Some(match divisions::lookup(code)?.level {
        DivisionLevel::Country => Level::National,
        DivisionLevel::Province => Level::Province,
        DivisionLevel::Prefecture => Level::Prefecture,
        DivisionLevel::County => Level::County,
    })
}

/// Builds a signed bundle of this node's changes that `parent` has not acknowledged (as far as
/// this node knows: the cursor of its last session), in the batches a session would push.
pub async fn export(
    archive: &Archive,
    tls: &NodeTls,
    parent: &NodeRef,
) -> anyhow::Result<(Vec<u8>, ExportSummary)> {
    let local = archive.scope.node_ref();
    let up = collections_for(&local, parent, Link::Parent, Flow::Send);
    let start = archive.acknowledged_by(&parent.code).await?;
    let mut after = start;
    let mut batches = Vec::new();
    if !up.is_empty() {
        while let Some(batch) = next_push_batch(archive, parent, &up, after).await? {
            after = batch.up_to;
            batches.push(batch);
        }
    }
    let summary = ExportSummary {
        changes: batches.iter().map(|batch| batch.changes.len()).sum(),
        batches: batches.len(),
        after: start,
        up_to: after,
    };
    // Changes leaving the node on a file leave a trace in its audit log (Art. 37).
    let entry = licnode_store::AuditEntry::new(
        licnode_store::AuditKind::Export,
        &local.code,
        "",
        licnode_store::now_ms(),
    )
    .detail(serde_json::json!({
        "via": "licnode bundle export",
        "to": parent.code,
        "changes": summary.changes,
        "after": summary.after,
        "up_to": summary.up_to,
    }));
    archive.audit(entry).await?;
    let payload = Payload {
        from: local.code.clone(),
        from_level: local.level,
        to: parent.code.clone(),
        created_at_ms: chrono::Utc::now().timestamp_millis(),
        batches,
    };
    Ok((seal(tls, &serde_json::to_vec(&payload)?)?, summary))
}

/// A bundle of the payload line `payload` (JSON without its newline) signed with `tls`: the
/// three lines of the format above.
pub fn seal(tls: &NodeTls, payload: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut bytes = format!("{MAGIC}\n").into_bytes();
    bytes.extend_from_slice(payload);
    bytes.push(b'\n');
    let sealed = tls.sign(&bytes)?;
    let signature = Signature {
        scheme: sealed.scheme,
        signature: STANDARD.encode(sealed.signature),
        chain: sealed
            .chain
            .iter()
            .map(|der| STANDARD.encode(der))
            .collect(),
    };
    bytes.extend(serde_json::to_vec(&signature)?);
    bytes.push(b'\n');
    Ok(bytes)
}

/// Verifies a child's bundle and applies its batches as network pushes from that child. A
/// refused bundle changes nothing; a bundle applied already is harmless.
pub async fn import(
    archive: &Archive,
    tls: &NodeTls,
    bytes: &[u8],
) -> Result<ImportReport, BundleError> {
    let malformed = |message: &str| BundleError::new("malformed_bundle", message);
    let magic = format!("{MAGIC}\n");
    if !bytes.starts_with(magic.as_bytes()) {
        return Err(malformed("not a licnode-bundle/1 file"));
    }
    let payload_end = bytes[magic.len()..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map(|at| magic.len() + at + 1)
        .ok_or_else(|| malformed("no payload line"))?;
    let (signed, trailer) = bytes.split_at(payload_end);
    let trailer = trailer.strip_suffix(b"\n").unwrap_or(trailer);
    let signature: Signature = serde_json::from_slice(trailer)
        .map_err(|error| malformed(&format!("unreadable signature line: {error}")))?;
    let chain = signature
        .chain
        .iter()
        .map(|der| STANDARD.decode(der).map(rustls_der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| malformed("unreadable certificate chain"))?;
    let raw_signature = STANDARD
        .decode(&signature.signature)
        .map_err(|_| malformed("unreadable signature"))?;
    let signer = tls
        .verify_signed(&chain, signed, signature.scheme, &raw_signature)
        .map_err(|(code, message)| BundleError::new(&code, message))?;
    let payload: Payload = serde_json::from_slice(&signed[magic.len()..])
        .map_err(|error| malformed(&format!("unreadable payload: {error}")))?;
    if payload.from != signer.code || payload.from_level != signer.level {
        return Err(BundleError::new(
            "signer_mismatch",
            format!(
                "the bundle claims to come from {} but is signed by {}",
                payload.from, signer.code
            ),
        ));
    }
    let local = archive.scope.node_ref();
    if payload.to != local.code {
        return Err(BundleError::new(
            "wrong_parent",
            format!("the bundle is for {}, not for {}", payload.to, local.code),
        ));
    }
    let child = NodeRef::new(signer.code.clone(), signer.level);
    if collections_for(&local, &child, Link::Child, Flow::Receive).is_empty() {
        return Err(BundleError::new(
            "not_a_child",
            format!("{child} is not a child of {local}"),
        ));
    }
    let mut report = ImportReport {
        child: child.to_string(),
        ..ImportReport::default()
    };
    for batch in payload.batches {
        let answer = parent::push(archive, &child, batch)
            .await
            .map_err(|error| {
                BundleError::new(error.code().unwrap_or("internal"), error.to_string())
            })?;
        report.applied += answer.applied;
        report.duplicates += answer.duplicates;
        report.quarantined += answer.quarantined;
        report.acknowledged = answer.acknowledged;
    }
    if report.acknowledged == 0 {
        report.acknowledged = archive
            .stored_of_child(&child.code)
            .await
            .map_err(|error| BundleError::new("internal", error.to_string()))?;
    }
    Ok(report)
}

fn rustls_der(der: Vec<u8>) -> licnode_pki::CertificateDer<'static> {
    licnode_pki::CertificateDer::from(der)
}
