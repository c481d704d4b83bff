//! Who is whose direct child: a parent talks only to the nodes directly below it in the tree of
//! agencies (ARCHITECTURE.md, principle 10; issue 11 item 3), never to a grandchild that dials past its
//! own parent.
//!
//! The tree follows from the nodes' codes and levels, which their certificates prove, except
//! in one place: a county's parent is its prefecture when that prefecture runs a node, and its
//! province otherwise. The division data cannot say which prefectures run nodes, so a province
//! names them in its configuration (`child_prefectures`); their counties are theirs, and every
//! other county of the province links to the province directly.
//!
//! | parent | its direct children |
//! |---|---|
//! | national | the provinces, every review department (`RD…`) and inspection body (`IB…`) |
//! | province | its prefectures; its counties, except those of a prefecture in `child_prefectures` |
//! | prefecture | its counties |
//! | county, review department, inspection body | none |

use licnode_model::Level;
use licnode_model::divisions;

use crate::authority::{NodeRef, level_of_code};

/// Whether a node of `level` can have direct children at all (the table above): a county, a
/// review department and an inspection body are leaves, so nothing of another node reaches
/// them from below — no pushes, no link reports, no anchors to relay.
pub fn may_have_children(level: Level) -> bool {
    matches!(level, Level::National | Level::Province | Level::Prefecture)
}

/// Why `peer` is not a direct child of `parent` in the tree, if it is not. `child_prefectures`
/// are the prefectures below `parent` (a province) that run a node of their own.
pub fn direct_child_problem(
    parent: &NodeRef,
    peer: &NodeRef,
    child_prefectures: &[String],
) -> Option<String> {
    if level_of_code(&peer.code) != Some(peer.level) {
        return Some(format!(
            "{} does not name a {} (the certificate's code and level disagree)",
            peer.code, peer.level
        ));
    }
    if !peer.level.is_territorial() {
        // Review departments and inspection bodies are registered with the national node.
        return (parent.level != Level::National).then(|| {
            format!(
                "a {} is a child of the national node only, not of {parent}",
                peer.level
            )
        });
    }
    if !parent.level.is_territorial() {
        return Some(format!("{parent} has no children"));
    }
    if peer.code == parent.code || !divisions::is_within(&peer.code, &parent.code) {
        return Some(format!(
            "{} lies outside {}'s division",
            peer.code, parent.code
        ));
    }
    match (parent.level, peer.level) {
        (Level::National, Level::Province)
        | (Level::Province, Level::Prefecture)
        | (Level::Prefecture, Level::County) => None,
        (Level::Province, Level::County) => {
            let prefecture = divisions::parent(&peer.code)
                .filter(|division| Level::for_division(division.level) == Level::Prefecture)?;
            child_prefectures.contains(&prefecture.code).then(|| {
                format!(
                    "{}'s parent is the prefecture node {} ({})",
                    peer.code, prefecture.code, prefecture.name
                )
            })
        }
        (Level::National, _) => Some(format!(
            "a {}'s parent is below the national node: its province{}",
            peer.level,
            if peer.level == Level::County {
                " or prefecture"
            } else {
                ""
            }
        )),
        _ => Some(format!(
            "a {} is not a direct child of a {}",
            peer.level, parent.level
        )),
    }
}

/// Why `codes` cannot be the prefectures that run nodes below `node`, if they cannot: each must
/// be a prefecture within `node`'s division, and only a province has such children.
pub fn child_prefectures_problem(node: &NodeRef, codes: &[String]) -> Option<String> {
    if codes.is_empty() {
        return None;
    }
    if node.level != Level::Province {
        return Some(format!(
            "only a province names child prefectures; {node} is not one"
        ));
    }
    codes.iter().find_map(|code| {
        let is_prefecture = divisions::lookup(code)
            .is_some_and(|division| Level::for_division(division.level) == Level::Prefecture);
        (!is_prefecture || !divisions::is_within(code, &node.code))
            .then(|| format!("{code:?} is not a prefecture within {}", node.code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, level: Level) -> NodeRef {
        NodeRef::new(code, level)
    }

    #[test]
    fn a_leaf_is_a_level_that_direct_child_problem_gives_no_child() {
        let nodes = [
            node("100000", Level::National),
            node("330000", Level::Province),
            node("330100", Level::Prefecture),
            node("330106", Level::County),
            node("330108", Level::County),
            node("RD0001", Level::ReviewDepartment),
            node("IB0001", Level::InspectionBody),
        ];
        for parent in &nodes {
            let has_a_child = nodes
                .iter()
                .any(|peer| direct_child_problem(parent, peer, &[]).is_none());
            assert_eq!(may_have_children(parent.level), has_a_child, "{parent}");
        }
    }

    #[test]
    fn each_level_has_the_level_below_as_children() {
        let zhejiang = node("330000", Level::Province);
        let hangzhou = node("330100", Level::Prefecture);
        let xihu = node("330106", Level::County);
        assert_eq!(
            direct_child_problem(&NodeRef::national(), &zhejiang, &[]),
            None
        );
        assert_eq!(direct_child_problem(&zhejiang, &hangzhou, &[]), None);
        assert_eq!(direct_child_problem(&hangzhou, &xihu, &[]), None);
        let review = node("RD0001", Level::ReviewDepartment);
        let inspection = node("IB0001", Level::InspectionBody);
        assert_eq!(
            direct_child_problem(&NodeRef::national(), &review, &[]),
            None
        );
        assert_eq!(
            direct_child_problem(&NodeRef::national(), &inspection, &[]),
            None
        );
    }

    #[test]
    fn a_county_skips_its_prefecture_only_when_the_prefecture_runs_no_node() {
        let zhejiang = node("330000", Level::Province);
        let xihu = node("330106", Level::County);
        assert_eq!(direct_child_problem(&zhejiang, &xihu, &[]), None);
        let problem = direct_child_problem(&zhejiang, &xihu, &["330100".to_string()]);
        assert!(problem.is_some_and(|text| text.contains("330100")));
        // Ningbo's counties still link to the province when only Hangzhou runs a node.
        let yinzhou = node("330212", Level::County);
        assert_eq!(
            direct_child_problem(&zhejiang, &yinzhou, &["330100".to_string()]),
            None
        );
    }

    #[test]
    fn the_national_node_talks_to_no_grandchild_and_nobody_to_a_stranger() {
        let national = NodeRef::national();
        for grandchild in [
            node("330106", Level::County),
            node("330100", Level::Prefecture),
        ] {
            assert!(direct_child_problem(&national, &grandchild, &[]).is_some());
        }
        let zhejiang = node("330000", Level::Province);
        let jiangsu_county = node("320102", Level::County);
        assert!(direct_child_problem(&zhejiang, &jiangsu_county, &[]).is_some());
        assert!(direct_child_problem(&zhejiang, &zhejiang, &[]).is_some());
        let lying_level = node("330106", Level::Prefecture);
        assert!(direct_child_problem(&zhejiang, &lying_level, &[]).is_some());
        let review = node("RD0001", Level::ReviewDepartment);
        assert!(direct_child_problem(&zhejiang, &review, &[]).is_some());
        let hangzhou = node("330100", Level::Prefecture);
        assert!(direct_child_problem(&node("330106", Level::County), &hangzhou, &[]).is_some());
    }

    #[test]
    fn only_a_province_names_child_prefectures_and_only_its_own() {
        let zhejiang = node("330000", Level::Province);
        assert_eq!(
            child_prefectures_problem(&zhejiang, &["330100".to_string()]),
            None
        );
        assert!(child_prefectures_problem(&zhejiang, &["320100".to_string()]).is_some());
        assert!(child_prefectures_problem(&zhejiang, &["330106".to_string()]).is_some());
        assert!(child_prefectures_problem(&NodeRef::national(), &["330100".to_string()]).is_some());
    }
}
