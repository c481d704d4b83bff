//! The long texts of a generated record: the wording of reviews, inspections, letters,
//! registries and reports, and a table of the texts that never vary.

use licnode_model::{EventKind, Field};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::RecordContext;
use crate::{Generator, format_date, vocabulary};

/// Long texts that are the same in every record: the field name and its text.
const FIXED_LONG_TEXTS: &[(&str, &str)] = &[
    ("remarks", "无"),
    (
        "basis",
        "1、《中华人民共和国工业产品生产许可证管理条例》、《中华人民共和国工业产品生产许可证管理条例实施办法》；2、产品实施细则及实地核查办法作业指导书。",
    ),
    (
        "leader_instructions",
        "请许可处核实情况，依法处理，并按期答复。",
    ),
    ("reply", "已将调查处理情况书面答复来信人。"),
    (
        "internal_rules",
        "建立了审查工作程序、审查员管理、档案管理、保密管理等内部管理制度。",
    ),
    (
        "organisation_structure",
        "设综合办公室、审查业务部、技术管理部。",
    ),
    (
        "legal_basis",
        "《中华人民共和国行政许可法》《中华人民共和国工业产品生产许可证管理条例》《中华人民共和国工业产品生产许可证管理条例实施办法》",
    ),
    (
        "conditions",
        "有营业执照；有与所生产产品相适应的专业技术人员、生产条件和检验检疫手段；有健全有效的质量管理制度和责任制度；产品符合有关国家标准、行业标准。",
    ),
    (
        "procedure",
        "申请、受理、审查（实地核查和产品检验）、决定、发证。",
    ),
    ("time_limits", "自受理之日起20个工作日内作出许可决定。"),
    ("fees", "不收取费用。"),
    (
        "required_documents",
        "1、工业产品生产许可证申请书；2、营业执照复印件；3、产品检验合格报告；4、其他材料。",
    ),
    (
        "sample_application",
        "工业产品生产许可证申请书（示范文本）见附件。",
    ),
    (
        "required_action",
        "请于收到通报之日起30日内组织核查处理，并将处理结果报送通报单位。",
    ),
];

impl Generator {
    pub(super) fn long_text(&mut self, context: &RecordContext, field: &Field) -> String {
        if let Some((_, fixed)) = FIXED_LONG_TEXTS
            .iter()
            .find(|(field_name, _)| *field_name == field.name)
        {
            return (*fixed).to_owned();
        }
        self.review_long_text(context, field)
            .or_else(|| self.letter_registry_and_report_long_text(context, field))
            .unwrap_or_else(|| format!("{}：{}相关情况。", field.label_zh, context.enterprise.name))
    }

    /// The texts of a licensing file: production conditions, verification, sampling,
    /// inspection, refusal and the reason of a licence event.
    fn review_long_text(&mut self, context: &RecordContext, field: &Field) -> Option<String> {
        let enterprise = &context.enterprise.name;
        let product = context.unit.product_name_zh;
        let unit = context.unit.unit_name_zh;
        let text = match field.name {
            "production_conditions" => format!(
                "厂区占地面积{}平方米，生产车间{}个，主要生产设备{}台（套），检验设备{}台（套），专职检验人员{}名。",
                self.rng.random_range(20..800_u32) * 100,
                self.rng.random_range(1..10_u32),
                self.rng.random_range(10..200_u32),
                self.rng.random_range(5..60_u32),
                self.rng.random_range(2..20_u32)
            ),
            "requirements" => format!(
                "1、请企业安排好生产计划，以保证现场核查过程中能正常生产；2、请企业按照《{product}产品生产许可证实施细则》中关于产品许可证检验规则的有关规定准备好待抽检样品；3、请企业与审查组成员联系，如有不清楚之处，请直接与审查组织单位联系。"
            ),
            "verification_record" => format!(
                "审查组于{}对{enterprise}{unit}生产现场进行实地核查，查看了原材料库、生产车间、检验室和成品库，核查了质量管理制度、工艺文件和检验记录。",
                format_date(context.timeline.verification)
            ),
            "verification_report" => format!(
                "{enterprise}申请{unit}生产许可证，审查组依据实施细则进行实地核查，共核查{}项，结论：{}。",
                self.rng.random_range(20..60_u32),
                if context.conforming {
                    "符合"
                } else {
                    "整改后符合"
                }
            ),
            "nonconformity_summary" => {
                if context.conforming {
                    "无不符合项。".to_owned()
                } else {
                    format!(
                        "1、{}；2、{}。",
                        self.pick(vocabulary::PROBLEMS),
                        self.pick(vocabulary::PROBLEMS)
                    )
                }
            }
            "sampling_form" => format!(
                "样品名称：{product}；规格型号：{unit}；抽样基数：{}；样品数量：{}；抽样日期：{}；封样状态：完好。",
                self.rng.random_range(100..5_000_u32),
                self.rng.random_range(2..20_u32),
                format_date(context.timeline.verification)
            ),
            "raw_records" => format!(
                "样品编号{}：{} 实测值{}，{} 实测值{}；环境温度{}℃，相对湿度{}%。",
                self.digits(6),
                self.pick(vocabulary::INSPECTION_ITEMS),
                self.rng.random_range(10..1_000_u32),
                self.pick(vocabulary::INSPECTION_ITEMS),
                self.rng.random_range(10..1_000_u32),
                self.rng.random_range(15..30_u32),
                self.rng.random_range(30..70_u32)
            ),
            "inspection_report" => format!(
                "{enterprise}送检{product}（{unit}），经检验，所检项目{}。",
                if context.conforming {
                    "均符合标准要求，检验结论：合格"
                } else {
                    "部分不符合标准要求，检验结论：不合格"
                }
            ),
            "refusal_reason" => self.pick(vocabulary::REFUSAL_REASONS).to_owned(),
            "reason" => match context.event_kind {
                EventKind::Change => format!("企业{}变更", context.change_items),
                kind => vocabulary::TERMINATION_REASONS
                    .iter()
                    .find(|(value, _)| *value == kind.as_str())
                    .and_then(|(_, reasons)| reasons.choose(&mut self.rng))
                    .map_or_else(|| "企业申请注销".to_owned(), |reason| (*reason).to_owned()),
            },
            "products_made" => context
                .category
                .units
                .iter()
                .map(|unit| unit.unit_name_zh)
                .collect::<Vec<_>>()
                .join("、"),
            "quality_notes" => format!(
                "近三年国家和省级监督抽查{}次，合格{}次。",
                3,
                if context.conforming { 3 } else { 2 }
            ),
            _ => return None,
        };
        Some(text)
    }

    /// The texts of letters and visits, of the registries of review departments and inspection
    /// bodies, of publications, notices and reports.
    fn letter_registry_and_report_long_text(
        &mut self,
        context: &RecordContext,
        field: &Field,
    ) -> Option<String> {
        let enterprise = &context.enterprise.name;
        let text = match field.name {
            "handling_summary" | "handling_result" => self.pick(vocabulary::HANDLINGS).to_owned(),
            "content" if context.collection_name == "reports" => serde_json::json!({
                "period": if context.report.monthly {
                    format!("{}-{:02}", context.report.year, context.report.month)
                } else {
                    context.report.year.to_string()
                },
                "applicants": context.report_counts[0],
                "granted": context.report_counts[1],
                "refused": context.report_counts[2],
                "changed": context.report_counts[3],
                "terminated": context.report_counts[4],
            })
            .to_string(),
            "content" => format!(
                "来信人反映{enterprise}{}，请求核查处理。",
                self.pick(&[
                    "未取得生产许可证擅自生产",
                    "产品质量存在问题",
                    "冒用他人许可证编号",
                    "许可证过期后继续生产"
                ])
            ),
            "investigation" => format!("经调查核实，{}", self.pick(vocabulary::HANDLINGS)),
            "qualifications" => format!(
                "具有检验检测机构资质认定证书（CMA），证书编号{}。",
                self.digits(12)
            ),
            "main_work_and_experience" => format!(
                "承担{}产品生产许可审查、检验工作十余年。",
                context.category.name_zh
            ),
            "staff" => format!(
                "在编人员{}人，其中高级职称{}人，注册审查员{}人。",
                self.rng.random_range(20..200_u32),
                self.rng.random_range(5..50_u32),
                self.rng.random_range(3..30_u32)
            ),
            "office_conditions" => format!(
                "办公面积{}平方米，具备档案室和视频会议条件。",
                self.rng.random_range(200..3_000_u32)
            ),
            "inspection_equipment" => format!(
                "主要检验设备{}台（套），包括万能材料试验机、电阻测试仪、环境试验箱等。",
                self.rng.random_range(50..800_u32)
            ),
            "body_text" => format!("{}全文。", self.publication_title(context)),
            "problem_description" => self.pick(vocabulary::PROBLEMS).to_owned(),
            "annual_review_summary" => {
                format!("本年度审查企业{}家。", context.report_counts[0])
            }
            "patrol_visit_summary" => {
                format!("本年度巡查回访企业{}家。", context.report_counts[1])
            }
            "periodic_supervision_summary" => {
                format!("本年度定期监督检查企业{}家。", context.report_counts[3])
            }
            "problem_handling_summary" => format!(
                "发现存在问题企业{}家，{}。",
                context.report_counts[2],
                self.pick(vocabulary::HANDLINGS)
            ),
            _ => return None,
        };
        Some(text)
    }
}
