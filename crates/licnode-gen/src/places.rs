//! What the generator derives from the real division tree: short region names for enterprise
//! names, address prefixes, postcodes, telephone area codes and bureau names.

use licnode_model::divisions::{self, Division, DivisionLevel};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Everything the generator needs about one division, computed once.
pub struct Place {
    /// The division itself.
    pub division: &'static Division,
    /// Its province (itself for a province; `None` for the national node).
    pub province: Option<&'static Division>,
    /// The administrative part of an address: 浙江省杭州市西湖区.
    pub address_prefix: String,
    /// Region words that may lead an enterprise's name: 杭州西湖, 杭州, 西湖.
    pub region_names: Vec<String>,
    /// The short name of the division (西湖), for industrial-park names.
    pub short_name: String,
    /// The first four digits of the postcodes here.
    pub postcode_prefix: String,
    /// The landline area code: 0571.
    pub area_code: String,
    /// The market-regulation bureau of the division: 杭州市西湖区市场监督管理局.
    pub bureau_name: String,
}

/// All places, with indexes.
pub struct Places {
    /// One per division, in the order of [`divisions::all`].
    pub places: Vec<Place>,
    by_code: HashMap<&'static str, usize>,
    /// Indices of county-level places.
    pub counties: Vec<usize>,
}

impl Places {
    /// The place of a division code.
    pub fn get(&self, code: &str) -> Option<&Place> {
        self.by_code
            .get(code)
            .and_then(|index| self.places.get(*index))
    }

    /// The place at an index of [`Places::places`].
    pub fn at(&self, index: usize) -> Option<&Place> {
        self.places.get(index)
    }

    /// The index of a division code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }
}

/// The places, computed on first use.
pub fn places() -> &'static Places {
    static PLACES: OnceLock<Places> = OnceLock::new();
    PLACES.get_or_init(build_places)
}

/// The 56 ethnic groups' names without 族, for trimming autonomous-area names.
const ETHNIC_GROUPS: &[&str] = &[
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

const NAME_SUFFIXES: &[&str] = &[
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "特区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "盟",
];

/// The name people use in compounds: 杭州市 → 杭州, 恩施土家族苗族自治州 → 恩施,
/// 广西壮族自治区 → 广西. Names that would shrink to one character stay whole (和县).
pub fn short_name(full_name: &str) -> String {
    let mut name = full_name;
    // Cut at the first ethnic group's name followed by 族.
    let mut cut = name.len();
    let names_an_ethnic_group = name.contains('族');
    for group in ETHNIC_GROUPS.iter().filter(|_| names_an_ethnic_group) {
        let pattern = format!("{group}族");
        if let Some(position) = name.find(&pattern)
            && position > 0
        {
            cut = cut.min(position);
        }
    }
    if cut < name.len() {
        name = &name[..cut];
    } else if let Some(suffix) = NAME_SUFFIXES.iter().find(|suffix| name.ends_with(*suffix)) {
        name = &name[..name.len() - suffix.len()];
        // 新疆维吾尔自治区: the group is named without 族.
        if suffix.starts_with("自治")
            && let Some(group) = ETHNIC_GROUPS.iter().find(|group| {
                name.strip_suffix(*group)
                    .is_some_and(|rest| rest.chars().count() >= 2)
            })
        {
            name = &name[..name.len() - group.len()];
        }
    }
    if name.chars().count() >= 2 {
        name.to_owned()
    } else {
        full_name.to_owned()
    }
}

/// The first two postcode digits of each province.
fn postcode_province_digits(province_prefix: &str) -> &'static str {
    match province_prefix {
        "11" => "10",
        "12" => "30",
        "13" => "05",
        "14" => "03",
        "15" => "01",
        "21" => "11",
        "22" => "13",
        "23" => "15",
        "31" => "20",
        "32" => "21",
        "33" => "31",
        "34" => "23",
        "35" => "35",
        "36" => "33",
        "37" => "25",
        "41" => "45",
        "42" => "43",
        "43" => "41",
        "44" => "51",
        "45" => "53",
        "46" => "57",
        "50" => "40",
        "51" => "61",
        "52" => "55",
        "53" => "65",
        "54" => "85",
        "61" => "71",
        "62" => "73",
        "63" => "81",
        "64" => "75",
        "65" => "83",
        _ => "10",
    }
}

/// The leading digits of landline area codes in each province (the municipalities' full codes).
fn area_code_stem(province_prefix: &str) -> &'static str {
    match province_prefix {
        "11" => "010",
        "12" => "022",
        "31" => "021",
        "50" => "023",
        "13" => "031",
        "14" => "035",
        "15" => "047",
        "21" => "041",
        "22" => "043",
        "23" => "045",
        "32" => "051",
        "33" => "057",
        "34" => "055",
        "35" => "059",
        "36" => "079",
        "37" => "053",
        "41" => "037",
        "42" => "071",
        "43" => "073",
        "44" => "075",
        "45" => "077",
        "46" => "089",
        "51" => "083",
        "52" => "085",
        "53" => "087",
        "54" => "089",
        "61" => "091",
        "62" => "093",
        "63" => "097",
        "64" => "095",
        "65" => "099",
        _ => "010",
    }
}

/// A number from 0 to 9 that stays the same for a code.
fn digit_of(code: &str) -> u32 {
    code.bytes().fold(7_u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    }) % 10
}

fn build_places() -> Places {
    let all = divisions::all();
    let mut places = Vec::with_capacity(all.len());
    let mut by_code = HashMap::with_capacity(all.len());
    let mut counties = Vec::new();
    for (index, division) in all.iter().enumerate() {
        if division.level == DivisionLevel::County {
            counties.push(index);
        }
        by_code.insert(division.code.as_str(), index);
        places.push(place_of(division));
    }
    Places {
        places,
        by_code,
        counties,
    }
}

/// The division itself if it is at `level`, otherwise its ancestor at `level`.
fn self_or_ancestor_at(
    division: &'static Division,
    ancestors: &[&'static Division],
    level: DivisionLevel,
) -> Option<&'static Division> {
    if division.level == level {
        Some(division)
    } else {
        ancestors
            .iter()
            .copied()
            .find(|ancestor| ancestor.level == level)
    }
}

/// Everything the generator derives from one division.
fn place_of(division: &'static Division) -> Place {
    let chain = divisions::ancestors(&division.code);
    let province = self_or_ancestor_at(division, &chain, DivisionLevel::Province);
    let prefecture = self_or_ancestor_at(division, &chain, DivisionLevel::Prefecture);
    let own_short_name = short_name(&division.name);
    let province_prefix = division.code.get(0..2).unwrap_or("11");
    // The prefecture's number within its province (杭州 3301 → 1, as in 0571).
    let prefecture_digit = prefecture.map_or(0, |prefecture| {
        prefecture
            .code
            .get(2..4)
            .and_then(|number| number.parse::<u32>().ok())
            .map_or(0, |number| number % 10)
    });
    let postcode_prefix = format!(
        "{}{}{}",
        postcode_province_digits(province_prefix),
        prefecture_digit,
        digit_of(&division.code)
    );
    Place {
        division,
        province,
        address_prefix: address_prefix_of(division, province, prefecture),
        region_names: region_names_of(division, province, prefecture, &own_short_name),
        short_name: own_short_name,
        postcode_prefix,
        area_code: area_code_of(division, province_prefix, prefecture_digit),
        bureau_name: bureau_name_of(division, province, prefecture),
    }
}

/// The administrative part of an address: province, prefecture and the division itself.
fn address_prefix_of(
    division: &Division,
    province: Option<&Division>,
    prefecture: Option<&Division>,
) -> String {
    let mut address_prefix = String::new();
    for part in [province, prefecture].into_iter().flatten() {
        if part.code != division.code {
            address_prefix.push_str(&part.name);
        }
    }
    if division.level != DivisionLevel::Country {
        address_prefix.push_str(&division.name);
    }
    address_prefix
}

/// Region words for enterprise names: the short names of the division and of the division
/// above it, alone and combined.
fn region_names_of(
    division: &Division,
    province: Option<&Division>,
    prefecture: Option<&Division>,
    own_short_name: &str,
) -> Vec<String> {
    let upper_short = prefecture
        .filter(|prefecture| prefecture.code != division.code)
        .or(province.filter(|province| province.code != division.code))
        .map(|upper| short_name(&upper.name));
    let mut region_names = Vec::new();
    match (division.level, &upper_short) {
        (DivisionLevel::County, Some(upper)) if division.is_development_zone() => {
            region_names.push(upper.clone());
        }
        (DivisionLevel::County, Some(upper)) => {
            region_names.push(format!("{upper}{own_short_name}"));
            region_names.push(upper.clone());
            region_names.push(own_short_name.to_owned());
        }
        (_, Some(upper)) => {
            region_names.push(own_short_name.to_owned());
            region_names.push(format!("{upper}{own_short_name}"));
        }
        (_, None) => region_names.push(own_short_name.to_owned()),
    }
    region_names
}

/// The landline area code: the province's stem, followed by the prefecture's digit outside
/// the municipalities.
fn area_code_of(division: &Division, province_prefix: &str, prefecture_digit: u32) -> String {
    let stem = area_code_stem(province_prefix);
    if division.level == DivisionLevel::Country {
        "010".to_owned()
    } else if matches!(province_prefix, "11" | "12" | "31" | "50") {
        stem.to_owned()
    } else {
        format!("{stem}{}", prefecture_digit)
    }
}

/// The market-regulation bureau of the division; a district's bureau carries the name of its
/// city.
fn bureau_name_of(
    division: &Division,
    province: Option<&Division>,
    prefecture: Option<&Division>,
) -> String {
    match division.level {
        DivisionLevel::Country => "国家市场监督管理总局".to_owned(),
        DivisionLevel::County if division.name.ends_with('区') => {
            let upper = prefecture
                .or(province)
                .map_or("", |upper| upper.name.as_str());
            format!("{upper}{}市场监督管理局", division.name)
        }
        _ => format!("{}市场监督管理局", division.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_administrative_suffixes_and_ethnic_groups() {
        assert_eq!(short_name("杭州市"), "杭州");
        assert_eq!(short_name("西湖区"), "西湖");
        assert_eq!(short_name("浙江省"), "浙江");
        assert_eq!(short_name("广西壮族自治区"), "广西");
        assert_eq!(short_name("内蒙古自治区"), "内蒙古");
        assert_eq!(short_name("新疆维吾尔自治区"), "新疆");
        assert_eq!(short_name("宁夏回族自治区"), "宁夏");
        assert_eq!(short_name("西藏自治区"), "西藏");
        assert_eq!(short_name("恩施土家族苗族自治州"), "恩施");
        assert_eq!(short_name("长阳土家族自治县"), "长阳");
        assert_eq!(short_name("大兴安岭地区"), "大兴安岭");
        assert_eq!(short_name("锡林郭勒盟"), "锡林郭勒");
        assert_eq!(short_name("浦东新区"), "浦东");
    }

    #[test]
    fn one_character_short_names_keep_their_suffix() {
        assert_eq!(short_name("和县"), "和县");
        assert_eq!(short_name("城区"), "城区");
    }

    #[test]
    fn xihu_district_gets_its_address_region_names_and_bureau() {
        let Some(xihu) = places().get("330106") else {
            panic!("西湖区 exists");
        };
        assert_eq!(xihu.address_prefix, "浙江省杭州市西湖区");
        assert_eq!(xihu.region_names[0], "杭州西湖");
        assert_eq!(xihu.bureau_name, "杭州市西湖区市场监督管理局");
        assert!(xihu.postcode_prefix.starts_with("31"));
        assert_eq!(xihu.area_code, "0571");
    }

    #[test]
    fn municipal_districts_hang_under_the_municipality() {
        let Some(chaoyang) = places().get("110105") else {
            panic!("朝阳区 exists");
        };
        assert_eq!(chaoyang.address_prefix, "北京市朝阳区");
        assert_eq!(chaoyang.region_names[0], "北京朝阳");
        assert_eq!(chaoyang.area_code, "010");
    }

    #[test]
    fn development_zones_use_the_prefecture_as_region() {
        let Some(zone) = places().get("130171") else {
            panic!("石家庄高新区 exists");
        };
        assert_eq!(zone.region_names, ["石家庄"]);
    }

    #[test]
    fn every_place_has_a_region_name_and_a_six_digit_postcode_stem() {
        for place in &places().places {
            assert!(!place.region_names.is_empty(), "{}", place.division.code);
            assert!(
                place
                    .region_names
                    .iter()
                    .all(|name| name.chars().count() >= 2)
            );
            assert_eq!(place.postcode_prefix.len(), 4);
            assert!(place.area_code.len() >= 3);
        }
        assert!(places().counties.len() > 2_800);
    }
}
