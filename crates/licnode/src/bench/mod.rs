//! `licnode bench`: measured figures for docs/BENCHMARKS.md, printed as a table. Never used as
//! assertions in tests.

mod fan_in;
mod public;
mod reports;
mod store;
mod sync;
mod web;

use std::time::Duration;

use anyhow::Context;
use licnode_store::Store;

use public::public_bench;
use reports::reports_bench;
use store::store_bench;
use sync::sync_bench;

/// Benchmarks.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// The monthly roll-up (Art. 18, 19; Attachment 1) over a province's archive: applications,
    /// licences, refusals and licence events spread over 2019–2026, then one month's report
    /// built from them, on SQLite and/or PostgreSQL.
    Reports {
        /// Records in all, across the four collections the roll-up reads.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Timed roll-ups of the month (after one untimed warm-up).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// `sqlite`, `postgres`, or both (comma-separated), as for `bench store`.
        #[arg(long, default_value = "sqlite,postgres")]
        backends: String,
    },
    /// Replicate records county → province → national over mutual TLS (SQLite, one process
    /// hosting the three nodes): cold, then a thousand changed records, then an empty round.
    Sync {
        /// Records created at the county before the first round.
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Records changed at the county before the second round.
        #[arg(long, default_value_t = 1_000)]
        changed: usize,
        /// Changed rounds to run (the same records edited again each time); with more than
        /// one, the table gives the first and the median.
        #[arg(long, default_value_t = 1)]
        changed_rounds: usize,
    },
    /// Many provinces pushing their licences to one national node at the same time, through
    /// the replication engine's in-memory transport: aggregate records/s at national.
    FanIn {
        /// Provinces pushing at once (at most 31).
        #[arg(long, default_value_t = 31)]
        provinces: usize,
        /// Licences each province pushes.
        #[arg(long, default_value_t = 10_000)]
        records: usize,
        /// The national node's database: `postgres` or `sqlite` (provinces use SQLite).
        #[arg(long, default_value = "postgres")]
        backend: String,
    },
    /// Create records through the bulk path and through the HTTP API, then measure list and
    /// search latency, on SQLite and/or PostgreSQL.
    Store {
        /// Records created through the bulk path (and then queried).
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Records created one request at a time through the HTTP API.
        #[arg(long, default_value_t = 10_000)]
        api_records: usize,
        /// Concurrent API clients.
        #[arg(long, default_value_t = 16)]
        api_clients: usize,
        /// Queries of each kind for the latency figures.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// `sqlite`, `postgres`, or both (comma-separated). PostgreSQL runs in a throwaway
        /// cluster started from the installed binaries, or on the server whose admin URL is in
        /// `LICNODE_TEST_POSTGRES_URL`.
        #[arg(long, default_value = "sqlite,postgres")]
        backends: String,
    },
    /// Fill a national node with generated licences through the bulk path, then measure the
    /// public query service over HTTP: search by a two-character name fragment and by licence
    /// number (JSON and the HTML page), p50/p99 latency and requests per second, with one
    /// client and with several.
    Public {
        /// Licences created through the bulk path (and then searched).
        #[arg(long, default_value_t = 100_000)]
        licences: usize,
        /// Requests of each kind for each figure.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Concurrent clients for the throughput figures.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// `sqlite`, `postgres`, or both (comma-separated), as for `bench store`.
        #[arg(long, default_value = "sqlite,postgres")]
        backends: String,
    },
    /// Every page of the staff web application, found by following links from the home page as
    /// each role, at a province holding `licences` licences: p50/p99/max per page.
    Web {
        /// Licences created through the bulk path before the pages are timed.
        #[arg(long, default_value_t = 100_000)]
        licences: usize,
        /// Requests per URL (each page shape is timed on up to two URLs).
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// `sqlite`, `postgres`, or both (comma-separated), as for `bench store`.
        #[arg(long, default_value = "sqlite")]
        backends: String,
    },
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Reports {
            records,
            repeats,
            backends,
        } => {
            let mut rows = Vec::new();
            for backend in backends.split(',').map(str::trim) {
                let result = reports_bench(backend, records, repeats)
                    .await
                    .with_context(|| format!("reports benchmark on {backend}"))?;
                rows.extend(result);
            }
            print_table(&rows);
            Ok(())
        }
        BenchCommand::Store {
            records,
            api_records,
            api_clients,
            queries,
            backends,
        } => {
            let mut rows = Vec::new();
            for backend in backends.split(',').map(str::trim) {
                let result = store_bench(backend, records, api_records, api_clients, queries)
                    .await
                    .with_context(|| format!("benchmark on {backend}"))?;
                rows.extend(result);
            }
            print_table(&rows);
            Ok(())
        }
        BenchCommand::Sync {
            records,
            changed,
            changed_rounds,
        } => {
            let rows = sync_bench(records, changed, changed_rounds).await?;
            print_table(&rows);
            Ok(())
        }
        BenchCommand::FanIn {
            provinces,
            records,
            backend,
        } => {
            let rows = fan_in::fan_in_bench(&backend, provinces, records).await?;
            print_table(&rows);
            Ok(())
        }
        BenchCommand::Public {
            licences,
            queries,
            clients,
            backends,
        } => {
            let mut rows = Vec::new();
            for backend in backends.split(',').map(str::trim) {
                let result = public_bench(backend, licences, queries, clients)
                    .await
                    .with_context(|| format!("public benchmark on {backend}"))?;
                rows.extend(result);
            }
            print_table(&rows);
            Ok(())
        }
        BenchCommand::Web {
            licences,
            requests,
            backends,
        } => {
            let mut rows = Vec::new();
            for backend in backends.split(',').map(str::trim) {
                let result = web::web_bench(backend, licences, requests)
                    .await
                    .with_context(|| format!("web benchmark on {backend}"))?;
                rows.extend(result);
            }
            print_table(&rows);
            Ok(())
        }
    }
}

pub(crate) struct Row {
    pub(crate) backend: String,
    pub(crate) measure: String,
    pub(crate) value: String,
}

/// The figures of one benchmark on one backend, each logged to stderr as it is measured.
pub(crate) struct Measurements {
    backend: String,
    log_prefix: String,
    rows: Vec<Row>,
}

impl Measurements {
    /// Figures logged as `[backend] measure: value`.
    pub(crate) fn new(backend: &str) -> Measurements {
        Measurements::logged_with_prefix(backend, format!("[{backend}]"))
    }

    /// Figures logged as `{log_prefix} measure: value`.
    pub(crate) fn logged_with_prefix(backend: &str, log_prefix: String) -> Measurements {
        Measurements {
            backend: backend.to_string(),
            log_prefix,
            rows: Vec::new(),
        }
    }

    /// Records one figure.
    pub(crate) fn push(&mut self, measure: impl Into<String>, value: String) {
        let measure = measure.into();
        eprintln!("{} {measure}: {value}", self.log_prefix);
        self.rows.push(Row {
            backend: self.backend.clone(),
            measure,
            value,
        });
    }

    /// The figures, in the order they were measured.
    pub(crate) fn into_rows(self) -> Vec<Row> {
        self.rows
    }
}

pub(crate) fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|r| r.measure.chars().count())
        .max()
        .unwrap_or(10);
    println!("| backend  | {:<width$} | value |", "measure");
    println!("|----------|-{}-|-------|", "-".repeat(width));
    for row in rows {
        println!(
            "| {:<8} | {:<width$} | {} |",
            row.backend, row.measure, row.value
        );
    }
}

pub(crate) async fn open_store(
    backend: &str,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(Store, Option<licnode_testkit::TestDatabase>)> {
    match backend {
        "sqlite" => {
            let path = dir.join(format!("{name}.db"));
            Ok((
                Store::open(&format!("sqlite://{}?mode=rwc", path.display())).await?,
                None,
            ))
        }
        "postgres" => {
            let database = licnode_testkit::postgres_database().await?;
            Ok((Store::open(&database.url).await?, Some(database)))
        }
        other => anyhow::bail!("unknown backend {other:?}"),
    }
}

pub(crate) fn percentile(samples: &mut [Duration], quantile: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * quantile).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// `text` for a query string: unreserved ASCII as is, every other byte as `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Two characters from the middle of an enterprise's name (the trade name sits after the
/// region): what a clerk or a visitor types to find it.
pub(crate) fn name_fragment(name: &str) -> String {
    let characters: Vec<char> = name.chars().collect();
    let start = (characters.len() / 2).saturating_sub(1);
    characters[start..(start + 2).min(characters.len())]
        .iter()
        .collect()
}
