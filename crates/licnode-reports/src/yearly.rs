//! The yearly report's content (Art. 20: "每年10月就本年度获证企业后续监管工作情况…报告，包括
//! 年度审查、巡查回访、定期监督和对存在问题的企业处理情况"): four required sections, each with the
//! figures the year's records give, the figures of the supervision reports (`supervision_reports`)
//! the bureau holds for the year, and a narrative staff write into the report's own field.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::monthly::YearlyFigures;

/// One of the four contents Art. 20 names: its code, its Chinese name and the `reports` field
/// holding its narrative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SectionKind {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub narrative_field: &'static str,
}

/// The four contents, in the article's order.
pub const YEARLY_SECTIONS: [SectionKind; 4] = [
    SectionKind {
        code: "annual_review",
        name_zh: "年度审查",
        narrative_field: "annual_review_narrative",
    },
    SectionKind {
        code: "patrol_visit",
        name_zh: "巡查回访",
        narrative_field: "patrol_visit_narrative",
    },
    SectionKind {
        code: "periodic_supervision",
        name_zh: "定期监督",
        narrative_field: "periodic_supervision_narrative",
    },
    SectionKind {
        code: "problem_handling",
        name_zh: "问题企业处理",
        narrative_field: "problem_handling_narrative",
    },
];

/// The sums of the supervision reports (`supervision_reports`) of one year a bureau holds:
/// its own and those its territory sent up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SupervisionReportTotals {
    /// How many supervision reports were added.
    pub reports: i64,
    pub licensed_enterprise_count: i64,
    pub review_count: i64,
    pub patrol_visit_count: i64,
    pub periodic_supervision_count: i64,
    pub problem_enterprise_count: i64,
}

impl SupervisionReportTotals {
    /// Adds one supervision report's fields; a count it leaves out adds nothing.
    pub fn add(&mut self, data: &Map<String, Value>) {
        let count = |field: &str| data.get(field).and_then(Value::as_i64).unwrap_or(0);
        self.reports += 1;
        self.licensed_enterprise_count += count("licensed_enterprise_count");
        self.review_count += count("review_count");
        self.patrol_visit_count += count("patrol_visit_count");
        self.periodic_supervision_count += count("periodic_supervision_count");
        self.problem_enterprise_count += count("problem_enterprise_count");
    }
}

/// One figure of a section: from the year's records and from the supervision reports held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SectionFigure {
    pub label_zh: &'static str,
    pub from_records: i64,
    pub from_supervision_reports: i64,
}

/// One section of the yearly report: what it is and its figures. Its narrative is the
/// report's field `kind.narrative_field`, written by staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearlySection {
    #[serde(flatten)]
    pub kind: SectionKind,
    pub figures: Vec<SectionFigure>,
}

/// What a yearly report holds: the year's figures as before (`figures`), how many supervision
/// reports were counted, and the four sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearlyContent {
    pub period: String,
    pub figures: YearlyFigures,
    pub supervision_reports: i64,
    pub sections: Vec<YearlySection>,
}

fn figure(
    label_zh: &'static str,
    from_records: i64,
    from_supervision_reports: i64,
) -> SectionFigure {
    SectionFigure {
        label_zh,
        from_records,
        from_supervision_reports,
    }
}

impl YearlyContent {
    /// The content of the yearly report of `period` from the year's figures and the totals of
    /// the year's supervision reports.
    pub fn build(
        period: String,
        figures: YearlyFigures,
        totals: &SupervisionReportTotals,
    ) -> YearlyContent {
        let section_figures = [
            vec![
                figure(
                    "获证企业数",
                    figures.licensed_enterprise_count,
                    totals.licensed_enterprise_count,
                ),
                figure("年度审查企业数", figures.review_count, totals.review_count),
            ],
            vec![figure(
                "巡查回访企业数",
                figures.patrol_visit_count,
                totals.patrol_visit_count,
            )],
            vec![figure(
                "定期监督企业数",
                figures.periodic_supervision_count,
                totals.periodic_supervision_count,
            )],
            vec![figure(
                "存在问题企业数",
                figures.problem_enterprise_count,
                totals.problem_enterprise_count,
            )],
        ];
        let sections = YEARLY_SECTIONS
            .into_iter()
            .zip(section_figures)
            .map(|(kind, figures)| YearlySection { kind, figures })
            .collect();
        YearlyContent {
            period,
            figures,
            supervision_reports: totals.reports,
            sections,
        }
    }
}

/// The sections of a yearly report whose narrative is still empty (Art. 20: all four are
/// required before it is submitted), by Chinese name in the article's order.
pub fn missing_narratives(report: &Map<String, Value>) -> Vec<&'static str> {
    YEARLY_SECTIONS
        .iter()
        .filter(|section| {
            report
                .get(section.narrative_field)
                .and_then(Value::as_str)
                .is_none_or(|text| text.trim().is_empty())
        })
        .map(|section| section.name_zh)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_four_sections_follow_article_20_in_its_order() {
        let names: Vec<&str> = YEARLY_SECTIONS.iter().map(|kind| kind.name_zh).collect();
        assert_eq!(names, ["年度审查", "巡查回访", "定期监督", "问题企业处理"]);
    }

    #[test]
    fn supervision_reports_add_up_and_a_missing_count_adds_nothing() {
        let mut totals = SupervisionReportTotals::default();
        let first = json!({ "licensed_enterprise_count": 12, "patrol_visit_count": 3 });
        let second = json!({ "licensed_enterprise_count": 5, "problem_enterprise_count": 1 });
        totals.add(first.as_object().expect("object"));
        totals.add(second.as_object().expect("object"));
        assert_eq!(totals.reports, 2);
        assert_eq!(totals.licensed_enterprise_count, 17);
        assert_eq!(totals.patrol_visit_count, 3);
        assert_eq!(totals.problem_enterprise_count, 1);
        let content = YearlyContent::build("2026".into(), YearlyFigures::default(), &totals);
        assert_eq!(content.sections[0].figures[0].from_supervision_reports, 17);
        assert_eq!(content.sections[3].figures[0].from_supervision_reports, 1);
    }

    #[test]
    fn a_yearly_report_lacks_every_section_whose_narrative_is_blank() {
        let report = json!({ "annual_review_narrative": "本年度审查企业12家。",
                             "patrol_visit_narrative": "  " });
        assert_eq!(
            missing_narratives(report.as_object().expect("object")),
            ["巡查回访", "定期监督", "问题企业处理"]
        );
    }
}
