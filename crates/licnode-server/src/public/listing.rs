//! The public listings and their filters: which public collection each one reads, what a
//! visitor may filter by, and how the query string becomes a [`PublicQuery`]. What of each
//! record is shown is not decided here but by the classification (`view.rs`).

use licnode_model::validity::LicenceValidity;
use licnode_model::{Collection, FieldType};
use licnode_store::public::PublicQuery;

use super::PublicError;
use crate::error::ErrorCode;

/// Rows per page unless the client asks for another size.
pub(crate) const DEFAULT_LIMIT: i64 = 20;
/// The largest page a client may ask for.
pub(crate) const MAX_LIMIT: i64 = 100;

/// Which records of the collection a listing shows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope {
    /// Every record.
    All,
    /// Records whose `field` has one of these values.
    FieldIn(&'static str, &'static [&'static str]),
    /// Registrations in force: the status is absent or neither cancelled nor expired.
    Current,
}

/// One public listing: a page of HTML at `/public/<slug>` and the same data as JSON at
/// `/public/api/<slug>`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listing {
    pub slug: &'static str,
    pub collection: &'static str,
    pub title_zh: &'static str,
    /// Where the duty to publish comes from.
    pub basis_zh: &'static str,
    /// What `q` searches, for the form's placeholder.
    pub query_hint_zh: &'static str,
    /// Filter by product category (`category`).
    pub by_category: bool,
    /// Filter by province (`province`).
    pub by_province: bool,
    /// Filter by an enumerated public field (`kind`).
    pub kind_field: Option<&'static str>,
    /// Filter licences by validity (`validity`, Art. 27): in force unless asked otherwise.
    pub by_validity: bool,
    pub scope: Scope,
}

/// Every public listing, in the order of the navigation.
pub(crate) const LISTINGS: &[Listing] = &[
    Listing {
        slug: "licences",
        collection: "licences",
        title_zh: "获证企业查询",
        basis_zh: "《工业产品生产许可证信息管理规定》第二十七条",
        query_hint_zh: "企业名称（至少两个字）、证书编号或统一社会信用代码",
        by_category: true,
        by_province: true,
        kind_field: None,
        // Art. 27: the list of licences in force; expired and ended ones when asked for.
        by_validity: true,
        scope: Scope::All,
    },
    Listing {
        slug: "cancellations",
        collection: "licence_events",
        title_zh: "撤回、撤销、吊销和注销名单",
        basis_zh: "《工业产品生产许可证信息管理规定》第二十八条",
        query_hint_zh: "企业名称（至少两个字）、证书编号或统一社会信用代码",
        by_category: true,
        by_province: true,
        kind_field: Some("event_kind"),
        by_validity: false,
        // Art. 28: the cancellation list; a 变更 (change) is not a termination.
        scope: Scope::FieldIn(
            "event_kind",
            &[
                "withdrawal",
                "revocation",
                "penalty_revocation",
                "cancellation",
            ],
        ),
    },
    Listing {
        slug: "reviewers",
        collection: "reviewers",
        title_zh: "注册审查员和技术专家",
        basis_zh: "《工业产品生产许可证信息管理规定》第三十条",
        query_hint_zh: "姓名（至少两个字）",
        by_category: false,
        by_province: false,
        kind_field: Some("registration_level"),
        by_validity: false,
        scope: Scope::Current,
    },
    Listing {
        slug: "review-departments",
        collection: "review_departments",
        title_zh: "审查部联系方式",
        basis_zh: "《工业产品生产许可证信息管理规定》第三十一条、第三十五条",
        query_hint_zh: "单位名称（至少两个字）或统一社会信用代码",
        by_category: false,
        by_province: false,
        kind_field: None,
        by_validity: false,
        scope: Scope::Current,
    },
    Listing {
        slug: "inspection-bodies",
        collection: "inspection_bodies",
        title_zh: "检验机构联系方式",
        basis_zh: "《工业产品生产许可证信息管理规定》第三十一条、第三十五条",
        query_hint_zh: "机构名称（至少两个字）或统一社会信用代码",
        by_category: false,
        by_province: false,
        kind_field: None,
        by_validity: false,
        scope: Scope::Current,
    },
    Listing {
        slug: "publications",
        collection: "publications",
        title_zh: "法规目录、实施细则和办事指南",
        basis_zh: "《工业产品生产许可证信息管理规定》第三十三条、第三十四条",
        query_hint_zh: "标题（至少两个字）",
        by_category: false,
        by_province: false,
        kind_field: Some("publication_kind"),
        by_validity: false,
        scope: Scope::All,
    },
];

impl Listing {
    /// The model of the collection the listing reads.
    pub(crate) fn model(&self) -> Result<&'static Collection, PublicError> {
        licnode_model::collection(self.collection)
            .filter(|collection| collection.public)
            .ok_or_else(|| PublicError::internal("a public listing names no public collection"))
    }

    /// The choices of the `kind` filter: (value, label), except those the scope leaves out.
    pub(crate) fn kind_choices(&self) -> Vec<(&'static str, &'static str)> {
        let Some(field) = self.kind_field else {
            return Vec::new();
        };
        let Some(FieldType::Enum(values)) = licnode_model::collection(self.collection)
            .and_then(|collection| collection.field(field))
            .map(|field| field.field_type)
        else {
            return Vec::new();
        };
        values
            .iter()
            .filter(|value| match self.scope {
                Scope::FieldIn(scope_field, allowed) if scope_field == field => {
                    allowed.contains(&value.value)
                }
                _ => true,
            })
            .map(|value| (value.value, value.label_zh))
            .collect()
    }
}

/// The query string of a listing, checked. The texts are kept as given, to show them again in
/// the form.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pub q: String,
    pub category: String,
    pub province: String,
    pub kind: String,
    /// `in_force` (the default when empty), `expired`, `ended` or `all` (licences only).
    pub validity: String,
    pub after: Option<i64>,
    pub limit: i64,
}

impl Params {
    /// The query string of the same search from `after` (for the next page's link).
    pub(crate) fn query_string(&self, after: Option<i64>, with_limit: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("q", &self.q),
            ("category", &self.category),
            ("province", &self.province),
            ("kind", &self.kind),
            ("validity", &self.validity),
        ] {
            if !value.is_empty() {
                pairs.push((name, value.clone()));
            }
        }
        if with_limit && self.limit != DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        if let Some(after) = after {
            pairs.push(("after", after.to_string()));
        }
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Reads the query string of `listing`. Empty values count as absent (an unfilled form field).
pub(crate) fn parse(listing: &Listing, raw: &[(String, String)]) -> Result<Params, PublicError> {
    let mut params = Params {
        limit: DEFAULT_LIMIT,
        ..Params::default()
    };
    for (name, value) in raw {
        let value = value.trim();
        if value.chars().count() > 200 {
            return Err(PublicError::bad_request(
                ErrorCode::QueryTooLong,
                format!("参数 {name} 过长（最多 200 个字符）"),
            ));
        }
        match name.as_str() {
            "q" => params.q = value.to_string(),
            "category" if listing.by_category => params.category = value.to_string(),
            "province" if listing.by_province => params.province = value.to_string(),
            "kind" if listing.kind_field.is_some() => params.kind = value.to_string(),
            "validity" if listing.by_validity => params.validity = value.to_string(),
            "after" if !value.is_empty() => {
                params.after = Some(value.parse().ok().filter(|after| *after > 0).ok_or_else(
                    || {
                        PublicError::bad_request(
                            ErrorCode::BadCursor,
                            "after 必须是上一页给出的 next 值",
                        )
                    },
                )?)
            }
            "limit" if !value.is_empty() => {
                params.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        PublicError::bad_request(
                            ErrorCode::BadLimit,
                            format!("limit 必须在 1 到 {MAX_LIMIT} 之间"),
                        )
                    })?
            }
            "after" | "limit" => {}
            other => {
                return Err(PublicError::bad_request(
                    ErrorCode::UnknownParameter,
                    format!("不支持的查询参数 {other:?}"),
                ));
            }
        }
    }
    Ok(params)
}

/// The value of the `validity` filter that shows every licence.
pub(crate) const ALL_VALIDITIES: &str = "all";

/// The class of validity a listing's parameters ask for on `today`: in force by default
/// (Art. 27), none for `all`.
pub(crate) fn validity(
    listing: &Listing,
    params: &Params,
) -> Result<Option<LicenceValidity>, PublicError> {
    if !listing.by_validity || params.validity == ALL_VALIDITIES {
        return Ok(None);
    }
    if params.validity.is_empty() {
        return Ok(Some(LicenceValidity::InForce));
    }
    LicenceValidity::parse(&params.validity)
        .map(Some)
        .ok_or_else(|| {
            PublicError::bad_request(
                ErrorCode::BadValidity,
                "validity 必须是 in_force（有效）、expired（已过期）、ended（已撤回、撤销、吊销或注销）或 all",
            )
        })
}

/// The store query of a listing's checked parameters, on `today` (`YYYY-MM-DD`).
pub(crate) fn query(
    listing: &Listing,
    params: &Params,
    today: &str,
) -> Result<PublicQuery, PublicError> {
    let collection = listing.model()?;
    let mut query = PublicQuery::new(collection, params.limit);
    query.before = params.after;
    query.licence_validity = validity(listing, params)?.map(|class| (class, today.to_string()));
    match listing.scope {
        Scope::All => {}
        Scope::FieldIn(field, values) => {
            query.any_of = Some((field, values.iter().map(|v| v.to_string()).collect()));
        }
        Scope::Current => {
            query.status_not_in = vec!["cancelled".into(), "expired".into()];
        }
    }
    let q = params.q.as_str();
    if !q.is_empty() {
        if collection.licence_number_field.is_some()
            && licnode_model::licence_number::normalise(q).is_ok()
        {
            query.licence_number = Some(q.to_string());
        } else if collection.credit_code_field.is_some()
            && licnode_model::credit_code::parse(q).is_ok()
        {
            query.credit_code = Some(q.to_string());
        } else if q.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return Err(PublicError::bad_request(
                ErrorCode::QueryTooShort,
                "请输入至少两个字（名称的一部分），或完整的证书编号、统一社会信用代码",
            ));
        } else {
            query.name = Some(q.to_string());
        }
    }
    if !params.category.is_empty() {
        query
            .equals
            .push(("product_category", params.category.clone()));
    }
    if !params.province.is_empty() {
        query.credit_code_province = Some(province_prefix(&params.province).ok_or_else(|| {
            PublicError::bad_request(
                ErrorCode::BadProvince,
                "province 必须是省级行政区划代码（如 330000 或 33）",
            )
        })?);
    }
    if !params.kind.is_empty()
        && let Some(field) = listing.kind_field
    {
        let value = listing
            .kind_choices()
            .into_iter()
            .find(|(value, label)| *value == params.kind || *label == params.kind)
            .map(|(value, _)| value)
            .ok_or_else(|| PublicError::bad_request(ErrorCode::BadKind, "不支持的类型"))?;
        query.equals.push((field, value.to_string()));
    }
    Ok(query)
}

/// The two-digit province prefix of `33`, `330000` or any code within a province.
pub(crate) fn province_prefix(text: &str) -> Option<String> {
    let text = text.trim();
    if !(text.len() == 2 || text.len() == 6) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix = &text[..2];
    licnode_model::divisions::PROVINCE_ABBREVIATIONS
        .iter()
        .any(|(code, _)| *code == prefix)
        .then(|| prefix.to_string())
}

/// Percent-encodes a query-string value (UTF-8; unreserved characters kept).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: &str = "2026-03-10";

    fn listing(slug: &str) -> &'static Listing {
        LISTINGS
            .iter()
            .find(|listing| listing.slug == slug)
            .expect("listing")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_listing_reads_a_public_collection() {
        for listing in LISTINGS {
            assert!(listing.model().is_ok(), "{}", listing.slug);
        }
    }

    #[test]
    fn q_is_a_licence_number_a_credit_code_or_a_name_fragment() {
        let licences = listing("licences");
        let read = |q: &str| {
            let params = parse(licences, &pairs(&[("q", q)])).expect("params");
            query(licences, &params, TODAY)
        };
        let by_number = read("(浙)XK06-001-00123").expect("query");
        assert!(by_number.licence_number.is_some());
        let by_code = read("91330106MA2H3K7Q0C").expect("query");
        assert!(by_code.credit_code.is_some());
        let by_name = read("恒远").expect("query");
        assert_eq!(by_name.name.as_deref(), Some("恒远"));
        assert!(read("恒").is_err());
    }

    #[test]
    fn empty_form_fields_are_ignored_and_unknown_parameters_refused() {
        let licences = listing("licences");
        let params = parse(
            licences,
            &pairs(&[("q", ""), ("category", ""), ("province", "")]),
        )
        .expect("params");
        let query = query(licences, &params, TODAY).expect("query");
        assert!(query.name.is_none() && query.equals.is_empty());
        assert!(parse(licences, &pairs(&[("jurisdiction", "330000")])).is_err());
        // The reviewers listing has no province filter.
        assert!(parse(listing("reviewers"), &pairs(&[("province", "33")])).is_err());
    }

    #[test]
    fn provinces_are_read_from_two_or_six_digits() {
        assert_eq!(province_prefix("33").as_deref(), Some("33"));
        assert_eq!(province_prefix("330106").as_deref(), Some("33"));
        assert_eq!(province_prefix("99"), None);
        assert_eq!(province_prefix("3301"), None);
    }

    #[test]
    fn the_cancellation_list_shows_terminations_only() {
        let cancellations = listing("cancellations");
        let kinds: Vec<&str> = cancellations
            .kind_choices()
            .iter()
            .map(|(v, _)| *v)
            .collect();
        assert!(!kinds.contains(&"change"));
        assert_eq!(kinds.len(), 4);
        let params = parse(cancellations, &pairs(&[("kind", "change")])).expect("params");
        assert!(query(cancellations, &params, TODAY).is_err());
    }

    #[test]
    fn the_licence_list_shows_licences_in_force_unless_asked_for_expired_or_ended_ones() {
        // Art. 27: the published list is of the licences in force.
        let licences = listing("licences");
        let ask = |validity: &str| {
            let params = parse(licences, &pairs(&[("validity", validity)])).expect("params");
            query(licences, &params, TODAY).map(|query| query.licence_validity)
        };
        let on_today = |class| Some((class, TODAY.to_string()));
        assert_eq!(
            ask("").expect("default"),
            on_today(LicenceValidity::InForce)
        );
        assert_eq!(
            ask("expired").expect("expired"),
            on_today(LicenceValidity::Expired)
        );
        assert_eq!(
            ask("ended").expect("ended"),
            on_today(LicenceValidity::Ended)
        );
        assert_eq!(ask("all").expect("all"), None);
        assert!(ask("suspended").is_err());
        // Other listings have no such filter.
        assert!(parse(listing("reviewers"), &pairs(&[("validity", "all")])).is_err());
    }

    #[test]
    fn the_next_page_link_keeps_the_search() {
        let params = Params {
            q: "恒远 &".into(),
            limit: DEFAULT_LIMIT,
            ..Params::default()
        };
        assert_eq!(
            params.query_string(Some(42), true),
            "q=%E6%81%92%E8%BF%9C%20%26&after=42"
        );
    }
}
