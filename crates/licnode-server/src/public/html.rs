//! Server-rendered pages of the public service: plain HTML in Chinese, readable on a phone,
//! working without JavaScript (GET forms, links for paging). Every text that comes from data
//! or from the request is escaped with [`escape`].

use std::fmt::Write;

use licnode_model::{Field, FieldType};
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

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// A whole page: the agency's banner, the navigation, `body`, and the footer.
pub(crate) fn page(agency: &str, title: &str, body: &str) -> String {
    let mut html = String::with_capacity(body.len() + 4096);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - {agency}</title><style>{STYLE}</style></head><body>\
         <header><div class=\"agency\">{agency}</div>\
         <a href=\"{PREFIX}\"><strong>工业产品生产许可信息公开</strong></a></header><nav>",
        title = escape(title),
        agency = escape(agency),
    );
    for listing in LISTINGS {
        let _ = write!(
            html,
            "<a href=\"{PREFIX}/{}\">{}</a>",
            listing.slug,
            escape(listing.title_zh)
        );
    }
    let _ = write!(
        html,
        "</nav><main>{body}</main><footer>本页信息由{agency}依据《工业产品生产许可证信息管理规定》\
         第五章公开；企业的商业秘密和技术秘密不予公开（第三十六条）。\
         数据另以 JSON 提供：<a href=\"{PREFIX}/api\">{PREFIX}/api</a></footer></body></html>",
        agency = escape(agency),
    );
    html
}

/// The home page: what is published, with a search box for licences.
pub(crate) fn home(agency: &str) -> String {
    let mut body = String::new();
    body.push_str("<h1>许可信息查询</h1><p class=\"basis\">依据《工业产品生产许可证信息管理规定》第二十七条至第三十五条公开。</p>");
    let _ = write!(
        body,
        "<form method=\"get\" action=\"{PREFIX}/licences\" role=\"search\">\
         <input type=\"search\" name=\"q\" placeholder=\"企业名称（至少两个字）、证书编号或统一社会信用代码\" \
         aria-label=\"查询获证企业\"><button type=\"submit\">查询获证企业</button></form><ul>"
    );
    for listing in LISTINGS {
        let _ = write!(
            body,
            "<li><a href=\"{PREFIX}/{}\">{}</a>（{}）</li>",
            listing.slug,
            escape(listing.title_zh),
            escape(listing.basis_zh)
        );
    }
    body.push_str("</ul>");
    page(agency, "许可信息查询", &body)
}

/// The form of a listing, filled with what was asked.
fn form(listing: &Listing, params: &Params, provinces: &[(String, String)]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<form method=\"get\" action=\"{PREFIX}/{slug}\" role=\"search\">\
         <input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{hint}\" aria-label=\"{hint}\">",
        slug = listing.slug,
        q = escape(&params.q),
        hint = escape(listing.query_hint_zh),
    );
    if listing.by_category {
        html.push_str("<select name=\"category\" aria-label=\"产品类别\"><option value=\"\">全部产品类别</option>");
        for category in licnode_model::catalogue::categories() {
            push_option(
                &mut html,
                category.name_zh,
                category.name_zh,
                &params.category,
            );
        }
        html.push_str("</select>");
    }
    if listing.by_province && !provinces.is_empty() {
        html.push_str(
            "<select name=\"province\" aria-label=\"省份\"><option value=\"\">全部省份</option>",
        );
        for (code, name) in provinces {
            push_option(&mut html, code, name, &params.province);
        }
        html.push_str("</select>");
    }
    let kinds = listing.kind_choices();
    if !kinds.is_empty() {
        html.push_str(
            "<select name=\"kind\" aria-label=\"类型\"><option value=\"\">全部类型</option>",
        );
        for (value, label) in kinds {
            push_option(&mut html, value, label, &params.kind);
        }
        html.push_str("</select>");
    }
    html.push_str("<button type=\"submit\">查询</button></form>");
    html
}

fn push_option(html: &mut String, value: &str, label: &str, selected: &str) {
    let is_selected = !selected.is_empty() && (selected == value || selected == label);
    let _ = write!(
        html,
        "<option value=\"{}\"{}>{}</option>",
        escape(value),
        if is_selected { " selected" } else { "" },
        escape(label)
    );
}

/// A listing's page: its form, a card per record, and the link to the next page.
pub(crate) fn listing(
    agency: &str,
    listing: &Listing,
    params: &Params,
    provinces: &[(String, String)],
    records: &[PublicRecord],
    next: Option<i64>,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p class=\"basis\">依据{}公开</p>",
        escape(listing.title_zh),
        escape(listing.basis_zh)
    );
    body.push_str(&form(listing, params, provinces));
    if records.is_empty() {
        body.push_str("<p class=\"empty\">没有符合条件的记录。</p>");
    } else {
        let _ = write!(
            body,
            "<p class=\"count\">本页 {} 条{}</p>",
            records.len(),
            if params.after.is_some() {
                "（续页）"
            } else {
                ""
            }
        );
        for record in records {
            body.push_str(&card(record));
        }
    }
    if let Some(next) = next {
        let _ = write!(
            body,
            "<p class=\"pager\"><a rel=\"next\" href=\"{PREFIX}/{}?{}\">下一页</a></p>",
            listing.slug,
            escape(&params.query_string(Some(next), true))
        );
    }
    if params.after.is_some() {
        let _ = write!(
            body,
            "<p class=\"pager\"><a href=\"{PREFIX}/{}?{}\">回到第一页</a></p>",
            listing.slug,
            escape(&params.query_string(None, true))
        );
    }
    page(agency, listing.title_zh, &body)
}

/// One record: its name as the heading, then every public field with its label.
fn card(record: &PublicRecord) -> String {
    let mut html = String::from("<section class=\"card\">");
    let heading_field = record.collection().enterprise_name_field;
    if let Some(name) = heading_field.and_then(|field| record.fields().get(field)) {
        let _ = write!(html, "<h2>{}</h2>", escape(&plain(name)));
    }
    html.push_str("<dl>");
    for (field, value) in record.entries() {
        if Some(field.name) == heading_field {
            continue;
        }
        let _ = write!(
            html,
            "<dt>{}</dt><dd>{}</dd>",
            escape(field.label_zh),
            value_html(field, value)
        );
    }
    html.push_str("</dl></section>");
    html
}

/// A field's value as HTML: enumerations by their Chinese label, long texts folded, web
/// addresses as links, tables as lists.
fn value_html(field: &Field, value: &Value) -> String {
    match field.field_type {
        FieldType::Enum(values) => {
            let text = plain(value);
            let label = values
                .iter()
                .find(|candidate| candidate.value == text)
                .map_or(text.as_str(), |candidate| candidate.label_zh);
            escape(label)
        }
        FieldType::Table(columns) => {
            let Value::Array(rows) = value else {
                return String::new();
            };
            let mut html = String::from("<ul>");
            for row in rows {
                let cells: Vec<String> = columns
                    .iter()
                    .filter_map(|column| {
                        let cell = row.get(column.name)?;
                        Some(format!(
                            "{}：{}",
                            escape(column.label_zh),
                            value_html(column, cell)
                        ))
                    })
                    .collect();
                let _ = write!(html, "<li>{}</li>", cells.join("；"));
            }
            html.push_str("</ul>");
            html
        }
        _ => {
            let text = plain(value);
            if (text.starts_with("https://") || text.starts_with("http://"))
                && !text.contains(char::is_whitespace)
            {
                let escaped = escape(&text);
                return format!(
                    "<a href=\"{escaped}\" rel=\"nofollow noopener noreferrer\">{escaped}</a>"
                );
            }
            if text.chars().count() > FOLD_ABOVE_CHARS {
                let summary: String = text.chars().take(60).collect();
                return format!(
                    "<details><summary>{}…</summary>{}</details>",
                    escape(&summary),
                    escape(&text)
                );
            }
            escape(&text)
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
    let body = format!(
        "<h1>无法完成查询</h1><p class=\"error\">{}（{status}）</p><p><a href=\"{PREFIX}\">返回首页</a></p>",
        escape(message)
    );
    page(agency, "无法完成查询", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("恒远电缆"), "恒远电缆");
    }

    #[test]
    fn pages_are_for_phones_and_name_the_agency() {
        let html = home("浙江省<市场>监督管理局");
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("浙江省&lt;市场&gt;监督管理局"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_javascript_url_is_not_made_a_link() {
        let field = licnode_model::collection("publications")
            .and_then(|c| c.field("url"))
            .expect("url field");
        let html = value_html(field, &Value::String("javascript:alert(1)".into()));
        assert!(!html.contains("<a"));
        let html = value_html(
            field,
            &Value::String("https://example.org/a?b=1&c=2".into()),
        );
        assert!(html.contains("href=\"https://example.org/a?b=1&amp;c=2\""));
    }
}
