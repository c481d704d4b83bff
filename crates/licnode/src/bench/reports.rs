//! `licnode bench reports`: the monthly roll-up over a province's archive.

use std::time::Instant;

use anyhow::Context;
use licnode_app::Archive;

use super::{Measurements, Row, millis, open_store, percentile};

/// `licnode bench reports`: loads `records` records of the four collections the monthly
/// roll-up reads into one province (every date spread evenly over the 96 months of 2019–2026),
/// then times the roll-up of June 2024 and a whole report run (roll-up, content, the record).
pub(super) async fn reports_bench(
    backend: &str,
    records: usize,
    repeats: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut measurements = Measurements::new(backend);
    let dir = tempfile::tempdir()?;
    let node_code = "330000";
    let (store, _database) = open_store(backend, dir.path(), "reports").await?;
    let archive = Archive::new(store.clone(), node_code);
    let started = Instant::now();
    let loaded = load_dated_records(&archive, node_code, records).await?;
    measurements.push(
        format!("load {loaded} records (bulk path)"),
        format!("{:.1} s", started.elapsed().as_secs_f64()),
    );

    let period = licnode_reports::Period::Month {
        year: 2024,
        month: 6,
    };
    measure_rollup(&store, node_code, &period, repeats, &mut measurements).await?;
    let clock = licnode_app::ManualClock::at_date(
        chrono::NaiveDate::from_ymd_opt(2024, 7, 2).context("date")?,
    );
    let reports = licnode_app::Reports::new(
        archive.clone(),
        clock,
        licnode_app::ReportSettings {
            unit_name: "浙江省市场监督管理局".into(),
            auto_submit: false,
        },
    );
    let run_started = Instant::now();
    let result = reports
        .run(&period, "bench")
        .await
        .map_err(|error| anyhow::anyhow!("{}: {error}", error.code()))?;
    measurements.push(
        format!("report run of {period} ({})", result.run.outcome),
        millis(run_started.elapsed()),
    );
    store.close().await;
    Ok(measurements.into_rows())
}

/// Loads `records` records of the four collections the roll-up reads into the archive of
/// `node_code`, their dates spread evenly over the 96 months from January 2019; how many were
/// stored.
async fn load_dated_records(
    archive: &Archive,
    node_code: &str,
    records: usize,
) -> anyhow::Result<u64> {
    use chrono::Datelike;
    let counties = licnode_model::divisions::counties_within(node_code);
    // Shares of the archive: applications, licences, refusals, licence events.
    let shares = [
        ("applications", "application_date", 3),
        ("licences", "issue_date", 4),
        ("refusals", "refusal_date", 1),
        ("licence_events", "event_date", 2),
    ];
    let first_day = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).context("date")?;
    let mut generator = licnode_gen::Generator::new(2024);
    let mut loaded = 0u64;
    for (collection_name, date_field, share) in shares {
        let collection = licnode_model::collection(collection_name).context("collection")?;
        let count = records * share / 10;
        let mut writer = licnode_app::BulkWriter::new(
            archive,
            collection_name,
            &licnode_app::Author::operator("bench"),
        )?;
        let mut batch = Vec::with_capacity(1_000);
        for index in 0..count {
            let county = counties[index % counties.len()].code.clone();
            let mut fields = generator.record(collection, &county);
            // Month `index % 96` from January 2019, day 1–28.
            let month = first_day
                .checked_add_months(chrono::Months::new((index % 96) as u32))
                .context("month")?;
            let date = month
                .with_day(1 + (index / 96 % 28) as u32)
                .context("day")?;
            fields.insert(
                date_field.into(),
                serde_json::Value::String(date.format("%Y-%m-%d").to_string()),
            );
            batch.push(licnode_app::BulkRow {
                jurisdiction: Some(county),
                fields,
            });
            if batch.len() == 1_000 || index + 1 == count {
                let (refused, _) = writer.write(std::mem::take(&mut batch)).await?;
                anyhow::ensure!(
                    refused.is_empty(),
                    "generated {collection_name} refused: {:?}",
                    refused.first()
                );
            }
        }
        loaded += writer.finish().await?;
    }
    Ok(loaded)
}

/// The monthly roll-up of `period`, once to warm up, then timed `repeats` times.
async fn measure_rollup(
    store: &licnode_store::Store,
    node_code: &str,
    period: &licnode_reports::Period,
    repeats: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
    let warm = store.rollup_monthly(node_code, period).await?;
    let found =
        warm.applications.len() + warm.licences.len() + warm.refusals.len() + warm.events.len();
    let mut samples = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let query_started = Instant::now();
        let source = store.rollup_monthly(node_code, period).await?;
        samples.push(query_started.elapsed());
        std::hint::black_box(source);
    }
    measurements.push(
        format!(
            "monthly roll-up of {period}: {found} rows (median / worst of {})",
            samples.len()
        ),
        format!(
            "{} / {}",
            millis(percentile(&mut samples, 0.5)),
            millis(percentile(&mut samples, 1.0))
        ),
    );
    Ok(())
}
