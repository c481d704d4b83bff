//! Unit tests of validation: types, lengths, required fields, enums and tables, per mode.

use super::*;
use crate::collections::collection;
use serde_json::json;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn licences() -> &'static Collection {
    collection("licences").unwrap_or_else(|| panic!("licences collection exists"))
}

fn review_plans() -> &'static Collection {
    collection("review_plans").unwrap_or_else(|| panic!("review_plans collection exists"))
}

fn a_valid_licence() -> Map<String, Value> {
    object(json!({
        "enterprise_name": "杭州西湖恒远电缆有限公司",
        "credit_code": "91440300708461136T",
        "residence_address": "浙江省杭州市西湖区文三路100号",
        "production_address": "浙江省杭州市西湖区三墩镇工业园8号",
        "division_code": "330106",
        "product_category": "电线电缆",
        "product_name": "电线电缆",
        "application_units": "架空绞线",
        "licence_number": "（浙）XK06-001-00123",
        "issuing_level": "省级发证",
        "issuing_authority": "浙江省市场监督管理局",
        "approval_date": "2023/3/1",
        "issue_date": "2023年3月5日",
        "valid_until": "2028-02-28",
        "issuance_kind": "new",
        "status": "有效"
    }))
}

/// (field, code) pairs, sorted: the order of a JSON object's keys depends on serde_json's
/// features, so tests never rely on it.
fn codes_of(errors: &ValidationErrors) -> Vec<(&str, &str)> {
    let mut found: Vec<_> = errors
        .0
        .iter()
        .map(|issue| (issue.field.as_str(), issue.code))
        .collect();
    found.sort_unstable();
    found
}

#[test]
fn a_complete_licence_is_accepted_and_normalised() {
    let result = validate(licences(), &a_valid_licence(), Mode::Create);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert!(validated.warnings.is_empty());
    let values = &validated.values;
    assert_eq!(values["licence_number"], json!("(浙)XK06-001-00123"));
    assert_eq!(values["issuing_level"], json!("provincial"));
    assert_eq!(values["approval_date"], json!("2023-03-01"));
    assert_eq!(values["issue_date"], json!("2023-03-05"));
    assert_eq!(values["status"], json!("valid"));
}

#[test]
fn all_errors_are_collected_not_just_the_first() {
    let mut input = a_valid_licence();
    input.insert("licence_number".into(), json!("XK6-1-123"));
    input.insert("approval_date".into(), json!("2023-02-30"));
    input.insert("colour".into(), json!("red"));
    input.remove("enterprise_name");
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    let found = codes_of(&errors);
    assert!(found.contains(&("licence_number", codes::INVALID_LICENCE_NUMBER)));
    assert!(found.contains(&("approval_date", codes::INVALID_DATE)));
    assert!(found.contains(&("colour", codes::UNKNOWN_FIELD)));
    assert!(found.contains(&("enterprise_name", codes::MISSING_REQUIRED)));
    assert_eq!(found.len(), 4, "{errors}");
}

#[test]
fn fields_starting_with_an_underscore_are_unknown() {
    let mut input = a_valid_licence();
    input.insert("_id".into(), json!("abc"));
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    assert_eq!(codes_of(&errors), [("_id", codes::UNKNOWN_FIELD)]);
    assert!(errors.0[0].message.contains("reserved"));
}

#[test]
fn null_or_empty_required_fields_are_missing_on_create() {
    let mut input = a_valid_licence();
    input.insert("enterprise_name".into(), Value::Null);
    input.insert("product_name".into(), json!("   "));
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [
            ("enterprise_name", codes::MISSING_REQUIRED),
            ("product_name", codes::MISSING_REQUIRED)
        ]
    );
}

#[test]
fn empty_optional_fields_are_left_out_on_create() {
    let mut input = a_valid_licence();
    input.insert("remarks".into(), json!(""));
    input.insert("status".into(), Value::Null);
    let result = validate(licences(), &input, Mode::Create);
    assert!(
        result.as_ref().is_ok_and(|validated| {
            !validated.values.contains_key("remarks") && !validated.values.contains_key("status")
        }),
        "{result:?}"
    );
}

#[test]
fn a_patch_checks_only_what_it_gives() {
    let input = object(json!({"remarks": "更正地址", "valid_until": "2029/1/1"}));
    let result = validate(licences(), &input, Mode::Patch);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert_eq!(validated.values.len(), 2);
    assert_eq!(validated.values["valid_until"], json!("2029-01-01"));
}

#[test]
fn null_in_a_patch_clears_an_optional_field_and_is_refused_for_a_required_one() {
    let input = object(json!({"remarks": null, "status": ""}));
    let result = validate(licences(), &input, Mode::Patch);
    assert!(
        result.as_ref().is_ok_and(|validated| {
            validated.values.get("remarks") == Some(&Value::Null)
                && validated.values.get("status") == Some(&Value::Null)
        }),
        "{result:?}"
    );

    let input = object(json!({"enterprise_name": null, "licence_number": ""}));
    let Err(errors) = validate(licences(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [
            ("enterprise_name", codes::REQUIRED_FIELD_CLEARED),
            ("licence_number", codes::MISSING_REQUIRED)
        ]
    );
}

#[test]
fn wrong_json_types_are_refused() {
    let input = object(json!({
        "enterprise_name": 12,
        "approval_date": 20230301,
        "issuing_level": ["provincial"],
        "status": true
    }));
    let Err(errors) = validate(licences(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert!(
        errors.0.iter().all(|issue| issue.code == codes::WRONG_TYPE),
        "{errors}"
    );
    assert_eq!(errors.0.len(), 4);
}

#[test]
fn a_bad_credit_code_check_is_a_warning_and_the_code_is_kept() {
    let mut input = a_valid_licence();
    input.insert("credit_code".into(), json!("91440300708461136u"));
    let result = validate(licences(), &input, Mode::Create);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert_eq!(validated.values["credit_code"], json!("91440300708461136U"));
    assert_eq!(validated.warnings.len(), 1);
    assert_eq!(validated.warnings[0].code, codes::CREDIT_CODE_CHECK_FAILED);
    assert_eq!(validated.warnings[0].field, "credit_code");
}

#[test]
fn a_malformed_credit_code_is_an_error() {
    let mut input = a_valid_licence();
    input.insert("credit_code".into(), json!("9144030070846113"));
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [("credit_code", codes::INVALID_CREDIT_CODE)]
    );
}

#[test]
fn division_codes_must_exist_in_the_tree() {
    let mut input = a_valid_licence();
    input.insert("division_code".into(), json!("110100"));
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [("division_code", codes::INVALID_DIVISION_CODE)]
    );
}

#[test]
fn enum_fields_accept_value_label_or_other_case_and_refuse_the_rest() {
    let input = object(json!({"issuance_kind": "换证", "issuing_level": "NATIONAL"}));
    let result = validate(licences(), &input, Mode::Patch);
    assert!(
        result
            .as_ref()
            .is_ok_and(|v| v.values["issuance_kind"] == json!("renewal")
                && v.values["issuing_level"] == json!("national")),
        "{result:?}"
    );
    let input = object(json!({"issuance_kind": "续证"}));
    let Err(errors) = validate(licences(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(errors.0[0].code, codes::INVALID_ENUM_VALUE);
    assert!(
        errors.0[0].message.contains("renewal (换证)"),
        "{}",
        errors.0[0].message
    );
}

#[test]
fn text_with_nul_or_over_the_length_limit_is_refused() {
    let input = object(json!({
        "enterprise_name": "恒远\u{0}电缆",
        "product_name": "长".repeat(TEXT_MAX_CHARS + 1)
    }));
    let Err(errors) = validate(licences(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [
            ("enterprise_name", codes::INVALID_TEXT),
            ("product_name", codes::TOO_LONG)
        ]
    );
}

#[test]
fn text_with_bidirectional_or_zero_width_characters_is_refused_in_every_text_field() {
    let input = object(json!({
        "enterprise_name": "恒远\u{202E}司公限有缆电",
        "remarks": "备注\u{200B}",
        "status": "valid\u{2060}",
        "licence_number": "(浙)XK06-001-00123\u{FEFF}",
    }));
    let Err(errors) = validate(licences(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [
            ("enterprise_name", codes::INVALID_TEXT),
            ("licence_number", codes::INVALID_TEXT),
            ("remarks", codes::INVALID_TEXT),
            ("status", codes::INVALID_TEXT),
        ]
    );
    let rows = object(json!({"team_members": [{
        "name": "张\u{200D}伟", "team_role": "组长",
        "employer": "浙江省产品质量安全检测研究院", "phone": "13812345678"
    }]}));
    let Err(errors) = validate(review_plans(), &rows, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [("team_members[0].name", codes::INVALID_TEXT)]
    );
}

#[test]
fn text_is_trimmed() {
    let input = object(json!({"enterprise_name": "  恒远电缆有限公司\n"}));
    let result = validate(licences(), &input, Mode::Patch);
    assert!(result.is_ok_and(|v| v.values["enterprise_name"] == json!("恒远电缆有限公司")));
}

fn team_member(phone: &str) -> Value {
    json!({"name": "张伟", "team_role": "组长", "employer": "浙江省产品质量安全检测研究院", "phone": phone})
}

#[test]
fn table_rows_are_validated_and_errors_name_the_row_and_sub_field() {
    let input = object(json!({
        "team_members": [
            team_member("13812345678"),
            team_member("0571-88881234"),
            team_member("12"),
            {"name": "李娜", "team_role": "组员", "phone": "13912345678", "colour": "red"},
            "not a row"
        ]
    }));
    let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    let found = codes_of(&errors);
    assert!(
        found.contains(&("team_members[2].phone", codes::INVALID_PHONE)),
        "{errors}"
    );
    assert!(
        found.contains(&("team_members[3].colour", codes::UNKNOWN_FIELD)),
        "{errors}"
    );
    assert!(
        found.contains(&("team_members[3].employer", codes::MISSING_REQUIRED)),
        "{errors}"
    );
    assert!(
        found.contains(&("team_members[4]", codes::WRONG_TYPE)),
        "{errors}"
    );
    assert_eq!(found.len(), 4, "{errors}");
}

#[test]
fn valid_table_rows_are_normalised() {
    let input = object(json!({"team_members": [team_member(" 138 1234 5678 ")]}));
    let result = validate(review_plans(), &input, Mode::Patch);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert_eq!(
        validated.values["team_members"][0]["team_role"],
        json!("leader")
    );
    assert_eq!(
        validated.values["team_members"][0]["phone"],
        json!("138 1234 5678")
    );
}

#[test]
fn a_required_table_needs_a_row_and_must_be_a_list() {
    let input = object(json!({"team_members": []}));
    let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [("team_members", codes::MISSING_REQUIRED)]
    );
    let input = object(json!({"team_members": {"name": "张伟"}}));
    let Err(errors) = validate(review_plans(), &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(codes_of(&errors), [("team_members", codes::WRONG_TYPE)]);
}

#[test]
fn csv_strings_are_converted_for_integers_booleans_and_dates() {
    let Some(reports) = collection("reports") else {
        panic!("reports collection exists");
    };
    let input = object(json!({
        "revision": "2",
        "granted_count": " 1,204 ",
        "fill_date": "2024年6月3日",
        "generated_at": "2024-06-03 08:00:00"
    }));
    let result = validate(reports, &input, Mode::Patch);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert_eq!(validated.values["revision"], json!(2));
    assert_eq!(validated.values["granted_count"], json!(1204));
    assert_eq!(validated.values["fill_date"], json!("2024-06-03"));
    assert_eq!(
        validated.values["generated_at"],
        json!("2024-06-03T08:00:00+08:00")
    );
}

#[test]
fn id_numbers_phones_emails_and_postcodes_are_checked() {
    let Some(reviewers) = collection("reviewers") else {
        panic!("reviewers collection exists");
    };
    let input = object(json!({
        "id_number": "110105194912310021",
        "phone": "call me",
        "email": "zhang@",
    }));
    let Err(errors) = validate(reviewers, &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(
        codes_of(&errors),
        [
            ("email", codes::INVALID_EMAIL),
            ("id_number", codes::INVALID_ID_NUMBER),
            ("phone", codes::INVALID_PHONE),
        ]
    );
    let input = object(json!({"id_number": "11010519491231002x"}));
    let result = validate(reviewers, &input, Mode::Patch);
    assert!(result.is_ok_and(|v| v.values["id_number"] == json!("11010519491231002X")));
}

#[test]
fn record_references_must_be_plain_ids() {
    let Some(events) = collection("licence_events") else {
        panic!("licence_events collection exists");
    };
    let input = object(json!({"licence": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}));
    assert!(validate(events, &input, Mode::Patch).is_ok());
    let input = object(json!({"licence": "two words"}));
    let Err(errors) = validate(events, &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(codes_of(&errors), [("licence", codes::INVALID_RECORD_REF)]);
}

#[test]
fn every_error_code_used_is_listed_in_codes() {
    let input = object(json!({"x": 1, "valid_until": "bad"}));
    let Err(errors) = validate(licences(), &input, Mode::Create) else {
        panic!("expected errors");
    };
    assert!(
        errors
            .0
            .iter()
            .all(|issue| codes::ERRORS.contains(&issue.code))
    );
}

#[test]
fn errors_display_every_issue_and_serialise_as_a_list() {
    let errors = ValidationErrors(vec![
        Issue::new("a", codes::MISSING_REQUIRED, "A is required"),
        Issue::new("b", codes::WRONG_TYPE, "B must be text"),
    ]);
    let shown = errors.to_string();
    assert!(
        shown.starts_with("2 validation errors: a: A is required"),
        "{shown}"
    );
    assert!(
        shown.contains("; b: B must be text (wrong_type)"),
        "{shown}"
    );
    let serialised = serde_json::to_value(&errors).ok();
    assert_eq!(
        serialised,
        Some(json!([
            {"field": "a", "code": "missing_required", "message": "A is required"},
            {"field": "b", "code": "wrong_type", "message": "B must be text"}
        ]))
    );
}

#[test]
fn validate_field_normalises_a_single_value() {
    let Some(field) = licences().field("licence_number") else {
        panic!("licence_number field exists");
    };
    let result = validate_field(field, &json!("苏xk13 006 00032"));
    assert_eq!(
        result.map(|(value, _)| value),
        Ok(json!("(苏)XK13-006-00032"))
    );
    assert!(validate_field(field, &json!("nonsense")).is_err());
}

/// Art. 36: the mask a masked read shows in a secret field is not a value. Sent back in a
/// patch (a record read masked and returned whole) it is refused, in a secret field of the
/// record and in a secret column of a table; a field that is not secret may hold the text.
#[test]
fn the_mask_of_a_secret_field_is_refused_as_its_value() {
    let quality_archives =
        collection("quality_archives").unwrap_or_else(|| panic!("quality_archives exists"));
    let patch = object(json!({ "production_scale": crate::schema::MASKED_SECRET }));
    let refused = validate(quality_archives, &patch, Mode::Patch).expect_err("refused");
    assert_eq!(
        codes_of(&refused),
        [("production_scale", codes::MASKED_VALUE)]
    );
    let remarks = object(json!({ "quality_notes": crate::schema::MASKED_SECRET }));
    assert!(validate(quality_archives, &remarks, Mode::Patch).is_ok());

    let inspections = collection("inspections").unwrap_or_else(|| panic!("inspections exists"));
    let rows = object(json!({ "inspection_items": [
        { "item": "绝缘电阻", "measured_result": crate::schema::MASKED_SECRET, "verdict": "conforming" }
    ] }));
    let refused = validate(inspections, &rows, Mode::Patch).expect_err("refused");
    assert_eq!(
        codes_of(&refused),
        [("inspection_items[0].measured_result", codes::MASKED_VALUE)]
    );
}

#[test]
fn a_reviewers_birth_is_a_year_and_month_and_a_full_date_is_kept_to_its_month() {
    // Art. 15: the reviewer database holds 出生年月, a month, not a day.
    let Some(reviewers) = collection("reviewers") else {
        panic!("reviewers collection exists");
    };
    for (typed, stored) in [
        ("1980-05", "1980-05"),
        ("1980年5月", "1980-05"),
        ("1980-05-17", "1980-05"),
    ] {
        let input = object(json!({ "birth_date": typed }));
        let result = validate(reviewers, &input, Mode::Patch);
        let Ok(validated) = result else {
            panic!("{typed}: expected success, got {result:?}");
        };
        assert_eq!(validated.values["birth_date"], json!(stored), "{typed}");
    }
    let input = object(json!({ "birth_date": "1980-13" }));
    let Err(errors) = validate(reviewers, &input, Mode::Patch) else {
        panic!("expected errors");
    };
    assert_eq!(codes_of(&errors), [("birth_date", codes::INVALID_DATE)]);
    // Compared with the registration date as its first day (dates_out_of_order otherwise).
    let input = object(json!({ "birth_date": "2030-01", "registration_date": "2024-06-03" }));
    let result = validate(reviewers, &input, Mode::Patch);
    let Ok(validated) = result else {
        panic!("expected success, got {result:?}");
    };
    assert!(
        validated
            .warnings
            .iter()
            .any(|issue| issue.code == codes::DATES_OUT_OF_ORDER),
        "{:?}",
        validated.warnings
    );
}
