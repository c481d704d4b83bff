//! Unit tests of the generator: determinism, identifiers, names and places.

use super::*;
use licnode_model::divisions::DivisionLevel;
use std::collections::HashSet;

#[test]
fn the_same_seed_gives_the_same_data() {
    let mut first = Generator::new(7);
    let mut second = Generator::new(7);
    for _ in 0..50 {
        let county = first.random_county().code.clone();
        assert_eq!(county, second.random_county().code);
        assert_eq!(first.enterprise(&county), second.enterprise(&county));
        assert_eq!(first.licence_number("33"), second.licence_number("33"));
    }
}

#[test]
fn different_seeds_give_different_data() {
    let mut first = Generator::new(1);
    let mut second = Generator::new(2);
    let names_first: Vec<String> = (0..20).map(|_| first.person_name()).collect();
    let names_second: Vec<String> = (0..20).map(|_| second.person_name()).collect();
    assert_ne!(names_first, names_second);
}

#[test]
fn credit_codes_are_valid_and_carry_the_division_code() {
    let mut generator = Generator::new(3);
    for _ in 0..2_000 {
        let county = generator.random_county().code.clone();
        let code = generator.credit_code(&county);
        let parsed = licnode_model::credit_code::parse(&code);
        assert_eq!(parsed, Ok((code.clone(), true)), "{code}");
        assert_eq!(
            licnode_model::credit_code::division_part(&code),
            Some(county.as_str())
        );
    }
}

#[test]
fn organisation_code_checks_follow_gb_11714() {
    // 卫生部's published organisation code 00001981-X? use a computed one instead:
    // body 12345678 → sum 3+14+27+40+25+48+28+16 = 201, 201 % 11 = 3, 11 - 3 = 8.
    assert_eq!(organisation_code_check(b"12345678"), '8');
    // Sum divisible by 11 gives 0.
    assert_eq!(organisation_code_check(b"00000000"), '0');
}

#[test]
fn enterprises_are_consistent_with_their_county() {
    let mut generator = Generator::new(4);
    let enterprise = generator.enterprise("330106");
    assert_eq!(enterprise.division_code, "330106");
    assert!(enterprise.credit_code.get(2..8) == Some("330106"));
    assert!(
        enterprise.address.starts_with("浙江省杭州市西湖区"),
        "{}",
        enterprise.address
    );
    assert!(
        enterprise
            .production_address
            .starts_with("浙江省杭州市西湖区")
    );
    assert!(enterprise.postcode.starts_with("31"));
    assert!(licnode_model::phone::normalise(&enterprise.phone).is_ok());
    assert!(licnode_model::email::normalise(&enterprise.email).is_ok());
    let region_ok = ["杭州西湖", "杭州", "西湖"]
        .iter()
        .any(|region| enterprise.name.starts_with(region));
    assert!(region_ok, "{}", enterprise.name);
}

#[test]
fn enterprise_names_look_like_chinese_company_names() {
    let mut generator = Generator::new(5);
    let Some(cables) = catalogue::category_by_name("电线电缆") else {
        panic!("电线电缆 is in the catalogue");
    };
    for _ in 0..100 {
        let enterprise = generator.enterprise_making("330106", cables);
        let name = &enterprise.name;
        assert!(name.ends_with("公司") || name.ends_with('厂'), "{name}");
        assert!(
            cables
                .industry_words_zh
                .iter()
                .any(|word| name.contains(word)),
            "{name}"
        );
    }
}

#[test]
fn a_hundred_thousand_enterprise_names_are_mostly_distinct() {
    let mut generator = Generator::new(6);
    let count = 100_000;
    let mut names = HashSet::with_capacity(count);
    for _ in 0..count {
        let county = generator.random_county().code.clone();
        names.insert(generator.enterprise(&county).name);
    }
    assert!(
        names.len() as f64 > count as f64 * 0.99,
        "{} distinct",
        names.len()
    );
}

#[test]
fn licence_numbers_are_canonical_unique_and_carry_the_province() {
    let mut generator = Generator::new(8);
    let mut seen = HashSet::new();
    let mut with_prefix = 0;
    for _ in 0..5_000 {
        let number = generator.licence_number("320000");
        let parsed = licnode_model::licence_number::normalise(&number);
        assert_eq!(parsed.as_ref().map(|n| n.canonical()), Ok(number.clone()));
        if let Ok(parsed) = parsed {
            if let Some(abbreviation) = parsed.province_abbreviation() {
                assert_eq!(abbreviation, '苏');
                with_prefix += 1;
            }
            assert!(catalogue::unit_by_codes(parsed.category_code(), parsed.unit_code()).is_some());
        }
        assert!(seen.insert(number), "duplicate licence number");
    }
    assert!((3_500..5_000).contains(&with_prefix), "{with_prefix}");
}

#[test]
fn reviewer_id_numbers_are_valid_gb_11643() {
    let mut generator = Generator::new(9);
    for _ in 0..1_000 {
        let id = generator.reviewer_id_number();
        let parsed = licnode_model::id_number::parse(&id);
        assert!(parsed.is_ok(), "{id}: {parsed:?}");
    }
}

#[test]
fn id_numbers_embed_birth_date_and_sex() {
    let mut generator = Generator::new(10);
    let birth = NaiveDate::from_ymd_opt(1975, 6, 15).unwrap_or_default();
    let id = generator.id_number("330106", birth, false);
    let parsed = licnode_model::id_number::parse(&id);
    assert!(
        parsed
            .as_ref()
            .is_ok_and(|p| p.birth_date.to_string() == "1975-06-15")
    );
    assert!(parsed.is_ok_and(|p| !p.is_male()));
}

#[test]
fn person_names_are_two_to_four_chinese_characters() {
    let mut generator = Generator::new(11);
    for _ in 0..1_000 {
        let person = generator.person();
        let length = person.chinese.chars().count();
        assert!((2..=4).contains(&length), "{}", person.chinese);
        assert!(person.pinyin.is_ascii() && person.pinyin.contains('.'));
    }
}

#[test]
fn dates_between_stay_within_bounds_in_either_order() {
    let mut generator = Generator::new(12);
    let from = NaiveDate::from_ymd_opt(2024, 1, 30).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2024, 2, 2).unwrap_or_default();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let date = generator.date_between(from, to);
        assert!(from <= date && date <= to);
        seen.insert(date);
        let reversed = generator.date_between(to, from);
        assert!(from <= reversed && reversed <= to);
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(generator.date_between(from, from), from);
}

#[test]
fn random_counties_are_real_counties_of_the_requested_area() {
    let mut generator = Generator::new(13);
    for _ in 0..200 {
        let county = generator.random_county();
        assert_eq!(county.level, DivisionLevel::County);
        let in_zhejiang = generator.random_county_in("330000");
        assert!(divisions::is_within(&in_zhejiang.code, "330000"));
        assert_eq!(in_zhejiang.level, DivisionLevel::County);
        let in_hangzhou = generator.random_county_in("330100");
        assert!(divisions::is_within(&in_hangzhou.code, "330100"));
        let short_code = generator.random_county_in("32");
        assert!(short_code.code.starts_with("32"));
    }
    assert_eq!(generator.random_county_in("330106").code, "330106");
    assert_eq!(generator.random_county_in("441900").code, "441900");
    assert_eq!(
        generator.random_county_in("999999").level,
        DivisionLevel::County
    );
}

#[test]
fn zero_padding_and_hex_formatting_match_format() {
    for value in [0_u32, 7, 42, 999, 12_345, 99_999, 123_456] {
        for width in 1..=6 {
            let mut text = String::new();
            push_zero_padded(&mut text, value, width);
            assert_eq!(text, format!("{value:0width$}", width = width as usize));
        }
    }
    let mut hex = String::new();
    push_hex(&mut hex, 0xabc_def0_1234, 12);
    assert_eq!(hex, "0abcdef01234");
    let date = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap_or_default();
    assert_eq!(format_date(date), "2024-03-05");
}

#[test]
fn record_ids_look_like_uuids() {
    let mut generator = Generator::new(14);
    let id = generator.record_id();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert_eq!(id.as_bytes().get(14), Some(&b'7'));
}
