//! `licnode pki …`: the national root, intermediate CAs for provinces and prefectures, node
//! certificates, enrollment tokens, renewal, revocation and CRLs — all as files an operator
//! can carry between machines (ARCHITECTURE.md, principle 5).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use licnode_model::Level;
use licnode_pki::ca::{self, RevocationReason};
use licnode_pki::names::CertificateFacts;
use licnode_pki::node::{self, NodePkiPaths};
use licnode_pki::{
    CertificateAuthority, ExpectedPeer, IssueOptions, NodeTls, NodeTlsSettings, PeerClient,
};

/// Certificates between nodes: `licnode pki <command>`.
#[derive(clap::Subcommand, Debug)]
pub enum PkiCommand {
    /// Create the national root CA in a new directory. Its key (`ca.key`) may then be moved off
    /// the serving machine; it is needed only to sign provinces and CRLs.
    InitRoot {
        /// The CA directory to create.
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: PathBuf,
    },
    /// Create a key and a certificate signing request: for a node (`--dir`, written to
    /// `<dir>/pki/request.csr`) or for an intermediate CA (`--ca-dir`, `request.csr`).
    Request {
        /// The node directory.
        #[arg(
            long,
            env = "LICNODE_DIR",
            required_unless_present = "ca_dir",
            conflicts_with = "ca_dir"
        )]
        dir: Option<PathBuf>,
        /// The CA directory of a province or prefecture.
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: Option<PathBuf>,
        /// The node's code: GB/T 2260 for bureaus (330106), e.g. RD0001 / IB0001 otherwise.
        #[arg(long, env = "LICNODE_NODE_CODE")]
        code: String,
        /// national, province, prefecture, county, review_department or inspection_body.
        #[arg(long, env = "LICNODE_NODE_LEVEL")]
        level: Level,
    },
    /// Sign a CSR with a CA; refuses codes outside the CA's subtree.
    Sign {
        /// The signing CA's directory.
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: PathBuf,
        /// The CSR (PEM).
        #[arg(long)]
        csr: PathBuf,
        /// Where to write the certificate chain (PEM: the new certificate, then the CA's chain).
        #[arg(long, short)]
        out: PathBuf,
        /// Issue an intermediate CA certificate (for a province or prefecture CA request).
        #[arg(long)]
        ca: bool,
    },
    /// Install a signed certificate, the root and CRLs into a node directory (`--dir`) or a
    /// CA directory (`--ca-dir`).
    Install {
        #[arg(
            long,
            env = "LICNODE_DIR",
            required_unless_present = "ca_dir",
            conflicts_with = "ca_dir"
        )]
        dir: Option<PathBuf>,
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: Option<PathBuf>,
        /// The certificate chain from `pki sign`.
        #[arg(long)]
        cert: Option<PathBuf>,
        /// The national root certificate.
        #[arg(long)]
        root: Option<PathBuf>,
        /// A CRL to install (node directories; repeatable).
        #[arg(long)]
        crl: Vec<PathBuf>,
    },
    /// Issue a one-time enrollment token for a child; it is printed once, only its hash is kept.
    Token {
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: PathBuf,
        #[arg(long)]
        code: String,
        #[arg(long)]
        level: Level,
        /// How long the token stays valid (`7d`, `12h`).
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        valid_for: std::time::Duration,
    },
    /// Enroll with the parent's enrollment endpoint: posts `<dir>/pki/request.csr` with a
    /// token and installs the certificate and CRLs it answers.
    Enroll {
        #[arg(long, env = "LICNODE_DIR")]
        dir: PathBuf,
        /// The parent's enrollment address (`https://host:port`).
        #[arg(long)]
        url: String,
        #[arg(long, env = "LICNODE_ENROLL_TOKEN")]
        token: String,
        /// The national root certificate, the only one the parent is trusted by.
        #[arg(long)]
        root: PathBuf,
    },
    /// Renew the node's certificate over mutual TLS with its current one (a new key; the
    /// serving node picks the new certificate up without a restart).
    Renew {
        #[arg(long, env = "LICNODE_DIR")]
        dir: PathBuf,
        /// The parent's node-to-node address (`https://host:port`).
        #[arg(long)]
        url: String,
        /// The parent's code; the call is refused if another node answers.
        #[arg(long)]
        parent_code: Option<String>,
    },
    /// Fetch the CRLs the parent holds over mutual TLS and install the newer ones.
    FetchCrls {
        #[arg(long, env = "LICNODE_DIR")]
        dir: PathBuf,
        #[arg(long)]
        url: String,
        #[arg(long)]
        parent_code: Option<String>,
    },
    /// Revoke a certificate the CA issued, by serial or by certificate file; publish a CRL
    /// afterwards (`pki crl`).
    Revoke {
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: PathBuf,
        /// The serial (hex, as `pki show` prints it).
        #[arg(long, required_unless_present = "cert", conflicts_with = "cert")]
        serial: Option<String>,
        /// The certificate to revoke (PEM).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// unspecified, key_compromise, ca_compromise, affiliation_changed, superseded or
        /// cessation_of_operation.
        #[arg(long, default_value = "unspecified")]
        reason: RevocationReason,
    },
    /// Publish a new CRL of the CA (`<ca-dir>/crl.pem`, and `--out` if given).
    Crl {
        #[arg(long, env = "LICNODE_CA_DIR")]
        ca_dir: PathBuf,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Show a certificate: code, level, serial, validity, issuer; `--dir` shows the node's own.
    Show {
        #[arg(long, required_unless_present = "dir", conflicts_with = "dir")]
        cert: Option<PathBuf>,
        #[arg(long, env = "LICNODE_DIR")]
        dir: Option<PathBuf>,
    },
}

/// Runs a `licnode pki` command.
pub async fn run(command: PkiCommand) -> anyhow::Result<()> {
    licnode_pki::install_crypto_provider();
    match command {
        PkiCommand::InitRoot { ca_dir } => init_root(&ca_dir),
        PkiCommand::Request {
            dir,
            ca_dir,
            code,
            level,
        } => request(dir, ca_dir, &code, level),
        PkiCommand::Sign {
            ca_dir,
            csr,
            out,
            ca,
        } => sign(&ca_dir, &csr, &out, ca),
        PkiCommand::Install {
            dir,
            ca_dir,
            cert,
            root,
            crl,
        } => install(dir, ca_dir, cert, root, &crl),
        PkiCommand::Token {
            ca_dir,
            code,
            level,
            valid_for,
        } => token(&ca_dir, &code, level, valid_for),
        PkiCommand::Enroll {
            dir,
            url,
            token,
            root,
        } => enroll(&dir, &url, &token, &root).await,
        PkiCommand::Renew {
            dir,
            url,
            parent_code,
        } => renew(&dir, &url, parent_code).await,
        PkiCommand::FetchCrls {
            dir,
            url,
            parent_code,
        } => fetch_crls(&dir, &url, parent_code).await,
        PkiCommand::Revoke {
            ca_dir,
            serial,
            cert,
            reason,
        } => revoke(&ca_dir, serial, cert, reason),
        PkiCommand::Crl { ca_dir, out } => crl(&ca_dir, out),
        PkiCommand::Show { cert, dir } => {
            let path = match (cert, dir) {
                (Some(cert), _) => cert,
                (None, Some(dir)) => NodePkiPaths::of_node_dir(&dir).certificate(),
                (None, None) => bail!("give --cert or --dir"),
            };
            show(&path)
        }
    }
}

/// `licnode pki init-root`.
fn init_root(ca_dir: &Path) -> anyhow::Result<()> {
    let authority = CertificateAuthority::init_root(ca_dir)
        .with_context(|| format!("cannot create the root CA in {}", ca_dir.display()))?;
    println!(
        "root CA {} created in {} (valid until {}); distribute {}, keep {} safe",
        authority.code(),
        ca_dir.display(),
        date(authority.not_after()),
        ca_dir.join("root.crt").display(),
        ca_dir.join("ca.key").display()
    );
    Ok(())
}

/// `licnode pki request`: for a node (`dir`) or an intermediate CA (`ca_dir`).
fn request(
    dir: Option<PathBuf>,
    ca_dir: Option<PathBuf>,
    code: &str,
    level: Level,
) -> anyhow::Result<()> {
    let request = match (dir, ca_dir) {
        (Some(dir), _) => node::create_request(&dir, code, level)?,
        (None, Some(ca_dir)) => node::create_authority_request(&ca_dir, code, level)?,
        (None, None) => bail!("give --dir (a node) or --ca-dir (an intermediate CA)"),
    };
    println!(
        "{} request for {} ({}) written to {}; key in {}",
        kind_name(request.kind),
        request.code,
        request.level,
        request.csr_path.display(),
        request.key_path.display()
    );
    Ok(())
}

/// `licnode pki sign`.
fn sign(ca_dir: &Path, csr: &Path, out: &Path, ca: bool) -> anyhow::Result<()> {
    let authority = open_ca(ca_dir)?;
    let csr_pem = read(csr)?;
    let options = if ca {
        IssueOptions::authority()
    } else {
        IssueOptions::node()
    };
    let issued = authority
        .issue(&csr_pem, &options)
        .with_context(|| format!("CA {} refused {}", authority.code(), csr.display()))?;
    write(out, &issued.chain_pem)?;
    println!(
        "issued {} certificate for {} ({}), serial {}, valid until {}: {}",
        kind_name(issued.kind),
        issued.code,
        issued.level,
        issued.serial,
        date(issued.not_after),
        out.display()
    );
    Ok(())
}

/// `licnode pki install`: into a node directory (`dir`) or a CA directory (`ca_dir`).
fn install(
    dir: Option<PathBuf>,
    ca_dir: Option<PathBuf>,
    cert: Option<PathBuf>,
    root: Option<PathBuf>,
    crl: &[PathBuf],
) -> anyhow::Result<()> {
    let root_pem = root.as_deref().map(read).transpose()?;
    match (dir, ca_dir) {
        (Some(dir), _) => install_into_node(&dir, cert, root_pem, crl),
        (None, Some(ca_dir)) => {
            let cert = cert.context("--cert is required for a CA directory")?;
            let root_pem = root_pem.context("--root is required for a CA directory")?;
            if !crl.is_empty() {
                bail!("--crl applies to node directories (--dir)");
            }
            let authority = ca::install_authority(&ca_dir, &read(&cert)?, &root_pem)?;
            println!(
                "CA {} ({}) installed in {}, valid until {}; first CRL published",
                authority.code(),
                authority.level(),
                ca_dir.display(),
                date(authority.not_after())
            );
            Ok(())
        }
        (None, None) => bail!("give --dir (a node) or --ca-dir (an intermediate CA)"),
    }
}

/// `licnode pki install --dir`: the CRLs, then the node's certificate or else the root alone.
fn install_into_node(
    dir: &Path,
    cert: Option<PathBuf>,
    root_pem: Option<String>,
    crl: &[PathBuf],
) -> anyhow::Result<()> {
    for path in crl {
        let issuer = node::install_crl(dir, &read(path)?)
            .with_context(|| format!("cannot install {}", path.display()))?;
        println!("CRL of CA {issuer} installed");
    }
    if let Some(cert) = cert {
        let installed = node::install_certificate(dir, &read(&cert)?, root_pem.as_deref())?;
        println!(
            "node certificate for {} ({}) installed, serial {}, valid until {}",
            installed.code,
            installed.level,
            installed.serial,
            date(installed.not_after)
        );
    } else if let Some(root_pem) = root_pem {
        let paths = NodePkiPaths::of_node_dir(dir);
        write(&paths.root(), &root_pem)?;
        println!("root certificate installed");
    }
    Ok(())
}

/// `licnode pki token`: the token on stdout, what it is for on stderr.
fn token(
    ca_dir: &Path,
    code: &str,
    level: Level,
    valid_for: std::time::Duration,
) -> anyhow::Result<()> {
    let authority = open_ca(ca_dir)?;
    let token = licnode_pki::enroll::create_token(&authority, code, level, valid_for)?;
    eprintln!(
        "one-time enrollment token for {} ({}), valid until {}:",
        token.code,
        token.level,
        date(token.expires_at)
    );
    println!("{}", token.token);
    Ok(())
}

/// `licnode pki enroll`.
async fn enroll(dir: &Path, url: &str, token: &str, root: &Path) -> anyhow::Result<()> {
    let installed = licnode_pki::enroll::enroll(dir, url, &read(root)?, token)
        .await
        .with_context(|| format!("enrollment with {url} failed"))?;
    println!(
        "enrolled: node certificate for {} ({}), serial {}, valid until {}",
        installed.code,
        installed.level,
        installed.serial,
        date(installed.not_after)
    );
    Ok(())
}

/// `licnode pki renew`: a new request unless one is pending, sent over mutual TLS.
async fn renew(dir: &Path, url: &str, parent_code: Option<String>) -> anyhow::Result<()> {
    let tls = load_tls(dir)?;
    let own = tls.own_identity();
    let paths = NodePkiPaths::of_node_dir(dir);
    if !paths.request_csr().exists() {
        node::create_request(dir, &own.code, own.level)?;
    }
    let client = PeerClient::for_node(&tls, expected(parent_code))?;
    let installed = licnode_pki::enroll::renew(dir, &client, url)
        .await
        .with_context(|| format!("renewal with {url} failed"))?;
    println!(
        "renewed: serial {} replaces {}, valid until {}",
        installed.serial,
        own.serial,
        date(installed.not_after)
    );
    Ok(())
}

/// `licnode pki fetch-crls`.
async fn fetch_crls(dir: &Path, url: &str, parent_code: Option<String>) -> anyhow::Result<()> {
    let tls = load_tls(dir)?;
    let client = PeerClient::for_node(&tls, expected(parent_code))?;
    let issuers = licnode_pki::enroll::refresh_crls(dir, &client, url)
        .await
        .with_context(|| format!("fetching CRLs from {url} failed"))?;
    println!(
        "CRLs of {} checked and installed where newer",
        issuers.join(", ")
    );
    Ok(())
}

/// `licnode pki revoke`: by serial or by certificate file.
fn revoke(
    ca_dir: &Path,
    serial: Option<String>,
    cert: Option<PathBuf>,
    reason: RevocationReason,
) -> anyhow::Result<()> {
    let authority = open_ca(ca_dir)?;
    let record = match (serial, cert) {
        (Some(serial), _) => authority.revoke(&serial, reason)?,
        (None, Some(cert)) => authority.revoke_certificate(&read(&cert)?, reason)?,
        (None, None) => bail!("give --serial or --cert"),
    };
    println!(
        "serial {} revoked ({}); publish it with `licnode pki crl --ca-dir {}`",
        record.serial,
        record.reason.as_str(),
        ca_dir.display()
    );
    Ok(())
}

/// `licnode pki crl`.
fn crl(ca_dir: &Path, out: Option<PathBuf>) -> anyhow::Result<()> {
    let authority = open_ca(ca_dir)?;
    let pem = authority.generate_crl()?;
    if let Some(out) = &out {
        write(out, &pem)?;
    }
    println!(
        "CRL of CA {} published: {}{}",
        authority.code(),
        ca_dir.join("crl.pem").display(),
        out.map(|out| format!(" and {}", out.display()))
            .unwrap_or_default()
    );
    Ok(())
}

fn show(path: &Path) -> anyhow::Result<()> {
    let chain = CertificateFacts::parse_pem_chain(&read(path)?)
        .with_context(|| format!("{} holds no readable certificate", path.display()))?;
    for facts in chain {
        let (kind, identity) = match (facts.node(), facts.authority()) {
            (Ok((code, level)), _) => ("node", format!("{code} ({level})")),
            (_, Ok((code, level))) => ("CA", format!("{code} ({level})")),
            (Err(error), _) => ("unrecognised", error.to_string()),
        };
        println!(
            "{kind} {identity}\n  serial  {}\n  valid   {} – {}\n  issuer  {}",
            facts.serial,
            date(facts.not_before),
            date(facts.not_after),
            facts.issuer_common_name.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

fn open_ca(ca_dir: &Path) -> anyhow::Result<CertificateAuthority> {
    CertificateAuthority::open(ca_dir)
        .with_context(|| format!("cannot open the CA in {}", ca_dir.display()))
}

fn load_tls(dir: &Path) -> anyhow::Result<NodeTls> {
    NodeTls::load(NodeTlsSettings::for_node_dir(dir))
        .with_context(|| format!("cannot load the node certificate of {}", dir.display()))
}

fn expected(parent_code: Option<String>) -> ExpectedPeer {
    parent_code.map_or(ExpectedPeer::AnyNode, ExpectedPeer::Code)
}

fn kind_name(kind: licnode_pki::CertificateKind) -> &'static str {
    match kind {
        licnode_pki::CertificateKind::Node => "node",
        licnode_pki::CertificateKind::Authority => "CA",
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// A UTC date and time for people.
fn date(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}
