//! The kinds of agency that run a node (Art. 3, DOMAIN.md "Who the agencies are").

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::divisions::DivisionLevel;

/// The level or kind of an agency in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 国家质检总局 / 全国许可证办公室 / 全国许可证审查中心: the root.
    National,
    /// 省级质量技术监督局 / 省级生产许可证管理部门.
    Province,
    /// 市（地）级质量技术监督局 (Art. 24).
    Prefecture,
    /// 县级质量技术监督局 (Art. 20 "省级以下").
    County,
    /// 审查部: product review department (Art. 16, 21, 22).
    ReviewDepartment,
    /// 检验机构: inspection body (Art. 17, 23, 26).
    InspectionBody,
}

impl Level {
    /// Every level, the division-based ones first.
    pub const ALL: [Level; 6] = [
        Self::National,
        Self::Province,
        Self::Prefecture,
        Self::County,
        Self::ReviewDepartment,
        Self::InspectionBody,
    ];

    /// The serialised name: `national`, `province`, `prefecture`, `county`,
    /// `review_department`, `inspection_body`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::ReviewDepartment => "review_department",
            Self::InspectionBody => "inspection_body",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::National => "国家级",
            Self::Province => "省级",
            Self::Prefecture => "市（地）级",
            Self::County => "县级",
            Self::ReviewDepartment => "审查部",
            Self::InspectionBody => "检验机构",
        }
    }

    /// Whether agencies of this level are identified by a GB/T 2260 division code.
    pub fn is_territorial(self) -> bool {
        matches!(
            self,
            Self::National | Self::Province | Self::Prefecture | Self::County
        )
    }

    /// The bureau level that governs a division of this level.
    pub fn for_division(division_level: DivisionLevel) -> Level {
        match division_level {
            DivisionLevel::Country => Self::National,
            DivisionLevel::Province => Self::Province,
            DivisionLevel::Prefecture => Self::Prefecture,
            DivisionLevel::County => Self::County,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text was not a known level.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown level {0:?}: expected national, province, prefecture, county, review_department or inspection_body"
)]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    /// Accepts the serialised name (any ASCII case, `-` for `_`) or the Chinese label, and a few
    /// common Chinese synonyms (国家, 省, 市, 地市级, 县, 区县级).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let ascii = trimmed.to_ascii_lowercase().replace('-', "_");
        if let Some(level) = Self::ALL
            .into_iter()
            .find(|level| level.as_str() == ascii || level.label_zh() == trimmed)
        {
            return Ok(level);
        }
        let synonym = match trimmed {
            "国家" | "全国" => Some(Self::National),
            "省" | "省级局" => Some(Self::Province),
            "市" | "市级" | "地市级" | "市（地）" | "市(地)级" => {
                Some(Self::Prefecture)
            }
            "县" | "区县级" | "县（区）级" => Some(Self::County),
            "产品审查部" => Some(Self::ReviewDepartment),
            "发证检验机构" => Some(Self::InspectionBody),
            _ => None,
        };
        synonym.ok_or_else(|| UnknownLevel(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_serialise_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Level::ReviewDepartment)
                .ok()
                .as_deref(),
            Some("\"review_department\"")
        );
        assert_eq!(
            serde_json::from_str::<Level>("\"inspection_body\"").ok(),
            Some(Level::InspectionBody)
        );
    }

    #[test]
    fn every_level_parses_back_from_its_name_and_its_label() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            assert_eq!(level.label_zh().parse::<Level>(), Ok(level));
            assert_eq!(level.to_string().parse::<Level>(), Ok(level));
        }
    }

    #[test]
    fn level_parsing_accepts_case_and_hyphen_variants_and_synonyms() {
        assert_eq!(
            "Review-Department".parse::<Level>(),
            Ok(Level::ReviewDepartment)
        );
        assert_eq!("地市级".parse::<Level>(), Ok(Level::Prefecture));
        assert!("township".parse::<Level>().is_err());
    }

    #[test]
    fn only_bureaus_are_territorial() {
        assert!(Level::County.is_territorial());
        assert!(!Level::InspectionBody.is_territorial());
        assert_eq!(Level::for_division(DivisionLevel::Country), Level::National);
    }
}
