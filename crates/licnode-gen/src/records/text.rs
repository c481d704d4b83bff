//! The short texts of a generated record: names, addresses, document numbers and the cells
//! of its tables, and the values before and after a change.

use chrono::Datelike;
use licnode_model::collections::{ATTACHMENT_KIND_VALUES, INSPECTION_BODY_CHANGE_ITEM_VALUES};
use licnode_model::divisions::{self, DivisionLevel};
use licnode_model::{EnumValue, Field};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::RecordContext;
use crate::{Generator, places, vocabulary};

impl Generator {
    pub(super) fn province_name(context: &RecordContext) -> &'static str {
        context
            .province
            .map_or("国家", |province| province.division.name.as_str())
    }

    pub(super) fn province_bureau(context: &RecordContext) -> &'static str {
        context.province.map_or("国家市场监督管理总局", |province| {
            province.bureau_name.as_str()
        })
    }

    pub(super) fn abbreviation(context: &RecordContext) -> String {
        context
            .province
            .and_then(|province| divisions::province_abbreviation(&province.division.code))
            .map_or_else(|| "国".to_owned(), |abbreviation| abbreviation.to_string())
    }

    pub(super) fn organisation_address(&mut self, context: &RecordContext) -> String {
        let prefix = context
            .organisation_place
            .or(context.province)
            .map_or("", |place| place.address_prefix.as_str())
            .to_owned();
        let road = self.road();
        let number = self.rng.random_range(1..500_u32);
        format!("{prefix}{road}{number}号")
    }

    pub(super) fn text(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> String {
        self.table_row_text(context, field, row)
            .or_else(|| self.change_row_text(context, field, row))
            .or_else(|| self.enterprise_and_file_text(context, field))
            .or_else(|| self.document_number_text(context, field))
            .or_else(|| self.registry_text(context, field))
            .or_else(|| self.notice_and_publication_text(context, field))
            .unwrap_or_else(|| format!("{}{}", field.label_zh, self.rng.random_range(1..1_000_u32)))
    }

    /// A cell of a table row: problem enterprises, team members, attachments, inspection items;
    /// also the findings and registration numbers outside tables.
    fn table_row_text(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> Option<String> {
        let enterprise = &context.enterprise;
        let text = match (row.map(|(table, _)| table), field.name) {
            (Some("problem_enterprises"), "enterprise_name") => {
                let county = self
                    .random_county_in(&self.jurisdiction_code(context))
                    .code
                    .clone();
                self.enterprise(&county).name
            }
            (Some("problem_enterprises"), "problem") | (_, "findings") => {
                self.pick(vocabulary::PROBLEMS).to_owned()
            }
            (Some(_), "handling") => self.pick(vocabulary::HANDLINGS).to_owned(),
            (Some("team_members"), "employer") => {
                if row.is_some_and(|(_, index)| index == 0) {
                    context.organiser_name.clone()
                } else {
                    format!("{}产品质量监督检验研究院", Self::province_name(context))
                }
            }
            (Some("team_members"), "name") if row.is_some_and(|(_, index)| index == 0) => {
                context.team_leader.clone()
            }
            (Some(_), "name") => self.person_name(),
            (Some(_), "reviewer_registration_number") | (_, "registration_number") => {
                let registration_year = self.rng.random_range(2010..=2024_u32);
                format!("XKSC-{registration_year}-{}", self.digits(5))
            }
            (Some(_), "organisation") => {
                if self.rng.random_bool(0.6) {
                    enterprise.name.clone()
                } else {
                    context.organiser_name.clone()
                }
            }
            (Some(_), "position") => self.pick(vocabulary::ENTERPRISE_POSITIONS).to_owned(),
            (Some("attachments"), "title") => {
                let index = row.map_or(0, |(_, index)| index);
                let label = ATTACHMENT_KIND_VALUES
                    .get(index % ATTACHMENT_KIND_VALUES.len())
                    .map_or("附件", |kind| kind.label_zh);
                format!("{label}.pdf")
            }
            (Some(_), "file_reference") => format!("files/{}.pdf", self.record_id()),
            (Some("inspection_items"), "item") => {
                self.pick(vocabulary::INSPECTION_ITEMS).to_owned()
            }
            (Some(_), "requirement") => {
                let standard = self.rng.random_range(1_000..40_000_u32);
                let clause = self.rng.random_range(1..9_u32);
                format!(
                    "GB/T {standard}-{} 第{clause}.{}条",
                    self.rng.random_range(2008..=2023_u32),
                    self.rng.random_range(1..6_u32)
                )
            }
            (Some(_), "measured_result") => {
                let measured = self.rng.random_range(10..1_000_u32);
                // Row 0 is the failed item of a nonconforming product (see `verdict`).
                let failed = !context.conforming && row.is_some_and(|(_, index)| index == 0);
                let verdict = if failed {
                    "不符合要求"
                } else {
                    "符合要求"
                };
                format!("{measured}（{verdict}）")
            }
            _ => return None,
        };
        Some(text)
    }

    /// A cell of a row of changes: an enterprise's change details or an inspection body's
    /// change filings, with the opinions on them.
    fn change_row_text(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> Option<String> {
        let text = match (row.map(|(table, _)| table), field.name) {
            (Some("change_details"), "item") => {
                let index = row.map_or(0, |(_, index)| index);
                context
                    .change_item_list
                    .get(index)
                    .copied()
                    .unwrap_or("住所")
                    .to_owned()
            }
            (Some("change_details"), "value_before" | "value_after") => {
                let index = row.map_or(0, |(_, index)| index);
                let item = context
                    .change_item_list
                    .get(index)
                    .copied()
                    .unwrap_or("住所");
                self.changed_enterprise_value(context, item, field.name == "value_before")
            }
            (Some("change_filings"), "value_before" | "value_after") => {
                let index = row.map_or(0, |(_, index)| index);
                let item = change_filing_item(context, index);
                self.changed_body_value(context, item, field.name == "value_before")
            }
            (Some(_), "body_opinion") => "情况属实，申请备案。".to_owned(),
            (Some(_), "provincial_opinion") => "同意备案。".to_owned(),
            _ => return None,
        };
        Some(text)
    }

    /// The enterprise, its product and the people and offices of its licensing file.
    fn enterprise_and_file_text(
        &mut self,
        context: &RecordContext,
        field: &Field,
    ) -> Option<String> {
        let enterprise = &context.enterprise;
        let text = match field.name {
            "enterprise_name" => enterprise.name.clone(),
            "residence_address" => enterprise.address.clone(),
            "production_address" => enterprise.production_address.clone(),
            "legal_representative" => enterprise.legal_representative.clone(),
            "contact_person" if context.organisation_place.is_some() => self.person_name(),
            "contact_person" => enterprise.contact.clone(),
            "product_category" => context.category.name_zh.to_owned(),
            "product_name" => context.unit.product_name_zh.to_owned(),
            "application_units" => context.unit.unit_name_zh.to_owned(),
            "accepting_office" => context.jurisdiction.map_or_else(
                || Self::province_bureau(context).to_owned(),
                |place| place.bureau_name.clone(),
            ),
            "production_scale" => format!(
                "年产能约{}吨，生产线{}条",
                self.rng.random_range(1..500_u32) * 100,
                self.rng.random_range(1..12_u32)
            ),
            "organiser_name" => context.organiser_name.clone(),
            "organiser_address" => {
                let prefix = context
                    .province
                    .map_or("", |place| place.address_prefix.as_str())
                    .to_owned();
                self.street_address(&prefix)
            }
            "organiser_contact_person" | "prepared_by" | "approved_by" | "body_head" => {
                self.person_name()
            }
            "sampler" => format!("{}、{}", self.person_name(), self.person_name()),
            "team_leader" => context.team_leader.clone(),
            "inspection_body_name" => context.inspection_body_name.clone(),
            "product_model" => format!(
                "{}-{}",
                ["HY", "ZR", "GB", "KX", "TD"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"HY"),
                self.rng.random_range(10..1_000_u32)
            ),
            "issuing_authority" => {
                if context.national_issuance && context.collection_name == "licences" {
                    "国家市场监督管理总局".to_owned()
                } else if context.collection_name == "publications" {
                    if self.rng.random_bool(0.5) {
                        "国家市场监督管理总局".to_owned()
                    } else {
                        Self::province_bureau(context).to_owned()
                    }
                } else {
                    Self::province_bureau(context).to_owned()
                }
            }
            "change_items" => context.change_items.clone(),
            _ => return None,
        };
        Some(text)
    }

    /// The numbers of acceptances, plans, sampling forms, reports, decisions and letters.
    fn document_number_text(&mut self, context: &RecordContext, field: &Field) -> Option<String> {
        let year = context.timeline.approval.year();
        let text = match field.name {
            "acceptance_number" => format!(
                "（{}）市监许受〔{}〕{}号",
                Self::abbreviation(context),
                context.timeline.acceptance.year(),
                self.rng.random_range(1..10_000_u32)
            ),
            "plan_number" => format!(
                "HC-{}-{}-{}",
                context.category.code,
                context.timeline.plan.year(),
                self.digits(4)
            ),
            "sampling_form_number" => {
                format!(
                    "CY{}{}",
                    context.timeline.verification.year(),
                    self.digits(6)
                )
            }
            "report_number" => format!(
                "{}XK{}{}",
                context.timeline.completion.year(),
                context.category.code,
                self.digits(6)
            ),
            "decision_number" => format!(
                "（{}）市监许〔{}〕{}号",
                Self::abbreviation(context),
                year,
                self.rng.random_range(1..1_000_u32)
            ),
            "case_number" => {
                format!("XF{}{}", context.timeline.received.year(), self.digits(5))
            }
            "approval_document_number" => format!(
                "国市监认〔{}〕{}号",
                context
                    .reviewer
                    .as_ref()
                    .map_or(year, |reviewer| reviewer.registration_date.year()),
                self.rng.random_range(1..300_u32)
            ),
            _ => return None,
        };
        Some(text)
    }

    /// Letters and visits, and the registries of reviewers, review departments and inspection
    /// bodies.
    fn registry_text(&mut self, context: &RecordContext, field: &Field) -> Option<String> {
        let text = match field.name {
            "petitioner_name" => self.person_name(),
            "petitioner_address" | "address" | "organiser_address_line" => {
                if context.organisation_place.is_some() {
                    self.organisation_address(context)
                } else {
                    let prefix = places::places()
                        .get(&self.random_county_in(&self.jurisdiction_code(context)).code)
                        .map_or(String::new(), |place| place.address_prefix.clone());
                    self.street_address(&prefix)
                }
            }
            "subject" => self.pick(vocabulary::LETTER_SUBJECTS).to_owned(),
            "name" if context.reviewer.is_some() => context
                .reviewer
                .as_ref()
                .map_or_else(String::new, |reviewer| reviewer.name.clone()),
            "name" => context.organisation_name.clone(),
            "recommending_unit" => Self::province_bureau(context).to_owned(),
            "employer" => format!("{}产品质量监督检验研究院", Self::province_name(context)),
            "products_qualified" | "products_reviewed" | "products_inspected" => {
                let other = self.product().0.name_zh;
                if other == context.category.name_zh {
                    context.category.name_zh.to_owned()
                } else {
                    format!("{}、{other}", context.category.name_zh)
                }
            }
            "affiliation" => "国家市场监督管理总局".to_owned(),
            "competent_authority" => Self::province_bureau(context).to_owned(),
            "host_unit" => format!("{}质量技术监督研究院", Self::province_name(context)),
            "asset_nature" => self.pick(vocabulary::ASSET_NATURES).to_owned(),
            "website" => format!("https://www.xk{}.org.cn", self.digits(4)),
            _ => return None,
        };
        Some(text)
    }

    /// Notices of spot-check failures, publications and the period of a report.
    fn notice_and_publication_text(
        &mut self,
        context: &RecordContext,
        field: &Field,
    ) -> Option<String> {
        let text = match field.name {
            "notice_number" => format!(
                "（{}）抽查通报〔{}〕{}号",
                context
                    .jurisdiction
                    .filter(|place| place.division.level != DivisionLevel::Country)
                    .and_then(|place| divisions::province_abbreviation(&place.division.code))
                    .map_or_else(|| "国".to_owned(), |abbreviation| abbreviation.to_string()),
                context.timeline.notice.year(),
                self.rng.random_range(1..100_u32)
            ),
            "issuing_unit" | "reporting_unit" => context.jurisdiction.map_or_else(
                || Self::province_bureau(context).to_owned(),
                |place| place.bureau_name.clone(),
            ),
            "addressed_to" => context
                .jurisdiction
                .and_then(|place| place.division.parent.as_deref())
                .and_then(|parent| places::places().get(parent))
                .map_or_else(
                    || "国家市场监督管理总局".to_owned(),
                    |place| place.bureau_name.clone(),
                ),
            "spot_check_batch" => format!(
                "{}年第{}批",
                context.timeline.notice.year(),
                self.rng.random_range(1..5_u32)
            ),
            "title" => self.publication_title(context),
            "document_number" => format!(
                "国市监〔{}〕{}号",
                context.timeline.publish.year(),
                self.rng.random_range(1..200_u32)
            ),
            "url" => format!("https://www.samr.gov.cn/zw/{}.html", self.record_id()),
            "period" => {
                if context.report.monthly {
                    format!("{}-{:02}", context.report.year, context.report.month)
                } else {
                    context.report.year.to_string()
                }
            }
            _ => return None,
        };
        Some(text)
    }

    pub(super) fn publication_title(&mut self, context: &RecordContext) -> String {
        let category = context.category.name_zh;
        match context.publication_kind {
            "law" => "中华人民共和国工业产品生产许可证管理条例".to_owned(),
            "catalogue" => "实行生产许可证制度管理的产品目录".to_owned(),
            "implementation_rules" => format!("{category}产品生产许可证实施细则"),
            "application_guide" => {
                let office = context.jurisdiction.map_or_else(
                    || Self::province_bureau(context).to_owned(),
                    |place| place.bureau_name.clone(),
                );
                format!("{office}工业产品生产许可办事指南")
            }
            _ => format!(
                "关于{}年第{}批工业产品生产许可证获证企业名单的公告",
                context.timeline.publish.year(),
                self.rng.random_range(1..12_u32)
            ),
        }
    }
}

/// The item a row of an inspection body's change filings is about (Attachment 3).
pub(super) fn change_filing_item(context: &RecordContext, row_index: usize) -> &'static EnumValue {
    let values = INSPECTION_BODY_CHANGE_ITEM_VALUES;
    &values[(context.change_filing_offset + row_index) % values.len()]
}

impl Generator {
    /// The value of an enterprise's licence item before or after a change (Attachment 1).
    fn changed_enterprise_value(
        &mut self,
        context: &RecordContext,
        item: &str,
        before: bool,
    ) -> String {
        let enterprise = &context.enterprise;
        match (item, before) {
            ("企业名称", true) => enterprise.name.clone(),
            ("企业名称", false) => {
                let county = enterprise.division_code.clone();
                self.enterprise_making(&county, context.category).name
            }
            ("住所", true) => enterprise.address.clone(),
            ("生产地址", true) => enterprise.production_address.clone(),
            ("住所" | "生产地址", false) => {
                let prefix = places::places()
                    .get(&enterprise.division_code)
                    .map_or(String::new(), |place| place.address_prefix.clone());
                self.street_address(&prefix)
            }
            ("法定代表人", true) => enterprise.legal_representative.clone(),
            ("法定代表人", false) => self.person_name(),
            _ => format!(
                "{}{}",
                context.unit.unit_name_zh,
                ["A型", "B型", "Ⅰ型", "Ⅱ型"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"A型")
            ),
        }
    }

    /// The value of an inspection body's item before or after a change (Attachment 3).
    fn changed_body_value(
        &mut self,
        context: &RecordContext,
        item: &EnumValue,
        before: bool,
    ) -> String {
        let code = context
            .organisation_place
            .map_or_else(|| "110105".to_owned(), |place| place.division.code.clone());
        match item.value {
            "name" if before => context.organisation_name.clone(),
            "name" => format!("{}（更名）", context.organisation_name),
            "competent_authority" | "host_unit" => Self::province_bureau(context).to_owned(),
            "nature" => if before { "事业单位" } else { "企业" }.to_owned(),
            "asset_nature" => self.pick(vocabulary::ASSET_NATURES).to_owned(),
            "address" => self.organisation_address(context),
            "postcode" => self.postcode(&code),
            "phone" | "fax" => self.landline_phone(&code),
            "email" => format!(
                "xkb{}@{}",
                self.digits(3),
                self.pick(vocabulary::EMAIL_DOMAINS)
            ),
            "contact_person" => self.person_name(),
            _ => if before { "无" } else { "已更新" }.to_owned(),
        }
    }
}
