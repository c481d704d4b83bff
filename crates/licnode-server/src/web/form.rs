//! Create and edit forms generated from a collection of `licnode-model`: Chinese labels,
//! inputs by field type (dates as date inputs, enumerations and yes/no as choices, division
//! codes as a choice over the node's territory, tables as repeatable rows), required marks,
//! and the validator's problems next to each field with what the user typed kept. What is
//! posted goes to `Archive::create`/`update` as text, where it is validated and converted.

use std::collections::HashMap;

use licnode_app::NodeScope;
use licnode_model::divisions::{self, Division};
use licnode_model::validate::Issue;
use licnode_model::{Collection, Field, FieldType};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::messages;

/// The form field naming the jurisdiction of a new record.
pub(crate) const JURISDICTION_FIELD: &str = "_jurisdiction";
/// Blank rows offered under a table's rows, so a row can be added without JavaScript.
const BLANK_TABLE_ROWS: usize = 3;
/// How many levels below a national node its territory choices reach (provinces and
/// prefectures: a few hundred choices, not the whole tree of 3,200 divisions).
const NATIONAL_CHOICE_DEPTH: usize = 2;

/// What the user typed, by input name (`enterprise_name`, `team_members[2].phone`).
pub(crate) type Typed = HashMap<String, String>;

/// The divisions a node may choose among: its own and those below it.
pub(crate) fn territory(scope: &NodeScope) -> Vec<&'static Division> {
    let Some(own) = divisions::lookup(&scope.node_code) else {
        return Vec::new();
    };
    let depth_limit = if scope.level == licnode_model::Level::National {
        NATIONAL_CHOICE_DEPTH
    } else {
        usize::MAX
    };
    let mut chosen = Vec::new();
    let mut pending = vec![(own, 0usize)];
    while let Some((division, depth)) = pending.pop() {
        chosen.push(division);
        if depth < depth_limit {
            for child in divisions::children(&division.code).into_iter().rev() {
                pending.push((child, depth + 1));
            }
        }
    }
    chosen
}

/// The jurisdictions a new record of `collection` may have at this node: the territory the
/// authority table lets it author for (the same table `Archive::create` decides with).
pub(crate) fn authorable_jurisdictions(
    scope: &NodeScope,
    collection: &Collection,
) -> Vec<&'static Division> {
    let node = scope.node_ref();
    territory(scope)
        .into_iter()
        .filter(|division| {
            licnode_sync::may_author(&node, collection.name, &division.code).is_allowed()
        })
        .collect()
}

/// A stored value as a form shows it.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Bool(true) => "是".to_string(),
        Value::Bool(false) => "否".to_string(),
        other => other.to_string(),
    }
}

/// A stored value as a page shows it: an enumeration by its Chinese label.
pub(crate) fn display_text(field: &Field, value: &Value) -> String {
    if let (FieldType::Enum(values), Value::String(stored)) = (field.field_type, value)
        && let Some(known) = values.iter().find(|known| known.value == stored)
    {
        return known.label_zh.to_string();
    }
    if let (FieldType::YearMonth, Value::String(stored)) = (field.field_type, value) {
        return licnode_model::year_month::shown(stored);
    }
    value_text(value)
}

/// What the form shows of a stored record: every field's text, tables row by row.
pub(crate) fn typed_from_record(model: &Collection, data: &Map<String, Value>) -> Typed {
    let mut typed = Typed::new();
    for field in model.fields {
        let Some(value) = data.get(field.name) else {
            continue;
        };
        match (field.field_type, value) {
            (FieldType::Table(columns), Value::Array(rows)) => {
                for (index, row) in rows.iter().enumerate() {
                    for column in columns {
                        if let Some(cell) = row.get(column.name) {
                            typed.insert(
                                format!("{}[{index}].{}", field.name, column.name),
                                value_text(cell),
                            );
                        }
                    }
                }
            }
            _ => {
                typed.insert(field.name.to_string(), value_text(value));
            }
        }
    }
    typed
}

/// The fields a form posts, as the records service takes them, with what was typed. For a
/// new record, empty inputs are left out; for an edit (`current` given), only what differs
/// from the stored record is sent, an emptied input as `null` (clear). A name that is no field
/// of the collection is passed on as it is, for the validator to refuse (`unknown_field`).
pub(crate) fn input_from_form(
    model: &Collection,
    pairs: &[(String, String)],
    current: Option<&Map<String, Value>>,
) -> (Map<String, Value>, Typed) {
    let mut typed = Typed::new();
    for (name, value) in pairs {
        if name == super::session::CSRF_FIELD {
            continue;
        }
        typed.insert(name.clone(), value.trim().to_string());
    }
    let mut input = Map::new();
    for field in model.fields {
        let stored = current.and_then(|current| current.get(field.name));
        let value = match field.field_type {
            FieldType::Table(columns) => table_value(field, columns, &typed),
            _ => typed
                .get(field.name)
                .filter(|text| !text.is_empty())
                .map(|text| Value::String(text.clone())),
        };
        match (current, value) {
            (None, Some(value)) => {
                input.insert(field.name.to_string(), value);
            }
            (None, None) => {}
            (Some(_), Some(value)) => {
                let unchanged = stored.is_some_and(|stored| same_as_stored(stored, &value));
                if !unchanged {
                    input.insert(field.name.to_string(), value);
                }
            }
            (Some(_), None) => {
                if stored.is_some_and(|stored| !stored.is_null()) && submitted(field, &typed) {
                    input.insert(field.name.to_string(), Value::Null);
                }
            }
        }
    }
    for name in typed.keys() {
        let known = name == JURISDICTION_FIELD
            || model.field(name).is_some()
            || name
                .split_once('[')
                .is_some_and(|(table, _)| model.field(table).is_some());
        if !known {
            input.insert(name.clone(), Value::String(typed[name].clone()));
        }
    }
    (input, typed)
}

/// Whether the form carried an input for `field` at all (a form without it leaves it alone).
fn submitted(field: &Field, typed: &Typed) -> bool {
    match field.field_type {
        FieldType::Table(_) => {
            let prefix = format!("{}[", field.name);
            typed.keys().any(|name| name.starts_with(&prefix))
        }
        _ => typed.contains_key(field.name),
    }
}

/// Whether a posted value says what the stored one says (the form shows stored values as text).
fn same_as_stored(stored: &Value, posted: &Value) -> bool {
    match (stored, posted) {
        (Value::Array(_), Value::Array(_)) => {
            let as_text = |rows: &Value| -> Value {
                match rows {
                    Value::Array(rows) => Value::Array(
                        rows.iter()
                            .map(|row| match row {
                                Value::Object(cells) => Value::Object(
                                    cells
                                        .iter()
                                        .filter(|(_, cell)| !value_text(cell).is_empty())
                                        .map(|(name, cell)| {
                                            (name.clone(), Value::String(value_text(cell)))
                                        })
                                        .collect(),
                                ),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                }
            };
            as_text(stored) == as_text(posted)
        }
        (stored, Value::String(text)) => value_text(stored) == *text,
        _ => false,
    }
}

/// A table's rows from `name[i].column` inputs, in row order, blank rows left out.
fn table_value(field: &Field, columns: &[Field], typed: &Typed) -> Option<Value> {
    let prefix = format!("{}[", field.name);
    let mut rows: Vec<(usize, Map<String, Value>)> = Vec::new();
    for (name, text) in typed {
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((index, column)) = rest.split_once("].") else {
            continue;
        };
        let (Ok(index), Some(column)) = (
            index.parse::<usize>(),
            columns.iter().find(|c| c.name == column),
        ) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        let position = match rows.iter().position(|(known, _)| *known == index) {
            Some(position) => position,
            None => {
                rows.push((index, Map::new()));
                rows.len() - 1
            }
        };
        rows[position]
            .1
            .insert(column.name.to_string(), Value::String(text.clone()));
    }
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|(index, _)| *index);
    Some(Value::Array(
        rows.into_iter()
            .map(|(_, row)| Value::Object(row))
            .collect(),
    ))
}

/// The problems of each input, in Chinese, by input name.
pub(crate) fn problems_by_input(issues: &[Issue]) -> HashMap<String, Vec<String>> {
    let mut problems: HashMap<String, Vec<String>> = HashMap::new();
    for issue in issues {
        problems
            .entry(issue.field.clone())
            .or_default()
            .push(messages::field_problem(issue.code, &issue.message));
    }
    problems
}

/// What a form needs to render one collection's fields.
pub(crate) struct FormView<'a> {
    pub model: &'static Collection,
    pub typed: &'a Typed,
    pub problems: &'a HashMap<String, Vec<String>>,
    pub territory: &'a [&'static Division],
    /// For a new record: the jurisdictions it may have. `None` for an edit.
    pub jurisdictions: Option<&'a [&'static Division]>,
    pub creating: bool,
    /// A quality archive's licence is picked from the licences this node holds (id, label);
    /// empty for other collections (Art. 12, 29).
    pub licence_choices: &'a [(String, String)],
}

/// The most licences a quality archive's form offers, newest first (a county holds the
/// licences of its territory: hundreds, not thousands).
const LICENCE_CHOICES_MAX: i64 = 1_000;

/// The licences a quality archive may name, newest first, labelled with number, enterprise,
/// product and validity; nothing for other collections. The list is a convenience: a failure
/// to read it leaves the form with an empty choice, and the write is judged by the records
/// service either way.
pub(crate) async fn licence_choices(
    archive: &licnode_app::Archive,
    model: &Collection,
) -> Vec<(String, String)> {
    if model.name != "quality_archives" {
        return Vec::new();
    }
    let query = licnode_store::ListQuery {
        collection: "licences".to_string(),
        limit: LICENCE_CHOICES_MAX,
        descending: true,
        ..licnode_store::ListQuery::default()
    };
    let page = match archive.list(&query).await {
        Ok(page) => page,
        Err(error) => {
            tracing::warn!(%error, "cannot list the licences a quality archive may name");
            return Vec::new();
        }
    };
    let text = |record: &licnode_store::StoredRecord, field: &str| {
        record
            .data
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    page.items
        .iter()
        .map(|licence| {
            let label = format!(
                "{} {} {}（有效期至 {}）",
                text(licence, "licence_number"),
                text(licence, "enterprise_name"),
                text(licence, "product_name"),
                text(licence, "valid_until"),
            );
            (licence.id.clone(), label)
        })
        .collect()
}

/// The choice of a quality archive's licence among those held.
fn licence_choice(name: &str, chosen: &str, choices: &[(String, String)]) -> Markup {
    let chosen_listed = choices.iter().any(|(id, _)| id == chosen);
    html! {
        select id=(name) name=(name) {
            option value="" { "（不选：手工填写证书信息）" }
            @if !chosen.is_empty() && !chosen_listed {
                option value=(chosen) selected { (chosen) }
            }
            @for (id, label) in choices {
                option value=(id) selected[id == chosen] { (label) }
            }
        }
    }
}

fn problem_list(problems: &HashMap<String, Vec<String>>, name: &str) -> Markup {
    html! {
        @if let Some(list) = problems.get(name) {
            @for problem in list {
                span.problem role="alert" { (problem) }
            }
        }
    }
}

fn division_options(territory: &[&'static Division], chosen: &str, allow_empty: bool) -> Markup {
    let chosen_listed = territory.iter().any(|division| division.code == chosen);
    html! {
        @if allow_empty { option value="" { "（请选择）" } }
        @if !chosen.is_empty() && !chosen_listed {
            option value=(chosen) selected { (chosen) }
        }
        @for division in territory {
            option value=(division.code) selected[division.code == chosen] {
                (division.code) " " (division.name)
            }
        }
    }
}

/// One input of a field (or of a table's cell, named `name`).
fn input(
    field: &Field,
    name: &str,
    text: &str,
    territory: &[&'static Division],
    required: bool,
) -> Markup {
    html! {
        @match field.field_type {
            FieldType::LongText => {
                textarea id=(name) name=(name) rows="4" required[required] { (text) }
            }
            FieldType::Date => {
                input id=(name) name=(name) type="date" value=(text) required[required];
            }
            // 出生年月 (Art. 15): a month; an older record's full date is offered as its month.
            FieldType::YearMonth => {
                input id=(name) name=(name) type="month" value=(licnode_model::year_month::shown(text)) required[required];
            }
            FieldType::Integer => {
                input id=(name) name=(name) type="text" inputmode="numeric" value=(text) required[required];
            }
            FieldType::Phone => {
                input id=(name) name=(name) type="tel" value=(text) required[required];
            }
            FieldType::Email => {
                input id=(name) name=(name) type="text" inputmode="email" value=(text) required[required];
            }
            FieldType::Boolean => {
                select id=(name) name=(name) required[required] {
                    option value="" { "（请选择）" }
                    option value="是" selected[text == "是"] { "是" }
                    option value="否" selected[text == "否"] { "否" }
                }
            }
            FieldType::Enum(values) => {
                select id=(name) name=(name) required[required] {
                    option value="" { "（请选择）" }
                    @if !text.is_empty() && !values.iter().any(|known| known.value == text) {
                        option value=(text) selected { (text) }
                    }
                    @for known in values {
                        option value=(known.value) selected[known.value == text] { (known.label_zh) }
                    }
                }
            }
            FieldType::DivisionCode => {
                select id=(name) name=(name) required[required] {
                    (division_options(territory, text, true))
                }
            }
            _ => {
                input id=(name) name=(name) type="text" value=(text) required[required];
            }
        }
    }
}

/// The fields of a create or edit form (the `<form>` element and its buttons are the page's).
pub(crate) fn fields(view: &FormView<'_>) -> Markup {
    let text = |name: &str| view.typed.get(name).map(String::as_str).unwrap_or_default();
    html! {
        @if let Some(jurisdictions) = view.jurisdictions {
            div.field {
                label for=(JURISDICTION_FIELD) { "所属辖区" span.required title="必填" { "*" } }
                select id=(JURISDICTION_FIELD) name=(JURISDICTION_FIELD) {
                    (division_options(jurisdictions, text(JURISDICTION_FIELD), false))
                }
                (problem_list(view.problems, JURISDICTION_FIELD))
            }
        }
        @for field in view.model.fields {
            @match field.field_type {
                FieldType::Table(columns) => {
                    fieldset.table-field {
                        legend { (field.label_zh) @if field.required { span.required title="必填" { "*" } } }
                        (problem_list(view.problems, field.name))
                        @let filled = (0..crate::web::form::TABLE_ROWS_SHOWN_MAX)
                            .take_while(|index| columns.iter().any(|column| view.typed.contains_key(&format!("{}[{index}].{}", field.name, column.name))))
                            .count();
                        div.table-scroll {
                            table {
                                thead { tr { th { "#" } @for column in columns { th { (column.label_zh) @if column.required { span.required { "*" } } } } } }
                                tbody {
                                    @for index in 0..(filled + BLANK_TABLE_ROWS) {
                                        tr {
                                            td { (index + 1) }
                                            @for column in columns {
                                                @let name = format!("{}[{index}].{}", field.name, column.name);
                                                td {
                                                    (input(column, &name, text(&name), view.territory, false))
                                                    (problem_list(view.problems, &name))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                FieldType::RecordRef("licences") if !view.licence_choices.is_empty() => {
                    div.field.licence-choice {
                        label for=(field.name) { (field.label_zh) }
                        (licence_choice(field.name, text(field.name), view.licence_choices))
                        span.hint { "选择本节点持有的许可证后，证书编号、企业名称、信用代码、所在地、产品和有效期按许可证填写，可留空。" }
                        (problem_list(view.problems, field.name))
                    }
                }
                _ => {
                    @let taken_from_licence = !view.licence_choices.is_empty()
                        && licnode_app::records::references::FIELDS_TAKEN_FROM_LICENCE.contains(&field.name);
                    div.field {
                        label for=(field.name) {
                            (field.label_zh)
                            @if field.required { span.required title="必填" { "*" } }
                        }
                        (input(field, field.name, text(field.name), view.territory, field.required && view.creating && !taken_from_licence))
                        (problem_list(view.problems, field.name))
                    }
                }
            }
        }
    }
}

/// The most rows of a table a form shows filled (the validator allows more; beyond this the
/// API is the way).
pub(crate) const TABLE_ROWS_SHOWN_MAX: usize = licnode_model::validate::TABLE_MAX_ROWS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_full_birth_date_is_shown_and_offered_as_its_year_and_month() {
        // Art. 15: 出生年月 is a month; older records may hold the full date.
        let model = licnode_model::collection("reviewers").expect("reviewers");
        let birth = model.field("birth_date").expect("出生年月");
        assert_eq!(
            display_text(birth, &Value::String("1975-06-15".into())),
            "1975-06"
        );
        let markup = input(birth, "birth_date", "1975-06-15", &[], true).into_string();
        assert!(
            markup.contains("type=\"month\"") && markup.contains("value=\"1975-06\""),
            "{markup}"
        );
    }

    #[test]
    fn a_table_is_read_row_by_row_and_blank_rows_are_left_out() {
        let model = licnode_model::collection("review_plans").expect("review plans");
        let table = model
            .fields
            .iter()
            .find(|field| matches!(field.field_type, FieldType::Table(_)))
            .expect("a table field");
        let FieldType::Table(columns) = table.field_type else {
            unreachable!("checked above")
        };
        let column = columns[0].name;
        let pairs = vec![
            (format!("{}[1].{column}", table.name), "乙".to_string()),
            (format!("{}[0].{column}", table.name), "甲".to_string()),
            (format!("{}[2].{column}", table.name), String::new()),
        ];
        let (input, _) = input_from_form(model, &pairs, None);
        let rows = input[table.name].as_array().expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][column], "甲");
        assert_eq!(rows[1][column], "乙");
    }

    #[test]
    fn an_edit_sends_only_what_changed_and_an_emptied_input_clears() {
        let model = licnode_model::collection("quality_archives").expect("quality archives");
        let mut stored = Map::new();
        stored.insert("enterprise_name".into(), Value::String("甲公司".into()));
        stored.insert("employee_count".into(), Value::from(12));
        stored.insert("production_scale".into(), Value::String("大".into()));
        let pairs = vec![
            ("enterprise_name".to_string(), "甲公司".to_string()),
            ("employee_count".to_string(), "13".to_string()),
            ("production_scale".to_string(), String::new()),
        ];
        let (input, _) = input_from_form(model, &pairs, Some(&stored));
        assert!(!input.contains_key("enterprise_name"));
        assert_eq!(input["employee_count"], "13");
        assert_eq!(input["production_scale"], Value::Null);
    }

    #[test]
    fn a_name_that_is_no_field_is_passed_on_for_the_validator_to_refuse() {
        let model = licnode_model::collection("quality_archives").expect("quality archives");
        let pairs = vec![("_deleted".to_string(), "true".to_string())];
        let (input, _) = input_from_form(model, &pairs, None);
        assert_eq!(input["_deleted"], "true");
    }
}
