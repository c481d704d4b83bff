//! `licnode backup` and `licnode restore`: an online, consistent copy of a SQLite node with a
//! manifest of what it holds, and a restore that verifies the copy (file integrity, the audit
//! chain, the counts of the manifest) before putting it in place of the node's database, and
//! never under a running node (Art. 37: archives are kept five years).
//!
//! On PostgreSQL `licnode backup` runs `pg_dump --format=custom` from a snapshot it exports
//! (so the manifest counts exactly what the dump holds); the operator restores the dump with
//! `pg_restore` into an empty database, and `licnode restore --verify-only <file>` runs the
//! same verification against it before the node serves from it.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use licnode_store::AuditKind;
use licnode_store::{AuditEntry, DatabaseSummary, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The manifest's format name.
pub const MANIFEST_FORMAT: &str = "licnode-backup-1";

/// The lock file in the data directory: a serving node holds it shared, a restore exclusively.
const LOCK_FILE: &str = "licnode.lock";

/// What a backup holds: written next to it as `<file>.manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub node: String,
    pub taken_at_ms: i64,
    /// The backup file's SHA-256, hex.
    pub sha256: String,
    pub bytes: u64,
    #[serde(flatten)]
    pub summary: DatabaseSummary,
}

#[derive(Args)]
pub struct BackupArgs {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    pub config: PathBuf,
    /// The backup file to write (must not exist); its manifest goes to `<file>.manifest.json`.
    pub file: PathBuf,
    /// Who takes the backup, for the audit log.
    #[arg(long, env = "LICNODE_USER", default_value = "operator")]
    pub user: String,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    pub config: PathBuf,
    /// The backup file. On PostgreSQL (`--verify-only` only) the dump already restored with
    /// `pg_restore` into the configured database. With `--verify-only` and no file, the node's
    /// own database is verified (against `--manifest` when given).
    pub file: Option<PathBuf>,
    /// The manifest to verify against; `<file>.manifest.json` by default.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Verify only: change nothing.
    #[arg(long)]
    pub verify_only: bool,
    /// Who restores, for the audit log.
    #[arg(long, env = "LICNODE_USER", default_value = "operator")]
    pub user: String,
}

/// The SQLite file behind `url`, if it is a SQLite URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(percent_decode(path)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rw", path.display())
}

fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn file_sha256(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut digest = Sha256::new();
    let mut buffer = vec![0_u8; 1 << 20];
    let mut bytes = 0_u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        digest.update(&buffer[..read]);
        bytes += read as u64;
    }
    Ok((hex::encode(digest.finalize()), bytes))
}

/// Holds the data directory for a serving node: a shared lock on its lock file, released when
/// the returned file is dropped (or the process dies). Refused while a restore holds it. Only
/// SQLite nodes keep their database there.
pub fn hold_data_dir(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    if sqlite_path(&config.database_url()).is_none() {
        return Ok(None);
    }
    let file = open_lock(config)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a restore is under way in {}; start the node once it has finished",
            config.data_dir().display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).context("cannot lock the data directory")
        }
    }
}

fn open_lock(config: &Config) -> anyhow::Result<std::fs::File> {
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let path = data_dir.join(LOCK_FILE);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// `licnode backup`: copies the node's database while it serves (SQLite: `VACUUM INTO`;
/// PostgreSQL: `pg_dump`), writes the manifest, and records the backup in the node's audit log.
pub async fn backup(args: BackupArgs) -> anyhow::Result<Manifest> {
    let config = Config::load(&args.config)?;
    if args.file.exists() {
        bail!("{} exists; refusing to overwrite it", args.file.display());
    }
    let manifest_file = manifest_path(&args.file);
    if manifest_file.exists() {
        bail!(
            "{} exists; refusing to overwrite it",
            manifest_file.display()
        );
    }
    let directory = match args.file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let partial = directory.join(format!(
        ".licnode-backup-{}.partial",
        uuid::Uuid::now_v7().simple()
    ));
    let store = Store::open(&config.database_url()).await?;
    let result = if sqlite_path(&config.database_url()).is_some() {
        take_backup(&store, &config, &args, &partial, &manifest_file).await
    } else {
        take_pg_dump(&store, &config, &args, &partial, &manifest_file).await
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(error) => {
            store.close().await;
            return Err(error);
        }
    };
    let entry = AuditEntry::new(
        AuditKind::Backup,
        &config.node.code,
        &args.user,
        licnode_store::now_ms(),
    )
    .detail(serde_json::json!({
        "file": args.file.display().to_string(),
        "sha256": manifest.sha256,
        "records": manifest.summary.records,
        "last_change_seq": manifest.summary.last_change_seq,
        "audit_seq": manifest.summary.audit_seq,
    }));
    let audited = store.audit(entry).await;
    store.close().await;
    audited?;
    Ok(manifest)
}

async fn take_backup(
    store: &Store,
    config: &Config,
    args: &BackupArgs,
    partial: &Path,
    manifest_file: &Path,
) -> anyhow::Result<Manifest> {
    let taken_at_ms = licnode_store::now_ms();
    store
        .backup_into(partial)
        .await
        .with_context(|| format!("cannot copy the database into {}", partial.display()))?;
    // The manifest describes the copy itself, read back from it.
    let copy = Store::open(&sqlite_url(partial)).await?;
    let summary = copy.summary().await;
    copy.close().await;
    let summary = summary?;
    let (sha256, bytes) = file_sha256(partial)?;
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        node: config.node.code.clone(),
        taken_at_ms,
        sha256,
        bytes,
        summary,
    };
    std::fs::rename(partial, &args.file)
        .with_context(|| format!("cannot write {}", args.file.display()))?;
    std::fs::write(manifest_file, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", manifest_file.display()))?;
    Ok(manifest)
}

/// PostgreSQL: `pg_dump --format=custom` from a snapshot this process exports and holds, so
/// that the manifest counts exactly what the dump holds, while writers go on.
async fn take_pg_dump(
    store: &Store,
    config: &Config,
    args: &BackupArgs,
    partial: &Path,
    manifest_file: &Path,
) -> anyhow::Result<Manifest> {
    let taken_at_ms = licnode_store::now_ms();
    let mut snapshot = store
        .pg_export_snapshot()
        .await?
        .context("not a PostgreSQL database")?;
    let summary = snapshot.summary().await?;
    let dumped = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg("--no-owner")
        .arg(format!("--snapshot={}", snapshot.id()))
        .arg("--file")
        .arg(partial)
        .arg("--dbname")
        .arg(config.database_url())
        .output()
        .await
        .context("cannot run pg_dump (PostgreSQL's client programs must be on PATH)")?;
    snapshot.release().await?;
    if !dumped.status.success() {
        bail!(
            "pg_dump failed ({}): {}",
            dumped.status,
            String::from_utf8_lossy(&dumped.stderr).trim()
        );
    }
    let (sha256, bytes) = file_sha256(partial)?;
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        node: config.node.code.clone(),
        taken_at_ms,
        sha256,
        bytes,
        summary,
    };
    std::fs::rename(partial, &args.file)
        .with_context(|| format!("cannot write {}", args.file.display()))?;
    std::fs::write(manifest_file, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("cannot write {}", manifest_file.display()))?;
    Ok(manifest)
}

/// What a verification found: nothing when the copy may be used.
pub async fn verify_store(
    store: &Store,
    manifest: Option<&Manifest>,
) -> anyhow::Result<Vec<String>> {
    let mut problems: Vec<String> = store
        .integrity_problems()
        .await?
        .into_iter()
        .map(|problem| format!("integrity check: {problem}"))
        .collect();
    let report = store.audit_verify().await?;
    problems.extend(report.findings.iter().map(|finding| {
        format!(
            "audit log: {} at {}: {}",
            finding.problem, finding.seq, finding.message
        )
    }));
    if let Some(manifest) = manifest {
        let summary = store.summary().await?;
        let expected = &manifest.summary;
        if summary.collections != expected.collections {
            for (collection, count) in &expected.collections {
                let found = summary.collections.get(collection).copied().unwrap_or(0);
                if found != *count {
                    problems.push(format!(
                        "{collection}: {found} records, the manifest says {count}"
                    ));
                }
            }
            for (collection, found) in &summary.collections {
                if !expected.collections.contains_key(collection) {
                    problems.push(format!(
                        "{collection}: {found} records, the manifest says none"
                    ));
                }
            }
        }
        if summary.last_change_seq != expected.last_change_seq {
            problems.push(format!(
                "change log ends at {}, the manifest says {}",
                summary.last_change_seq, expected.last_change_seq
            ));
        }
        // The manifest's head must be in the log, unchanged (a log that went on since, after a
        // restore for instance, still holds it).
        if expected.audit_seq > 0 {
            let head = store
                .audit_entries(expected.audit_seq - 1, 1)
                .await?
                .into_iter()
                .next();
            let holds = head.is_some_and(|entry| {
                entry.seq == expected.audit_seq && entry.hash == expected.audit_hash
            });
            if !holds {
                problems.push(format!(
                    "audit entry {} is not the one the manifest records ({})",
                    expected.audit_seq, expected.audit_hash
                ));
            }
        }
    }
    Ok(problems)
}

/// `licnode restore`: verifies a backup and puts it in place of the node's database, or, with
/// `--verify-only`, verifies only.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<String> {
    let config = Config::load(&args.config)?;
    let manifest = match (&args.manifest, &args.file) {
        (Some(path), _) => Some(read_manifest(path)?),
        (None, Some(file)) => Some(read_manifest(&manifest_path(file))?),
        (None, None) => None,
    };
    let database = sqlite_path(&config.database_url());
    let Some(file) = &args.file else {
        if !args.verify_only {
            bail!("name the backup file to restore, or give --verify-only to check the database");
        }
        let store = Store::open(&config.database_url()).await?;
        let problems = verify_store(&store, manifest.as_ref()).await;
        store.close().await;
        return verdict(problems?, "the node's database");
    };
    let manifest = manifest.context("no manifest")?;
    if args.verify_only && database.is_none() {
        // PostgreSQL: the dump was restored (`pg_restore`) into the configured database.
        check_file(file, &manifest)?;
        let store = Store::open(&config.database_url()).await?;
        let problems = verify_store(&store, Some(&manifest)).await;
        store.close().await;
        return verdict(problems?, "the restored database");
    }
    if args.verify_only {
        // A copy is opened, not the file: opening a SQLite file may write to it.
        check_file(file, &manifest)?;
        let scratch = tempfile::tempdir()?;
        let copy = scratch.path().join("backup.db");
        std::fs::copy(file, &copy).with_context(|| format!("cannot copy {}", file.display()))?;
        let store = Store::open(&sqlite_url(&copy)).await?;
        let problems = verify_store(&store, Some(&manifest)).await;
        store.close().await;
        return verdict(problems?, "the backup");
    }
    let Some(database) = database else {
        bail!(
            "this node runs on PostgreSQL: create an empty database, `pg_restore --no-owner \
             --dbname <its URL> {}`, point [storage] database_url at it, then check it with \
             `licnode restore --verify-only {}` before the node serves",
            file.display(),
            file.display()
        );
    };
    check_file(file, &manifest)?;
    // A running node holds the lock shared; nothing may replace its database under it.
    let lock = open_lock(&config)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a node is serving from {}: stop it before restoring",
            config.data_dir().display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).context("cannot lock the data directory");
        }
    }
    let directory = database
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let candidate = directory.join(format!(
        ".licnode-restore-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::copy(file, &candidate).with_context(|| {
        format!(
            "cannot copy {} into {}",
            file.display(),
            candidate.display()
        )
    })?;
    let outcome = check_and_place(&config, &args, &manifest, &candidate, &database).await;
    if outcome.is_err() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", candidate.display()));
        }
    }
    drop(lock);
    outcome
}

async fn check_and_place(
    config: &Config,
    args: &RestoreArgs,
    manifest: &Manifest,
    candidate: &Path,
    database: &Path,
) -> anyhow::Result<String> {
    let store = Store::open(&sqlite_url(candidate)).await?;
    let problems = verify_store(&store, Some(manifest)).await;
    let problems = match problems {
        Ok(problems) => problems,
        Err(error) => {
            store.close().await;
            return Err(error);
        }
    };
    if !problems.is_empty() {
        store.close().await;
        return verdict(problems, "the backup");
    }
    let entry = AuditEntry::new(
        AuditKind::Restore,
        &config.node.code,
        &args.user,
        licnode_store::now_ms(),
    )
    .detail(serde_json::json!({
        "sha256": manifest.sha256,
        "taken_at_ms": manifest.taken_at_ms,
        "records": manifest.summary.records,
        "last_change_seq": manifest.summary.last_change_seq,
        "audit_seq": manifest.summary.audit_seq,
    }));
    let audited = store.audit(entry).await;
    store.close().await;
    audited?;
    // The database it replaces is kept, renamed, never deleted: it is an archive too.
    let mut kept = None;
    if database.exists() {
        let aside = PathBuf::from(format!(
            "{}.replaced-{}",
            database.display(),
            licnode_store::now_ms()
        ));
        for suffix in ["-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", database.display()));
            if path.exists() {
                std::fs::rename(&path, format!("{}{suffix}", aside.display()))
                    .with_context(|| format!("cannot move {} aside", path.display()))?;
            }
        }
        std::fs::rename(database, &aside)
            .with_context(|| format!("cannot move {} aside", database.display()))?;
        kept = Some(aside);
    }
    std::fs::rename(candidate, database)
        .with_context(|| format!("cannot put the backup in place at {}", database.display()))?;
    Ok(match kept {
        Some(aside) => format!(
            "restored {} records (change log to {}, audit log to {}); the previous database is kept as {}",
            manifest.summary.records,
            manifest.summary.last_change_seq,
            manifest.summary.audit_seq,
            aside.display()
        ),
        None => format!(
            "restored {} records (change log to {}, audit log to {})",
            manifest.summary.records, manifest.summary.last_change_seq, manifest.summary.audit_seq
        ),
    })
}

/// Refuses a file that is not the one its manifest describes.
fn check_file(file: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let (sha256, _) = file_sha256(file)?;
    if sha256 != manifest.sha256 {
        bail!(
            "{} is not the file its manifest describes (SHA-256 {sha256}, the manifest says {})",
            file.display(),
            manifest.sha256
        );
    }
    Ok(())
}

fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a licnode backup manifest", path.display()))?;
    if manifest.format != MANIFEST_FORMAT {
        bail!(
            "{} has format {:?}; this licnode reads {MANIFEST_FORMAT:?}",
            path.display(),
            manifest.format
        );
    }
    Ok(manifest)
}

fn verdict(problems: Vec<String>, what: &str) -> anyhow::Result<String> {
    if problems.is_empty() {
        return Ok(format!(
            "{what} verifies: integrity check passed, audit chain intact, counts as recorded"
        ));
    }
    for problem in &problems {
        println!("{problem}");
    }
    bail!("{what} does not verify: {} problem(s)", problems.len())
}

/// `licnode backup`: writes the backup and prints what it holds.
pub async fn backup_command(args: BackupArgs) -> anyhow::Result<()> {
    let file = args.file.display().to_string();
    let manifest = backup(args).await?;
    println!(
        "backup written to {file}: {} records, change log to {}, audit log to {} (SHA-256 {})",
        manifest.summary.records,
        manifest.summary.last_change_seq,
        manifest.summary.audit_seq,
        manifest.sha256
    );
    Ok(())
}
