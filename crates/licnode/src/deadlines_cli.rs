//! `licnode deadlines`: the statutory limits this node is keeping or missing (Art. 18–20, 23,
//! 27, 28, 30, 31), as a table: late items first, then due ones; or, with `--by-province`, the
//! per-province roll-up the national centre reads.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use licnode_app::{Archive, Clock, SystemClock};
use licnode_model::deadlines::{
    DeadlineItem, DeadlineState, ProvinceRollUp, RULES, province_code, roll_up, rule,
};
use licnode_store::{DeadlineQuery, Store};

use crate::config::Config;

/// `licnode deadlines …`
#[derive(clap::Args, Debug)]
pub struct DeadlinesArgs {
    /// The node's configuration file.
    #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
    pub config: PathBuf,
    /// Only `due` or only `late` items.
    #[arg(long)]
    pub state: Option<String>,
    /// Only this rule (inspection_result, licence_entry, …, monthly_report, yearly_report).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only the items of this division's province.
    #[arg(long)]
    pub province: Option<String>,
    /// Judge as of this date (YYYY-MM-DD) instead of today in China.
    #[arg(long)]
    pub today: Option<NaiveDate>,
    /// Print the per-province roll-up instead of the items.
    #[arg(long)]
    pub by_province: bool,
}

/// Runs `licnode deadlines`.
pub async fn run(args: DeadlinesArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let level = config.node.level;
    let query = query(&args, &config.node.code, level)?;
    let store = Store::open(&config.database_url())
        .await
        .context("cannot open the node's database")?;
    let archive = Archive::with_level(store, &config.node.code, level);
    let items = archive.deadlines(&query).await;
    archive.close().await;
    let items = items?;
    let text = if args.by_province {
        province_table(&roll_up(&items))
    } else {
        item_table(&items)
    };
    print!("{text}");
    let late = items
        .iter()
        .filter(|item| item.state == DeadlineState::Late)
        .count();
    println!(
        "{} as of {}: {} due, {late} late",
        config.node.code,
        query.today,
        items.len() - late
    );
    Ok(())
}

fn query(
    args: &DeadlinesArgs,
    node_code: &str,
    level: licnode_model::Level,
) -> anyhow::Result<DeadlineQuery> {
    let today = args.today.unwrap_or_else(|| SystemClock.today());
    let mut query = DeadlineQuery::new(today, node_code, level);
    if let Some(state) = &args.state {
        query.state = Some(DeadlineState::parse(state).context("--state is due or late")?);
    }
    if let Some(code) = &args.rule {
        match rule(code) {
            Some(rule) => query.rule = Some(rule),
            None => bail!(
                "unknown rule {code:?}; the rules are {}",
                RULES
                    .iter()
                    .map(|rule| rule.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    if let Some(code) = &args.province {
        if licnode_model::divisions::lookup(code).is_none() {
            bail!("{code:?} is not a division code");
        }
        query.province = Some(province_code(code));
    }
    Ok(query)
}

/// Display width of `text` in a terminal: CJK characters take two columns.
fn width(text: &str) -> usize {
    text.chars()
        .map(|character| if character >= '\u{1100}' { 2 } else { 1 })
        .sum()
}

/// Rows as a left-aligned table with a header row.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| width(cell)).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            widths[index] = widths[index].max(width(cell));
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|cell| cell.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if index + 1 < row.len() {
                line.push_str(&" ".repeat(widths[index] - width(cell) + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// The items, one per line.
pub fn item_table(items: &[DeadlineItem]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            vec![
                item.state.as_str().to_string(),
                match item.state {
                    DeadlineState::Late => format!("{} days late", item.days_late),
                    DeadlineState::Due => format!("{} days left", item.days_left),
                },
                item.rule.to_string(),
                item.articles
                    .iter()
                    .map(|article| format!("Art. {article}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                item.jurisdiction.clone(),
                item.subject.clone(),
                item.started.clone(),
                item.due_date.clone(),
                item.record_id.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(
        &[
            "state", "by", "rule", "article", "division", "subject", "started", "due", "record",
        ],
        &rows,
    )
}

/// The roll-up, one province per line.
pub fn province_table(provinces: &[ProvinceRollUp]) -> String {
    let rows: Vec<Vec<String>> = provinces
        .iter()
        .map(|province| {
            vec![
                province.province.clone(),
                province.province_name.clone(),
                province.due.to_string(),
                province.late.to_string(),
                province.max_days_late.to_string(),
                province.missing_reports.join(", "),
            ]
        })
        .collect();
    table(
        &[
            "province",
            "name",
            "due",
            "late",
            "most days late",
            "reports missing",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_under_chinese_text() {
        let text = table(
            &["a", "b"],
            &[
                vec!["浙江省".into(), "x".into()],
                vec!["ab".into(), "y".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a       b");
        assert_eq!(lines[1], "浙江省  x");
        assert_eq!(lines[2], "ab      y");
    }
}
