//! The life of a node certificate: enrollment with a one-time token, renewal while serving,
//! stale CRLs failing closed, and issuing only within a CA's subtree.

mod common;

// The PKI endpoints of licnode-server, compiled here too so their round trip is tested with the
// library they wrap (the file uses only axum, serde_json, tokio, tracing and this crate).
#[path = "../../licnode-server/src/peer.rs"]
mod peer;

use std::time::{Duration, Instant, SystemTime};

use common::{
    DAY, Hierarchy, TestServer, node_client, refusal_of, serve, serve_with, whoami_router,
};
use licnode_model::Level;
use licnode_pki::ca::IssueOptions;
use licnode_pki::enroll::{self, EnrollmentRequest};
use licnode_pki::node::{self, NodePkiPaths};
use licnode_pki::{
    EnrollmentAuthority, EnrollmentError, ExpectedPeer, NodeTls, NodeTlsSettings, PkiError,
    RefusalReason,
};
use serde_json::Value;

fn province_authority(hierarchy: &Hierarchy) -> EnrollmentAuthority {
    let paths = NodePkiPaths::of_node_dir(&hierarchy.province_dir);
    EnrollmentAuthority::new(paths.ca_dir(), Some(paths.crls()))
}

#[tokio::test]
async fn a_stale_crl_makes_the_node_refuse_a_valid_child() {
    let hierarchy = Hierarchy::new();
    let stale = hierarchy
        .root
        .generate_crl_at(SystemTime::now() - 60 * DAY)
        .expect("an old CRL");
    let crl_path = NodePkiPaths::of_node_dir(&hierarchy.province_dir)
        .crls()
        .join("100000.crl.pem");
    std::fs::write(&crl_path, stale).expect("replace the root CRL");
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let county = hierarchy.county_dir.join("pki");
    let credentials = (
        common::read(&county.join("node.crt")),
        common::read(&county.join("node.key")),
    );

    let reason = refusal_of(&server, Some((&credentials.0, &credentials.1))).await;

    assert_eq!(reason, Some(RefusalReason::CrlStale));
}

#[tokio::test]
async fn the_crl_age_limit_is_configurable() {
    let hierarchy = Hierarchy::new();
    let settings = NodeTlsSettings {
        max_crl_age: Duration::from_secs(90 * 24 * 60 * 60),
        ..NodeTlsSettings::for_node_dir(&hierarchy.province_dir)
    };
    let stale = hierarchy
        .root
        .generate_crl_at(SystemTime::now() - 60 * DAY)
        .expect("an old CRL");
    let crl_path = NodePkiPaths::of_node_dir(&hierarchy.province_dir)
        .crls()
        .join("100000.crl.pem");
    std::fs::write(&crl_path, stale).expect("replace the root CRL");
    let server = serve_with(settings, whoami_router()).await;
    let client = node_client(
        &hierarchy.county_dir,
        ExpectedPeer::Code("330000".to_owned()),
    );

    let answer: Result<Value, _> = client.get_json(&server.url("/whoami")).await;

    assert!(answer.is_ok());
}

#[tokio::test]
async fn a_node_without_crls_refuses_every_peer() {
    let hierarchy = Hierarchy::new();
    let pki = NodePkiPaths::of_node_dir(&hierarchy.province_dir);
    std::fs::remove_dir_all(pki.crls()).expect("remove CRLs");
    std::fs::remove_file(pki.ca_dir().join("crl.pem")).expect("remove the own CRL");
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let county = hierarchy.county_dir.join("pki");
    let credentials = (
        common::read(&county.join("node.crt")),
        common::read(&county.join("node.key")),
    );

    let reason = refusal_of(&server, Some((&credentials.0, &credentials.1))).await;

    assert_eq!(reason, Some(RefusalReason::CrlMissing));
}

#[tokio::test]
async fn a_certificate_renewed_while_serving_is_presented_without_a_restart() {
    let hierarchy = Hierarchy::new();
    let server = serve(&hierarchy.province_dir, whoami_router()).await;
    let reloader = server.tls.spawn_reloader(Duration::from_millis(50));
    let county = hierarchy.county_dir.join("pki");
    let credentials = (
        common::read(&county.join("node.crt")),
        common::read(&county.join("node.key")),
    );
    let request =
        node::create_request(&hierarchy.province_dir, "330000", Level::Province).expect("request");
    let renewed = hierarchy
        .root
        .issue(&request.csr_pem, &IssueOptions::node())
        .expect("renewal");
    node::install_certificate(&hierarchy.province_dir, &renewed.chain_pem, None).expect("install");

    let served = wait_for_serial(&server, (&credentials.0, &credentials.1), &renewed.serial).await;
    reloader.abort();

    assert_eq!(served.as_deref(), Some(renewed.serial.as_str()));
}

async fn wait_for_serial(
    server: &TestServer,
    credentials: (&str, &str),
    wanted: &str,
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let served = common::served_serial(server.addr, credentials).await;
        if served.as_deref() == Some(wanted) || Instant::now() > deadline {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_enrollment_token_works_once_and_is_refused_the_second_time() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let token = enroll::create_token(
        &hierarchy.province_ca,
        "330110",
        Level::County,
        Duration::from_secs(3600),
    )
    .expect("token");
    let request =
        node::create_request(&hierarchy.path("yuhang"), "330110", Level::County).expect("request");
    let enrollment = EnrollmentRequest {
        token: token.token.clone(),
        csr_pem: request.csr_pem.clone(),
    };
    authority.enroll(&enrollment).expect("the first use works");

    let second = authority.enroll(&enrollment);

    assert!(matches!(second, Err(EnrollmentError::TokenUsed)));
}

#[tokio::test]
async fn an_enrollment_token_is_refused_for_another_code() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let token = enroll::create_token(
        &hierarchy.province_ca,
        "330110",
        Level::County,
        Duration::from_secs(3600),
    )
    .expect("token");
    let request =
        node::create_request(&hierarchy.path("fuyang"), "330111", Level::County).expect("request");

    let answer = authority.enroll(&EnrollmentRequest {
        token: token.token,
        csr_pem: request.csr_pem,
    });

    assert!(matches!(answer, Err(EnrollmentError::TokenMismatch { .. })));
}

#[tokio::test]
async fn an_expired_enrollment_token_is_refused() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let token = enroll::create_token(
        &hierarchy.province_ca,
        "330110",
        Level::County,
        Duration::ZERO,
    )
    .expect("token");
    let request =
        node::create_request(&hierarchy.path("yuhang"), "330110", Level::County).expect("request");

    let answer = authority.enroll(&EnrollmentRequest {
        token: token.token,
        csr_pem: request.csr_pem,
    });

    assert!(matches!(answer, Err(EnrollmentError::TokenExpired)));
}

#[tokio::test]
async fn a_province_cannot_issue_a_token_for_another_province() {
    let hierarchy = Hierarchy::new();

    let token = enroll::create_token(
        &hierarchy.province_ca,
        "320106",
        Level::County,
        Duration::from_secs(3600),
    );

    assert!(matches!(token, Err(PkiError::OutsideSubtree { .. })));
}

#[tokio::test]
async fn a_prefecture_ca_refuses_to_sign_for_a_county_of_another_prefecture() {
    let hierarchy = Hierarchy::new();
    let request =
        node::create_request(&hierarchy.path("haishu"), "330203", Level::County).expect("request");

    let issued = hierarchy
        .prefecture_ca
        .issue(&request.csr_pem, &IssueOptions::node());

    assert!(matches!(issued, Err(PkiError::OutsideSubtree { .. })));
}

#[tokio::test]
async fn a_province_ca_refuses_to_sign_for_an_inspection_body() {
    let hierarchy = Hierarchy::new();
    let request = node::create_request(&hierarchy.path("ib"), "IB0001", Level::InspectionBody)
        .expect("request");

    let issued = hierarchy
        .province_ca
        .issue(&request.csr_pem, &IssueOptions::node());

    assert!(matches!(issued, Err(PkiError::OutsideSubtree { .. })));
}

#[tokio::test]
async fn the_national_ca_signs_for_an_inspection_body() {
    let hierarchy = Hierarchy::new();
    let request = node::create_request(&hierarchy.path("ib"), "IB0001", Level::InspectionBody)
        .expect("request");

    let issued = hierarchy
        .root
        .issue(&request.csr_pem, &IssueOptions::node());

    assert!(issued.is_ok());
}

#[tokio::test]
async fn a_prefecture_ca_refuses_to_create_a_ca() {
    let hierarchy = Hierarchy::new();
    let request =
        node::create_authority_request(&hierarchy.path("ningbo-ca"), "330200", Level::Prefecture)
            .expect("request");

    let issued = hierarchy
        .prefecture_ca
        .issue(&request.csr_pem, &IssueOptions::authority());

    assert!(issued.is_err());
}

#[tokio::test]
async fn a_county_cannot_request_a_ca() {
    let hierarchy = Hierarchy::new();

    let request =
        node::create_authority_request(&hierarchy.path("xihu-ca"), "330106", Level::County);

    assert!(request.is_err());
}

#[tokio::test]
async fn a_child_enrolls_over_tls_and_is_then_accepted_over_mutual_tls() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let enrollment_server = serve_enrollment(&hierarchy, authority).await;
    let peer_server = serve(&hierarchy.province_dir, whoami_router()).await;
    let child_dir = hierarchy.path("yuhang");
    let token = enroll::create_token(
        &hierarchy.province_ca,
        "330110",
        Level::County,
        Duration::from_secs(3600),
    )
    .expect("token");
    node::create_request(&child_dir, "330110", Level::County).expect("request");
    let root_pem = hierarchy.root.root_pem().expect("root");
    enroll::enroll(&child_dir, &enrollment_server.url, &root_pem, &token.token)
        .await
        .expect("enrollment");
    let client = node_client(&child_dir, ExpectedPeer::Code("330000".to_owned()));

    let seen: Value = client
        .get_json(&peer_server.url("/whoami"))
        .await
        .expect("the enrolled child is served");

    assert_eq!(seen["code"].as_str(), Some("330110"));
}

#[tokio::test]
async fn an_enrollment_endpoint_answers_a_reused_token_with_its_error_code() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let enrollment_server = serve_enrollment(&hierarchy, authority).await;
    let token = enroll::create_token(
        &hierarchy.province_ca,
        "330110",
        Level::County,
        Duration::from_secs(3600),
    )
    .expect("token");
    let root_pem = hierarchy.root.root_pem().expect("root");
    let first_dir = hierarchy.path("yuhang");
    node::create_request(&first_dir, "330110", Level::County).expect("request");
    enroll::enroll(&first_dir, &enrollment_server.url, &root_pem, &token.token)
        .await
        .expect("first enrollment");
    let second_dir = hierarchy.path("yuhang-again");
    node::create_request(&second_dir, "330110", Level::County).expect("request");

    let second = enroll::enroll(&second_dir, &enrollment_server.url, &root_pem, &token.token).await;

    assert!(matches!(
        second,
        Err(enroll::EnrollError::Client(licnode_pki::ClientError::Refused { ref code, .. }))
            if code == "enrollment_token_used"
    ));
}

#[tokio::test]
async fn a_child_renews_over_mutual_tls_and_is_then_seen_with_its_new_certificate() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let router = whoami_router().merge(peer::peer_pki_router(authority));
    let server = serve(&hierarchy.province_dir, router).await;
    // Xihu's certificate came from Hangzhou; the province may renew it (its subtree).
    let child_tls =
        NodeTls::load(NodeTlsSettings::for_node_dir(&hierarchy.county_dir)).expect("tls");
    let child_reloader = child_tls.spawn_reloader(Duration::from_millis(50));
    let client =
        licnode_pki::PeerClient::for_node(&child_tls, ExpectedPeer::Code("330000".to_owned()))
            .expect("client");
    node::create_request(&hierarchy.county_dir, "330106", Level::County).expect("request");
    let renewed = enroll::renew(&hierarchy.county_dir, &client, &server.url(""))
        .await
        .expect("renewal");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child_tls.own_identity().serial != renewed.serial && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A fresh client: the pooled connection still carries the old certificate.
    let fresh =
        licnode_pki::PeerClient::for_node(&child_tls, ExpectedPeer::Code("330000".to_owned()))
            .expect("client");

    let seen: Value = fresh
        .get_json(&server.url("/whoami"))
        .await
        .expect("served");
    child_reloader.abort();

    assert_eq!(seen["serial"].as_str(), Some(renewed.serial.as_str()));
}

#[tokio::test]
async fn a_child_cannot_renew_a_certificate_for_another_code() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let router = whoami_router().merge(peer::peer_pki_router(authority));
    let server = serve(&hierarchy.province_dir, router).await;
    let client = node_client(
        &hierarchy.county_dir,
        ExpectedPeer::Code("330000".to_owned()),
    );
    node::create_request(&hierarchy.county_dir, "330105", Level::County).expect("request");

    let renewed = enroll::renew(&hierarchy.county_dir, &client, &server.url("")).await;

    assert!(matches!(
        renewed,
        Err(enroll::EnrollError::Client(licnode_pki::ClientError::Refused { ref code, .. }))
            if code == "renewal_not_allowed"
    ));
}

#[tokio::test]
async fn a_child_fetches_its_parents_crls_over_mutual_tls() {
    let hierarchy = Hierarchy::new();
    let authority = province_authority(&hierarchy);
    let router = whoami_router().merge(peer::peer_pki_router(authority));
    let server = serve(&hierarchy.province_dir, router).await;
    let client = node_client(
        &hierarchy.county_dir,
        ExpectedPeer::Code("330000".to_owned()),
    );

    let mut issuers = enroll::refresh_crls(&hierarchy.county_dir, &client, &server.url(""))
        .await
        .expect("CRLs");
    issuers.sort();

    assert_eq!(issuers, ["100000", "330000", "330100"]);
}

struct EnrollmentServer {
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve_enrollment(
    hierarchy: &Hierarchy,
    authority: EnrollmentAuthority,
) -> EnrollmentServer {
    let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&hierarchy.province_dir)).expect("tls");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("https://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(licnode_pki::serve_server_tls(
        listener,
        tls,
        peer::enrollment_router(authority),
        async move {
            let _ = stopped.await;
        },
    ));
    EnrollmentServer { url, _stop: stop }
}

#[tokio::test]
async fn a_node_stopped_halfway_through_an_installation_starts_with_its_new_certificate() {
    let hierarchy = Hierarchy::new();
    let paths = NodePkiPaths::of_node_dir(&hierarchy.county_dir);
    let request =
        node::create_request(&hierarchy.county_dir, "330106", Level::County).expect("request");
    let renewed = hierarchy
        .prefecture_ca
        .issue(&request.csr_pem, &IssueOptions::node())
        .expect("renewal");
    // What install_certificate leaves if it stops after moving the key.
    std::fs::write(paths.pending_certificate(), &renewed.chain_pem).expect("pending chain");
    std::fs::rename(paths.request_key(), paths.key()).expect("key in place");

    let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&hierarchy.county_dir)).expect("load");

    assert_eq!(tls.own_identity().serial, renewed.serial);
}
