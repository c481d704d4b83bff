//! `licnode pki …` end to end: a root, a province with its CA and a county, set up with the
//! commands an operator types, then connected over mutual TLS.

mod common;

// The command-line module of the licnode binary, compiled here so its commands run against
// this crate in-process (it uses only clap, anyhow, chrono and the licnode crates).
#[path = "../../licnode/src/pki_cli.rs"]
mod pki_cli;

use std::path::Path;

use clap::Parser;
use common::{refusal_of, serve, whoami_router};
use licnode_pki::{ExpectedPeer, RefusalReason};
use serde_json::Value;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: pki_cli::PkiCommand,
}

/// Runs one `licnode pki` command line, with paths relative to `base`.
async fn pki(base: &Path, line: &str) -> anyhow::Result<()> {
    let arguments = line.split_whitespace().map(|word| {
        if word.starts_with("--") || !word.contains('/') {
            word.to_owned()
        } else {
            base.join(word).to_string_lossy().into_owned()
        }
    });
    let cli = Cli::try_parse_from(std::iter::once("licnode-pki".to_owned()).chain(arguments))?;
    pki_cli::run(cli.command).await
}

/// The setup of the README: the root, Zhejiang with its CA, and Xihu under it.
const HIERARCHY: &[&str] = &[
    "init-root --ca-dir national/pki/ca",
    "request --ca-dir zhejiang/pki/ca --code 330000 --level province",
    "sign --ca-dir national/pki/ca --csr zhejiang/pki/ca/request.csr --ca --out ./zhejiang-ca.crt",
    "install --ca-dir zhejiang/pki/ca --cert ./zhejiang-ca.crt --root national/pki/ca/root.crt",
    "request --dir ./zhejiang --code 330000 --level province",
    "sign --ca-dir national/pki/ca --csr zhejiang/pki/request.csr --out ./zhejiang.crt",
    "install --dir ./zhejiang --cert ./zhejiang.crt --root national/pki/ca/root.crt --crl national/pki/ca/crl.pem",
    "request --dir ./xihu --code 330106 --level county",
    "sign --ca-dir zhejiang/pki/ca --csr xihu/pki/request.csr --out ./xihu.crt",
    "install --dir ./xihu --cert ./xihu.crt --root national/pki/ca/root.crt --crl national/pki/ca/crl.pem --crl zhejiang/pki/ca/crl.pem",
];

async fn set_up(base: &Path) {
    for line in HIERARCHY {
        pki(base, line)
            .await
            .unwrap_or_else(|error| panic!("`licnode pki {line}` failed: {error:#}"));
    }
}

#[tokio::test]
async fn a_hierarchy_set_up_with_the_cli_connects_over_mutual_tls() {
    let temp = tempfile::tempdir().expect("temporary directory");
    set_up(temp.path()).await;
    let server = serve(&temp.path().join("zhejiang"), whoami_router()).await;
    let client = common::node_client(
        &temp.path().join("xihu"),
        ExpectedPeer::Code("330000".to_owned()),
    );

    let seen: Value = client
        .get_json(&server.url("/whoami"))
        .await
        .expect("Xihu is served");

    assert_eq!(seen["code"].as_str(), Some("330106"));
}

#[tokio::test]
async fn a_certificate_revoked_with_the_cli_is_refused_after_the_next_crl() {
    let temp = tempfile::tempdir().expect("temporary directory");
    set_up(temp.path()).await;
    let server = serve(&temp.path().join("zhejiang"), whoami_router()).await;
    pki(
        temp.path(),
        "revoke --ca-dir zhejiang/pki/ca --cert ./xihu.crt --reason key_compromise",
    )
    .await
    .expect("revoke");
    pki(temp.path(), "crl --ca-dir zhejiang/pki/ca")
        .await
        .expect("crl");
    server.tls.reload().expect("reload");
    let xihu = temp.path().join("xihu/pki");
    let chain = common::read(&xihu.join("node.crt"));
    let key = common::read(&xihu.join("node.key"));

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::Revoked));
}

#[tokio::test]
async fn the_cli_refuses_to_sign_outside_the_ca_subtree() {
    let temp = tempfile::tempdir().expect("temporary directory");
    set_up(temp.path()).await;
    pki(
        temp.path(),
        "request --dir ./xuanwu --code 320102 --level county",
    )
    .await
    .expect("request");

    let signed = pki(
        temp.path(),
        "sign --ca-dir zhejiang/pki/ca --csr xuanwu/pki/request.csr --out ./xuanwu.crt",
    )
    .await;

    assert!(signed.is_err());
}
