//! China's administrative divisions (GB/T 2260, as of 2023-06-30): the real tree of bureaus.
//!
//! The data is the `china-division` 2.7.0 package's CSV files (WTFPL, see
//! `data/divisions/README.md` and `LICENSE`), embedded and parsed once on first use. The tree
//! has the national node `100000` (中华人民共和国) at the root, then provinces (`330000`),
//! prefectures (`330100`) and counties (`330106`). The placeholder prefecture rows (市辖区, 县,
//! 省直辖县级行政区划, …) are not nodes: their counties hang directly under the province.
//! Development zones (5th digit 7, e.g. `130171`) are kept as counties.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const PROVINCES_CSV: &str = include_str!("../data/divisions/provinces.csv");
const CITIES_CSV: &str = include_str!("../data/divisions/cities.csv");
const AREAS_CSV: &str = include_str!("../data/divisions/areas.csv");

/// The code of the national node.
pub const NATIONAL_CODE: &str = "100000";

/// The name of the national node.
pub const NATIONAL_NAME: &str = "中华人民共和国";

/// The 31 provincial-level divisions' 2-digit codes and their one-character abbreviations, as
/// used in licence numbers (`(苏)XK13-006-00032`).
pub const PROVINCE_ABBREVIATIONS: [(&str, char); 31] = [
    ("11", '京'),
    ("12", '津'),
    ("13", '冀'),
    ("14", '晋'),
    ("15", '蒙'),
    ("21", '辽'),
    ("22", '吉'),
    ("23", '黑'),
    ("31", '沪'),
    ("32", '苏'),
    ("33", '浙'),
    ("34", '皖'),
    ("35", '闽'),
    ("36", '赣'),
    ("37", '鲁'),
    ("41", '豫'),
    ("42", '鄂'),
    ("43", '湘'),
    ("44", '粤'),
    ("45", '桂'),
    ("46", '琼'),
    ("50", '渝'),
    ("51", '川'),
    ("52", '贵'),
    ("53", '云'),
    ("54", '藏'),
    ("61", '陕'),
    ("62", '甘'),
    ("63", '青'),
    ("64", '宁'),
    ("65", '新'),
];

/// The level of a division in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// The whole country, `100000`.
    Country,
    /// Province, autonomous region or municipality, `330000`.
    Province,
    /// Prefecture-level city, prefecture, autonomous prefecture or league, `330100`.
    Prefecture,
    /// County, district, county-level city, banner or development zone, `330106`.
    County,
}

/// One node of the division tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Division {
    /// Six-digit GB/T 2260 code.
    pub code: String,
    /// Official name, e.g. 西湖区.
    pub name: String,
    /// Level in the tree.
    pub level: DivisionLevel,
    /// The parent's code; `None` only for the national node.
    pub parent: Option<String>,
}

impl Division {
    /// Whether this is a development zone (经济技术开发区, 高新区, …): a county-level code whose
    /// fifth digit is 7.
    pub fn is_development_zone(&self) -> bool {
        self.level == DivisionLevel::County && self.code.as_bytes().get(4) == Some(&b'7')
    }

    /// The 2-digit province part of the code (`33`), or `None` for the national node.
    pub fn province_prefix(&self) -> Option<&str> {
        match self.level {
            DivisionLevel::Country => None,
            _ => self.code.get(0..2),
        }
    }
}

struct Tree {
    divisions: Vec<Division>,
    index_by_code: HashMap<String, usize>,
    parent_index: Vec<Option<usize>>,
    children_indices: Vec<Vec<usize>>,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(build_tree)
}

/// Splits one CSV line into fields, removing the double quotes around quoted fields.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut characters = line.trim_end_matches(['\r', '\n']).chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '"' if in_quotes && characters.peek() == Some(&'"') => {
                current.push('"');
                characters.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(std::mem::take(&mut current)),
            _ => current.push(character),
        }
    }
    fields.push(current);
    fields
}

/// The data rows of an embedded CSV file (header skipped, blank lines ignored).
fn csv_rows(text: &'static str) -> impl Iterator<Item = Vec<String>> {
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(csv_fields)
}

fn is_placeholder_prefecture_name(name: &str) -> bool {
    matches!(name, "市辖区" | "县" | "郊县")
        || name.ends_with("直辖县级行政区划")
        || name.ends_with("直辖县")
}

fn build_tree() -> Tree {
    let mut divisions = vec![Division {
        code: NATIONAL_CODE.to_owned(),
        name: NATIONAL_NAME.to_owned(),
        level: DivisionLevel::Country,
        parent: None,
    }];
    for row in csv_rows(PROVINCES_CSV) {
        if let [short_code, name, ..] = row.as_slice() {
            divisions.push(Division {
                code: format!("{short_code}0000"),
                name: name.clone(),
                level: DivisionLevel::Province,
                parent: Some(NATIONAL_CODE.to_owned()),
            });
        }
    }
    // Prefecture short code -> the 6-digit code of the node its counties hang under.
    let mut county_parent_by_city: HashMap<String, String> = HashMap::new();
    for row in csv_rows(CITIES_CSV) {
        if let [short_code, name, province_code, ..] = row.as_slice() {
            let province = format!("{province_code}0000");
            if is_placeholder_prefecture_name(name) {
                county_parent_by_city.insert(short_code.clone(), province);
            } else {
                let code = format!("{short_code}00");
                county_parent_by_city.insert(short_code.clone(), code.clone());
                divisions.push(Division {
                    code,
                    name: name.clone(),
                    level: DivisionLevel::Prefecture,
                    parent: Some(province),
                });
            }
        }
    }
    for row in csv_rows(AREAS_CSV) {
        if let [code, name, city_code, province_code, ..] = row.as_slice() {
            let parent = county_parent_by_city
                .get(city_code)
                .cloned()
                .unwrap_or_else(|| format!("{province_code}0000"));
            // Prefecture-level cities without counties (东莞, 中山, 儋州) are listed again as
            // their own only "area" with the same code: the prefecture node already stands.
            if *code == parent {
                continue;
            }
            divisions.push(Division {
                code: code.clone(),
                name: name.clone(),
                level: DivisionLevel::County,
                parent: Some(parent),
            });
        }
    }

    let mut index_by_code = HashMap::with_capacity(divisions.len());
    for (index, division) in divisions.iter().enumerate() {
        index_by_code.entry(division.code.clone()).or_insert(index);
    }
    let mut parent_index = Vec::with_capacity(divisions.len());
    let mut children_indices = vec![Vec::new(); divisions.len()];
    for (index, division) in divisions.iter().enumerate() {
        let parent = division
            .parent
            .as_ref()
            .and_then(|parent_code| index_by_code.get(parent_code).copied());
        if let Some(parent) = parent
            && let Some(children) = children_indices.get_mut(parent)
        {
            children.push(index);
        }
        parent_index.push(parent);
    }
    Tree {
        divisions,
        index_by_code,
        parent_index,
        children_indices,
    }
}

fn index_of(code: &str) -> Option<usize> {
    tree().index_by_code.get(code).copied()
}

fn division_at(index: usize) -> Option<&'static Division> {
    tree().divisions.get(index)
}

/// Every division: the national node, then provinces, prefectures and counties.
pub fn all() -> &'static [Division] {
    &tree().divisions
}

/// The division with this exact six-digit code.
pub fn lookup(code: &str) -> Option<&'static Division> {
    index_of(code).and_then(division_at)
}

/// The division a code's node hangs under; `None` for the national node and unknown codes.
pub fn parent(code: &str) -> Option<&'static Division> {
    let index = index_of(code)?;
    let parent = tree().parent_index.get(index).copied().flatten()?;
    division_at(parent)
}

/// The chain from the division's parent up to the national node (nearest first).
pub fn ancestors(code: &str) -> Vec<&'static Division> {
    let mut chain = Vec::new();
    let mut current = index_of(code);
    while let Some(index) = current {
        current = tree().parent_index.get(index).copied().flatten();
        if let Some(parent) = current.and_then(division_at) {
            chain.push(parent);
        }
    }
    chain
}

/// Whether `code` lies within `ancestor` (a code is within itself). Unknown codes lie nowhere.
pub fn is_within(code: &str, ancestor: &str) -> bool {
    let (Some(mut current), Some(ancestor_index)) = (index_of(code), index_of(ancestor)) else {
        return false;
    };
    loop {
        if current == ancestor_index {
            return true;
        }
        match tree().parent_index.get(current).copied().flatten() {
            Some(parent) => current = parent,
            None => return false,
        }
    }
}

/// The direct children of a division, in code order.
pub fn children(code: &str) -> Vec<&'static Division> {
    index_of(code)
        .and_then(|index| tree().children_indices.get(index))
        .map(|children| {
            children
                .iter()
                .filter_map(|child| division_at(*child))
                .collect()
        })
        .unwrap_or_default()
}

/// The county-level divisions within a division (the division itself if it is a county).
pub fn counties_within(code: &str) -> Vec<&'static Division> {
    let mut counties = Vec::new();
    let mut pending: Vec<usize> = index_of(code).into_iter().collect();
    while let Some(index) = pending.pop() {
        let Some(division) = division_at(index) else {
            continue;
        };
        if division.level == DivisionLevel::County {
            counties.push(division);
        }
        if let Some(children) = tree().children_indices.get(index) {
            pending.extend(children.iter().rev());
        }
    }
    counties.sort_by(|left, right| left.code.cmp(&right.code));
    counties
}

/// The 31 provinces.
pub fn provinces() -> Vec<&'static Division> {
    children(NATIONAL_CODE)
}

/// The province a division lies in (itself for a province); `None` for the national node.
pub fn province_of(code: &str) -> Option<&'static Division> {
    let division = lookup(code)?;
    let prefix = division.province_prefix()?;
    lookup(&format!("{prefix}0000"))
}

/// The licence-number abbreviation (苏) of the province of a code: a 2-digit province code
/// (`32`) or any 6-digit code in the province (`320000`, `320106`).
pub fn province_abbreviation(code: &str) -> Option<char> {
    let prefix = code.trim().get(0..2)?;
    PROVINCE_ABBREVIATIONS
        .iter()
        .find(|(province_prefix, _)| *province_prefix == prefix)
        .map(|(_, abbreviation)| *abbreviation)
}

/// The province whose licence-number abbreviation is this character.
pub fn province_by_abbreviation(abbreviation: char) -> Option<&'static Division> {
    PROVINCE_ABBREVIATIONS
        .iter()
        .find(|(_, candidate)| *candidate == abbreviation)
        .and_then(|(prefix, _)| lookup(&format!("{prefix}0000")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(divisions: &[&Division]) -> Vec<String> {
        divisions
            .iter()
            .map(|division| division.name.clone())
            .collect()
    }

    #[test]
    fn the_national_node_is_the_root() {
        let national = lookup("100000");
        assert_eq!(national.map(|d| d.name.as_str()), Some("中华人民共和国"));
        assert_eq!(national.map(|d| d.level), Some(DivisionLevel::Country));
        assert_eq!(national.and_then(|d| d.parent.clone()), None);
        assert!(parent("100000").is_none());
    }

    #[test]
    fn zhejiang_hangzhou_and_xihu_form_a_chain() {
        assert_eq!(lookup("330000").map(|d| d.name.as_str()), Some("浙江省"));
        assert_eq!(
            lookup("330100").map(|d| d.level),
            Some(DivisionLevel::Prefecture)
        );
        let xihu = lookup("330106");
        assert_eq!(xihu.map(|d| d.name.as_str()), Some("西湖区"));
        assert_eq!(xihu.and_then(|d| d.parent.as_deref()), Some("330100"));
        assert_eq!(parent("330100").map(|d| d.code.as_str()), Some("330000"));
        assert_eq!(
            names(&ancestors("330106")),
            ["杭州市", "浙江省", "中华人民共和国"]
        );
    }

    #[test]
    fn there_are_31_provinces_about_330_prefectures_and_about_2800_counties() {
        let count = |level| all().iter().filter(|d| d.level == level).count();
        assert_eq!(count(DivisionLevel::Country), 1);
        assert_eq!(count(DivisionLevel::Province), 31);
        let prefectures = count(DivisionLevel::Prefecture);
        assert!((320..=340).contains(&prefectures), "{prefectures}");
        let counties = count(DivisionLevel::County);
        assert!((2800..=3000).contains(&counties), "{counties}");
        assert_eq!(provinces().len(), 31);
    }

    #[test]
    fn codes_are_unique_six_digit_and_every_parent_exists() {
        let mut seen = std::collections::HashSet::new();
        for division in all() {
            assert!(seen.insert(division.code.as_str()), "{}", division.code);
            assert_eq!(division.code.len(), 6);
            assert!(division.code.bytes().all(|byte| byte.is_ascii_digit()));
            assert!(!division.name.is_empty());
            if let Some(parent_code) = &division.parent {
                let parent_division = lookup(parent_code);
                assert!(parent_division.is_some(), "{parent_code}");
                assert!(parent_division.is_some_and(|p| p.level < division.level));
            }
        }
    }

    #[test]
    fn placeholder_prefectures_are_not_nodes_and_their_counties_hang_under_the_province() {
        assert!(lookup("110100").is_none(), "北京 市辖区");
        assert!(lookup("500200").is_none(), "重庆 县");
        assert!(lookup("419000").is_none(), "河南 省直辖县级行政区划");
        assert_eq!(
            lookup("110105").and_then(|d| d.parent.as_deref()),
            Some("110000")
        );
        assert_eq!(
            lookup("500229").and_then(|d| d.parent.as_deref()),
            Some("500000")
        );
        // 济源市, a county-level city administered by Henan directly.
        assert_eq!(
            lookup("419001").and_then(|d| d.parent.as_deref()),
            Some("410000")
        );
    }

    #[test]
    fn prefectures_without_counties_are_prefectures_once() {
        let dongguan = lookup("441900");
        assert_eq!(dongguan.map(|d| d.name.as_str()), Some("东莞市"));
        assert_eq!(dongguan.map(|d| d.level), Some(DivisionLevel::Prefecture));
        assert!(children("441900").is_empty());
    }

    #[test]
    fn development_zones_are_kept_as_counties() {
        let zone = lookup("130171");
        assert!(zone.is_some_and(Division::is_development_zone));
        assert_eq!(zone.map(|d| d.level), Some(DivisionLevel::County));
        assert!(!lookup("330106").is_some_and(Division::is_development_zone));
    }

    #[test]
    fn a_code_is_within_itself_and_its_ancestors_only() {
        assert!(is_within("330106", "330106"));
        assert!(is_within("330106", "330100"));
        assert!(is_within("330106", "330000"));
        assert!(is_within("330106", "100000"));
        assert!(!is_within("330106", "320000"));
        assert!(!is_within("330000", "330106"));
        assert!(!is_within("999999", "100000"));
        assert!(!is_within("330106", "999999"));
    }

    #[test]
    fn children_and_counties_within_follow_the_tree() {
        let hangzhou_children = children("330100");
        assert!(hangzhou_children.iter().any(|d| d.code == "330106"));
        assert!(
            hangzhou_children
                .iter()
                .all(|d| d.level == DivisionLevel::County)
        );
        let zhejiang_counties = counties_within("330000");
        assert!(zhejiang_counties.len() > 80);
        assert!(zhejiang_counties.iter().all(|d| d.code.starts_with("33")));
        assert_eq!(counties_within("330106").len(), 1);
        assert!(counties_within("999999").is_empty());
        let everywhere = counties_within(NATIONAL_CODE).len();
        let counted = all()
            .iter()
            .filter(|d| d.level == DivisionLevel::County)
            .count();
        assert_eq!(everywhere, counted);
    }

    #[test]
    fn unknown_or_malformed_codes_are_not_found() {
        for code in ["", "33", "3301", "33010", "3301060", "abcdef", "330199"] {
            assert!(lookup(code).is_none(), "{code}");
        }
    }

    #[test]
    fn province_abbreviations_cover_every_province_both_ways() {
        for province in provinces() {
            let abbreviation = province_abbreviation(&province.code);
            assert!(abbreviation.is_some(), "{}", province.name);
            let back = abbreviation.and_then(province_by_abbreviation);
            assert_eq!(back.map(|d| d.code.as_str()), Some(province.code.as_str()));
        }
        assert_eq!(province_abbreviation("32"), Some('苏'));
        assert_eq!(province_abbreviation("330106"), Some('浙'));
        assert_eq!(
            province_of("330106").map(|d| d.name.as_str()),
            Some("浙江省")
        );
        assert!(province_of("100000").is_none());
    }

    #[test]
    fn csv_fields_handle_quotes() {
        assert_eq!(
            csv_fields(r#"110101,"东城区",1101,11"#),
            ["110101", "东城区", "1101", "11"]
        );
        assert_eq!(csv_fields(r#"1,"a,b","c""d""#), ["1", "a,b", "c\"d"]);
    }
}
