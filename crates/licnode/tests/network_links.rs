//! The state of the network's links travels up with replication (issue 12 item 7): a county
//! (330106) reports its link to its province (330000) at the end of its session; the province
//! reports its own links and relays the county's at the end of its session with national
//! (100000), so national sees the county↔province link without ever talking to the county.
//! A parent keeps reports only from a direct child and only about links in its subtree.

mod support;

use std::path::Path;

use licnode::sync_cli::session;
use licnode::{Config, Node, NodeHandle};
use licnode_pki::{ClientError, ExpectedPeer, PeerClient};
use licnode_server::links::{LINKS_RELAY_PATH, LinkRelayRequest, LinkRelayResponse};
use licnode_store::link_reports::{LinkDirection, LinkReport};
use support::{NATIONAL, XIHU, ZHEJIANG};

fn node_config(dir: &Path, name: &str, parent_url: Option<String>) -> Config {
    let mut config = Config::load(&dir.join(name).join("licnode.toml")).expect("config");
    config.node.parent_url = parent_url;
    config.sync.enabled = false;
    config
}

fn report(node: &str, peer: &str, direction: LinkDirection) -> LinkReport {
    LinkReport {
        node: node.into(),
        peer: peer.into(),
        direction,
        last_success_ms: Some(licnode_store::now_ms()),
        lag_up: Some(0),
        lag_down: Some(0),
        consecutive_failures: Some(0),
        quarantined: Some(0),
        acknowledged: None,
        pulled: None,
        reported_at_ms: licnode_store::now_ms(),
    }
}

/// A province reporting another province's link is refused whole, nothing kept; a county,
/// which is no child of national, is refused at its first request.
async fn refuses_reports_from_outside_a_subtree(
    national: &NodeHandle,
    zhejiang: &NodeHandle,
    xihu: &NodeHandle,
    national_url: &str,
) {
    // The province may not report another province's link: refused whole, nothing kept.
    let province_client = PeerClient::for_node(
        zhejiang.tls().expect("tls"),
        ExpectedPeer::Code("100000".into()),
    )
    .expect("client");
    let before = national
        .archive()
        .network_links(licnode_store::now_ms(), 1)
        .await
        .expect("links")
        .reported_total;
    let foreign = LinkRelayRequest {
        reports: vec![
            report("330000", "100000", LinkDirection::Parent),
            report("320106", "320000", LinkDirection::Parent),
        ],
    };
    let refused: Result<LinkRelayResponse, ClientError> = province_client
        .post_json(&format!("{national_url}{LINKS_RELAY_PATH}"), &foreign)
        .await;
    match refused {
        Err(ClientError::Refused { status, code, .. }) => {
            assert_eq!(
                (status, code.as_str()),
                (403, "link_report_outside_subtree")
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let after = national
        .archive()
        .network_links(licnode_store::now_ms(), 1)
        .await
        .expect("links")
        .reported_total;
    assert_eq!(before, after);

    // The county is no child of national: refused at its first request.
    let county_client = PeerClient::for_node(
        xihu.tls().expect("tls"),
        ExpectedPeer::Code("100000".into()),
    )
    .expect("client");
    let own_only = LinkRelayRequest {
        reports: vec![report("330106", "330000", LinkDirection::Parent)],
    };
    let refused: Result<LinkRelayResponse, ClientError> = county_client
        .post_json(&format!("{national_url}{LINKS_RELAY_PATH}"), &own_only)
        .await;
    match refused {
        Err(ClientError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "not_a_child"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// National holds the county's report of its link up, the province's side of that link and
/// the province's own link up, and knows its own side of its link to the province.
async fn national_holds_every_link(national: &NodeHandle) {
    let links = national
        .archive()
        .network_links(licnode_store::now_ms(), 1)
        .await
        .expect("links");
    let reported = |node: &str, peer: &str| {
        links
            .reported
            .iter()
            .find(|held| held.report.node == node && held.report.peer == peer)
            .map(|held| held.report.clone())
    };
    let county_link = reported("330106", "330000").expect("the county's link to its province");
    assert_eq!(county_link.direction, LinkDirection::Parent);
    assert_eq!(county_link.lag_up, Some(0), "{county_link:?}");
    assert_eq!(county_link.consecutive_failures, Some(0));
    assert!(county_link.last_success_ms.is_some());
    assert!(
        county_link.acknowledged.is_some_and(|seq| seq > 0),
        "{county_link:?}"
    );
    let province_side = reported("330000", "330106").expect("the province's side of that link");
    assert_eq!(province_side.direction, LinkDirection::Child);
    assert_eq!(province_side.quarantined, Some(0));
    let province_up = reported("330000", "100000").expect("the province's link to national");
    assert_eq!(province_up.direction, LinkDirection::Parent);
    // National's own side of its link to the province.
    assert!(
        links
            .own
            .iter()
            .any(|own| own.node == "100000" && own.peer == "330000"),
        "{:?}",
        links.own
    );
}

/// The province's own links: up, as its sync loop saved the link's state, and down to the
/// county, as this end knows it.
async fn province_knows_its_own_links(zhejiang: &NodeHandle) {
    zhejiang
        .archive()
        .store_for_tests()
        .save_link_state(
            "parent",
            &serde_json::json!({ "last_success_ms": 5, "consecutive_failures": 2,
                                 "acknowledged": 1, "pulled_last_session": 0 }),
        )
        .await
        .expect("link state");
    let own = zhejiang
        .archive()
        .network_links(licnode_store::now_ms(), 1)
        .await
        .expect("links")
        .own;
    let up = own
        .iter()
        .find(|link| link.peer == "100000")
        .expect("the province's link up");
    assert_eq!(
        (up.direction, up.consecutive_failures, up.last_success_ms),
        (LinkDirection::Parent, Some(2), Some(5))
    );
    assert!(
        own.iter()
            .any(|link| link.peer == "330106" && link.direction == LinkDirection::Child)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_sees_the_county_province_link_after_two_sessions_and_refuses_reports_from_outside_a_subtree()
 {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || support::issue_tree(&root, &[NATIONAL, ZHEJIANG, XIHU]))
        .await
        .expect("tree");
    let dir = dir.path();
    let national = Node::start(&node_config(dir, "national", None))
        .await
        .expect("national");
    let national_url = format!("https://{}", national.peer_addr().expect("peer"));
    let zhejiang = Node::start(&node_config(dir, "zhejiang", Some(national_url.clone())))
        .await
        .expect("zhejiang");
    let zhejiang_url = format!("https://{}", zhejiang.peer_addr().expect("peer"));
    let xihu = Node::start(&node_config(dir, "xihu", Some(zhejiang_url.clone())))
        .await
        .expect("xihu");

    let model = licnode_model::collection("quality_archives").expect("collection");
    xihu.archive()
        .create(
            "quality_archives",
            Some("330106"),
            &licnode_gen::Generator::new(7).record(model, "330106"),
            &licnode_app::Author::clerk("clerk"),
        )
        .await
        .expect("create");

    // Session one: the county with its province. Session two: the province with national.
    session(xihu.archive(), xihu.tls().expect("tls"), &zhejiang_url)
        .await
        .expect("county session");
    session(
        zhejiang.archive(),
        zhejiang.tls().expect("tls"),
        &national_url,
    )
    .await
    .expect("province session");

    national_holds_every_link(&national).await;

    province_knows_its_own_links(&zhejiang).await;

    // The county's newest change reached the province: its record page at the county says so.
    let record = xihu
        .archive()
        .list(&licnode_store::ListQuery {
            collection: "quality_archives".into(),
            limit: 1,
            ..licnode_store::ListQuery::default()
        })
        .await
        .expect("list")
        .items
        .remove(0);
    let travel = xihu.archive().travel(&record).await.expect("travel");
    assert_eq!(travel.len(), 1, "{travel:?}");
    assert_eq!(travel[0].peer, "330000");
    assert_eq!(
        travel[0].state,
        licnode_app::network::TravelState::Acknowledged
    );

    refuses_reports_from_outside_a_subtree(&national, &zhejiang, &xihu, &national_url).await;

    xihu.shutdown().await.expect("shutdown");
    zhejiang.shutdown().await.expect("shutdown");
    national.shutdown().await.expect("shutdown");
}
