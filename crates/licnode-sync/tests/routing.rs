//! Routing over a whole tree with `decide` as the only gate (issue 4, item 2): a record spreads
//! from its author along every link `decide` allows, and the nodes it reaches are exactly the
//! ones written down here from DOMAIN.md.
//!
//! The fixture tree (real division codes):
//!
//! ```text
//! 100000 national ─┬─ 330000 浙江 ─┬─ 330100 杭州 ─┬─ 330106 西湖
//!                  │               │               └─ 330108 滨江
//!                  │               └─ 330200 宁波
//!                  ├─ 320000 江苏 ─── 320100 南京 ─── 320102 玄武
//!                  ├─ RD0001 review department
//!                  └─ IB0001 inspection body
//! ```

use std::collections::BTreeSet;

use licnode_model::Level;
use licnode_sync::{Flow, Link, NodeRef, decide};

fn tree() -> (Vec<NodeRef>, Vec<(usize, usize)>) {
    let nodes = vec![
        NodeRef::national(),
        NodeRef::new("330000", Level::Province),
        NodeRef::new("330100", Level::Prefecture),
        NodeRef::new("330106", Level::County),
        NodeRef::new("330108", Level::County),
        NodeRef::new("330200", Level::Prefecture),
        NodeRef::new("320000", Level::Province),
        NodeRef::new("320100", Level::Prefecture),
        NodeRef::new("320102", Level::County),
        NodeRef::new("RD0001", Level::ReviewDepartment),
        NodeRef::new("IB0001", Level::InspectionBody),
    ];
    let code_index = |code: &str| nodes.iter().position(|node| node.code == code);
    let edges = [
        ("100000", "330000"),
        ("330000", "330100"),
        ("330100", "330106"),
        ("330100", "330108"),
        ("330000", "330200"),
        ("100000", "320000"),
        ("320000", "320100"),
        ("320100", "320102"),
        ("100000", "RD0001"),
        ("100000", "IB0001"),
    ]
    .iter()
    .filter_map(|(parent, child)| Some((code_index(parent)?, code_index(child)?)))
    .collect();
    (nodes, edges)
}

/// The nodes a record reaches from its author, sending along every link `decide` allows; each
/// hop is also checked to be accepted by its receiver.
fn reach(collection: &str, jurisdiction: &str, author: &str) -> BTreeSet<String> {
    let (nodes, edges) = tree();
    let Some(start) = nodes.iter().position(|node| node.code == author) else {
        panic!("no node {author}");
    };
    let author_node = nodes[start].clone();
    let mut holders = vec![start];
    let mut pending = vec![start];
    while let Some(holder) = pending.pop() {
        for &(parent, child) in &edges {
            let (neighbour, link) = if parent == holder {
                (child, Link::Child)
            } else if child == holder {
                (parent, Link::Parent)
            } else {
                continue;
            };
            let send = decide(
                &nodes[holder],
                &nodes[neighbour],
                link,
                Flow::Send,
                collection,
                jurisdiction,
                &author_node,
            );
            let receive = decide(
                &nodes[neighbour],
                &nodes[holder],
                link.reversed(),
                Flow::Receive,
                collection,
                jurisdiction,
                &author_node,
            );
            assert_eq!(send, receive, "{collection} {holder} → {neighbour}");
            if send.is_allowed() && !holders.contains(&neighbour) {
                holders.push(neighbour);
                pending.push(neighbour);
            }
        }
    }
    holders
        .into_iter()
        .map(|index| nodes[index].code.clone())
        .collect()
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|code| (*code).to_owned()).collect()
}

const EVERY_NODE: [&str; 11] = [
    "100000", "330000", "330100", "330106", "330108", "330200", "320000", "320100", "320102",
    "RD0001", "IB0001",
];

#[test]
fn what_a_county_creates_reaches_its_prefecture_province_and_the_national_node_only() {
    for collection in [
        "applications",
        "quality_archives",
        "supervision_reports",
        "reports",
    ] {
        assert_eq!(
            reach(collection, "330106", "330106"),
            set(&["330106", "330100", "330000", "100000"]),
            "{collection}"
        );
    }
}

#[test]
fn a_licence_reaches_the_national_node_and_every_bureau_whose_territory_holds_the_enterprise() {
    // Art. 12, 20, 29: the prefecture and the county of the enterprise keep its quality archive
    // and report on it, so they receive the licence (read-only) — and no sibling does.
    for author in ["330000", "100000"] {
        assert_eq!(
            reach("licences", "330106", author),
            set(&["100000", "330000", "330100", "330106"]),
            "issued by {author}"
        );
        assert_eq!(
            reach("licence_events", "330106", author),
            set(&["100000", "330000", "330100", "330106"]),
            "recorded by {author}"
        );
    }
}

#[test]
fn an_application_edited_at_any_level_reaches_every_bureau_that_keeps_it_and_no_sibling() {
    for author in ["330106", "330100", "330000", "100000"] {
        assert_eq!(
            reach("applications", "330106", author),
            set(&["330106", "330100", "330000", "100000"]),
            "edited at {author}"
        );
    }
}

#[test]
fn national_registries_reach_every_node() {
    for collection in ["reviewers", "review_departments", "inspection_bodies"] {
        assert_eq!(
            reach(collection, "100000", "100000"),
            set(&EVERY_NODE),
            "{collection}"
        );
    }
    assert_eq!(reach("publications", "100000", "100000"), set(&EVERY_NODE));
}

#[test]
fn a_provinces_publication_reaches_its_subtree_only() {
    assert_eq!(
        reach("publications", "330000", "330000"),
        set(&["330000", "330100", "330106", "330108", "330200"])
    );
}

#[test]
fn a_notice_addressed_to_a_province_reaches_that_provinces_subtree_and_no_other() {
    assert_eq!(
        reach("notices", "330000", "100000"),
        set(&["100000", "330000", "330100", "330106", "330108", "330200"])
    );
    // From a review department (Art. 25), through the national node.
    assert_eq!(
        reach("notices", "330000", "RD0001"),
        set(&[
            "RD0001", "100000", "330000", "330100", "330106", "330108", "330200"
        ])
    );
}

#[test]
fn a_notice_addressed_to_a_prefecture_reaches_its_subtree_and_goes_up_to_the_national_node() {
    let expected = set(&["330000", "100000", "330100", "330106", "330108"]);
    assert_eq!(reach("notices", "330100", "330000"), expected);
    // The prefecture's handling reply travels the same way.
    assert_eq!(reach("notices", "330100", "330100"), expected);
}

#[test]
fn inspection_results_reach_the_national_node_and_the_enterprises_province() {
    assert_eq!(
        reach("inspections", "330106", "IB0001"),
        set(&["IB0001", "100000", "330000"])
    );
}

#[test]
fn review_department_files_reach_the_national_node_only() {
    for collection in ["review_plans", "site_verifications"] {
        assert_eq!(
            reach(collection, "330106", "RD0001"),
            set(&["RD0001", "100000"]),
            "{collection}"
        );
    }
}

#[test]
fn letters_and_visits_stay_where_they_were_written() {
    assert_eq!(
        reach("letters_visits", "330000", "330000"),
        set(&["330000"])
    );
}

#[test]
fn a_record_forged_for_another_countys_jurisdiction_goes_nowhere() {
    assert_eq!(
        reach("quality_archives", "330108", "330106"),
        set(&["330106"])
    );
    assert_eq!(reach("licences", "330106", "330106"), set(&["330106"]));
}

#[test]
fn siblings_never_receive_each_others_records() {
    let collections: Vec<&str> = licnode_model::collections()
        .iter()
        .map(|collection| collection.name)
        .collect();
    for collection in collections {
        for (author, sibling) in [("330106", "330108"), ("330108", "330106")] {
            let reached = reach(collection, author, author);
            assert!(!reached.contains(sibling), "{collection}: {reached:?}");
        }
        let reached = reach(collection, "330000", "330000");
        assert!(!reached.contains("320000"), "{collection}: {reached:?}");
        assert!(!reached.contains("320102"), "{collection}: {reached:?}");
    }
}
