//! Whether a licence is in force on a day (Art. 27): the published licence list shows the
//! licences in force; expired ones and those ended by an event (撤回, 撤销, 吊销, 注销, Art. 28)
//! are shown only when asked for, each labelled.
//!
//! A licence is in force while its status is absent or 有效 and its validity (有效期) has not
//! passed; it is expired when its status says 过期 or its validity has passed; it is ended when
//! an event ended it. The three classes never overlap and cover every licence.

use serde::Serialize;

use crate::status::LicenceStatus;

/// The classes of the public licence list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceValidity {
    /// 有效: in force on the day.
    InForce,
    /// 已过期: the validity has passed (or the status says so).
    Expired,
    /// 已终止: withdrawn, revoked, revoked as a penalty or cancelled.
    Ended,
}

impl LicenceValidity {
    /// Every class, in the order of the public filter.
    pub const ALL: [LicenceValidity; 3] = [Self::InForce, Self::Expired, Self::Ended];

    /// The value of the public filter (`validity=expired`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InForce => "in_force",
            Self::Expired => "expired",
            Self::Ended => "ended",
        }
    }

    /// The label shown beside a licence and in the filter.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::InForce => "有效",
            Self::Expired => "已过期",
            Self::Ended => "已撤回、撤销、吊销或注销",
        }
    }

    /// The class of a filter value or its label.
    pub fn parse(text: &str) -> Option<LicenceValidity> {
        Self::ALL
            .into_iter()
            .find(|class| class.as_str() == text || class.label_zh() == text)
    }

    /// The terminal statuses (the `Ended` class), as stored.
    pub fn ended_statuses() -> Vec<&'static str> {
        LicenceStatus::ALL
            .into_iter()
            .filter(|status| status.is_terminal())
            .map(LicenceStatus::as_str)
            .collect()
    }

    /// The class of a licence with `status` (stored value, absent = valid) and `valid_until`
    /// (`YYYY-MM-DD`) on `today` (`YYYY-MM-DD`). ISO dates compare as text.
    pub fn of(status: Option<&str>, valid_until: &str, today: &str) -> LicenceValidity {
        match status.and_then(|status| status.parse::<LicenceStatus>().ok()) {
            Some(status) if status.is_terminal() => Self::Ended,
            Some(LicenceStatus::Expired) => Self::Expired,
            _ if !valid_until.is_empty() && valid_until < today => Self::Expired,
            _ => Self::InForce,
        }
    }

    /// The label of a licence as [`LicenceValidity::of`] classes it: a terminal status by its
    /// own name (注销, 吊销, …), otherwise 有效 or 已过期.
    pub fn label_of(status: Option<&str>, valid_until: &str, today: &str) -> &'static str {
        match status.and_then(|status| status.parse::<LicenceStatus>().ok()) {
            Some(status) if status.is_terminal() => status.label_zh(),
            _ => Self::of(status, valid_until, today).label_zh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_licence_is_in_force_to_the_last_day_of_its_validity_and_expired_the_day_after() {
        let on = |today: &str| LicenceValidity::of(Some("valid"), "2026-03-10", today);
        assert_eq!(on("2026-03-10"), LicenceValidity::InForce);
        assert_eq!(on("2026-03-11"), LicenceValidity::Expired);
        assert_eq!(
            LicenceValidity::of(None, "2026-03-10", "2026-01-01"),
            LicenceValidity::InForce
        );
        assert_eq!(
            LicenceValidity::of(Some("expired"), "2030-01-01", "2026-01-01"),
            LicenceValidity::Expired
        );
    }

    #[test]
    fn an_ended_licence_is_ended_whatever_its_validity_and_labelled_by_its_event() {
        let cancelled = LicenceValidity::of(Some("cancelled"), "2030-01-01", "2026-01-01");
        assert_eq!(cancelled, LicenceValidity::Ended);
        assert_eq!(
            LicenceValidity::label_of(Some("cancelled"), "2030-01-01", "2026-01-01"),
            "注销"
        );
        assert_eq!(
            LicenceValidity::label_of(None, "2020-01-01", "2026-01-01"),
            "已过期"
        );
        assert_eq!(
            LicenceValidity::ended_statuses(),
            vec!["withdrawn", "revoked", "revoked_as_penalty", "cancelled"]
        );
        assert_eq!(
            LicenceValidity::parse("已过期"),
            Some(LicenceValidity::Expired)
        );
        assert_eq!(LicenceValidity::parse("all"), None);
    }
}
