//! Generator of realistic licensing data for tests, benchmarks and the demo.
//!
//! Deterministic: the same seed gives the same data. Places come from the real GB/T 2260 tree,
//! codes carry correct check characters, and [`Generator::record`] gives a complete input for any
//! collection that [`licnode_model::validate`] accepts without warnings.

mod places;
mod records;
mod vocabulary;

use chrono::{Datelike, NaiveDate};
use licnode_model::catalogue::{self, ApplicationUnit, ProductCategory};
use licnode_model::divisions::{self, Division};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub use places::short_name;

/// An enterprise: consistent name, codes, addresses and contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enterprise {
    /// 企业名称, e.g. 杭州西湖恒远电缆有限公司.
    pub name: String,
    /// Unified social credit code; characters 3–8 are `division_code`, the check is right.
    pub credit_code: String,
    /// 住所.
    pub address: String,
    /// 生产地址 (often the same as the address).
    pub production_address: String,
    /// 邮政编码.
    pub postcode: String,
    /// 联系人.
    pub contact: String,
    /// 联系电话.
    pub phone: String,
    /// The county (or county-less prefecture) it is registered in.
    pub division_code: String,
    /// 法定代表人.
    pub legal_representative: String,
    /// 电子邮箱.
    pub email: String,
}

/// A person's name with its pinyin (for e-mail addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName {
    /// 张伟.
    pub chinese: String,
    /// `wei.zhang`.
    pub pinyin: String,
}

/// FNV-1a: a fast hasher for the generator's small internal maps (keys are our own data).
#[derive(Default)]
struct FnvHasher(u64);

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FnvHasher>>;

/// Chinese text and its pinyin, as in the word lists.
type CharacterWithPinyin = (&'static str, &'static str);

/// The deterministic data generator.
pub struct Generator {
    rng: StdRng,
    /// Next serial per (province abbreviation, category code, unit code), so numbers are unique.
    licence_serials: FastMap<(Option<char>, &'static str, &'static str), u32>,
    /// County-level places within a jurisdiction code, by code.
    counties_within: FastMap<String, Vec<usize>>,
}

/// `YYYY-MM-DD`.
pub fn format_date(date: NaiveDate) -> String {
    let mut text = String::with_capacity(10);
    push_zero_padded(&mut text, u32::try_from(date.year()).unwrap_or_default(), 4);
    text.push('-');
    push_zero_padded(&mut text, date.month(), 2);
    text.push('-');
    push_zero_padded(&mut text, date.day(), 2);
    text
}

/// Appends `value` with at least `width` digits (faster than `format!` in hot loops).
fn push_zero_padded(text: &mut String, value: u32, width: u32) {
    let mut divisor = 10_u32.pow(width.saturating_sub(1));
    while value / divisor >= 10 {
        divisor *= 10;
    }
    while divisor > 0 {
        text.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// Appends the low `digits` hexadecimal digits of `value`.
fn push_hex(text: &mut String, value: u64, digits: u32) {
    for position in (0..digits).rev() {
        let nibble = (value >> (position * 4)) & 0xf;
        text.push(char::from(b"0123456789abcdef"[nibble as usize]));
    }
}

const GB11714_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// The GB 11714 check character of an 8-character organisation code body.
fn organisation_code_check(body: &[u8; 8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(GB11714_WEIGHTS)
        .map(|(byte, weight)| {
            let value = match byte {
                b'0'..=b'9' => u32::from(byte - b'0'),
                b'A'..=b'Z' => u32::from(byte - b'A') + 10,
                _ => 0,
            };
            value * weight
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        digit => char::from_digit(digit, 10).unwrap_or('0'),
    }
}

impl Generator {
    /// A generator whose output depends only on `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            licence_serials: FastMap::default(),
            counties_within: FastMap::default(),
        }
    }

    /// The random number generator, for callers that need more draws.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        // Every list the generator picks from is a non-empty constant.
        *items
            .choose(&mut self.rng)
            .unwrap_or_else(|| unreachable_empty())
    }

    /// An index skewed towards the front of a list of `length` (for common surnames).
    fn skewed_index(&mut self, length: usize) -> usize {
        let uniform: f64 = self.rng.random();
        ((uniform * uniform * length as f64) as usize).min(length.saturating_sub(1))
    }

    fn digits(&mut self, count: usize) -> String {
        let mut text = String::with_capacity(count);
        self.push_digits(&mut text, count);
        text
    }

    fn push_digits(&mut self, text: &mut String, count: usize) {
        for _ in 0..count {
            text.push(char::from(b'0' + self.rng.random_range(0..10_u8)));
        }
    }

    /// A random county-level division anywhere in the country.
    pub fn random_county(&mut self) -> &'static Division {
        self.random_county_place().division
    }

    fn random_county_place(&mut self) -> &'static places::Place {
        let places = places::places();
        let index = self.pick(&places.counties);
        places.at(index).unwrap_or_else(|| unreachable_empty())
    }

    /// A random county-level division within a division (a province `330000`, a prefecture, or
    /// a county itself; a 2-digit province code `33` also works). A prefecture without counties
    /// (东莞) gives itself; an unknown code gives a county anywhere.
    pub fn random_county_in(&mut self, division_code: &str) -> &'static Division {
        self.random_place_in(division_code).division
    }

    fn random_place_in(&mut self, division_code: &str) -> &'static places::Place {
        if !self.counties_within.contains_key(division_code) {
            let code = if division_code.len() == 2 {
                format!("{division_code}0000")
            } else {
                division_code.to_owned()
            };
            let places = places::places();
            let mut found: Vec<usize> = divisions::counties_within(&code)
                .iter()
                .filter_map(|division| places.index_of(&division.code))
                .collect();
            if found.is_empty()
                && code != divisions::NATIONAL_CODE
                && let Some(index) = places.index_of(&code)
            {
                found.push(index);
            }
            if found.is_empty() {
                found.clone_from(&places.counties);
            }
            self.counties_within.insert(division_code.to_owned(), found);
        }
        let length = self.counties_within.get(division_code).map_or(0, Vec::len);
        let position = self.rng.random_range(0..length.max(1));
        let index = self
            .counties_within
            .get(division_code)
            .and_then(|candidates| candidates.get(position))
            .copied()
            .unwrap_or_default();
        places::places()
            .at(index)
            .unwrap_or_else(|| unreachable_empty())
    }

    /// A realistic Chinese name.
    pub fn person_name(&mut self) -> String {
        let (surname, given) = self.name_parts();
        let mut chinese = String::with_capacity(12);
        chinese.push_str(surname.0);
        for (character, _) in given.iter().flatten() {
            chinese.push_str(character);
        }
        chinese
    }

    /// A realistic Chinese name with its pinyin.
    pub fn person(&mut self) -> PersonName {
        let (surname, given) = self.name_parts();
        let mut chinese = surname.0.to_owned();
        let mut pinyin = String::with_capacity(16);
        for (character, character_pinyin) in given.iter().flatten() {
            chinese.push_str(character);
            pinyin.push_str(character_pinyin);
        }
        pinyin.push('.');
        pinyin.push_str(surname.1);
        PersonName { chinese, pinyin }
    }

    /// A surname (skewed towards the common ones) and one or two given-name characters.
    fn name_parts(&mut self) -> (CharacterWithPinyin, [Option<CharacterWithPinyin>; 2]) {
        let surname_index = self.skewed_index(vocabulary::SURNAMES.len());
        let surname = vocabulary::SURNAMES
            .get(surname_index)
            .copied()
            .unwrap_or(("王", "wang"));
        let first = self.pick(vocabulary::GIVEN_NAME_CHARACTERS);
        let second = self
            .rng
            .random_bool(0.7)
            .then(|| self.pick(vocabulary::GIVEN_NAME_CHARACTERS));
        (surname, [Some(first), second])
    }

    /// A uniformly random date from `from` to `to`, both included (in either order).
    pub fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let (start, end) = if from <= to { (from, to) } else { (to, from) };
        let span = (end - start).num_days();
        let offset = self.rng.random_range(0..=span);
        start + chrono::Duration::days(offset)
    }

    /// A mobile number: 13812345678.
    pub fn mobile_phone(&mut self) -> String {
        let mut phone = String::with_capacity(11);
        phone.push_str(self.pick(vocabulary::MOBILE_PREFIXES));
        self.push_digits(&mut phone, 8);
        phone
    }

    /// A landline number in the division's area: 0571-86541234.
    pub fn landline_phone(&mut self, division_code: &str) -> String {
        let area_code = places::places()
            .get(division_code)
            .map_or("010", |place| place.area_code.as_str());
        self.landline_in(area_code)
    }

    fn landline_in(&mut self, area_code: &str) -> String {
        let mut phone = String::with_capacity(13);
        phone.push_str(area_code);
        phone.push('-');
        phone.push(char::from(b'0' + self.rng.random_range(2..9_u8)));
        self.push_digits(&mut phone, 7);
        phone
    }

    /// A mobile (mostly) or landline number.
    pub fn phone(&mut self, division_code: &str) -> String {
        if self.rng.random_bool(0.6) {
            self.mobile_phone()
        } else {
            self.landline_phone(division_code)
        }
    }

    fn phone_at(&mut self, place: &places::Place) -> String {
        if self.rng.random_bool(0.6) {
            self.mobile_phone()
        } else {
            self.landline_in(&place.area_code)
        }
    }

    /// A postcode of the division: six digits whose first two are the province's.
    pub fn postcode(&mut self, division_code: &str) -> String {
        let prefix = places::places()
            .get(division_code)
            .map_or("1000", |place| place.postcode_prefix.as_str());
        let mut postcode = String::with_capacity(6);
        postcode.push_str(prefix);
        self.push_digits(&mut postcode, 2);
        postcode
    }

    /// An e-mail address for a person.
    pub fn email_for(&mut self, person: &PersonName) -> String {
        let domain = self.pick(vocabulary::EMAIL_DOMAINS);
        let number = self.rng.random_range(1..100_u32);
        let mut email = String::with_capacity(person.pinyin.len() + 16);
        email.push_str(&person.pinyin);
        push_zero_padded(&mut email, number, 1);
        email.push('@');
        email.push_str(domain);
        email
    }

    /// A valid unified social credit code of an enterprise registered in `division_code`:
    /// `91` + the division code + a GB 11714 organisation code + the GB 32100 check character.
    pub fn credit_code(&mut self, division_code: &str) -> String {
        const ALPHABET: &[u8] = licnode_model::credit_code::ALPHABET.as_bytes();
        let mut body = [b'0'; 8];
        if self.rng.random_bool(0.7) {
            // Codes assigned since 2015: MA + six characters.
            body[0] = b'M';
            body[1] = b'A';
            for byte in body.iter_mut().skip(2) {
                *byte = self.pick(ALPHABET);
            }
        } else {
            // Older organisation codes: eight digits.
            for byte in &mut body {
                *byte = b'0' + self.rng.random_range(0..10_u8);
            }
            body[0] = b'1' + self.rng.random_range(0..7_u8);
        }
        let check = organisation_code_check(&body);
        let mut code = String::with_capacity(18);
        code.push_str("91");
        code.extend(division_code.chars().chain(std::iter::repeat('0')).take(6));
        code.extend(body.iter().map(|byte| char::from(*byte)));
        code.push(check);
        let credit_check = licnode_model::credit_code::check_character(&code).unwrap_or('0');
        code.push(credit_check);
        code
    }

    /// A valid GB 11643 identity number of someone born on `birth_date` in `division_code`.
    pub fn id_number(&mut self, division_code: &str, birth_date: NaiveDate, male: bool) -> String {
        let sequence = self.rng.random_range(0..500_u32) * 2 + u32::from(male);
        let body = format!(
            "{division_code}{:04}{:02}{:02}{sequence:03}",
            birth_date.year(),
            birth_date.month(),
            birth_date.day()
        );
        let check = licnode_model::id_number::check_character(&body).unwrap_or('0');
        format!("{body}{check}")
    }

    /// A valid identity number of a reviewer (born 1960–1995).
    pub fn reviewer_id_number(&mut self) -> String {
        let birth_date = self.date_between(
            NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(1995, 12, 31).unwrap_or_default(),
        );
        let county = self.random_county().code.clone();
        let male = self.rng.random_bool(0.6);
        self.id_number(&county, birth_date, male)
    }

    /// A random product category and application unit from the catalogue.
    pub fn product(&mut self) -> (&'static ProductCategory, &'static ApplicationUnit) {
        let categories = catalogue::categories();
        let category = &categories[self.rng.random_range(0..categories.len())];
        let unit = &category.units[self.rng.random_range(0..category.units.len())];
        (category, unit)
    }

    /// A canonical licence number of a province (a 2- or 6-digit code): mostly with the
    /// province's abbreviation, `(浙)XK06-001-00123`, sometimes without.
    pub fn licence_number(&mut self, province_code: &str) -> String {
        let (category, unit) = self.product();
        let abbreviation =
            divisions::province_abbreviation(province_code).filter(|_| self.rng.random_bool(0.85));
        self.licence_number_for(abbreviation, category, unit)
    }

    /// A canonical licence number for a product, unique within this generator.
    pub fn licence_number_for(
        &mut self,
        province_abbreviation: Option<char>,
        category: &'static ProductCategory,
        unit: &'static ApplicationUnit,
    ) -> String {
        let key = (province_abbreviation, category.code, unit.code);
        let start = self.rng.random_range(1..3_000_u32);
        let serial = self.licence_serials.entry(key).or_insert(start);
        let this_serial = *serial;
        *serial = if *serial >= 99_999 { 1 } else { *serial + 1 };
        let mut number = String::with_capacity(20);
        if let Some(abbreviation) = province_abbreviation {
            number.push('(');
            number.push(abbreviation);
            number.push(')');
        }
        number.push_str("XK");
        number.push_str(category.code);
        number.push('-');
        number.push_str(unit.code);
        number.push('-');
        push_zero_padded(&mut number, this_serial, 5);
        number
    }

    /// An enterprise registered in `county_code`, in a random industry of the catalogue.
    pub fn enterprise(&mut self, county_code: &str) -> Enterprise {
        let (category, _) = self.product();
        self.enterprise_making(county_code, category)
    }

    /// An enterprise registered in `county_code` whose name fits `category` (电缆 for cables).
    /// An unknown code places it in a random county.
    pub fn enterprise_making(
        &mut self,
        county_code: &str,
        category: &ProductCategory,
    ) -> Enterprise {
        let place = match places::places().get(county_code) {
            Some(place) => place,
            None => self.random_county_place(),
        };
        self.enterprise_at(place, category, true)
    }

    /// An enterprise at `place`; without `with_contact`, the postcode, telephone, legal
    /// representative, contact and e-mail are left empty (for records that hold none of them).
    pub(crate) fn enterprise_at(
        &mut self,
        place: &'static places::Place,
        category: &ProductCategory,
        with_contact: bool,
    ) -> Enterprise {
        let region = self.pick_region(&place.region_names);
        let first_index = self
            .rng
            .random_range(0..vocabulary::TRADE_NAME_CHARACTERS.len());
        let mut second_index = self
            .rng
            .random_range(0..vocabulary::TRADE_NAME_CHARACTERS.len() - 1);
        if second_index >= first_index {
            second_index += 1;
        }
        let (first, first_pinyin) = vocabulary::TRADE_NAME_CHARACTERS[first_index];
        let (second, second_pinyin) = vocabulary::TRADE_NAME_CHARACTERS[second_index];
        let industry = self.pick(category.industry_words_zh);
        let form = self.weighted_form();
        let mut name = String::with_capacity(64);
        for part in [region, first, second, industry, form] {
            name.push_str(part);
        }
        let division_code = &place.division.code;
        let credit_code = self.credit_code(division_code);
        let address = self.street_address(&place.address_prefix);
        let production_address = if self.rng.random_bool(0.4) {
            address.clone()
        } else {
            let mut production_address = String::with_capacity(96);
            production_address.push_str(&place.address_prefix);
            production_address.push_str(&place.short_name);
            production_address.push_str(self.pick(vocabulary::INDUSTRIAL_AREAS));
            self.push_road(&mut production_address);
            push_zero_padded(
                &mut production_address,
                self.rng.random_range(1..400_u32),
                1,
            );
            production_address.push('号');
            production_address
        };
        if !with_contact {
            return Enterprise {
                name,
                credit_code,
                address,
                production_address,
                postcode: String::new(),
                contact: String::new(),
                phone: String::new(),
                division_code: division_code.clone(),
                legal_representative: String::new(),
                email: String::new(),
            };
        }
        let mut postcode = String::with_capacity(6);
        postcode.push_str(&place.postcode_prefix);
        self.push_digits(&mut postcode, 2);
        let phone = self.phone_at(place);
        let legal_representative = self.person_name();
        let (contact, email) = if self.rng.random_bool(0.5) {
            let person = self.person();
            let email = self.email_for(&person);
            (person.chinese, email)
        } else {
            let domain = self.pick(vocabulary::EMAIL_DOMAINS);
            let number = self.rng.random_range(1..1000_u32);
            let mut email = String::with_capacity(32);
            email.push_str(first_pinyin);
            email.push_str(second_pinyin);
            push_zero_padded(&mut email, number, 1);
            email.push('@');
            email.push_str(domain);
            (self.person_name(), email)
        };
        Enterprise {
            name,
            credit_code,
            address,
            production_address,
            postcode,
            contact,
            phone,
            division_code: division_code.clone(),
            legal_representative,
            email,
        }
    }

    fn pick_region<'a>(&mut self, region_names: &'a [String]) -> &'a str {
        // The first (most specific) form is the most common.
        let index = if region_names.len() > 1 && self.rng.random_bool(0.45) {
            self.rng.random_range(1..region_names.len())
        } else {
            0
        };
        region_names.get(index).map_or("", String::as_str)
    }

    fn weighted_form(&mut self) -> &'static str {
        let total: u32 = vocabulary::COMPANY_FORMS
            .iter()
            .map(|(_, weight)| weight)
            .sum();
        let mut draw = self.rng.random_range(0..total);
        for (form, weight) in vocabulary::COMPANY_FORMS {
            if draw < *weight {
                return form;
            }
            draw -= weight;
        }
        "有限公司"
    }

    fn road(&mut self) -> String {
        let mut road = String::with_capacity(16);
        self.push_road(&mut road);
        road
    }

    fn push_road(&mut self, text: &mut String) {
        text.push_str(self.pick(vocabulary::ROAD_STEMS));
        text.push_str(self.pick(vocabulary::ROAD_SUFFIXES));
    }

    fn street_address(&mut self, address_prefix: &str) -> String {
        let mut address = String::with_capacity(address_prefix.len() + 32);
        address.push_str(address_prefix);
        self.push_road(&mut address);
        push_zero_padded(&mut address, self.rng.random_range(1..1000_u32), 1);
        address.push('号');
        address
    }

    /// An id in the shape of a UUID (version 7 layout), for record references.
    pub fn record_id(&mut self) -> String {
        let high: u64 = self.rng.random();
        let low: u64 = self.rng.random();
        let mut id = String::with_capacity(36);
        push_hex(&mut id, high >> 32, 8);
        id.push('-');
        push_hex(&mut id, high >> 16, 4);
        id.push_str("-7");
        push_hex(&mut id, high, 3);
        id.push('-');
        push_hex(&mut id, ((low >> 48) & 0x3fff) | 0x8000, 4);
        id.push('-');
        push_hex(&mut id, low, 12);
        id
    }
}

fn unreachable_empty() -> ! {
    unreachable!("the generator's word lists are never empty")
}

#[cfg(test)]
mod tests;
