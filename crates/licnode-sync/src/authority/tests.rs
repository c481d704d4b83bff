//! Unit tests of the authority table and `decide`, named as the rules they pin down. The full
//! matrix is in `tests/authority_matrix.rs`, the routing over a whole tree in `tests/routing.rs`.

use super::*;
use licnode_model::Level::{County, InspectionBody, Prefecture, Province, ReviewDepartment};
use proptest::prelude::*;

fn national() -> NodeRef {
    NodeRef::national()
}
fn zhejiang() -> NodeRef {
    NodeRef::new("330000", Province)
}
fn jiangsu() -> NodeRef {
    NodeRef::new("320000", Province)
}
fn hangzhou() -> NodeRef {
    NodeRef::new("330100", Prefecture)
}
fn xihu() -> NodeRef {
    NodeRef::new("330106", County)
}
fn binjiang() -> NodeRef {
    NodeRef::new("330108", County)
}
fn review_department() -> NodeRef {
    NodeRef::new("RD0001", ReviewDepartment)
}
fn inspection_body() -> NodeRef {
    NodeRef::new("IB0001", InspectionBody)
}

// ---------------------------------------------------------------------------------------------
// The table.

#[test]
fn every_model_collection_has_exactly_one_rule_and_every_rule_a_collection() {
    let model: Vec<&str> = licnode_model::collections()
        .iter()
        .map(|collection| collection.name)
        .collect();
    let table: Vec<&str> = rules().iter().map(|rule| rule.collection).collect();
    assert_eq!(table, model);
}

#[test]
fn every_rule_and_every_author_cites_articles_of_the_regulation() {
    for rule in rules() {
        assert!(!rule.authors.is_empty(), "{}", rule.collection);
        assert!(!rule.route_articles.is_empty(), "{}", rule.collection);
        let levels: std::collections::HashSet<Level> =
            rule.authors.iter().map(|author| author.level).collect();
        assert_eq!(levels.len(), rule.authors.len(), "{}", rule.collection);
        for author in rule.authors {
            assert!(
                !author.articles.is_empty(),
                "{} {}",
                rule.collection,
                author.level
            );
            assert!(
                author
                    .articles
                    .iter()
                    .all(|article| (1..=40).contains(article))
            );
            // Bureaus write for their territory; the kinds without one, nationwide.
            // Their own destruction requests carry the national division (Art. 37, 38).
            let expected = if author.level.is_territorial() {
                Scope::Territory
            } else if rule.collection == "destructions" {
                Scope::NationalDivision
            } else {
                Scope::Nationwide
            };
            assert_eq!(
                author.scope, expected,
                "{} {}",
                rule.collection, author.level
            );
        }
    }
}

/// The model's `authoring_levels` and `direction` are advisory; this table is what replication
/// enforces. These are the places they differ, each reported to be fixed in the model. When the
/// model is brought in line, remove the line here.
#[test]
fn the_model_differs_from_the_authority_table_only_where_reported() {
    let mut differences = Vec::new();
    for rule in rules() {
        let Some(collection) = licnode_model::collection(rule.collection) else {
            differences.push(format!("{}: not in the model", rule.collection));
            continue;
        };
        if collection.direction != rule.route.direction() {
            differences.push(format!(
                "{}: direction {:?} in the model, {:?} here",
                rule.collection,
                collection.direction,
                rule.route.direction()
            ));
        }
        let mut model_levels: Vec<Level> = collection.authoring_levels.to_vec();
        let mut table_levels: Vec<Level> = rule.authors.iter().map(|author| author.level).collect();
        model_levels.sort();
        table_levels.sort();
        if model_levels != table_levels {
            differences.push(format!(
                "{}: authors {model_levels:?} in the model, {table_levels:?} here",
                rule.collection
            ));
        }
    }
    assert_eq!(
        differences,
        [
            "inspections: direction Up in the model, Both here",
            "letters_visits: direction Up in the model, Local here",
            "notices: authors [National, Province, ReviewDepartment] in the model, \
             [National, Province, Prefecture, ReviewDepartment] here",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Relations.

#[test]
fn relations_follow_the_division_tree() {
    assert_eq!(relation(&xihu(), "330106"), Relation::Own);
    assert_eq!(relation(&zhejiang(), "330106"), Relation::Descendant);
    assert_eq!(relation(&national(), "320102"), Relation::Descendant);
    assert_eq!(relation(&xihu(), "330100"), Relation::Ancestor);
    assert_eq!(relation(&xihu(), "100000"), Relation::Ancestor);
    assert_eq!(relation(&xihu(), "330108"), Relation::Sibling);
    assert_eq!(relation(&zhejiang(), "320000"), Relation::Sibling);
    assert_eq!(relation(&xihu(), "320102"), Relation::Unrelated);
    // An aunt is not a sibling: Ningbo (330200) to Xihu (under Hangzhou).
    assert_eq!(relation(&xihu(), "330200"), Relation::Unrelated);
}

#[test]
fn review_departments_and_inspection_bodies_have_no_territory() {
    for node in [review_department(), inspection_body()] {
        for jurisdiction in ["100000", "330000", "330106"] {
            assert_eq!(relation(&node, jurisdiction), Relation::Unrelated);
        }
    }
}

#[test]
fn an_unknown_jurisdiction_is_unrelated_to_every_node() {
    assert_eq!(relation(&national(), "999999"), Relation::Unrelated);
    assert_eq!(relation(&xihu(), ""), Relation::Unrelated);
}

// ---------------------------------------------------------------------------------------------
// The cases the issues name.

#[test]
fn a_county_writing_a_record_of_another_countys_jurisdiction_is_denied_on_receive_at_its_parent() {
    let decision = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330108",
        &xihu(),
    );
    assert_eq!(decision.code(), Some("outside_jurisdiction"));
    // And its own jurisdiction is accepted.
    let own = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330106",
        &xihu(),
    );
    assert_eq!(own, Decision::Allow);
}

#[test]
fn a_notice_addressed_to_330000_is_sent_to_child_330100_but_not_to_child_320000_of_national() {
    let notice = |local: &NodeRef, child: &NodeRef| {
        decide(
            local,
            child,
            Link::Child,
            Flow::Send,
            "notices",
            "330000",
            &national(),
        )
    };
    assert_eq!(notice(&national(), &zhejiang()), Decision::Allow);
    assert_eq!(notice(&zhejiang(), &hangzhou()), Decision::Allow);
    assert_eq!(notice(&hangzhou(), &xihu()), Decision::Allow);
    assert_eq!(
        notice(&national(), &jiangsu()).code(),
        Some("not_addressed_to_peer")
    );
}

#[test]
fn a_sibling_county_never_receives_another_countys_licence() {
    // Licences go down only into the territory that holds the enterprise (Art. 12, 29):
    // Hangzhou does not send Binjiang's licence to Xihu …
    let send = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Send,
        "licences",
        "330108",
        &zhejiang(),
    );
    assert_eq!(send.code(), Some("not_addressed_to_peer"));
    // … nor would Xihu accept it.
    let receive = decide(
        &xihu(),
        &hangzhou(),
        Link::Parent,
        Flow::Receive,
        "licences",
        "330108",
        &zhejiang(),
    );
    assert_eq!(receive.code(), Some("not_addressed_to_peer"));
    // Binjiang's own records (a quality archive) are not relayed sideways either: quality
    // archives come back down only into the territory that holds them …
    let sideways = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Send,
        "quality_archives",
        "330108",
        &binjiang(),
    );
    assert_eq!(sideways.code(), Some("not_addressed_to_peer"));
    // … nor is a prefecture's edit of Binjiang's archive sent to Xihu.
    let edited_above = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Send,
        "quality_archives",
        "330108",
        &hangzhou(),
    );
    assert_eq!(edited_above.code(), Some("not_addressed_to_peer"));
}

#[test]
fn an_edit_made_above_comes_back_down_to_the_county_that_keeps_the_record() {
    // Xihu's application, edited at the province, reaches Xihu through Hangzhou.
    for (sender, receiver) in [(zhejiang(), hangzhou()), (hangzhou(), xihu())] {
        let decision = decide(
            &sender,
            &receiver,
            Link::Child,
            Flow::Send,
            "applications",
            "330106",
            &zhejiang(),
        );
        assert_eq!(decision, Decision::Allow, "{sender} -> {receiver}");
    }
    // Xihu's own change is never echoed back to it.
    let echo = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Send,
        "applications",
        "330106",
        &xihu(),
    );
    assert_eq!(echo.code(), Some("author_not_on_sender_side"));
    // Art. 12, 20, 29: a province's licence of a county enterprise reaches that county as a
    // read-only copy (the county may not write licences).
    let licence = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Send,
        "licences",
        "330106",
        &zhejiang(),
    );
    assert_eq!(licence, Decision::Allow);
    let county = NodeRef::new("330106", Level::County);
    assert!(matches!(
        may_author(&county, "licences", "330106"),
        Decision::Deny { .. }
    ));
    // A national revocation of a Zhejiang licence reaches Zhejiang, and not Jiangsu.
    let revocation = |receiver: &NodeRef| {
        decide(
            &national(),
            receiver,
            Link::Child,
            Flow::Send,
            "licences",
            "330106",
            &national(),
        )
    };
    assert_eq!(revocation(&zhejiang()), Decision::Allow);
    assert_eq!(revocation(&jiangsu()).code(), Some("not_addressed_to_peer"));
}

#[test]
fn national_registries_flow_to_every_child() {
    for collection in ["reviewers", "review_departments", "inspection_bodies"] {
        for child in [
            zhejiang(),
            jiangsu(),
            review_department(),
            inspection_body(),
        ] {
            let decision = decide(
                &national(),
                &child,
                Link::Child,
                Flow::Send,
                collection,
                "100000",
                &national(),
            );
            assert_eq!(decision, Decision::Allow, "{collection} to {child}");
        }
        // Relayed down the tree unchanged.
        for (parent, child) in [(zhejiang(), hangzhou()), (hangzhou(), xihu())] {
            for flow in [Flow::Send, Flow::Receive] {
                let (local, peer, link) = match flow {
                    Flow::Send => (&parent, &child, Link::Child),
                    Flow::Receive => (&child, &parent, Link::Parent),
                };
                let decision = decide(local, peer, link, flow, collection, "100000", &national());
                assert_eq!(
                    decision,
                    Decision::Allow,
                    "{collection} {parent} to {child}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Relays, forgeries, echoes.

#[test]
fn a_county_record_is_relayed_up_by_its_prefecture_and_province() {
    for (local, parent) in [(hangzhou(), zhejiang()), (zhejiang(), national())] {
        let decision = decide(
            &local,
            &parent,
            Link::Parent,
            Flow::Send,
            "applications",
            "330106",
            &xihu(),
        );
        assert_eq!(decision, Decision::Allow, "{local} to {parent}");
    }
}

#[test]
fn a_child_cannot_pass_off_a_change_authored_outside_its_subtree() {
    // Xihu sends a quality archive "authored" by Binjiang, of Binjiang's jurisdiction.
    let decision = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330108",
        &binjiang(),
    );
    assert_eq!(decision.code(), Some("author_not_on_sender_side"));
    // A province cannot relay a review department's change: those go straight to national.
    let decision = decide(
        &national(),
        &zhejiang(),
        Link::Child,
        Flow::Receive,
        "review_plans",
        "330106",
        &review_department(),
    );
    assert_eq!(decision.code(), Some("author_not_on_sender_side"));
}

#[test]
fn a_change_never_echoes_back_to_the_side_it_came_from() {
    // Hangzhou's reply on a notice addressed to it went up to Zhejiang; Zhejiang does not send
    // it back down.
    let decision = decide(
        &zhejiang(),
        &hangzhou(),
        Link::Child,
        Flow::Send,
        "notices",
        "330100",
        &hangzhou(),
    );
    assert_eq!(decision.code(), Some("author_not_on_sender_side"));
    // National's notice came down to Zhejiang; Zhejiang does not send it back up.
    let decision = decide(
        &zhejiang(),
        &national(),
        Link::Parent,
        Flow::Send,
        "notices",
        "330000",
        &national(),
    );
    assert_eq!(decision.code(), Some("author_not_on_sender_side"));
}

#[test]
fn an_addressee_reply_on_a_notice_goes_up_to_the_issuer() {
    let decision = decide(
        &national(),
        &zhejiang(),
        Link::Child,
        Flow::Receive,
        "notices",
        "330000",
        &zhejiang(),
    );
    assert_eq!(decision, Decision::Allow);
}

#[test]
fn a_review_departments_notice_reaches_the_addressed_province_through_the_national_node() {
    let up = decide(
        &national(),
        &review_department(),
        Link::Child,
        Flow::Receive,
        "notices",
        "330000",
        &review_department(),
    );
    assert_eq!(up, Decision::Allow);
    let down = decide(
        &zhejiang(),
        &national(),
        Link::Parent,
        Flow::Receive,
        "notices",
        "330000",
        &review_department(),
    );
    assert_eq!(down, Decision::Allow);
    let elsewhere = decide(
        &national(),
        &jiangsu(),
        Link::Child,
        Flow::Send,
        "notices",
        "330000",
        &review_department(),
    );
    assert_eq!(elsewhere.code(), Some("not_addressed_to_peer"));
}

#[test]
fn inspection_results_reach_the_enterprises_province_but_not_its_prefectures() {
    let to_province = decide(
        &national(),
        &zhejiang(),
        Link::Child,
        Flow::Send,
        "inspections",
        "330106",
        &inspection_body(),
    );
    assert_eq!(to_province, Decision::Allow);
    let to_prefecture = decide(
        &zhejiang(),
        &hangzhou(),
        Link::Child,
        Flow::Send,
        "inspections",
        "330106",
        &inspection_body(),
    );
    assert_eq!(to_prefecture.code(), Some("not_addressed_to_peer"));
    let to_other_province = decide(
        &national(),
        &jiangsu(),
        Link::Child,
        Flow::Send,
        "inspections",
        "330106",
        &inspection_body(),
    );
    assert_eq!(to_other_province.code(), Some("not_addressed_to_peer"));
}

#[test]
fn notices_never_go_down_to_review_departments_or_inspection_bodies() {
    for child in [review_department(), inspection_body()] {
        let decision = decide(
            &national(),
            &child,
            Link::Child,
            Flow::Send,
            "notices",
            "100000",
            &national(),
        );
        assert_eq!(decision.code(), Some("not_addressed_to_peer"), "{child}");
    }
}

#[test]
fn a_provinces_publication_reaches_its_own_subtree_only() {
    let inside = decide(
        &hangzhou(),
        &zhejiang(),
        Link::Parent,
        Flow::Receive,
        "publications",
        "330000",
        &zhejiang(),
    );
    assert_eq!(inside, Decision::Allow);
    // Jiangsu's guide, relayed into Zhejiang by a misbehaving national node, is refused.
    let outside = decide(
        &zhejiang(),
        &national(),
        Link::Parent,
        Flow::Receive,
        "publications",
        "320000",
        &jiangsu(),
    );
    assert_eq!(outside.code(), Some("not_addressed_to_peer"));
}

#[test]
fn letters_and_visits_never_leave_the_node() {
    let decision = decide(
        &zhejiang(),
        &national(),
        Link::Parent,
        Flow::Send,
        "letters_visits",
        "330000",
        &zhejiang(),
    );
    assert_eq!(decision.code(), Some("collection_is_local"));
    assert!(
        rules()
            .iter()
            .filter(|rule| rule.route == Route::Local)
            .all(
                |rule| collections_for(&zhejiang(), &national(), Link::Parent, Flow::Send)
                    .iter()
                    .all(|name| *name != rule.collection)
            )
    );
}

// ---------------------------------------------------------------------------------------------
// Authoring.

#[test]
fn a_county_may_not_author_licences_but_may_author_its_quality_archives() {
    assert_eq!(
        may_author(&xihu(), "licences", "330106").code(),
        Some("author_not_allowed")
    );
    assert_eq!(
        may_author(&xihu(), "quality_archives", "330106"),
        Decision::Allow
    );
    assert_eq!(
        may_author(&xihu(), "quality_archives", "330100").code(),
        Some("outside_jurisdiction")
    );
}

#[test]
fn review_departments_and_inspection_bodies_author_nationwide_what_their_articles_give_them() {
    assert_eq!(
        may_author(&review_department(), "review_plans", "320102"),
        Decision::Allow
    );
    assert_eq!(
        may_author(&inspection_body(), "inspections", "330106"),
        Decision::Allow
    );
    assert_eq!(
        may_author(&inspection_body(), "review_plans", "330106").code(),
        Some("author_not_allowed")
    );
}

#[test]
fn only_the_national_node_authors_the_registries() {
    for collection in ["reviewers", "review_departments", "inspection_bodies"] {
        assert_eq!(
            may_author(&national(), collection, "100000"),
            Decision::Allow
        );
        for node in [
            zhejiang(),
            hangzhou(),
            xihu(),
            review_department(),
            inspection_body(),
        ] {
            assert_eq!(
                may_author(&node, collection, "100000").code(),
                Some("author_not_allowed"),
                "{node} {collection}"
            );
        }
    }
}

#[test]
fn a_review_departments_or_inspection_bodys_code_names_its_level() {
    assert_eq!(level_of_code("RD0001"), Some(ReviewDepartment));
    assert_eq!(level_of_code("IB-12"), Some(InspectionBody));
    assert_eq!(level_of_code("330106"), Some(County));
    assert_eq!(level_of_code("QA0001"), None);
    // A review department whose code does not say so is not a node.
    let misnamed = NodeRef::new("IB0002", ReviewDepartment);
    assert_eq!(
        may_author(&misnamed, "review_plans", "330106").code(),
        Some("invalid_node")
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed questions.

#[test]
fn a_county_certificate_claiming_a_provinces_code_is_an_invalid_node() {
    let impostor = NodeRef::new("330000", County);
    let decision = decide(
        &hangzhou(),
        &impostor,
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330000",
        &impostor,
    );
    assert_eq!(decision.code(), Some("invalid_node"));
    let message = decision
        .reason()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(message.contains("浙江省"), "{message}");
}

#[test]
fn a_review_department_with_a_division_code_is_an_invalid_node() {
    let decision = may_author(
        &NodeRef::new("330106", ReviewDepartment),
        "review_plans",
        "330106",
    );
    assert_eq!(decision.code(), Some("invalid_node"));
    for code in [
        "",
        "RD 1",
        "rd0001",
        "RD_1",
        "123456",
        "审查部",
        &"R".repeat(33),
    ] {
        let decision = may_author(
            &NodeRef::new(code, ReviewDepartment),
            "review_plans",
            "330106",
        );
        assert_eq!(decision.code(), Some("invalid_node"), "{code:?}");
    }
}

#[test]
fn a_link_must_follow_the_tree() {
    let cases = [
        // A county is not a child of another province.
        (jiangsu(), xihu()),
        // A child is strictly below its parent.
        (xihu(), xihu()),
        // Upside down.
        (xihu(), hangzhou()),
        // Review departments hang under the national node only, and have no children.
        (zhejiang(), review_department()),
        (review_department(), inspection_body()),
    ];
    for (parent, child) in cases {
        let decision = decide(
            &child,
            &parent,
            Link::Parent,
            Flow::Send,
            "quality_archives",
            "330106",
            &child,
        );
        assert_eq!(
            decision.code(),
            Some("invalid_link"),
            "{parent} over {child}"
        );
        assert!(collections_for(&child, &parent, Link::Parent, Flow::Send).is_empty());
    }
}

#[test]
fn a_county_may_hang_directly_under_its_province_when_the_prefecture_runs_no_node() {
    let decision = decide(
        &zhejiang(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330106",
        &xihu(),
    );
    assert_eq!(decision, Decision::Allow);
}

#[test]
fn unknown_collections_and_jurisdictions_are_denied_with_their_codes() {
    let unknown_collection = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "secrets",
        "330106",
        &xihu(),
    );
    assert_eq!(unknown_collection.code(), Some("unknown_collection"));
    let unknown_jurisdiction = decide(
        &hangzhou(),
        &xihu(),
        Link::Child,
        Flow::Receive,
        "quality_archives",
        "330199",
        &xihu(),
    );
    assert_eq!(unknown_jurisdiction.code(), Some("unknown_jurisdiction"));
}

#[test]
fn every_deny_code_is_the_snake_case_of_its_variant_which_is_its_serialised_tag() {
    let text = || "x".to_owned();
    let reasons = [
        DenyReason::UnknownCollection { collection: text() },
        DenyReason::InvalidNode {
            role: NodeRole::Sender,
            node: text(),
            level: County,
            problem: text(),
        },
        DenyReason::InvalidLink {
            parent: text(),
            child: text(),
            problem: text(),
        },
        DenyReason::UnknownJurisdiction {
            jurisdiction: text(),
        },
        DenyReason::CollectionIsLocal { collection: text() },
        DenyReason::WrongDirection {
            collection: text(),
            route: text(),
            movement: Movement::Up,
            sender: text(),
            receiver: text(),
        },
        DenyReason::AuthorNotOnSenderSide {
            author: text(),
            sender: text(),
            receiver: text(),
        },
        DenyReason::AuthorNotAllowed {
            collection: text(),
            author: text(),
            author_level: County,
        },
        DenyReason::OutsideJurisdiction {
            collection: text(),
            author: text(),
            author_level: County,
            jurisdiction: text(),
        },
        DenyReason::NotAddressedToPeer {
            collection: text(),
            jurisdiction: text(),
            receiver: text(),
            rule: text(),
        },
    ];
    let codes: Vec<&str> = reasons.iter().map(DenyReason::code).collect();
    assert_eq!(codes, DenyReason::CODES);
    for reason in &reasons {
        // `#[serde(tag = "code", rename_all = "snake_case")]` tags each variant with the snake
        // case of its name: the code must be exactly that.
        let debug = format!("{reason:?}");
        let variant = debug.split([' ', '{']).next().unwrap_or_default();
        let mut snake = String::new();
        for (index, character) in variant.chars().enumerate() {
            if character.is_ascii_uppercase() {
                if index > 0 {
                    snake.push('_');
                }
                snake.push(character.to_ascii_lowercase());
            } else {
                snake.push(character);
            }
        }
        assert_eq!(snake, reason.code());
        assert!(!reason.to_string().is_empty());
    }
}

#[test]
fn deny_messages_name_the_nodes_and_the_jurisdiction() {
    let decision = decide(
        &national(),
        &jiangsu(),
        Link::Child,
        Flow::Send,
        "notices",
        "330000",
        &national(),
    );
    let message = decision
        .reason()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(message.contains("320000"), "{message}");
    assert!(message.contains("330000"), "{message}");
    assert!(message.contains("notices"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// What may flow on a link.

#[test]
fn collections_for_each_kind_of_link_are_what_the_regulation_sends_that_way() {
    let up = |child: &NodeRef, parent: &NodeRef| {
        collections_for(child, parent, Link::Parent, Flow::Send)
    };
    let down =
        |parent: &NodeRef, child: &NodeRef| collections_for(parent, child, Link::Child, Flow::Send);
    let registries = ["reviewers", "review_departments", "inspection_bodies"];
    assert_eq!(
        up(&xihu(), &hangzhou()),
        [
            "applications",
            "quality_archives",
            "supervision_reports",
            "reports",
            "destructions"
        ]
    );
    assert_eq!(
        up(&hangzhou(), &zhejiang()),
        [
            "applications",
            "quality_archives",
            "notices",
            "supervision_reports",
            "reports",
            "destructions"
        ]
    );
    assert_eq!(
        up(&zhejiang(), &national()),
        [
            "applications",
            "review_plans",
            "site_verifications",
            "refusals",
            "licences",
            "licence_events",
            "quality_archives",
            "notices",
            "supervision_reports",
            "reports",
            "destructions",
            "inspection_body_filings"
        ]
    );
    // A body's own destruction requests go up to the national node, which decides them
    // (Art. 37, 38), and the decision comes back down.
    assert_eq!(
        up(&review_department(), &national()),
        [
            "review_plans",
            "site_verifications",
            "notices",
            "destructions"
        ]
    );
    assert_eq!(
        up(&inspection_body(), &national()),
        ["inspections", "destructions", "inspection_body_filings"]
    );

    // Down: the registries, notices and publications, and the national node's own edits of the
    // up-going records a province keeps too (a national revocation of a provincial licence).
    let mut national_to_province = vec![
        "applications",
        "inspections",
        "refusals",
        "licences",
        "licence_events",
        "quality_archives",
    ];
    national_to_province.extend(registries);
    national_to_province.extend([
        "notices",
        "publications",
        "reports",
        "destructions",
        "inspection_body_filings",
    ]);
    assert_eq!(down(&national(), &zhejiang()), national_to_province);
    // Art. 12, 29: licences and their events go down to the bureaus of the territory.
    let mut below_province = vec![
        "applications",
        "licences",
        "licence_events",
        "quality_archives",
    ];
    below_province.extend(registries);
    below_province.extend([
        "notices",
        "publications",
        "supervision_reports",
        "reports",
        "destructions",
    ]);
    assert_eq!(down(&zhejiang(), &hangzhou()), below_province);
    assert_eq!(down(&hangzhou(), &xihu()), below_province);
    // Art. 22, 23: what is addressed to a review department reaches it: a province's
    // site verifications it summarises, the inspection results of its national reviews.
    let mut to_inspection_body = registries.to_vec();
    to_inspection_body.extend(["publications", "destructions"]);
    let mut to_review_department = vec!["site_verifications", "inspections"];
    to_review_department.extend(&to_inspection_body);
    // Art. 26: the provincial opinion on its change filing, addressed to it.
    to_inspection_body.push("inspection_body_filings");
    assert_eq!(
        down(&national(), &review_department()),
        to_review_department
    );
    assert_eq!(down(&national(), &inspection_body()), to_inspection_body);
}

#[test]
fn receiving_offers_the_same_collections_as_the_neighbour_sends() {
    let pairs = [
        (national(), zhejiang()),
        (zhejiang(), hangzhou()),
        (hangzhou(), xihu()),
        (national(), review_department()),
        (national(), inspection_body()),
    ];
    for (parent, child) in pairs {
        assert_eq!(
            collections_for(&parent, &child, Link::Child, Flow::Receive),
            collections_for(&child, &parent, Link::Parent, Flow::Send)
        );
        assert_eq!(
            collections_for(&child, &parent, Link::Parent, Flow::Receive),
            collections_for(&parent, &child, Link::Child, Flow::Send)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Nodes for the properties: a real tree, plus malformed ones.
fn any_node() -> impl Strategy<Value = NodeRef> {
    prop_oneof![
        8 => prop::sample::select(vec![
            national(),
            zhejiang(),
            jiangsu(),
            hangzhou(),
            NodeRef::new("330200", Prefecture),
            NodeRef::new("320100", Prefecture),
            xihu(),
            binjiang(),
            NodeRef::new("320102", County),
            NodeRef::new("110105", County),
            NodeRef::new("110000", Province),
            review_department(),
            NodeRef::new("RD0002", ReviewDepartment),
            inspection_body(),
        ]),
        1 => (".{0,8}", prop::sample::select(Level::ALL.to_vec()))
            .prop_map(|(code, level)| NodeRef::new(code, level)),
    ]
}

fn any_jurisdiction() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "100000", "330000", "320000", "110000", "330100", "330200", "320100", "330106",
            "330108", "320102", "110105",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

fn any_collection() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(rules().iter().map(|rule| rule.collection).collect::<Vec<_>>())
            .prop_map(str::to_owned),
        1 => "[a-z_]{0,12}",
    ]
}

fn any_link() -> impl Strategy<Value = Link> {
    prop::sample::select(vec![Link::Parent, Link::Child])
}

proptest! {
    /// "May I send it this?" at one end is "may it send me this?" at the other: a node never
    /// sends what its neighbour would quarantine, and never holds back what it would accept.
    #[test]
    fn sending_and_receiving_are_the_same_question(
        local in any_node(),
        peer in any_node(),
        link in any_link(),
        collection in any_collection(),
        jurisdiction in any_jurisdiction(),
        author in any_node(),
    ) {
        let send = decide(&local, &peer, link, Flow::Send, &collection, &jurisdiction, &author);
        let receive =
            decide(&peer, &local, link.reversed(), Flow::Receive, &collection, &jurisdiction, &author);
        prop_assert_eq!(send, receive);
    }

    /// Whatever `decide` allows on a link is of a collection `collections_for` offers for it, so
    /// a change-log query built from `collections_for` misses nothing.
    #[test]
    fn collections_for_covers_everything_decide_allows(
        local in any_node(),
        peer in any_node(),
        link in any_link(),
        flow in prop::sample::select(vec![Flow::Send, Flow::Receive]),
        collection in any_collection(),
        jurisdiction in any_jurisdiction(),
        author in any_node(),
    ) {
        let decision = decide(&local, &peer, link, flow, &collection, &jurisdiction, &author);
        if decision.is_allowed() {
            let offered = collections_for(&local, &peer, link, flow);
            prop_assert!(offered.contains(&collection.as_str()), "{} not in {:?}", collection, offered);
        }
    }

    /// An allowed change always had an author entitled to write it.
    #[test]
    fn decide_allows_only_what_the_author_may_author(
        local in any_node(),
        peer in any_node(),
        link in any_link(),
        flow in prop::sample::select(vec![Flow::Send, Flow::Receive]),
        collection in any_collection(),
        jurisdiction in any_jurisdiction(),
        author in any_node(),
    ) {
        let decision = decide(&local, &peer, link, flow, &collection, &jurisdiction, &author);
        if decision.is_allowed() {
            prop_assert!(may_author(&author, &collection, &jurisdiction).is_allowed());
        }
    }
}

/// `collections_for` is not needlessly wide: every collection it offers on a link of the fixture
/// tree is allowed for at least one author and jurisdiction.
#[test]
fn collections_for_offers_only_what_some_change_could_carry() {
    let nodes = [
        national(),
        zhejiang(),
        hangzhou(),
        xihu(),
        review_department(),
        inspection_body(),
    ];
    let authors = [
        national(),
        zhejiang(),
        jiangsu(),
        hangzhou(),
        xihu(),
        binjiang(),
        review_department(),
        inspection_body(),
    ];
    let jurisdictions = [
        "100000", "330000", "320000", "330100", "330106", "330108", "RD0001", "IB0001",
    ];
    for parent in &nodes {
        for child in &nodes {
            for (local, peer, link) in [(parent, child, Link::Child), (child, parent, Link::Parent)]
            {
                for flow in [Flow::Send, Flow::Receive] {
                    for collection in collections_for(local, peer, link, flow) {
                        let carried = authors.iter().any(|author| {
                            jurisdictions.iter().any(|jurisdiction| {
                                decide(local, peer, link, flow, collection, jurisdiction, author)
                                    .is_allowed()
                            })
                        });
                        assert!(carried, "{collection} {local} {link:?} {peer} {flow:?}");
                    }
                }
            }
        }
    }
}
