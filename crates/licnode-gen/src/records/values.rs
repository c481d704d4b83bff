//! The dates, numbers, codes, phones, e-mails and enum choices of a generated record, each
//! consistent with the record's context.

use chrono::NaiveDate;
use licnode_model::collections::ATTACHMENT_KIND_VALUES;
use licnode_model::divisions::{self, DivisionLevel};
use licnode_model::{EnumValue, Field};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::text::change_filing_item;
use super::{RecordContext, date};
use crate::{Generator, format_date, places, vocabulary};

impl Generator {
    pub(super) fn division_code(&mut self, context: &RecordContext, field: &Field) -> String {
        match field.name {
            // Art. 24: national notices go to provinces, provincial ones to prefectures;
            // Art. 25: problems found in reviews go to the province.
            "addressed_division" => {
                let enterprise_place = places::places().get(&context.enterprise.division_code);
                let enterprise_province = enterprise_place
                    .and_then(|place| place.province)
                    .map(|province| province.code.clone());
                let enterprise_prefecture = enterprise_place.and_then(|place| {
                    std::iter::once(place.division)
                        .chain(divisions::ancestors(&place.division.code))
                        .find(|division| division.level == DivisionLevel::Prefecture)
                        .map(|division| division.code.clone())
                });
                let from_province = context
                    .jurisdiction
                    .is_some_and(|place| place.division.level == DivisionLevel::Province);
                let target = if from_province {
                    enterprise_prefecture.or(enterprise_province)
                } else {
                    enterprise_province
                };
                target.unwrap_or_else(|| self.jurisdiction_code(context))
            }
            "reporting_division" | "accepting_division" => self.jurisdiction_code(context),
            _ => context.enterprise.division_code.clone(),
        }
    }

    pub(super) fn phone_value(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> String {
        let local_code = context
            .organisation_place
            .map(|place| place.division.code.clone())
            .unwrap_or_else(|| self.jurisdiction_code(context));
        match (field.name, row) {
            ("contact_phone", None) => context.enterprise.phone.clone(),
            ("phone", Some(_)) | ("petitioner_phone", _) => self.mobile_phone(),
            ("phone", None) if context.collection_name == "reviewers" => self.mobile_phone(),
            _ => self.landline_phone(&local_code),
        }
    }

    pub(super) fn email_value(&mut self, context: &RecordContext, field: &Field) -> String {
        match (field.name, context.collection_name) {
            ("contact_email", _) => context.enterprise.email.clone(),
            ("email", "reviewers") => {
                let person = self.person();
                self.email_for(&person)
            }
            _ => {
                let number = self.rng.random_range(100..1000_u32);
                let domain = self.pick(vocabulary::EMAIL_DOMAINS);
                format!("xkb{number}@{domain}")
            }
        }
    }

    pub(super) fn date_value(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> NaiveDate {
        let timeline = &context.timeline;
        match (context.collection_name, field.name, row) {
            (_, "supervision_date", Some(_)) => {
                let end = timeline.valid_until.min(date(2025, 6, 30));
                self.date_between(timeline.approval, end)
            }
            (_, "filing_date", Some(_)) => self.days_after(timeline.filing, 30, 1_000),
            (_, "application_date", _) => timeline.application,
            (_, "acceptance_date", _) => timeline.acceptance,
            (_, "plan_date", _) => timeline.plan,
            (_, "planned_review_date", _) => timeline.planned_review,
            (_, "verification_date" | "sampling_date", _) => timeline.verification,
            (_, "completion_date", _) => timeline.completion,
            (_, "reported_date", _) => timeline.reported,
            (_, "approval_date" | "licence_date", _) => timeline.approval,
            (_, "refusal_date", _) => timeline.approval,
            ("licences", "issue_date", _) => timeline.issue,
            ("notices", "issue_date", _) => timeline.notice,
            ("reviewers", "valid_until", _) => context
                .reviewer
                .as_ref()
                .map_or(timeline.valid_until, |reviewer| reviewer.valid_until),
            (_, "valid_until", _) => timeline.valid_until,
            (_, "event_date", _) => timeline.event,
            (_, "received_date", _) => timeline.received,
            (_, "reply_date", _) => timeline.reply,
            (_, "birth_date", _) => context
                .reviewer
                .as_ref()
                .map_or(date(1975, 1, 1), |reviewer| reviewer.birth_date),
            (_, "registration_date", _) => context
                .reviewer
                .as_ref()
                .map_or(timeline.filing, |reviewer| reviewer.registration_date),
            (_, "filing_date", _) => timeline.filing,
            (_, "response_deadline", _) => timeline.response_deadline,
            (_, "publish_date", _) => timeline.publish,
            (_, "effective_date", _) => timeline.effective,
            (_, "fill_date", _) => context.report.fill_date,
            (_, "report_date", _) => {
                let october = date(context.report.year, 10, 1);
                self.days_after(october, 0, 30)
            }
            _ => self.date_between(date(2019, 1, 1), date(2025, 6, 30)),
        }
    }

    pub(super) fn date_time(&mut self, context: &RecordContext, field: &Field) -> String {
        match field.name {
            "generated_at" => context.report.generated_at.clone(),
            "submitted_at" => context.report.submitted_at.clone(),
            _ => {
                let day = self.date_between(date(2019, 1, 1), date(2025, 6, 30));
                let hour = self.rng.random_range(8..18_u32);
                let minute = self.rng.random_range(0..60_u32);
                format!("{}T{hour:02}:{minute:02}:00+08:00", format_date(day))
            }
        }
    }

    pub(super) fn integer(&mut self, context: &RecordContext, field: &Field) -> i64 {
        match field.name {
            "year" => i64::from(context.report.year),
            "revision" => {
                if self.rng.random_bool(0.85) {
                    0
                } else {
                    self.rng.random_range(1..=2)
                }
            }
            // Matches the two items of `nonconformity_summary` when there are any.
            "nonconformity_count" => {
                if context.conforming {
                    0
                } else {
                    2
                }
            }
            "review_count" => i64::from(context.report_counts[0]),
            "patrol_visit_count" => i64::from(context.report_counts[1]),
            "problem_enterprise_count" => i64::from(context.report_counts[2]),
            "periodic_supervision_count" => i64::from(context.report_counts[3]),
            "sample_quantity" => self.rng.random_range(2..=20),
            "annual_output_value" => self.rng.random_range(500..=500_000),
            "employee_count" => self.rng.random_range(20..=3_000),
            "staff_count" => self.rng.random_range(10..=300),
            "licensed_enterprise_count" => self.rng.random_range(50..=5_000),
            "applicant_count" => i64::from(context.report_counts[0]),
            "granted_count" => i64::from(context.report_counts[1]),
            "refused_count" => i64::from(context.report_counts[2]),
            "changed_count" => i64::from(context.report_counts[3]),
            "terminated_count" => i64::from(context.report_counts[4]),
            _ => self.rng.random_range(0..=500),
        }
    }

    pub(super) fn enum_choice(
        &mut self,
        context: &RecordContext,
        field: &Field,
        values: &'static [EnumValue],
        row: Option<(&'static str, usize)>,
    ) -> &'static str {
        let row_index = row.map_or(0, |(_, index)| index);
        let preferred: Option<&str> = match (context.collection_name, field.name) {
            (_, "application_kind" | "issuance_kind") => Some(if self.rng.random_bool(0.75) {
                "new"
            } else {
                "renewal"
            }),
            (_, "issuing_level") => Some(if context.national_issuance {
                "national"
            } else {
                "provincial"
            }),
            ("licences", "status") => Some("valid"),
            ("reviewers" | "review_departments" | "inspection_bodies", "status") => {
                self.rng.random_bool(0.9).then_some("active")
            }
            ("publications", "status") => self.rng.random_bool(0.9).then_some("in_force"),
            ("site_verifications", "conclusion") => Some(if context.conforming {
                "pass"
            } else {
                "pass_after_rectification"
            }),
            ("inspections", "conclusion") => Some(if context.conforming {
                "conforming"
            } else {
                "nonconforming"
            }),
            (_, "verdict") => Some(if context.conforming || row_index > 0 {
                "conforming"
            } else {
                "nonconforming"
            }),
            (_, "result") => self.rng.random_bool(0.8).then_some("conforming"),
            (_, "event_kind") => Some(context.event_kind.as_str()),
            (_, "team_role") => Some(if row_index == 0 {
                "leader"
            } else if self.rng.random_bool(0.8) {
                "member"
            } else {
                "technical_expert"
            }),
            (_, "attachment_kind") => ATTACHMENT_KIND_VALUES
                .get(row_index % ATTACHMENT_KIND_VALUES.len())
                .map(|kind| kind.value),
            (_, "sex") => context
                .reviewer
                .as_ref()
                .map(|reviewer| if reviewer.male { "male" } else { "female" }),
            (_, "publication_kind") => Some(context.publication_kind),
            (_, "report_kind") => Some(if context.report.monthly {
                "monthly"
            } else {
                "yearly"
            }),
            (_, "notice_kind")
                if context
                    .jurisdiction
                    .is_some_and(|place| place.division.level == DivisionLevel::Country) =>
            {
                Some("national_spot_check_failure")
            }
            (_, "quality_status") => self.rng.random_bool(0.7).then_some("good"),
            (_, "changed_item") => Some(change_filing_item(context, row_index).value),
            _ => None,
        };
        if let Some(preferred) = preferred
            && let Some(found) = values.iter().find(|candidate| candidate.value == preferred)
        {
            return found.value;
        }
        values
            .choose(&mut self.rng)
            .map_or("", |candidate| candidate.value)
    }
}
