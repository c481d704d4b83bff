//! Server-rendered pages of the public service: plain HTML in Chinese, readable on a phone,
//! working without JavaScript (GET forms, links for paging). The templates are maud's, as the
//! staff web application's: checked at compile time, every interpolation escaped.

use licnode_model::{Field, FieldType};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use super::PREFIX;
use super::listing::{LISTINGS, Listing, Params};
use super::view::PublicRecord;

/// Long texts are folded away (`<details>`) beyond this many characters.
const FOLD_ABOVE_CHARS: usize = 160;

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.6 system-ui,-apple-system,\"PingFang SC\",\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;color:#1f2328;background:#f6f7f9}\
header{background:#b71c1c;color:#fff;padding:.8rem 1rem}\
header a{color:#fff;text-decoration:none}\
header .agency{font-size:.85rem;opacity:.9}\
nav{display:flex;flex-wrap:wrap;gap:.3rem .9rem;padding:.6rem 1rem;background:#fff;border-bottom:1px solid #ddd}\
nav a{color:#b71c1c}\
main{max-width:60rem;margin:0 auto;padding:1rem}\
h1{font-size:1.3rem;margin:.2rem 0}\
.basis{color:#57606a;font-size:.85rem;margin:0 0 1rem}\
form{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;background:#fff;padding:.8rem;border:1px solid #ddd;border-radius:6px}\
input,select,button{font:inherit;padding:.45rem .6rem;border:1px solid #bbb;border-radius:4px;max-width:100%}\
input[type=search]{flex:1 1 16rem}\
button{background:#b71c1c;color:#fff;border-color:#b71c1c}\
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:0 0 .8rem}\
.card h2{font-size:1.1rem;margin:0 0 .4rem}\
dl{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.15rem .8rem;margin:0}\
dt{color:#57606a}dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}\
.count,.empty{color:#57606a}\
.error{background:#fff4f4;border:1px solid #e5a0a0;padding:.8rem 1rem;border-radius:6px}\
.pager{margin:1rem 0}\
footer{color:#57606a;font-size:.8rem;padding:1rem;text-align:center}\
@media(max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.3rem}}";

/// A whole page: the agency's banner, the navigation, `body`, and the footer.
fn page(agency: &str, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - " (agency) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    div.agency { (agency) }
                    a href=(PREFIX) { strong { "工业产品生产许可信息公开" } }
                }
                nav {
                    @for listing in LISTINGS {
                        a href={ (PREFIX) "/" (listing.slug) } { (listing.title_zh) }
                    }
                }
                main { (body) }
                footer {
                    "本页信息由" (agency) "依据《工业产品生产许可证信息管理规定》第五章公开；"
                    "企业的商业秘密和技术秘密不予公开（第三十六条）。数据另以 JSON 提供："
                    a href={ (PREFIX) "/api" } { (PREFIX) "/api" }
                }
            }
        }
    }
    .into_string()
}

/// The home page: what is published, with a search box for licences.
pub(crate) fn home(agency: &str, centre_contacts: Option<&PublicRecord>) -> String {
    let body = html! {
        h1 { "许可信息查询" }
        p.basis { "依据《工业产品生产许可证信息管理规定》第二十七条至第三十五条公开。" }
        form method="get" action={ (PREFIX) "/licences" } role="search" {
            input type="search" name="q"
                placeholder="企业名称（至少两个字）、证书编号或统一社会信用代码"
                aria-label="查询获证企业";
            button type="submit" { "查询获证企业" }
        }
        ul {
            @for listing in LISTINGS {
                li {
                    a href={ (PREFIX) "/" (listing.slug) } { (listing.title_zh) }
                    "（" (listing.basis_zh) "）"
                }
            }
        }
        // Art. 35: the national review centre's contacts, from its record.
        @if let Some(contacts) = centre_contacts {
            section #centre-contacts {
                h2 { "全国工业产品生产许可证审查中心联系方式" }
                p.basis { "依据《工业产品生产许可证信息管理规定》第三十五条公开" }
                (card(contacts, None))
            }
        }
    };
    page(agency, "许可信息查询", body)
}

/// The form of a listing, filled with what was asked.
fn form(listing: &Listing, params: &Params, provinces: &[(String, String)]) -> Markup {
    let kinds = listing.kind_choices();
    html! {
        form method="get" action={ (PREFIX) "/" (listing.slug) } role="search" {
            input type="search" name="q" value=(params.q)
                placeholder=(listing.query_hint_zh) aria-label=(listing.query_hint_zh);
            @if listing.by_category {
                select name="category" aria-label="产品类别" {
                    option value="" { "全部产品类别" }
                    @for category in licnode_model::catalogue::categories() {
                        (choice(category.name_zh, category.name_zh, &params.category))
                    }
                }
            }
            @if listing.by_province && !provinces.is_empty() {
                select name="province" aria-label="省份" {
                    option value="" { "全部省份" }
                    @for (code, name) in provinces {
                        (choice(code, name, &params.province))
                    }
                }
            }
            @if listing.by_validity {
                select name="validity" aria-label="证书状态" {
                    @for class in licnode_model::validity::LicenceValidity::ALL {
                        (choice(class.as_str(), class.label_zh(), &params.validity))
                    }
                    (choice(super::listing::ALL_VALIDITIES, "全部（含已过期、已注销）", &params.validity))
                }
            }
            @if !kinds.is_empty() {
                select name="kind" aria-label="类型" {
                    option value="" { "全部类型" }
                    @for (value, label) in &kinds {
                        (choice(value, label, &params.kind))
                    }
                }
            }
            button type="submit" { "查询" }
        }
    }
}

fn choice(value: &str, label: &str, selected: &str) -> Markup {
    let is_selected = !selected.is_empty() && (selected == value || selected == label);
    html! { option value=(value) selected[is_selected] { (label) } }
}

/// One page of a listing's records, the cursor of the next and the day validity is judged on.
pub(crate) struct Page<'a> {
    pub records: &'a [PublicRecord],
    pub next: Option<i64>,
    pub today: &'a str,
}

/// A listing's page: its form, a card per record, and the link to the next page.
pub(crate) fn listing(
    agency: &str,
    listing: &Listing,
    params: &Params,
    provinces: &[(String, String)],
    shown: &Page<'_>,
) -> String {
    let (records, next) = (shown.records, shown.next);
    let validity_label = |record: &PublicRecord| {
        listing
            .by_validity
            .then(|| super::view::validity_of(record, shown.today))
    };
    let body = html! {
        h1 { (listing.title_zh) }
        p.basis { "依据" (listing.basis_zh) "公开" }
        (form(listing, params, provinces))
        @if records.is_empty() {
            p.empty { "没有符合条件的记录。" }
        } @else {
            p.count {
                "本页 " (records.len()) " 条"
                @if params.after.is_some() { "（续页）" }
            }
            @for record in records { (card(record, validity_label(record))) }
        }
        @if let Some(next) = next {
            p.pager {
                a rel="next" href={ (PREFIX) "/" (listing.slug) "?" (params.query_string(Some(next), true)) } {
                    "下一页"
                }
            }
        }
        @if params.after.is_some() {
            p.pager {
                a href={ (PREFIX) "/" (listing.slug) "?" (params.query_string(None, true)) } {
                    "回到第一页"
                }
            }
        }
    };
    page(agency, listing.title_zh, body)
}

/// One record: its name as the heading, its validity when it is a licence (Art. 27), then
/// every public field with its label.
fn card(
    record: &PublicRecord,
    validity: Option<(licnode_model::validity::LicenceValidity, &'static str)>,
) -> Markup {
    let heading_field = record.collection().enterprise_name_field;
    let heading = heading_field.and_then(|field| record.fields().get(field));
    html! {
        section.card {
            @if let Some(name) = heading { h2 { (plain(name)) } }
            @if let Some((class, label)) = validity {
                p.validity data-validity=(class.as_str()) { "证书状态：" strong { (label) } }
            }
            dl {
                @for (field, value) in record.entries() {
                    @if Some(field.name) != heading_field {
                        dt { (field.label_zh) }
                        dd { (value_html(field, value)) }
                    }
                }
            }
        }
    }
}

/// A field's value as HTML: enumerations by their Chinese label, long texts folded, web
/// addresses as links, tables as lists.
fn value_html(field: &Field, value: &Value) -> Markup {
    match field.field_type {
        FieldType::Enum(values) => {
            let text = plain(value);
            let label = values
                .iter()
                .find(|candidate| candidate.value == text)
                .map_or(text.as_str(), |candidate| candidate.label_zh);
            html! { (label) }
        }
        FieldType::Table(columns) => {
            let Value::Array(rows) = value else {
                return html! {};
            };
            html! {
                ul {
                    @for row in rows {
                        li {
                            @for (index, (column, cell)) in columns
                                .iter()
                                .filter_map(|column| Some((column, row.get(column.name)?)))
                                .enumerate()
                            {
                                @if index > 0 { "；" }
                                (column.label_zh) "：" (value_html(column, cell))
                            }
                        }
                    }
                }
            }
        }
        _ => {
            let text = plain(value);
            if (text.starts_with("https://") || text.starts_with("http://"))
                && !text.contains(char::is_whitespace)
            {
                return html! { a href=(text) rel="nofollow noopener noreferrer" { (text) } };
            }
            if text.chars().count() > FOLD_ABOVE_CHARS {
                let summary: String = text.chars().take(60).collect();
                return html! { details { summary { (summary) "…" } (text) } };
            }
            html! { (text) }
        }
    }
}

/// A JSON value as plain text.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An error page.
pub(crate) fn error(agency: &str, status: u16, message: &str) -> String {
    let body = html! {
        h1 { "无法完成查询" }
        p.error { (message) "（" (status) "）" }
        p { a href=(PREFIX) { "返回首页" } }
    };
    page(agency, "无法完成查询", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_message_with_markup_and_quotes_is_escaped() {
        let html = error("局", 400, "<a href=\"x\" title='y'>&</a>");
        assert!(
            html.contains("&lt;a href=&quot;x&quot; title='y'&gt;&amp;&lt;/a&gt;"),
            "{html}"
        );
        assert!(!html.contains("<a href=\"x\""));
    }

    #[test]
    fn pages_are_for_phones_and_name_the_agency() {
        let html = home("浙江省<市场>监督管理局", None);
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("浙江省&lt;市场&gt;监督管理局"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_javascript_url_is_not_made_a_link() {
        let field = licnode_model::collection("publications")
            .and_then(|c| c.field("url"))
            .expect("url field");
        let html = value_html(field, &Value::String("javascript:alert(1)".into())).into_string();
        assert!(!html.contains("<a"));
        let html = value_html(
            field,
            &Value::String("https://example.org/a?b=1&c=2".into()),
        )
        .into_string();
        assert!(html.contains("href=\"https://example.org/a?b=1&amp;c=2\""));
    }
}
