//! Complete, valid create-inputs for any collection: every field filled, consistent within the
//! record (one enterprise, one product, one timeline).

use chrono::{Datelike, Duration, Months, NaiveDate};
use licnode_model::catalogue::{ApplicationUnit, ProductCategory};
use licnode_model::collections::{
    ATTACHMENT_KIND_VALUES, INSPECTION_BODY_CHANGE_ITEM_VALUES, PUBLICATION_KIND_VALUES,
};
use licnode_model::divisions::{self, DivisionLevel};
use licnode_model::{Collection, EnumValue, EventKind, Field, FieldType};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value};

use crate::places::{self, Place};
use crate::{Enterprise, Generator, format_date, vocabulary};

/// The dates of one licensing file, in the order things happen (Art. 6).
struct Timeline {
    application: NaiveDate,
    acceptance: NaiveDate,
    plan: NaiveDate,
    planned_review: NaiveDate,
    verification: NaiveDate,
    completion: NaiveDate,
    reported: NaiveDate,
    approval: NaiveDate,
    issue: NaiveDate,
    valid_until: NaiveDate,
    event: NaiveDate,
    received: NaiveDate,
    reply: NaiveDate,
    filing: NaiveDate,
    notice: NaiveDate,
    response_deadline: NaiveDate,
    publish: NaiveDate,
    effective: NaiveDate,
}

/// A reviewer's identity (Art. 15).
struct Reviewer {
    name: String,
    male: bool,
    birth_date: NaiveDate,
    id_number: String,
    registration_date: NaiveDate,
    valid_until: NaiveDate,
}

/// The period a report covers (Art. 18–20).
#[derive(Default)]
struct ReportPeriod {
    monthly: bool,
    year: i32,
    month: u32,
    fill_date: NaiveDate,
    generated_at: String,
    submitted_at: String,
}

/// Everything one record is built from.
struct RecordContext {
    collection_name: &'static str,
    jurisdiction: Option<&'static Place>,
    /// The province bureau responsible (of the jurisdiction, or of the enterprise).
    province: Option<&'static Place>,
    enterprise: Enterprise,
    category: &'static ProductCategory,
    unit: &'static ApplicationUnit,
    national_issuance: bool,
    licence_number: String,
    timeline: Timeline,
    event_kind: EventKind,
    /// What a change event changed (2–3 of [`vocabulary::CHANGE_ITEMS`]); one row each in
    /// `change_details`.
    change_item_list: Vec<&'static str>,
    change_items: String,
    /// Figures of a report: applicants, granted, refused, changed, terminated.
    report_counts: [u32; 5],
    /// Where the rows of an inspection body's change filings start in the list of items.
    change_filing_offset: usize,
    conforming: bool,
    team_leader: String,
    organiser_name: String,
    inspection_body_name: String,
    organisation_name: String,
    organisation_place: Option<&'static Place>,
    publication_kind: &'static str,
    reviewer: Option<Reviewer>,
    report: ReportPeriod,
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(valid) => valid,
        None => NaiveDate::MIN,
    }
}

/// The first application date generated.
const FIRST_APPLICATION: NaiveDate = date(2019, 1, 1);
/// The last application date generated.
const LAST_APPLICATION: NaiveDate = date(2024, 6, 30);
/// No event happens after this day.
const LAST_EVENT: NaiveDate = date(2025, 6, 30);

fn years_later(start: NaiveDate, years: u32) -> NaiveDate {
    start
        .checked_add_months(Months::new(12 * years))
        .map_or(start, |later| later - Duration::days(1))
}

impl Generator {
    fn days_after(&mut self, start: NaiveDate, min_days: i64, max_days: i64) -> NaiveDate {
        start + Duration::days(self.rng.random_range(min_days..=max_days))
    }

    /// The dates of a file; the dates of letters, filings, notices and publications only when
    /// `with_other_dates` (otherwise they are the application date).
    fn timeline(&mut self, with_other_dates: bool) -> Timeline {
        let application = self.date_between(FIRST_APPLICATION, LAST_APPLICATION);
        let acceptance = self.days_after(application, 0, 5);
        let plan = self.days_after(acceptance, 1, 3);
        let planned_review = self.days_after(acceptance, 5, 30);
        let verification = self.days_after(planned_review, 0, 2);
        let completion = self.days_after(verification, 5, 20);
        // Art. 23: results reach the organiser within 5 days.
        let reported = self.days_after(completion, 0, 5);
        let approval = self.days_after(completion, 3, 20);
        let issue = self.days_after(approval, 0, 5);
        let valid_until = years_later(approval, 5);
        let first_event = approval + Duration::days(30);
        let event = self.date_between(first_event, first_event.max(LAST_EVENT));
        // Other dates of the same years, around the application (at the latest in 2025).
        let other_date = |generator: &mut Generator, start: NaiveDate, min: i64, max: i64| {
            if with_other_dates {
                generator.days_after(start, min, max)
            } else {
                application
            }
        };
        let received = other_date(self, application, 0, 300);
        let reply = other_date(self, received, 3, 60);
        let filing = other_date(self, application, 0, 300);
        let notice = other_date(self, application, 0, 300);
        let response_deadline = other_date(self, notice, 15, 45);
        let publish = other_date(self, application, 0, 300);
        let effective = other_date(self, publish, 0, 90);
        Timeline {
            application,
            acceptance,
            plan,
            planned_review,
            verification,
            completion,
            reported,
            approval,
            issue,
            valid_until,
            event,
            received,
            reply,
            filing,
            notice,
            response_deadline,
            publish,
            effective,
        }
    }

    fn report_period(&mut self) -> ReportPeriod {
        let monthly = self.rng.random_bool(0.8);
        let year = self.rng.random_range(2019..=2024);
        let month = self.rng.random_range(1..=12_u32);
        let fill_date = if monthly {
            let next_month = date(year, month, 1)
                .checked_add_months(Months::new(1))
                .unwrap_or_default();
            self.days_after(next_month, 0, 9)
        } else {
            self.days_after(date(year + 1, 1, 1), 0, 19)
        };
        let hour = self.rng.random_range(8..=11_u32);
        let minute = self.rng.random_range(0..60_u32);
        let fill = format_date(fill_date);
        ReportPeriod {
            monthly,
            year,
            month,
            fill_date,
            generated_at: format!("{fill}T{hour:02}:{minute:02}:00+08:00"),
            submitted_at: format!("{fill}T{:02}:{minute:02}:00+08:00", hour + 4),
        }
    }

    fn reviewer(&mut self) -> Reviewer {
        let male = self.rng.random_bool(0.6);
        let birth_date = self.date_between(date(1960, 1, 1), date(1995, 12, 31));
        let county = self.random_county().code.clone();
        let id_number = self.id_number(&county, birth_date, male);
        let registration_date = self.date_between(date(2022, 7, 1), date(2025, 6, 30));
        Reviewer {
            name: self.person_name(),
            male,
            birth_date,
            id_number,
            registration_date,
            valid_until: years_later(registration_date, 3),
        }
    }

    fn event_kind(&mut self) -> EventKind {
        match self.rng.random_range(0..100_u32) {
            0..40 => EventKind::Change,
            40..75 => EventKind::Cancellation,
            75..85 => EventKind::Withdrawal,
            85..93 => EventKind::Revocation,
            _ => EventKind::PenaltyRevocation,
        }
    }

    fn context(&mut self, collection: &Collection, jurisdiction: &str) -> RecordContext {
        let name = collection.name;
        let all_places = places::places();
        let jurisdiction_place = all_places.get(jurisdiction);
        let county_place = self.random_place_in(jurisdiction);
        let (category, unit) = self.product();
        // Only records that show the contact details (or a change of legal representative)
        // pay for generating them: generating a million licences must stay fast.
        let with_contact = collection.fields.iter().any(|field| {
            matches!(
                field.name,
                "contact_person"
                    | "contact_phone"
                    | "contact_email"
                    | "postcode"
                    | "legal_representative"
                    | "change_details"
            )
        });
        let enterprise = self.enterprise_at(county_place, category, with_contact);
        let province = jurisdiction_place
            .and_then(|place| place.province)
            .or(county_place.province)
            .and_then(|province| all_places.get(&province.code));
        let national_issuance = self.rng.random_bool(0.1);
        let abbreviation = if national_issuance {
            None
        } else {
            province.and_then(|province| divisions::province_abbreviation(&province.division.code))
        };
        let licence_number = self.licence_number_for(abbreviation, category, unit);
        let timeline = self.timeline(matches!(
            name,
            "letters_visits"
                | "review_departments"
                | "inspection_bodies"
                | "notices"
                | "publications"
        ));
        let event_kind = self.event_kind();
        let change_item_list: Vec<&'static str> = if name == "licence_events" {
            let change_count = self.rng.random_range(2..=3);
            let first_change = self.rng.random_range(0..vocabulary::CHANGE_ITEMS.len());
            (0..change_count)
                .filter_map(|offset| {
                    vocabulary::CHANGE_ITEMS
                        .get((first_change + offset) % vocabulary::CHANGE_ITEMS.len())
                })
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        let change_items = if event_kind == EventKind::Change {
            change_item_list.join("、")
        } else {
            "无".to_owned()
        };
        let report_counts = if matches!(name, "reports" | "supervision_reports") {
            [
                self.rng.random_range(0..400_u32),
                self.rng.random_range(0..300_u32),
                self.rng.random_range(0..30_u32),
                self.rng.random_range(0..80_u32),
                self.rng.random_range(0..50_u32),
            ]
        } else {
            [0; 5]
        };
        let organisation_place = match name {
            "review_departments" | "inspection_bodies" => Some(self.random_place_in(jurisdiction)),
            _ => None,
        };
        // A registry entry's own province, not the enterprise's.
        let province = match organisation_place {
            Some(place) => place
                .province
                .and_then(|province| all_places.get(&province.code)),
            None => province,
        };
        let province_name = province.map_or("国家", |province| province.division.name.as_str());
        let province_bureau =
            province.map_or("国家市场监督管理总局", |p| p.bureau_name.as_str());
        let reviewing = matches!(name, "review_plans" | "site_verifications" | "inspections");
        let organiser_name = match (reviewing, national_issuance) {
            (false, _) => String::new(),
            (true, true) => format!("{}产品生产许可证审查部", category.name_zh),
            (true, false) => province_bureau.to_owned(),
        };
        let inspection_body_name = if reviewing {
            format!("{province_name}产品质量监督检验研究院")
        } else {
            String::new()
        };
        let organisation_name = match name {
            "review_departments" => format!("{}产品生产许可证审查部", category.name_zh),
            "inspection_bodies" => {
                let place_name = organisation_place
                    .and_then(|place| place.province)
                    .map_or("国家", |province| province.name.as_str());
                let suffix = *[
                    "产品质量监督检验研究院",
                    "产品质量检验检测中心",
                    "质量技术监督检测研究院",
                ]
                .choose(&mut self.rng)
                .unwrap_or(&"产品质量检验检测中心");
                format!("{place_name}{suffix}")
            }
            _ => String::new(),
        };
        let publication_kind = PUBLICATION_KIND_VALUES
            .choose(&mut self.rng)
            .map_or("law", |kind| kind.value);
        let reviewer = (name == "reviewers").then(|| self.reviewer());
        let report = if matches!(name, "reports" | "supervision_reports") {
            self.report_period()
        } else {
            ReportPeriod::default()
        };
        let team_leader = if reviewing {
            self.person_name()
        } else {
            String::new()
        };
        RecordContext {
            collection_name: collection.name,
            jurisdiction: jurisdiction_place,
            province,
            enterprise,
            category,
            unit,
            national_issuance,
            licence_number,
            timeline,
            event_kind,
            change_item_list,
            change_items,
            report_counts,
            change_filing_offset: self
                .rng
                .random_range(0..INSPECTION_BODY_CHANGE_ITEM_VALUES.len()),
            conforming: self.rng.random_bool(0.85),
            team_leader,
            organiser_name,
            inspection_body_name,
            organisation_name,
            organisation_place,
            publication_kind,
            reviewer,
            report,
        }
    }

    /// A complete, valid create-input for `collection`, as entered at the node of
    /// `jurisdiction` (a division code; the enterprise is placed within it, anywhere in the
    /// country for the national node or a code that is no division). Every field is filled and
    /// [`licnode_model::validate`] accepts it in [`licnode_model::Mode::Create`] without warnings.
    pub fn record(&mut self, collection: &Collection, jurisdiction: &str) -> Map<String, Value> {
        let context = self.context(collection, jurisdiction);
        let mut record = Map::new();
        for field in collection.fields {
            let value = self.field_value(&context, field, None);
            record.insert(field.name.to_owned(), value);
        }
        if collection.name == "destructions" {
            self.destruction_request(&mut record, jurisdiction);
        }
        record
    }

    /// A destruction request as a bureau writes it and its superior decides it (Art. 37, 38):
    /// the ids of some of its records, its own code, the superior's approval a few days later
    /// valid for thirty days, carried out two days after that. The `approval` has the shape of a
    /// signed decision but no signature: generated approvals never verify.
    fn destruction_request(&mut self, record: &mut Map<String, Value>, jurisdiction: &str) {
        let count = self.rng.random_range(1..=20_usize);
        let ids: Vec<String> = (0..count).map(|_| self.record_id()).collect();
        let superior = licnode_model::divisions::lookup(jurisdiction)
            .and_then(|division| division.parent.clone())
            .unwrap_or_else(|| licnode_model::divisions::NATIONAL_CODE.to_owned());
        let requested = self.date_between(date(2019, 1, 1), date(2025, 6, 30));
        let at = |days: u64, hour: u32| {
            let day = requested + chrono::Days::new(days);
            format!("{}T{hour:02}:00:00+08:00", format_date(day))
        };
        let approver = record
            .get("approver")
            .and_then(Value::as_str)
            .unwrap_or("王审批")
            .to_owned();
        let payload = serde_json::json!({
            "request_id": self.record_id(),
            "requesting_node": jurisdiction,
            "approving_node": superior,
            "decision": "approved",
            "record_ids": ids,
            "approver": approver,
        });
        let values = [
            ("record_ids", Value::String(ids.join("\n"))),
            ("requesting_node", Value::String(jurisdiction.to_owned())),
            ("requested_date", Value::String(format_date(requested))),
            (
                "reason",
                Value::String("档案保存期满五年（第三十七条），申请销毁。".to_owned()),
            ),
            ("decision", Value::String("approved".to_owned())),
            ("approving_node", Value::String(superior)),
            ("approved_at", Value::String(at(3, 10))),
            ("expires_at", Value::String(at(33, 10))),
            ("decision_remarks", Value::String("同意销毁。".to_owned())),
            (
                "approval",
                Value::String(
                    serde_json::json!({"payload": payload.to_string(), "scheme": 2055,
                                       "signature": "", "chain": []})
                    .to_string(),
                ),
            ),
            ("destroyed_at", Value::String(at(5, 15))),
        ];
        for (field, value) in values {
            record.insert(field.to_owned(), value);
        }
    }

    fn field_value(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> Value {
        match field.field_type {
            FieldType::Text => Value::String(self.text(context, field, row)),
            FieldType::LongText => Value::String(self.long_text(context, field)),
            FieldType::Date => Value::String(format_date(self.date_value(context, field, row))),
            FieldType::DateTime => Value::String(self.date_time(context, field)),
            FieldType::Integer => Value::from(self.integer(context, field)),
            FieldType::Boolean => Value::Bool(self.rng.random_bool(0.5)),
            FieldType::Enum(values) => {
                Value::String(self.enum_choice(context, field, values, row).to_owned())
            }
            FieldType::CreditCode => {
                let code = match context.collection_name {
                    "review_departments" | "inspection_bodies" => {
                        let division = context
                            .organisation_place
                            .map_or("110105", |place| place.division.code.as_str());
                        let code = self.credit_code(division);
                        public_institution_code(&code)
                    }
                    _ => context.enterprise.credit_code.clone(),
                };
                Value::String(code)
            }
            FieldType::LicenceNumber => {
                let number = match row {
                    Some(_) => {
                        let (category, unit) = self.product();
                        let abbreviation = context.province.and_then(|province| {
                            divisions::province_abbreviation(&province.division.code)
                        });
                        self.licence_number_for(abbreviation, category, unit)
                    }
                    None => context.licence_number.clone(),
                };
                Value::String(number)
            }
            FieldType::DivisionCode => Value::String(self.division_code(context, field)),
            FieldType::IdNumber => {
                let id = match &context.reviewer {
                    Some(reviewer) => reviewer.id_number.clone(),
                    None => self.reviewer_id_number(),
                };
                Value::String(id)
            }
            FieldType::Phone => Value::String(self.phone_value(context, field, row)),
            FieldType::Email => Value::String(self.email_value(context, field)),
            FieldType::Postcode => {
                let code = match field.name {
                    "postcode" if context.organisation_place.is_some() => context
                        .organisation_place
                        .map_or("110105", |place| place.division.code.as_str())
                        .to_owned(),
                    "organiser_postcode" => self.jurisdiction_code(context),
                    _ => return Value::String(context.enterprise.postcode.clone()),
                };
                Value::String(self.postcode(&code))
            }
            FieldType::RecordRef(_) => Value::String(self.record_id()),
            FieldType::Table(sub_fields) => {
                let row_count = if field.name == "change_details" {
                    context.change_item_list.len()
                } else {
                    self.rng.random_range(2..=5)
                };
                let rows = (0..row_count)
                    .map(|index| {
                        let mut row_object = Map::new();
                        for sub_field in sub_fields {
                            let value =
                                self.field_value(context, sub_field, Some((field.name, index)));
                            row_object.insert(sub_field.name.to_owned(), value);
                        }
                        Value::Object(row_object)
                    })
                    .collect();
                Value::Array(rows)
            }
        }
    }

    /// The code of the jurisdiction if it is a division, otherwise the enterprise's county.
    fn jurisdiction_code(&self, context: &RecordContext) -> String {
        context.jurisdiction.map_or_else(
            || context.enterprise.division_code.clone(),
            |place| place.division.code.clone(),
        )
    }

    fn division_code(&mut self, context: &RecordContext, field: &Field) -> String {
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

    fn phone_value(
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

    fn email_value(&mut self, context: &RecordContext, field: &Field) -> String {
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

    fn date_value(
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

    fn date_time(&mut self, context: &RecordContext, field: &Field) -> String {
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

    fn integer(&mut self, context: &RecordContext, field: &Field) -> i64 {
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

    fn enum_choice(
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

    fn province_name(context: &RecordContext) -> &'static str {
        context
            .province
            .map_or("国家", |province| province.division.name.as_str())
    }

    fn province_bureau(context: &RecordContext) -> &'static str {
        context.province.map_or("国家市场监督管理总局", |province| {
            province.bureau_name.as_str()
        })
    }

    fn abbreviation(context: &RecordContext) -> String {
        context
            .province
            .and_then(|province| divisions::province_abbreviation(&province.division.code))
            .map_or_else(|| "国".to_owned(), |abbreviation| abbreviation.to_string())
    }

    fn organisation_address(&mut self, context: &RecordContext) -> String {
        let prefix = context
            .organisation_place
            .or(context.province)
            .map_or("", |place| place.address_prefix.as_str())
            .to_owned();
        let road = self.road();
        let number = self.rng.random_range(1..500_u32);
        format!("{prefix}{road}{number}号")
    }

    fn text(
        &mut self,
        context: &RecordContext,
        field: &Field,
        row: Option<(&'static str, usize)>,
    ) -> String {
        let year = context.timeline.approval.year();
        let enterprise = &context.enterprise;
        match (row.map(|(table, _)| table), field.name) {
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
            (_, "enterprise_name") => enterprise.name.clone(),
            (_, "residence_address") => enterprise.address.clone(),
            (_, "production_address") => enterprise.production_address.clone(),
            (_, "legal_representative") => enterprise.legal_representative.clone(),
            (_, "contact_person") if context.organisation_place.is_some() => self.person_name(),
            (_, "contact_person") => enterprise.contact.clone(),
            (_, "product_category") => context.category.name_zh.to_owned(),
            (_, "product_name") => context.unit.product_name_zh.to_owned(),
            (_, "application_units") => context.unit.unit_name_zh.to_owned(),
            (_, "accepting_office") => context.jurisdiction.map_or_else(
                || Self::province_bureau(context).to_owned(),
                |place| place.bureau_name.clone(),
            ),
            (_, "acceptance_number") => format!(
                "（{}）市监许受〔{}〕{}号",
                Self::abbreviation(context),
                context.timeline.acceptance.year(),
                self.rng.random_range(1..10_000_u32)
            ),
            (_, "production_scale") => format!(
                "年产能约{}吨，生产线{}条",
                self.rng.random_range(1..500_u32) * 100,
                self.rng.random_range(1..12_u32)
            ),
            (_, "plan_number") => format!(
                "HC-{}-{}-{}",
                context.category.code,
                context.timeline.plan.year(),
                self.digits(4)
            ),
            (_, "organiser_name") => context.organiser_name.clone(),
            (_, "organiser_address") => {
                let prefix = context
                    .province
                    .map_or("", |place| place.address_prefix.as_str())
                    .to_owned();
                self.street_address(&prefix)
            }
            (_, "organiser_contact_person" | "prepared_by" | "approved_by" | "body_head") => {
                self.person_name()
            }
            (_, "sampler") => format!("{}、{}", self.person_name(), self.person_name()),
            (_, "team_leader") => context.team_leader.clone(),
            (_, "sampling_form_number") => {
                format!(
                    "CY{}{}",
                    context.timeline.verification.year(),
                    self.digits(6)
                )
            }
            (_, "report_number") => format!(
                "{}XK{}{}",
                context.timeline.completion.year(),
                context.category.code,
                self.digits(6)
            ),
            (_, "inspection_body_name") => context.inspection_body_name.clone(),
            (_, "product_model") => format!(
                "{}-{}",
                ["HY", "ZR", "GB", "KX", "TD"]
                    .choose(&mut self.rng)
                    .unwrap_or(&"HY"),
                self.rng.random_range(10..1_000_u32)
            ),
            (_, "decision_number") => format!(
                "（{}）市监许〔{}〕{}号",
                Self::abbreviation(context),
                year,
                self.rng.random_range(1..1_000_u32)
            ),
            (_, "issuing_authority") => {
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
            (_, "change_items") => context.change_items.clone(),
            (_, "case_number") => {
                format!("XF{}{}", context.timeline.received.year(), self.digits(5))
            }
            (_, "petitioner_name") => self.person_name(),
            (_, "petitioner_address" | "address" | "organiser_address_line") => {
                if context.organisation_place.is_some() {
                    self.organisation_address(context)
                } else {
                    let prefix = places::places()
                        .get(&self.random_county_in(&self.jurisdiction_code(context)).code)
                        .map_or(String::new(), |place| place.address_prefix.clone());
                    self.street_address(&prefix)
                }
            }
            (_, "subject") => self.pick(vocabulary::LETTER_SUBJECTS).to_owned(),
            (_, "name") if context.reviewer.is_some() => context
                .reviewer
                .as_ref()
                .map_or_else(String::new, |reviewer| reviewer.name.clone()),
            (_, "name") => context.organisation_name.clone(),
            (_, "recommending_unit") => Self::province_bureau(context).to_owned(),
            (_, "employer") => format!("{}产品质量监督检验研究院", Self::province_name(context)),
            (_, "approval_document_number") => format!(
                "国市监认〔{}〕{}号",
                context
                    .reviewer
                    .as_ref()
                    .map_or(year, |reviewer| reviewer.registration_date.year()),
                self.rng.random_range(1..300_u32)
            ),
            (_, "products_qualified" | "products_reviewed" | "products_inspected") => {
                let other = self.product().0.name_zh;
                if other == context.category.name_zh {
                    context.category.name_zh.to_owned()
                } else {
                    format!("{}、{other}", context.category.name_zh)
                }
            }
            (_, "affiliation") => "国家市场监督管理总局".to_owned(),
            (_, "competent_authority") => Self::province_bureau(context).to_owned(),
            (_, "host_unit") => format!("{}质量技术监督研究院", Self::province_name(context)),
            (_, "asset_nature") => self.pick(vocabulary::ASSET_NATURES).to_owned(),
            (_, "website") => format!("https://www.xk{}.org.cn", self.digits(4)),
            (_, "notice_number") => format!(
                "（{}）抽查通报〔{}〕{}号",
                context
                    .jurisdiction
                    .filter(|place| place.division.level != DivisionLevel::Country)
                    .and_then(|place| divisions::province_abbreviation(&place.division.code))
                    .map_or_else(|| "国".to_owned(), |abbreviation| abbreviation.to_string()),
                context.timeline.notice.year(),
                self.rng.random_range(1..100_u32)
            ),
            (_, "issuing_unit" | "reporting_unit") => context.jurisdiction.map_or_else(
                || Self::province_bureau(context).to_owned(),
                |place| place.bureau_name.clone(),
            ),
            (_, "addressed_to") => context
                .jurisdiction
                .and_then(|place| place.division.parent.as_deref())
                .and_then(|parent| places::places().get(parent))
                .map_or_else(
                    || "国家市场监督管理总局".to_owned(),
                    |place| place.bureau_name.clone(),
                ),
            (_, "spot_check_batch") => format!(
                "{}年第{}批",
                context.timeline.notice.year(),
                self.rng.random_range(1..5_u32)
            ),
            (_, "title") => self.publication_title(context),
            (_, "document_number") => format!(
                "国市监〔{}〕{}号",
                context.timeline.publish.year(),
                self.rng.random_range(1..200_u32)
            ),
            (_, "url") => format!("https://www.samr.gov.cn/zw/{}.html", self.record_id()),
            (_, "period") => {
                if context.report.monthly {
                    format!("{}-{:02}", context.report.year, context.report.month)
                } else {
                    context.report.year.to_string()
                }
            }
            _ => format!("{}{}", field.label_zh, self.rng.random_range(1..1_000_u32)),
        }
    }

    fn publication_title(&mut self, context: &RecordContext) -> String {
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

    fn long_text(&mut self, context: &RecordContext, field: &Field) -> String {
        let enterprise = &context.enterprise.name;
        let product = context.unit.product_name_zh;
        let unit = context.unit.unit_name_zh;
        match field.name {
            "remarks" => "无".to_owned(),
            "production_conditions" => format!(
                "厂区占地面积{}平方米，生产车间{}个，主要生产设备{}台（套），检验设备{}台（套），专职检验人员{}名。",
                self.rng.random_range(20..800_u32) * 100,
                self.rng.random_range(1..10_u32),
                self.rng.random_range(10..200_u32),
                self.rng.random_range(5..60_u32),
                self.rng.random_range(2..20_u32)
            ),
            "basis" => "1、《中华人民共和国工业产品生产许可证管理条例》、《中华人民共和国工业产品生产许可证管理条例实施办法》；2、产品实施细则及实地核查办法作业指导书。".to_owned(),
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
                if context.conforming { "符合" } else { "整改后符合" }
            ),
            "nonconformity_summary" => {
                if context.conforming {
                    "无不符合项。".to_owned()
                } else {
                    format!("1、{}；2、{}。", self.pick(vocabulary::PROBLEMS), self.pick(vocabulary::PROBLEMS))
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
                if context.conforming { "均符合标准要求，检验结论：合格" } else { "部分不符合标准要求，检验结论：不合格" }
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
                self.pick(&["未取得生产许可证擅自生产", "产品质量存在问题", "冒用他人许可证编号", "许可证过期后继续生产"])
            ),
            "leader_instructions" => "请许可处核实情况，依法处理，并按期答复。".to_owned(),
            "investigation" => format!("经调查核实，{}", self.pick(vocabulary::HANDLINGS)),
            "reply" => "已将调查处理情况书面答复来信人。".to_owned(),
            "internal_rules" => "建立了审查工作程序、审查员管理、档案管理、保密管理等内部管理制度。".to_owned(),
            "organisation_structure" => "设综合办公室、审查业务部、技术管理部。".to_owned(),
            "qualifications" => format!("具有检验检测机构资质认定证书（CMA），证书编号{}。", self.digits(12)),
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
            "legal_basis" => "《中华人民共和国行政许可法》《中华人民共和国工业产品生产许可证管理条例》《中华人民共和国工业产品生产许可证管理条例实施办法》".to_owned(),
            "conditions" => "有营业执照；有与所生产产品相适应的专业技术人员、生产条件和检验检疫手段；有健全有效的质量管理制度和责任制度；产品符合有关国家标准、行业标准。".to_owned(),
            "procedure" => "申请、受理、审查（实地核查和产品检验）、决定、发证。".to_owned(),
            "time_limits" => "自受理之日起20个工作日内作出许可决定。".to_owned(),
            "fees" => "不收取费用。".to_owned(),
            "required_documents" => "1、工业产品生产许可证申请书；2、营业执照复印件；3、产品检验合格报告；4、其他材料。".to_owned(),
            "sample_application" => "工业产品生产许可证申请书（示范文本）见附件。".to_owned(),
            "problem_description" => self.pick(vocabulary::PROBLEMS).to_owned(),
            "required_action" => "请于收到通报之日起30日内组织核查处理，并将处理结果报送通报单位。".to_owned(),
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
            _ => format!("{}：{enterprise}相关情况。", field.label_zh),
        }
    }
}

/// The item a row of an inspection body's change filings is about (Attachment 3).
fn change_filing_item(context: &RecordContext, row_index: usize) -> &'static EnumValue {
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

/// A public institution's credit code (`12…`) made from an enterprise-style one.
fn public_institution_code(enterprise_code: &str) -> String {
    let body: String = format!(
        "12{}",
        enterprise_code.get(2..17).unwrap_or("000000000000000")
    );
    let check = licnode_model::credit_code::check_character(&body).unwrap_or('0');
    format!("{body}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use licnode_model::{Mode, collections, validate};

    #[test]
    fn every_collection_gets_valid_complete_records_without_warnings() {
        let jurisdictions = [
            "100000", "330000", "330100", "330106", "110000", "441900", "RD-001",
        ];
        for collection in collections() {
            for seed in 0..300_u64 {
                let mut generator = Generator::new(seed);
                let jurisdiction = jurisdictions[seed as usize % jurisdictions.len()];
                let record = generator.record(collection, jurisdiction);
                for field in collection.fields {
                    assert!(
                        record.contains_key(field.name),
                        "{}.{} missing",
                        collection.name,
                        field.name
                    );
                }
                match validate(collection, &record, Mode::Create) {
                    Ok(validated) => assert!(
                        validated.warnings.is_empty(),
                        "{} seed {seed}: {:?}\n{record:#?}",
                        collection.name,
                        validated.warnings
                    ),
                    Err(errors) => panic!("{} seed {seed}: {errors}\n{record:#?}", collection.name),
                }
            }
        }
    }

    #[test]
    fn validation_leaves_generated_values_unchanged() {
        for collection in collections() {
            let mut generator = Generator::new(42);
            let record = generator.record(collection, "330000");
            let Ok(validated) = validate(collection, &record, Mode::Create) else {
                panic!("{} is valid", collection.name);
            };
            assert_eq!(validated.values, record, "{}", collection.name);
        }
    }

    #[test]
    fn tables_have_two_to_five_rows() {
        let Some(review_plans) = licnode_model::collection("review_plans") else {
            panic!("review_plans exists");
        };
        for seed in 0..50 {
            let record = Generator::new(seed).record(review_plans, "330000");
            let rows = record["team_members"].as_array().map_or(0, Vec::len);
            assert!((2..=5).contains(&rows), "{rows}");
            assert_eq!(record["team_members"][0]["team_role"], "leader");
        }
    }

    #[test]
    fn licence_records_are_consistent_within_themselves() {
        let Some(licences) = licnode_model::collection("licences") else {
            panic!("licences exists");
        };
        let mut generator = Generator::new(5);
        for _ in 0..200 {
            let record = generator.record(licences, "330000");
            let text = |name: &str| record[name].as_str().unwrap_or_default().to_owned();
            let division = text("division_code");
            assert!(divisions::is_within(&division, "330000"), "{division}");
            assert_eq!(text("credit_code").get(2..8), Some(division.as_str()));
            let number = text("licence_number");
            if text("issuing_level") == "provincial" {
                assert!(number.starts_with("(浙)XK"), "{number}");
            } else {
                assert!(number.starts_with("XK"), "{number}");
            }
            let category = licnode_model::catalogue::category_by_name(&text("product_category"));
            assert!(
                category.is_some_and(|category| number.contains(&format!("XK{}-", category.code)))
            );
            assert!(text("approval_date") <= text("issue_date"));
            assert!(text("issue_date") < text("valid_until"));
            assert_eq!(text("status"), "valid");
        }
    }

    #[test]
    fn records_within_a_county_jurisdiction_stay_in_it() {
        let Some(applications) = licnode_model::collection("applications") else {
            panic!("applications exists");
        };
        let mut generator = Generator::new(8);
        for _ in 0..20 {
            let record = generator.record(applications, "330106");
            assert_eq!(record["division_code"], "330106");
        }
    }

    #[test]
    fn reviewer_records_agree_on_sex_and_birth_date() {
        let Some(reviewers) = licnode_model::collection("reviewers") else {
            panic!("reviewers exists");
        };
        let mut generator = Generator::new(3);
        for _ in 0..100 {
            let record = generator.record(reviewers, "100000");
            let id = record["id_number"].as_str().unwrap_or_default();
            let Ok(parsed) = licnode_model::id_number::parse(id) else {
                panic!("valid id {id}");
            };
            assert_eq!(record["birth_date"], parsed.birth_date.to_string());
            assert_eq!(record["sex"] == "male", parsed.is_male());
        }
    }

    #[test]
    fn public_institution_codes_are_valid() {
        let code = public_institution_code("91330106MA27XY0AB8");
        assert!(code.starts_with("12330106"));
        assert!(licnode_model::credit_code::parse(&code).is_ok_and(|(_, ok)| ok));
    }
}
