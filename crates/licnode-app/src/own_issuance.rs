//! Which decisions are a node's own (Art. 19, Attachment 1): a province reports "省级发证工作"
//! — the licences it granted, the applications it refused and the events of its own licences —
//! and never the nationally issued ones that reach it because their enterprise lies in its
//! territory (Art. 10, 11, 13: the national centre keeps those and counts them itself).
//!
//! A decision's issuer is read from two values the record holds: its issuing level (发证级别,
//! licences and refusals) and the issuing authority written into the licence number (a
//! provincial number carries the province's abbreviation, `(浙)XK…`; a national one none).

use licnode_model::{divisions, licence_number};
use licnode_reports::monthly::MonthlySource;
use serde_json::{Map, Value};

/// The authority whose decisions a report counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuingAuthority {
    /// The national centre (Art. 10, 11: national issuance).
    National,
    /// A provincial bureau, by the abbreviation its licence numbers carry (Art. 19).
    Province { abbreviation: char },
}

impl IssuingAuthority {
    /// The authority a node issues as: the national node, or the province of a provincial
    /// node. Other nodes issue no licences (`None`).
    pub fn of_node(node_code: &str) -> Option<IssuingAuthority> {
        if node_code == divisions::NATIONAL_CODE {
            return Some(IssuingAuthority::National);
        }
        let division = divisions::lookup(node_code)?;
        if divisions::province_of(&division.code).map(|province| province.code.as_str())
            != Some(division.code.as_str())
        {
            return None;
        }
        divisions::province_abbreviation(node_code)
            .map(|abbreviation| IssuingAuthority::Province { abbreviation })
    }

    /// The `issuing_level` value of this authority's decisions.
    fn issuing_level(self) -> &'static str {
        match self {
            IssuingAuthority::National => "national",
            IssuingAuthority::Province { .. } => "provincial",
        }
    }

    /// The abbreviation this authority's licence numbers carry (none for national ones).
    fn number_abbreviation(self) -> Option<char> {
        match self {
            IssuingAuthority::National => None,
            IssuingAuthority::Province { abbreviation } => Some(abbreviation),
        }
    }

    /// True when the licence number was issued by this authority. A number that does not
    /// parse names no authority and is not counted.
    fn issued_number(self, number: &str) -> bool {
        licence_number::normalise(number)
            .map(|parsed| parsed.province_abbreviation() == self.number_abbreviation())
            .unwrap_or(false)
    }

    fn issued_level(self, data: &Map<String, Value>) -> bool {
        data.get("issuing_level").and_then(Value::as_str) == Some(self.issuing_level())
    }

    /// A licence is this authority's when its level and its number both say so.
    pub fn issued_licence(self, data: &Map<String, Value>) -> bool {
        self.issued_level(data)
            && data
                .get("licence_number")
                .and_then(Value::as_str)
                .is_some_and(|number| self.issued_number(number))
    }

    /// A refusal is this authority's when its issuing level says so (a refusal has no number).
    pub fn issued_refusal(self, data: &Map<String, Value>) -> bool {
        self.issued_level(data)
    }

    /// A licence event is this authority's when the licence it concerns is (Art. 13: the
    /// issuer records the changes and ends of its own licences).
    pub fn issued_event(self, data: &Map<String, Value>) -> bool {
        data.get("licence_number")
            .and_then(Value::as_str)
            .is_some_and(|number| self.issued_number(number))
    }

    /// The part of a month's records that this authority decided. Applicants are kept whole:
    /// Art. 18 asks for the province's applicant database, every application it accepted.
    pub fn own_decisions(self, source: MonthlySource) -> MonthlySource {
        MonthlySource {
            applications: source.applications,
            licences: keep(source.licences, |data| self.issued_licence(data)),
            refusals: keep(source.refusals, |data| self.issued_refusal(data)),
            events: keep(source.events, |data| self.issued_event(data)),
        }
    }
}

fn keep(
    records: Vec<(String, Map<String, Value>)>,
    rule: impl Fn(&Map<String, Value>) -> bool,
) -> Vec<(String, Map<String, Value>)> {
    records.into_iter().filter(|(_, data)| rule(data)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_province_issues_as_its_abbreviation_and_a_county_issues_nothing() {
        assert_eq!(
            IssuingAuthority::of_node("330000"),
            Some(IssuingAuthority::Province {
                abbreviation: '浙'
            })
        );
        assert_eq!(
            IssuingAuthority::of_node("100000"),
            Some(IssuingAuthority::National)
        );
        assert_eq!(IssuingAuthority::of_node("330106"), None);
        assert_eq!(IssuingAuthority::of_node("RD0001"), None);
    }

    #[test]
    fn a_provincial_licence_of_another_province_or_a_national_licence_is_not_zhejiangs() {
        let zhejiang = IssuingAuthority::Province {
            abbreviation: '浙'
        };
        let own =
            data(json!({"issuing_level": "provincial", "licence_number": "(浙)XK13-006-00032"}));
        let national =
            data(json!({"issuing_level": "national", "licence_number": "XK13-006-00032"}));
        let jiangsu =
            data(json!({"issuing_level": "provincial", "licence_number": "(苏)XK13-006-00032"}));
        let mislabelled =
            data(json!({"issuing_level": "national", "licence_number": "(浙)XK13-006-00032"}));
        assert!(zhejiang.issued_licence(&own));
        assert!(!zhejiang.issued_licence(&national));
        assert!(!zhejiang.issued_licence(&jiangsu));
        assert!(!zhejiang.issued_licence(&mislabelled));
        assert!(IssuingAuthority::National.issued_licence(&national));
        assert!(zhejiang.issued_event(&own));
        assert!(!zhejiang.issued_event(&national));
        assert!(IssuingAuthority::National.issued_event(&national));
    }
}
