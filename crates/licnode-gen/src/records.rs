//! Complete, valid create-inputs for any collection: every field filled, consistent within the
//! record (one enterprise, one product, one timeline).

use chrono::{Duration, Months, NaiveDate};
use licnode_model::catalogue::{ApplicationUnit, ProductCategory};
use licnode_model::collections::{INSPECTION_BODY_CHANGE_ITEM_VALUES, PUBLICATION_KIND_VALUES};
use licnode_model::divisions;
use licnode_model::{Collection, EventKind, Field, FieldType};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value};

mod long_text;
mod text;
mod values;

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

    /// What a change event changed: 2–3 consecutive [`vocabulary::CHANGE_ITEMS`] for a licence
    /// event, nothing for other collections.
    fn change_item_list(&mut self, collection_name: &str) -> Vec<&'static str> {
        if collection_name == "licence_events" {
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
        }
    }

    /// The figures of a report (applicants, granted, refused, changed, terminated); zeros for
    /// other collections.
    fn report_counts(&mut self, collection_name: &str) -> [u32; 5] {
        if matches!(collection_name, "reports" | "supervision_reports") {
            [
                self.rng.random_range(0..400_u32),
                self.rng.random_range(0..300_u32),
                self.rng.random_range(0..30_u32),
                self.rng.random_range(0..80_u32),
                self.rng.random_range(0..50_u32),
            ]
        } else {
            [0; 5]
        }
    }

    /// The name of the review department or inspection body a registry entry is about; empty
    /// for other collections.
    fn organisation_name(
        &mut self,
        collection_name: &str,
        category: &ProductCategory,
        organisation_place: Option<&'static Place>,
    ) -> String {
        match collection_name {
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
        let with_contact = shows_contact_details(collection);
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
        let timeline = self.timeline(has_dates_of_its_own(name));
        let event_kind = self.event_kind();
        let change_item_list = self.change_item_list(name);
        let change_items = if event_kind == EventKind::Change {
            change_item_list.join("、")
        } else {
            "无".to_owned()
        };
        let report_counts = self.report_counts(name);
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
        let organiser_name =
            organiser_name(reviewing, national_issuance, category, province_bureau);
        let inspection_body_name = if reviewing {
            format!("{province_name}产品质量监督检验研究院")
        } else {
            String::new()
        };
        let organisation_name = self.organisation_name(name, category, organisation_place);
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
    /// country for the national node or a code that is no division). Every field is filled —
    /// except optional references to other records, see below — and
    /// [`licnode_model::validate`] accepts it in [`licnode_model::Mode::Create`] without warnings.
    pub fn record(&mut self, collection: &Collection, jurisdiction: &str) -> Map<String, Value> {
        let context = self.context(collection, jurisdiction);
        let mut record = Map::new();
        for field in collection.fields {
            let value = self.field_value(&context, field, None);
            // A reference names a record the writing node holds (the records service refuses
            // any other), which a generator cannot know: an optional one is left out, a
            // required one (a licence event's licence) is a fresh id the caller replaces.
            if matches!(field.field_type, FieldType::RecordRef(_)) && !field.required {
                continue;
            }
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
            // 出生年月 (Art. 15): the month of the date, e.g. the birth date in the identity number.
            FieldType::YearMonth => Value::String(
                self.date_value(context, field, row)
                    .format("%Y-%m")
                    .to_string(),
            ),
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
}

/// Whether records of `collection` show an enterprise's contact details (or a change of legal
/// representative): only those pay for generating them, so that a million licences stay fast.
fn shows_contact_details(collection: &Collection) -> bool {
    collection.fields.iter().any(|field| {
        matches!(
            field.name,
            "contact_person"
                | "contact_phone"
                | "contact_email"
                | "postcode"
                | "legal_representative"
                | "change_details"
        )
    })
}

/// Whether records of the collection have letter, filing, notice or publication dates of their
/// own, rather than only the dates of a licensing file.
fn has_dates_of_its_own(collection_name: &str) -> bool {
    matches!(
        collection_name,
        "letters_visits" | "review_departments" | "inspection_bodies" | "notices" | "publications"
    )
}

/// The organiser of a review: the national review department of the product for a national
/// licence, otherwise the province bureau; empty for records that are no review.
fn organiser_name(
    reviewing: bool,
    national_issuance: bool,
    category: &ProductCategory,
    province_bureau: &str,
) -> String {
    match (reviewing, national_issuance) {
        (false, _) => String::new(),
        (true, true) => format!("{}产品生产许可证审查部", category.name_zh),
        (true, false) => province_bureau.to_owned(),
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
mod tests;
