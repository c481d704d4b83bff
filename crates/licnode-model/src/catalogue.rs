//! The catalogue of industrial products under production-licence management (Art. 33), as data
//! for generators and user interfaces, and the products outside the regulation (Art. 3).
//!
//! Fourteen categories, each with the products and application units (申证单元) that a licence
//! names. The 2-digit category and 3-digit unit codes are the ones a licence number carries
//! (`XK06-001-…`). This is reference data, not a rule: `product_category` fields are validated as
//! plain text, so a record naming a category renamed or dropped later still loads. The codes are
//! representative; check them against the catalogue in force before relying on them. The three
//! kinds of products outside the regulation (Art. 3: foods, food-related products, cosmetics)
//! are a rule: [`outside_regulation`] decides them, and the records service refuses them.

use serde::Serialize;

/// One application unit (申证单元) of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ApplicationUnit {
    /// 3-digit unit code, as in `XK06-001-…`.
    pub code: &'static str,
    /// The product name (产品名称) the unit belongs to.
    pub product_name_zh: &'static str,
    /// The unit's name (申证单元).
    pub unit_name_zh: &'static str,
}

/// One product category (产品类别) of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProductCategory {
    /// 2-digit category code, as in `XK06-…`. Several categories may share an industry code.
    pub code: &'static str,
    /// The category's name.
    pub name_zh: &'static str,
    /// Words an enterprise making these products typically has in its name (电缆, 化工).
    pub industry_words_zh: &'static [&'static str],
    /// Its application units.
    pub units: &'static [ApplicationUnit],
}

const fn unit(
    code: &'static str,
    product_name_zh: &'static str,
    unit_name_zh: &'static str,
) -> ApplicationUnit {
    ApplicationUnit {
        code,
        product_name_zh,
        unit_name_zh,
    }
}

static CATEGORIES: [ProductCategory; 14] = [
    ProductCategory {
        code: "05",
        name_zh: "建筑用钢筋",
        industry_words_zh: &["钢铁", "钢业", "特钢", "钢材", "冶金"],
        units: &[
            unit("001", "钢筋混凝土用热轧钢筋", "热轧带肋钢筋"),
            unit("002", "钢筋混凝土用热轧钢筋", "热轧光圆钢筋"),
            unit("003", "冷轧带肋钢筋", "冷轧带肋钢筋"),
        ],
    },
    ProductCategory {
        code: "08",
        name_zh: "水泥",
        industry_words_zh: &["水泥", "建材", "新型建材"],
        units: &[
            unit("001", "水泥", "通用硅酸盐水泥"),
            unit("002", "水泥", "道路硅酸盐水泥"),
            unit("003", "水泥", "砌筑水泥"),
        ],
    },
    ProductCategory {
        code: "09",
        name_zh: "广播电视传输设备",
        industry_words_zh: &["电子", "通信设备", "广电设备", "数码科技"],
        units: &[
            unit("001", "广播电视传输设备", "有线电视传输设备"),
            unit("002", "广播电视传输设备", "卫星电视广播地面接收设备"),
            unit("003", "广播电视传输设备", "无线广播电视发射设备"),
        ],
    },
    ProductCategory {
        code: "10",
        name_zh: "人民币鉴别仪",
        industry_words_zh: &["金融设备", "电子", "机电", "智能科技"],
        units: &[
            unit("001", "人民币鉴别仪", "点验钞机"),
            unit("002", "人民币鉴别仪", "纸币清分机"),
            unit("003", "人民币鉴别仪", "便携式人民币鉴别仪"),
        ],
    },
    ProductCategory {
        code: "16",
        name_zh: "预应力混凝土铁路桥简支梁",
        industry_words_zh: &["桥梁工程", "轨道交通构件", "铁路器材", "混凝土制品"],
        units: &[
            unit(
                "001",
                "预应力混凝土铁路桥简支梁",
                "后张法预应力混凝土铁路桥简支梁",
            ),
            unit(
                "002",
                "预应力混凝土铁路桥简支梁",
                "先张法预应力混凝土铁路桥简支梁",
            ),
        ],
    },
    ProductCategory {
        code: "06",
        name_zh: "电线电缆",
        industry_words_zh: &["电缆", "线缆", "电线电缆", "电工", "电力器材"],
        units: &[
            unit(
                "001",
                "电线电缆",
                "额定电压450/750V及以下聚氯乙烯绝缘电线电缆",
            ),
            unit("002", "电线电缆", "电力电缆（1～35kV）"),
            unit("003", "电线电缆", "塑料绝缘控制电缆"),
            unit("004", "电线电缆", "架空绞线"),
            unit("005", "电线电缆", "额定电压450/750V及以下橡皮绝缘电线电缆"),
        ],
    },
    ProductCategory {
        code: "13",
        name_zh: "危险化学品",
        industry_words_zh: &["化工", "化学", "石化", "精细化工", "化学工业"],
        units: &[
            unit("006", "危险化学品有机产品", "有机化工原料"),
            unit("007", "危险化学品无机产品", "无机化工原料"),
            unit("010", "危险化学品", "工业气体"),
            unit("012", "危险化学品", "涂料"),
        ],
    },
    ProductCategory {
        code: "13",
        name_zh: "化肥",
        industry_words_zh: &["化肥", "肥业", "农资", "生物肥料", "农化"],
        units: &[
            unit("001", "复肥", "复混肥料"),
            unit("002", "复肥", "掺混肥料"),
            unit("003", "磷肥", "过磷酸钙"),
            unit("004", "氮肥", "尿素"),
        ],
    },
    ProductCategory {
        code: "19",
        name_zh: "危险化学品包装物及容器",
        industry_words_zh: &["包装", "包装容器", "塑业", "制桶", "包装制品"],
        units: &[
            unit("001", "危险化学品包装物及容器", "钢桶"),
            unit("002", "危险化学品包装物及容器", "塑料桶（罐）"),
            unit("003", "危险化学品包装物及容器", "塑料编织袋"),
            unit("004", "危险化学品包装物及容器", "复合中型散装容器"),
        ],
    },
    ProductCategory {
        code: "20",
        name_zh: "特种劳动防护用品",
        industry_words_zh: &["劳保用品", "安全防护用品", "防护科技", "安全设备"],
        units: &[
            unit("001", "特种劳动防护用品", "安全帽"),
            unit("002", "特种劳动防护用品", "安全网"),
            unit("003", "特种劳动防护用品", "安全带"),
            unit("004", "特种劳动防护用品", "防护服"),
        ],
    },
    ProductCategory {
        code: "04",
        name_zh: "建筑防水卷材",
        industry_words_zh: &["防水材料", "建材", "防水科技"],
        units: &[
            unit("001", "建筑防水卷材", "改性沥青防水卷材"),
            unit("002", "建筑防水卷材", "高分子防水卷材"),
        ],
    },
    ProductCategory {
        code: "21",
        name_zh: "防伪技术产品",
        industry_words_zh: &["防伪技术", "印务", "信息科技", "标识"],
        units: &[
            unit("001", "防伪技术产品", "防伪标识"),
            unit("002", "防伪技术产品", "防伪材料"),
        ],
    },
    ProductCategory {
        code: "22",
        name_zh: "公路桥梁支座",
        industry_words_zh: &["橡胶制品", "工程橡胶", "桥梁配件", "交通设施"],
        units: &[
            unit("001", "公路桥梁支座", "板式橡胶支座"),
            unit("002", "公路桥梁支座", "盆式支座"),
            unit("003", "公路桥梁支座", "球型支座"),
        ],
    },
    ProductCategory {
        code: "12",
        name_zh: "输水管",
        industry_words_zh: &["管业", "塑胶管材", "管道", "给排水设备"],
        units: &[
            unit("001", "输水管", "硬聚氯乙烯（PVC-U）管材"),
            unit("002", "输水管", "聚乙烯（PE）管材"),
            unit("003", "输水管", "球墨铸铁管"),
        ],
    },
];

/// The fourteen categories of the catalogue.
pub fn categories() -> &'static [ProductCategory] {
    &CATEGORIES
}

/// The category with this name.
pub fn category_by_name(name_zh: &str) -> Option<&'static ProductCategory> {
    CATEGORIES
        .iter()
        .find(|category| category.name_zh == name_zh)
}

/// The category and unit a licence number's category and unit codes point to.
pub fn unit_by_codes(
    category_code: &str,
    unit_code: &str,
) -> Option<(&'static ProductCategory, &'static ApplicationUnit)> {
    CATEGORIES
        .iter()
        .filter(|category| category.code == category_code)
        .find_map(|category| {
            category
                .units
                .iter()
                .find(|unit| unit.code == unit_code)
                .map(|unit| (category, unit))
        })
}

/// The three kinds of products whose licences Art. 3 leaves outside this regulation:
/// "本规定不适用于加工食品、直接接触食品的材料等食品相关产品、化妆品等三类产品".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExcludedProducts {
    /// The kind's name as Art. 3 writes it.
    pub name_zh: &'static str,
    /// Text that, found in a product category or product name, makes it this kind: the
    /// generic words and the food and cosmetics licence categories (食品生产许可分类目录,
    /// 食品相关产品目录, 化妆品生产许可) that do not contain them.
    pub markers_zh: &'static [&'static str],
}

static EXCLUDED_PRODUCTS: [ExcludedProducts; 3] = [
    ExcludedProducts {
        name_zh: "直接接触食品的材料等食品相关产品",
        markers_zh: &[
            "食品相关产品",
            "直接接触食品",
            "食品用",
            "食品包装",
            "食品容器",
            "餐具洗涤剂",
            "压力锅",
            "食品加工设备",
        ],
    },
    ExcludedProducts {
        name_zh: "加工食品",
        markers_zh: &[
            "食品",
            "粮食加工品",
            "食用油",
            "调味品",
            "肉制品",
            "乳制品",
            "饮料",
            "饼干",
            "罐头",
            "冷冻饮品",
            "糖果制品",
            "茶叶",
            "酒类",
            "白酒",
            "葡萄酒",
            "啤酒",
            "黄酒",
            "蔬菜制品",
            "水果制品",
            "炒货",
            "蛋制品",
            "可可及焙烤咖啡",
            "食糖",
            "水产制品",
            "淀粉制品",
            "糕点",
            "豆制品",
            "蜂产品",
            "特殊膳食",
            "婴幼儿配方",
        ],
    },
    ExcludedProducts {
        name_zh: "化妆品",
        markers_zh: &["化妆品", "牙膏"],
    },
];

/// The kinds of products outside the regulation (Art. 3).
pub fn excluded_products() -> &'static [ExcludedProducts] {
    &EXCLUDED_PRODUCTS
}

/// The kind of products outside the regulation (Art. 3) that a product category or product
/// name belongs to, or `None` when it is one the regulation covers. Food-related products are
/// asked first, so that "食品用塑料包装" is named a food-related product, not a food.
pub fn outside_regulation(product_text: &str) -> Option<&'static ExcludedProducts> {
    let compacted: String = product_text
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect();
    if compacted.is_empty() {
        return None;
    }
    EXCLUDED_PRODUCTS.iter().find(|kind| {
        kind.markers_zh
            .iter()
            .any(|marker| compacted.contains(marker))
    })
}

/// The fields whose value names a product: what [`outside_regulation`] is asked about.
pub const PRODUCT_FIELDS: &[&str] = &["product_category", "product_name"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn foods_food_contact_materials_and_cosmetics_are_outside_the_regulation_art_3() {
        let kind = |text: &str| outside_regulation(text).map(|kind| kind.name_zh);
        assert_eq!(kind("乳制品"), Some("加工食品"));
        assert_eq!(kind("方便食品"), Some("加工食品"));
        assert_eq!(kind("酒类"), Some("加工食品"));
        assert_eq!(
            kind("食品用塑料包装容器工具等制品"),
            Some("直接接触食品的材料等食品相关产品")
        );
        assert_eq!(kind("餐具洗涤剂"), Some("直接接触食品的材料等食品相关产品"));
        assert_eq!(kind("化 妆 品"), Some("化妆品"));
        assert_eq!(kind(""), None);
    }

    #[test]
    fn every_category_and_product_of_the_catalogue_is_within_the_regulation() {
        for category in categories() {
            assert_eq!(
                outside_regulation(category.name_zh),
                None,
                "{}",
                category.name_zh
            );
            for unit in category.units {
                assert_eq!(outside_regulation(unit.product_name_zh), None);
                assert_eq!(outside_regulation(unit.unit_name_zh), None);
            }
        }
        // 酒精 is a hazardous chemical, not a liquor.
        assert_eq!(outside_regulation("工业用酒精"), None);
    }

    #[test]
    fn there_are_fourteen_categories_with_unique_names() {
        assert_eq!(categories().len(), 14);
        let names: HashSet<_> = categories().iter().map(|c| c.name_zh).collect();
        assert_eq!(names.len(), 14);
    }

    #[test]
    fn the_named_categories_of_the_catalogue_are_present() {
        for name in [
            "建筑用钢筋",
            "水泥",
            "危险化学品",
            "化肥",
            "电线电缆",
            "人民币鉴别仪",
            "广播电视传输设备",
            "预应力混凝土铁路桥简支梁",
            "危险化学品包装物及容器",
            "特种劳动防护用品",
        ] {
            assert!(category_by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn codes_are_digits_and_each_category_and_unit_pair_is_unique() {
        let mut pairs = HashSet::new();
        for category in categories() {
            assert!(category.code.len() == 2 && category.code.bytes().all(|b| b.is_ascii_digit()));
            assert!(!category.units.is_empty());
            assert!(!category.industry_words_zh.is_empty());
            for unit in category.units {
                assert!(unit.code.len() == 3 && unit.code.bytes().all(|b| b.is_ascii_digit()));
                assert!(
                    pairs.insert((category.code, unit.code)),
                    "{} {}",
                    category.code,
                    unit.code
                );
            }
        }
    }

    #[test]
    fn a_licence_numbers_codes_lead_back_to_its_unit() {
        let found = unit_by_codes("06", "001");
        assert_eq!(
            found.map(|(category, _)| category.name_zh),
            Some("电线电缆")
        );
        let fertiliser = unit_by_codes("13", "004");
        assert_eq!(fertiliser.map(|(_, unit)| unit.unit_name_zh), Some("尿素"));
        assert!(unit_by_codes("99", "001").is_none());
    }
}
