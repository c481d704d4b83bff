//! Node-to-node mutual TLS over loopback with certificates generated at test time: a valid
//! child reaches the handler as a typed identity; every defective certificate is refused during
//! the handshake and the refusal is logged with its reason.

mod common;

use std::time::SystemTime;

use common::{DAY, Hierarchy, intermediate, node_client, refusal_of, serve, whoami_router};
use licnode_model::Level;
use licnode_pki::ca::{IssueOptions, RevocationReason};
use licnode_pki::node;
use licnode_pki::{
    CertificateAuthority, ExpectedPeer, NodeTls, NodeTlsSettings, PeerClient, RefusalReason,
};
use serde_json::Value;

#[tokio::test]
async fn a_valid_child_is_accepted_and_its_handler_sees_the_typed_identity() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let client = node_client(
        &hierarchy.county_dir,
        ExpectedPeer::Code("330000".to_owned()),
    );

    let seen: Value = client
        .get_json(&server.url("/whoami"))
        .await
        .expect("the child is served");

    assert_eq!(
        (
            seen["code"].as_str(),
            seen["level"].as_str(),
            seen["issuer_code"].as_str()
        ),
        (Some("330106"), Some("county"), Some("330100"))
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_as_expired() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let now = SystemTime::now();
    let (chain, key) = hierarchy.leaf(
        "expired",
        "330106",
        Level::County,
        &hierarchy.prefecture_ca,
        &IssueOptions::node().valid_between(now - 30 * DAY, now - DAY),
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::Expired));
}

#[tokio::test]
async fn a_certificate_not_yet_valid_is_refused_as_not_yet_valid() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let now = SystemTime::now();
    let (chain, key) = hierarchy.leaf(
        "early",
        "330106",
        Level::County,
        &hierarchy.prefecture_ca,
        &IssueOptions::node().valid_between(now + DAY, now + 30 * DAY),
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::NotYetValid));
}

#[tokio::test]
async fn a_revoked_leaf_is_refused_as_revoked() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.leaf(
        "gongshu",
        "330105",
        Level::County,
        &hierarchy.prefecture_ca,
        &IssueOptions::node(),
    );
    hierarchy
        .prefecture_ca
        .revoke_certificate(&chain, RevocationReason::KeyCompromise)
        .expect("revoke");
    let crl = hierarchy.prefecture_ca.generate_crl().expect("crl");
    node::install_crl(&hierarchy.province_dir, &crl).expect("install crl");
    server.tls.reload().expect("reload");

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::Revoked));
}

#[tokio::test]
async fn a_leaf_under_a_revoked_intermediate_is_refused_as_revoked() {
    let hierarchy = Hierarchy::new();
    let ningbo_ca = intermediate(
        &hierarchy.path("ningbo-ca"),
        "330200",
        Level::Prefecture,
        &hierarchy.province_ca,
    );
    hierarchy.install_crls(&hierarchy.province_dir, &[&ningbo_ca]);
    let (chain, key) = hierarchy.leaf(
        "haishu",
        "330203",
        Level::County,
        &ningbo_ca,
        &IssueOptions::node(),
    );
    let ningbo_ca_pem = common::read(&ningbo_ca.dir().join("ca.crt"));
    hierarchy
        .province_ca
        .revoke_certificate(&ningbo_ca_pem, RevocationReason::CaCompromise)
        .expect("revoke the intermediate");
    // The province's own CA publishes into pki/ca/crl.pem, which its node reads.
    hierarchy.province_ca.generate_crl().expect("crl");
    let server = serve(&hierarchy.province_dir, whoami_router()).await;

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::Revoked));
}

#[tokio::test]
async fn a_certificate_from_another_root_is_refused_as_unknown_issuer() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let other_root =
        CertificateAuthority::init_root(&hierarchy.path("other-root")).expect("another root");
    let (chain, key) = hierarchy.leaf(
        "impostor",
        "330106",
        Level::County,
        &other_root,
        &IssueOptions::node(),
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::UnknownIssuer));
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;

    let reason = refusal_of(&server, None).await;

    assert_eq!(reason, Some(RefusalReason::NoClientCertificate));
}

#[tokio::test]
async fn a_ca_certificate_presented_as_a_node_certificate_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.ca_as_leaf(&hierarchy.prefecture_ca);

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::CaCertificateAsLeaf));
}

#[tokio::test]
async fn a_certificate_with_two_uri_sans_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.crafted_leaf(
        &hierarchy.prefecture_ca,
        "330106",
        Level::County,
        &["urn:licnode:node:330106", "urn:licnode:node:330105"],
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::MultipleUriSans));
}

#[tokio::test]
async fn a_certificate_from_a_prefecture_claiming_the_province_code_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.crafted_leaf(
        &hierarchy.prefecture_ca,
        "330000",
        Level::Province,
        &["urn:licnode:node:330000"],
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::CodeOutsideIssuerSubtree));
}

#[tokio::test]
async fn a_certificate_without_a_node_uri_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) =
        hierarchy.crafted_leaf(&hierarchy.prefecture_ca, "330106", Level::County, &[]);

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::MissingNodeUri));
}

#[tokio::test]
async fn a_node_certificate_whose_level_does_not_fit_its_code_is_refused() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.crafted_leaf(
        &hierarchy.prefecture_ca,
        "330106",
        Level::Prefecture,
        &["urn:licnode:node:330106"],
    );

    let reason = refusal_of(&server, Some((&chain, &key))).await;

    assert_eq!(reason, Some(RefusalReason::LevelMismatch));
}

#[tokio::test]
async fn a_refusal_is_kept_with_the_code_the_certificate_claimed() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let (chain, key) = hierarchy.crafted_leaf(
        &hierarchy.prefecture_ca,
        "330000",
        Level::Province,
        &["urn:licnode:node:330000"],
    );
    refusal_of(&server, Some((&chain, &key))).await;

    let claimed = server
        .tls
        .refusals()
        .recent()
        .last()
        .and_then(|record| record.claimed_code.clone());

    assert_eq!(claimed.as_deref(), Some("330000"));
}

#[tokio::test]
async fn a_client_dialling_the_wrong_node_refuses_it_as_unexpected() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&hierarchy.county_dir)).expect("tls");
    let client =
        PeerClient::for_node(&tls, ExpectedPeer::Code("330100".to_owned())).expect("client");
    let _refused: Result<Value, _> = client.get_json(&server.url("/whoami")).await;

    let reason = tls.refusals().recent().first().map(|record| record.reason);

    assert_eq!(reason, Some(RefusalReason::UnexpectedPeer));
}

#[tokio::test]
async fn nodes_speak_http2_negotiated_by_alpn() {
    let hierarchy = Hierarchy::new();
    let router = axum::Router::new().route(
        "/version",
        axum::routing::get(|request: axum::extract::Request| async move {
            axum::Json(format!("{:?}", request.version()))
        }),
    );
    let server = serve(&hierarchy.province_dir, router).await;
    let client = node_client(
        &hierarchy.county_dir,
        ExpectedPeer::Code("330000".to_owned()),
    );

    let version: String = client
        .get_json(&server.url("/version"))
        .await
        .expect("served");

    assert_eq!(version, "HTTP/2.0");
}
