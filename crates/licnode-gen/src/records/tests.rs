//! Unit tests of record generation: every collection gets complete records that validate.

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
                let optional_reference = !field.required
                    && matches!(field.field_type, licnode_model::FieldType::RecordRef(_));
                assert_eq!(
                    record.contains_key(field.name),
                    !optional_reference,
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
        assert!(category.is_some_and(|category| number.contains(&format!("XK{}-", category.code))));
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
        // 出生年月 is the year and month of the identity number's birth date.
        let birth = parsed.birth_date;
        let year_month = format!("{:04}-{:02}", birth.year(), birth.month());
        assert_eq!(record["birth_date"], year_month.as_str());
        assert_eq!(record["sex"] == "male", parsed.is_male());
    }
}

#[test]
fn public_institution_codes_are_valid() {
    let code = public_institution_code("91330106MA27XY0AB8");
    assert!(code.starts_with("12330106"));
    assert!(licnode_model::credit_code::parse(&code).is_ok_and(|(_, ok)| ok));
}
