//! The authority matrix (issue 3 acceptance): for every collection × kind of peer × relation of
//! the record's jurisdiction × direction, the answer DOMAIN.md gives, written down here by hand
//! and checked against `decide`.
//!
//! How to read the table. Each row is one collection over one kind of tree edge of the fixture
//! (national 100000 › province 330000 › prefecture 330100 › county 330106; review department
//! RD0001 and inspection body IB0001 under national). `up` is a change the child made, moving
//! to the parent; `down` is a change the parent made, moving to the child. The columns are the
//! relation of the record's jurisdiction to the edge's child end (whose territory is in
//! question: its authority going up, its addressing going down), using these real codes:
//!
//! | edge                         | own    | descendant | ancestor | sibling | unrelated |
//! |------------------------------|--------|------------|----------|---------|-----------|
//! | national/province            | 330000 | 330106     | 100000   | 320000  | 320102    |
//! | province/prefecture          | 330100 | 330106     | 330000   | 330200  | 320102    |
//! | prefecture/county            | 330106 | (none)     | 330100   | 330108  | 320102    |
//! | national/review_department   | no territory: the national division 100000 is the     |
//! | national/inspection_body     | ancestor; 330106 and 330000 are unrelated              |
//!
//! Every cell is checked four ways, so that every kind of agency is the peer in both flows:
//! `up` as the child's Send to its parent and as the parent's Receive from its child; `down` as
//! the parent's Send to its child and as the child's Receive from its parent.
//!
//! Cells: `ok` allowed; otherwise the deny code — `local` collection_is_local, `dir`
//! wrong_direction, `author` author_not_allowed, `juris` outside_jurisdiction, `addr`
//! not_addressed_to_peer; `-` no such jurisdiction for this edge. The checks run in this order:
//! local, direction, the author's level, the author's jurisdiction, the addressing.
//!
//! Where the answers come from (DOMAIN.md, the regulation's articles):
//! - up-only collections (applications Art. 18, review plans Art. 21, site verifications Art. 22,
//!   refusals/licences/licence events Art. 19, 27, 28, quality archives and supervision reports
//!   Art. 20, reports Art. 18–20) go up. An edit made above comes back down only to a bureau
//!   that may write the collection itself and whose territory holds the record (`ok` for own
//!   and descendant, `addr` otherwise), so every node keeping a record converges on it; to a
//!   bureau that may not write it, or to an inspection body: `dir`; to a review department
//!   site verifications go down (those a province addresses to it, Art. 22, with its code as
//!   their jurisdiction: `src/authority/bodies_tests.rs`), so a national edit is refused as `author`;
//! - registries (reviewers, review departments, inspection bodies: Art. 15–17, 30–32) are written
//!   by the national node only and sent down to every node: `ok` down from national whatever the
//!   jurisdiction, `author` for any other writer, `dir` up;
//! - publications (Art. 33, 34): every bureau writes its own, sent down to every node below it;
//! - notices (Art. 24, 25, 29): up, and down into the addressed division's subtree only — a
//!   sibling is never addressed (`addr`);
//! - inspections (Art. 9, 23): only inspection bodies write them;
//! - letters and visits (Art. 14) stay where they are kept: `local`;
//! - destruction requests (Art. 37, 38): every bureau asks for its own territory; the request
//!   goes up and the superior's decision comes down into the requesting division only, like a
//!   notice. A review department or inspection body asks for the national division only
//!   (`juris` otherwise), and the national node's decision comes back down to it (`ok` for
//!   100000, `addr` otherwise);
//! - inspection-body change filings (Art. 26): a body writes its filing for the province whose
//!   opinion it needs, sent up and down to that province only (never below it: `addr`); the
//!   province answers with its opinion addressed to the body (its code as jurisdiction, checked
//!   in the crate's `authority/bodies_tests.rs`);
//! - a bureau writes only within its own territory: a county its own code, a prefecture or
//!   province its subtree (`juris` for ancestors, siblings and other branches); review
//!   departments and inspection bodies write nationwide what their articles give them.

use licnode_model::Level;
use licnode_sync::{Flow, Link, NodeRef, Relation, decide, relation};

const MATRIX: &str = "
# collection         edge                        | up:   own    desc   anc    sib    unrel | down: own    desc   anc    sib    unrel
applications         national/province           |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   addr
applications         province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   juris
applications         prefecture/county           |       ok     -      juris  juris  juris |       ok     -      addr   addr   juris
applications         national/review_department  |       -      -      author -      author|       -      -      dir    -      dir
applications         national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

review_plans         national/province           |       ok     ok     juris  juris  juris |       author author author author author
review_plans         province/prefecture         |       author author author author author|       dir    dir    dir    dir    dir
review_plans         prefecture/county           |       author -      author author author|       dir    -      dir    dir    dir
review_plans         national/review_department  |       -      -      ok     -      ok    |       -      -      dir    -      dir
review_plans         national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

site_verifications   national/province           |       ok     ok     juris  juris  juris |       author author author author author
site_verifications   province/prefecture         |       author author author author author|       dir    dir    dir    dir    dir
site_verifications   prefecture/county           |       author -      author author author|       dir    -      dir    dir    dir
site_verifications   national/review_department  |       -      -      ok     -      ok    |       -      -      author -      author
site_verifications   national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

inspections          national/province           |       author author author author author|       author author author author author
inspections          province/prefecture         |       author author author author author|       author author author author author
inspections          prefecture/county           |       author -      author author author|       author -      author author author
inspections          national/review_department  |       -      -      author -      author|       -      -      author -      author
inspections          national/inspection_body    |       -      -      ok     -      ok    |       -      -      author -      author

refusals             national/province           |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   addr
refusals             province/prefecture         |       author author author author author|       dir    dir    dir    dir    dir
refusals             prefecture/county           |       author -      author author author|       dir    -      dir    dir    dir
refusals             national/review_department  |       -      -      author -      author|       -      -      dir    -      dir
refusals             national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

licences             national/province           |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   addr
licences             province/prefecture         |       author author author author author|       ok     ok     ok     addr   juris
licences             prefecture/county           |       author -      author author author|       author -      author author author
licences             national/review_department  |       -      -      author -      author|       -      -      addr   -      addr
licences             national/inspection_body    |       -      -      author -      author|       -      -      addr   -      addr

licence_events       national/province           |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   addr
licence_events       province/prefecture         |       author author author author author|       ok     ok     ok     addr   juris
licence_events       prefecture/county           |       author -      author author author|       author -      author author author
licence_events       national/review_department  |       -      -      author -      author|       -      -      addr   -      addr
licence_events       national/inspection_body    |       -      -      author -      author|       -      -      addr   -      addr

quality_archives     national/province           |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   addr
quality_archives     province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   juris
quality_archives     prefecture/county           |       ok     -      juris  juris  juris |       ok     -      addr   addr   juris
quality_archives     national/review_department  |       -      -      author -      author|       -      -      dir    -      dir
quality_archives     national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

letters_visits       national/province           |       local  local  local  local  local |       local  local  local  local  local
letters_visits       province/prefecture         |       local  local  local  local  local |       local  local  local  local  local
letters_visits       prefecture/county           |       local  -      local  local  local |       local  -      local  local  local
letters_visits       national/review_department  |       -      -      local  -      local |       -      -      local  -      local
letters_visits       national/inspection_body    |       -      -      local  -      local |       -      -      local  -      local

reviewers            national/province           |       dir    dir    dir    dir    dir   |       ok     ok     ok     ok     ok
reviewers            province/prefecture         |       dir    dir    dir    dir    dir   |       author author author author author
reviewers            prefecture/county           |       dir    -      dir    dir    dir   |       author -      author author author
reviewers            national/review_department  |       -      -      dir    -      dir   |       -      -      ok     -      ok
reviewers            national/inspection_body    |       -      -      dir    -      dir   |       -      -      ok     -      ok

review_departments   national/province           |       dir    dir    dir    dir    dir   |       ok     ok     ok     ok     ok
review_departments   province/prefecture         |       dir    dir    dir    dir    dir   |       author author author author author
review_departments   prefecture/county           |       dir    -      dir    dir    dir   |       author -      author author author
review_departments   national/review_department  |       -      -      dir    -      dir   |       -      -      ok     -      ok
review_departments   national/inspection_body    |       -      -      dir    -      dir   |       -      -      ok     -      ok

inspection_bodies    national/province           |       dir    dir    dir    dir    dir   |       ok     ok     ok     ok     ok
inspection_bodies    province/prefecture         |       dir    dir    dir    dir    dir   |       author author author author author
inspection_bodies    prefecture/county           |       dir    -      dir    dir    dir   |       author -      author author author
inspection_bodies    national/review_department  |       -      -      dir    -      dir   |       -      -      ok     -      ok
inspection_bodies    national/inspection_body    |       -      -      dir    -      dir   |       -      -      ok     -      ok

notices              national/province           |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   addr
notices              province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   juris
notices              prefecture/county           |       author -      author author author|       ok     -      ok     addr   juris
notices              national/review_department  |       -      -      ok     -      ok    |       -      -      addr   -      addr
notices              national/inspection_body    |       -      -      author -      author|       -      -      addr   -      addr

publications         national/province           |       dir    dir    dir    dir    dir   |       ok     ok     ok     ok     ok
publications         province/prefecture         |       dir    dir    dir    dir    dir   |       ok     ok     ok     ok     juris
publications         prefecture/county           |       dir    -      dir    dir    dir   |       ok     -      ok     ok     juris
publications         national/review_department  |       -      -      dir    -      dir   |       -      -      ok     -      ok
publications         national/inspection_body    |       -      -      dir    -      dir   |       -      -      ok     -      ok

supervision_reports  national/province           |       ok     ok     juris  juris  juris |       author author author author author
supervision_reports  province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   juris
supervision_reports  prefecture/county           |       ok     -      juris  juris  juris |       ok     -      addr   addr   juris
supervision_reports  national/review_department  |       -      -      author -      author|       -      -      dir    -      dir
supervision_reports  national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

reports              national/province           |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   addr
reports              province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     addr   addr   juris
reports              prefecture/county           |       ok     -      juris  juris  juris |       ok     -      addr   addr   juris
reports              national/review_department  |       -      -      author -      author|       -      -      dir    -      dir
reports              national/inspection_body    |       -      -      author -      author|       -      -      dir    -      dir

destructions         national/province           |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   addr
destructions         province/prefecture         |       ok     ok     juris  juris  juris |       ok     ok     ok     addr   juris
destructions         prefecture/county           |       ok     -      juris  juris  juris |       ok     -      ok     addr   juris
destructions         national/review_department  |       -      -      ok     -      juris |       -      -      ok     -      addr
destructions         national/inspection_body    |       -      -      ok     -      juris |       -      -      ok     -      addr
inspection_body_filings national/province        |       ok     ok     juris  juris  juris |       author author author author author
inspection_body_filings province/prefecture      |       author author author author author|       addr   addr   addr   addr   juris
inspection_body_filings prefecture/county        |       author -      author author author|       author -      author author author
inspection_body_filings national/review_department |     -      -      author -      author|       -      -      author -      author
inspection_body_filings national/inspection_body |       -      -      ok     -      ok    |       -      -      author -      author
";

const RELATIONS: [Relation; 5] = [
    Relation::Own,
    Relation::Descendant,
    Relation::Ancestor,
    Relation::Sibling,
    Relation::Unrelated,
];

struct Edge {
    parent: NodeRef,
    child: NodeRef,
    /// The fixture jurisdictions for each relation, in `RELATIONS` order.
    jurisdictions: [&'static [&'static str]; 5],
}

fn edge(name: &str) -> Option<Edge> {
    let national = NodeRef::national();
    let zhejiang = NodeRef::new("330000", Level::Province);
    let hangzhou = NodeRef::new("330100", Level::Prefecture);
    let xihu = NodeRef::new("330106", Level::County);
    // A body's parent is the national node, whose division is its only "ancestor".
    let no_territory: [&'static [&'static str]; 5] =
        [&[], &[], &["100000"], &[], &["330106", "330000"]];
    Some(match name {
        "national/province" => Edge {
            parent: national,
            child: zhejiang,
            jurisdictions: [
                &["330000"],
                &["330106"],
                &["100000"],
                &["320000"],
                &["320102"],
            ],
        },
        "province/prefecture" => Edge {
            parent: zhejiang,
            child: hangzhou,
            jurisdictions: [
                &["330100"],
                &["330106"],
                &["330000"],
                &["330200"],
                &["320102"],
            ],
        },
        "prefecture/county" => Edge {
            parent: hangzhou,
            child: xihu,
            jurisdictions: [&["330106"], &[], &["330100"], &["330108"], &["320102"]],
        },
        "national/review_department" => Edge {
            parent: national,
            child: NodeRef::new("RD0001", Level::ReviewDepartment),
            jurisdictions: no_territory,
        },
        "national/inspection_body" => Edge {
            parent: national,
            child: NodeRef::new("IB0001", Level::InspectionBody),
            jurisdictions: no_territory,
        },
        _ => return None,
    })
}

/// The machine code a cell stands for (`None` = allowed).
fn expected_code(cell: &str) -> Option<&'static str> {
    match cell {
        "ok" => None,
        "local" => Some("collection_is_local"),
        "dir" => Some("wrong_direction"),
        "author" => Some("author_not_allowed"),
        "juris" => Some("outside_jurisdiction"),
        "addr" => Some("not_addressed_to_peer"),
        other => panic!("unknown cell {other:?} in the matrix"),
    }
}

struct Row<'a> {
    collection: &'a str,
    edge: &'a str,
    up: Vec<&'a str>,
    down: Vec<&'a str>,
}

fn rows() -> Vec<Row<'static>> {
    MATRIX
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let parts: Vec<&str> = line.split('|').collect();
            assert_eq!(parts.len(), 3, "malformed matrix line {line:?}");
            let head: Vec<&str> = parts[0].split_whitespace().collect();
            let up: Vec<&str> = parts[1].split_whitespace().collect();
            let down: Vec<&str> = parts[2].split_whitespace().collect();
            assert_eq!(head.len(), 2, "{line:?}");
            assert_eq!(up.len(), 5, "{line:?}");
            assert_eq!(down.len(), 5, "{line:?}");
            Row {
                collection: head[0],
                edge: head[1],
                up,
                down,
            }
        })
        .collect()
}

#[test]
fn the_matrix_covers_every_collection_over_every_kind_of_edge() {
    let rows = rows();
    let edges = [
        "national/province",
        "province/prefecture",
        "prefecture/county",
        "national/review_department",
        "national/inspection_body",
    ];
    for collection in licnode_model::collections() {
        let listed: Vec<&str> = rows
            .iter()
            .filter(|row| row.collection == collection.name)
            .map(|row| row.edge)
            .collect();
        assert_eq!(listed, edges, "{}", collection.name);
    }
    assert_eq!(rows.len(), licnode_model::collections().len() * edges.len());
}

#[test]
fn the_fixture_jurisdictions_stand_in_the_relation_their_column_names() {
    for name in [
        "national/province",
        "province/prefecture",
        "prefecture/county",
        "national/review_department",
        "national/inspection_body",
    ] {
        let Some(edge) = edge(name) else {
            panic!("no fixture for {name}");
        };
        for (relation_expected, jurisdictions) in RELATIONS.iter().zip(edge.jurisdictions) {
            for jurisdiction in jurisdictions {
                // A body has no division: `relation` finds every code unrelated to it; the
                // national division stands in the ancestor column as its parent's division.
                let relation_expected = if !edge.child.level.is_territorial() {
                    &Relation::Unrelated
                } else {
                    relation_expected
                };
                assert_eq!(
                    relation(&edge.child, jurisdiction),
                    *relation_expected,
                    "{jurisdiction} to {}",
                    edge.child
                );
            }
        }
    }
}

#[test]
fn every_cell_of_the_authority_matrix_is_what_the_regulation_says() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows() {
        let Some(edge) = edge(row.edge) else {
            panic!("unknown edge {:?}", row.edge);
        };
        for (index, relation_name) in RELATIONS.iter().enumerate() {
            let jurisdictions = edge.jurisdictions[index];
            for (movement, cell) in [("up", row.up[index]), ("down", row.down[index])] {
                if cell == "-" {
                    assert!(
                        jurisdictions.is_empty(),
                        "{} {} {movement} {relation_name:?}: a fixture exists, write its answer",
                        row.collection,
                        row.edge
                    );
                    continue;
                }
                assert!(
                    !jurisdictions.is_empty(),
                    "{} {} {movement} {relation_name:?}: no fixture for this cell",
                    row.collection,
                    row.edge
                );
                let expected = expected_code(cell);
                let (author, sender, receiver) = match movement {
                    "up" => (&edge.child, &edge.child, &edge.parent),
                    _ => (&edge.parent, &edge.parent, &edge.child),
                };
                let sender_link = if sender == &edge.child {
                    Link::Parent
                } else {
                    Link::Child
                };
                for jurisdiction in jurisdictions {
                    let asked = [
                        (
                            "send",
                            decide(
                                sender,
                                receiver,
                                sender_link,
                                Flow::Send,
                                row.collection,
                                jurisdiction,
                                author,
                            ),
                        ),
                        (
                            "receive",
                            decide(
                                receiver,
                                sender,
                                sender_link.reversed(),
                                Flow::Receive,
                                row.collection,
                                jurisdiction,
                                author,
                            ),
                        ),
                    ];
                    for (flow, decision) in asked {
                        checked += 1;
                        if decision.code() != expected {
                            failures.push(format!(
                                "{} {} {movement} {relation_name:?} ({jurisdiction}) on {flow}: \
                                 expected {}, got {} ({})",
                                row.collection,
                                row.edge,
                                expected.unwrap_or("allow"),
                                decision.code().unwrap_or("allow"),
                                decision
                                    .reason()
                                    .map(ToString::to_string)
                                    .unwrap_or_default(),
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 1000, "only {checked} decisions checked");
}
