//! `licnode bench`: measured figures for docs/BENCHMARKS.md, printed as a table. Never used as
//! assertions in tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};
use licnode_store::{SearchQuery, Store};

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
        BenchCommand::Sync { records, changed } => {
            let rows = sync_bench(records, changed).await?;
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
    }
}

struct Row {
    backend: String,
    measure: String,
    value: String,
}

fn print_table(rows: &[Row]) {
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

async fn open_store(
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

fn percentile(samples: &mut [Duration], quantile: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * quantile).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

async fn store_bench(
    backend: &str,
    records: usize,
    api_records: usize,
    api_clients: usize,
    queries: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut push = |measure: &str, value: String| {
        eprintln!("[{backend}] {measure}: {value}");
        rows.push(Row {
            backend: backend.to_string(),
            measure: measure.to_string(),
            value,
        })
    };
    let dir = tempfile::tempdir()?;
    let licences = licnode_model::collection("licences").context("licences collection")?;
    let node_code = "330000";
    let counties = licnode_model::divisions::counties_within(node_code);

    // Inputs, generated up front (not timed in the figures below).
    let mut generator = licnode_gen::Generator::new(42);
    let inputs: Vec<(String, serde_json::Map<String, serde_json::Value>)> = (0..records)
        .map(|index| {
            let county = counties[index % counties.len()].code.clone();
            let fields = generator.record(licences, &county);
            (county, fields)
        })
        .collect();
    let names: Vec<String> = inputs
        .iter()
        .filter_map(|(_, f)| f.get("enterprise_name")?.as_str().map(str::to_string))
        .collect();
    let numbers: Vec<String> = inputs
        .iter()
        .filter_map(|(_, f)| f.get("licence_number")?.as_str().map(str::to_string))
        .collect();

    // Bulk path.
    let (store, _database) = open_store(backend, dir.path(), "bulk").await?;
    let archive = Archive::new(store.clone(), node_code);
    let started = Instant::now();
    let mut writer = licnode_app::BulkWriter::new(
        &archive,
        "licences",
        &licnode_app::Author::operator("bench"),
    )?;
    for batch in inputs.chunks(1_000) {
        let rows = batch
            .iter()
            .map(|(county, fields)| licnode_app::BulkRow {
                jurisdiction: Some(county.clone()),
                fields: fields.clone(),
            })
            .collect();
        let (refused, _) = writer.write(rows).await?;
        anyhow::ensure!(
            refused.is_empty(),
            "generated licences refused: {:?}",
            refused.first()
        );
    }
    let inserted = writer.finish().await?;
    let elapsed = started.elapsed();
    push(
        &format!("bulk create {inserted} licences"),
        format!(
            "{:.0} records/s ({:.1} s)",
            inserted as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
        ),
    );
    let size = store.size_bytes().await?;
    push(
        "bytes stored per record",
        format!(
            "{} B (database {:.1} MB)",
            size / records.max(1) as i64,
            size as f64 / 1e6
        ),
    );

    // List latency: pages of 50 within a random province-level filter and by jurisdiction.
    let mut samples = Vec::with_capacity(queries);
    for index in 0..queries {
        let county = &counties[(index * 7919) % counties.len()].code;
        let query_started = Instant::now();
        let page = store
            .list(&licnode_store::ListQuery {
                collection: "licences".into(),
                jurisdiction: Some(county.clone()),
                limit: 50,
                ..Default::default()
            })
            .await?;
        samples.push(query_started.elapsed());
        std::hint::black_box(page);
    }
    push(
        "list by jurisdiction, page of 50 (p50 / p99)",
        format!(
            "{} / {}",
            millis(percentile(&mut samples, 0.5)),
            millis(percentile(&mut samples, 0.99))
        ),
    );

    for (label, make) in [
        ("search name, 2-char fragment", 0usize),
        ("search name, 4-char fragment", 1),
        ("search licence number", 2),
    ] {
        let mut samples = Vec::with_capacity(queries);
        for index in 0..queries {
            let pick = (index * 104_729) % names.len().max(1);
            let query = match make {
                0 | 1 => {
                    let name: Vec<char> = names[pick].chars().collect();
                    // The trade name sits after the region: take characters from the middle.
                    let length = if make == 0 { 2 } else { 4 };
                    let start = (name.len() / 2).saturating_sub(length / 2);
                    SearchQuery {
                        collection: Some("licences".into()),
                        name: Some(
                            name[start..(start + length).min(name.len())]
                                .iter()
                                .collect(),
                        ),
                        limit: 20,
                        ..Default::default()
                    }
                }
                _ => SearchQuery {
                    collection: Some("licences".into()),
                    licence_number: Some(numbers[pick % numbers.len()].clone()),
                    limit: 20,
                    ..Default::default()
                },
            };
            let query_started = Instant::now();
            let page = store.search(&query).await?;
            samples.push(query_started.elapsed());
            std::hint::black_box(page);
        }
        push(
            &format!("{label} (p50 / p99)"),
            format!(
                "{} / {}",
                millis(percentile(&mut samples, 0.5)),
                millis(percentile(&mut samples, 0.99))
            ),
        );
    }
    store.close().await;

    // API path: one record per request, `api_clients` at a time, on a fresh database.
    if api_records > 0 {
        let (store, _api_database) = open_store(backend, dir.path(), "api").await?;
        let archive = Archive::new(store.clone(), node_code);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        store
            .add_user(
                "bench",
                "bench",
                licnode_store::Role::Clerk,
                "bench-password",
            )
            .await?;
        let token = store
            .issue_token("bench", licnode_store::TokenKind::Api, "bench", None)
            .await?
            .token;
        let state = AppState::new(
            archive,
            NodeInfo {
                code: node_code.into(),
                level: "province".into(),
                name: "bench".into(),
                parent_url: None,
            },
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(licnode_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let url = format!("http://{address}/api/v1/licences/records");
        let inputs = Arc::new(inputs[..api_records.min(inputs.len())].to_vec());
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..api_clients {
            let (client, url, inputs, next, token) = (
                client.clone(),
                url.clone(),
                inputs.clone(),
                next.clone(),
                token.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((county, fields)) = inputs.get(index) else {
                        break;
                    };
                    let request_started = Instant::now();
                    let response = client
                        .post(format!("{url}?jurisdiction={county}"))
                        .bearer_auth(&token)
                        .json(fields)
                        .send()
                        .await?;
                    anyhow::ensure!(
                        response.status().is_success(),
                        "API create failed: {}",
                        response.status()
                    );
                    latencies.push(request_started.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = started.elapsed();
        push(
            &format!(
                "API create {} licences, {api_clients} clients",
                inputs.len()
            ),
            format!(
                "{:.0} records/s (p50 {} / p99 {} per request)",
                inputs.len() as f64 / elapsed.as_secs_f64(),
                millis(percentile(&mut latencies, 0.5)),
                millis(percentile(&mut latencies, 0.99))
            ),
        );
        let _ = stop.send(());
        server.await??;
        store.close().await;
    }
    Ok(rows)
}

/// `licnode bench public`: a national node with `licences` generated licences, its public
/// query service on a local port, searched over HTTP.
async fn public_bench(
    backend: &str,
    licences: usize,
    queries: usize,
    clients: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut push = |measure: String, value: String| {
        eprintln!("{backend}: {measure}: {value}");
        rows.push(Row {
            backend: backend.to_string(),
            measure,
            value,
        })
    };
    let dir = tempfile::tempdir()?;
    let model = licnode_model::collection("licences").context("licences collection")?;
    let node_code = licnode_model::divisions::NATIONAL_CODE;
    let counties = licnode_model::divisions::counties_within(node_code);
    let (store, _database) = open_store(backend, dir.path(), "public").await?;
    let archive = Archive::new(store.clone(), node_code);

    // Bulk load, generated batch by batch (a million inputs do not fit in memory at once);
    // names and numbers are sampled for the queries.
    let mut generator = licnode_gen::Generator::new(6);
    let mut writer = licnode_app::BulkWriter::new(
        &archive,
        "licences",
        &licnode_app::Author::operator("bench"),
    )?;
    let sample_every = (licences / 20_000).max(1);
    let mut names = Vec::new();
    let mut numbers = Vec::new();
    let started = Instant::now();
    let mut created = 0;
    while created < licences {
        let batch_size = 2_000.min(licences - created);
        let batch: Vec<(String, serde_json::Map<String, serde_json::Value>)> = (created
            ..created + batch_size)
            .map(|index| {
                let county = counties[(index * 7919) % counties.len()].code.clone();
                let fields = generator.record(model, &county);
                if index % sample_every == 0 {
                    let text = |name: &str| fields.get(name).and_then(|v| v.as_str());
                    if let (Some(name), Some(number)) =
                        (text("enterprise_name"), text("licence_number"))
                    {
                        names.push(name.to_string());
                        numbers.push(number.to_string());
                    }
                }
                (county, fields)
            })
            .collect();
        let rows = batch
            .into_iter()
            .map(|(county, fields)| licnode_app::BulkRow {
                jurisdiction: Some(county),
                fields,
            })
            .collect();
        let (refused, _) = writer.write(rows).await?;
        anyhow::ensure!(
            refused.is_empty(),
            "generated licences refused: {:?}",
            refused.first()
        );
        created += batch_size;
        if created % 100_000 == 0 {
            eprintln!(
                "{backend}: {created} licences loaded ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    writer.finish().await?;
    let elapsed = started.elapsed();
    store.refresh_statistics().await?;
    push(
        format!("bulk load {licences} licences"),
        format!(
            "{:.0} s ({:.0} records/s), database {:.0} MB",
            elapsed.as_secs_f64(),
            licences as f64 / elapsed.as_secs_f64(),
            store.size_bytes().await? as f64 / 1e6
        ),
    );

    // The public service alone, as on its own listener. Rate limiting stays on (its cost is in
    // the figures) with a rate no benchmark client reaches: every request comes from 127.0.0.1.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let state = AppState::new(
        archive,
        NodeInfo {
            code: node_code.into(),
            level: "national".into(),
            name: "bench".into(),
            parent_url: None,
        },
    );
    let options = licnode_server::public::PublicOptions {
        requests_per_second: 1e9,
        burst: u32::MAX,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(licnode_server::public::serve(
        listener,
        state,
        options,
        async move {
            let _ = stopped.await;
        },
    ));

    // A two-character fragment from the middle of a sampled name (the trade name sits after the
    // region), and sampled licence numbers.
    let fragments: Vec<String> = names
        .iter()
        .map(|name| {
            let characters: Vec<char> = name.chars().collect();
            let start = (characters.len() / 2).saturating_sub(1);
            characters[start..(start + 2).min(characters.len())]
                .iter()
                .collect()
        })
        .collect();
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
                    char::from(byte).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect()
    };
    let base = format!("http://{address}/public");
    let kinds: [(&str, Vec<String>); 3] = [
        (
            "name fragment (2 chars), JSON",
            fragments
                .iter()
                .map(|f| format!("{base}/api/licences?q={}", encode(f)))
                .collect(),
        ),
        (
            "licence number, JSON",
            numbers
                .iter()
                .map(|n| format!("{base}/api/licences?q={}", encode(n)))
                .collect(),
        ),
        (
            "name fragment (2 chars), HTML page",
            fragments
                .iter()
                .map(|f| format!("{base}/licences?q={}", encode(f)))
                .collect(),
        ),
    ];
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    // Warm up connections and caches.
    for url in kinds[0].1.iter().chain(&kinds[1].1).take(200) {
        client.get(url).send().await?.bytes().await?;
    }
    for (label, urls) in &kinds {
        anyhow::ensure!(!urls.is_empty(), "no sampled queries");
        // Hits per query, for the record.
        if label.contains("JSON") {
            let mut hits = 0usize;
            let probe = urls.len().min(200);
            for url in urls.iter().take(probe) {
                let body: serde_json::Value = client.get(url).send().await?.json().await?;
                hits += body["items"].as_array().map_or(0, Vec::len);
            }
            push(
                format!("{label}: results on the first page (mean of {probe})"),
                format!("{:.1}", hits as f64 / probe as f64),
            );
        }
        for concurrency in [1, clients.max(1)] {
            let urls = Arc::new(urls.clone());
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if index >= queries {
                            break;
                        }
                        let url = &urls[(index * 7) % urls.len()];
                        let request_started = Instant::now();
                        let response = client.get(url).send().await?;
                        let status = response.status();
                        response.bytes().await?;
                        anyhow::ensure!(status.is_success(), "{url}: {status}");
                        latencies.push(request_started.elapsed());
                    }
                    Ok::<_, anyhow::Error>(latencies)
                }));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await??);
            }
            let elapsed = started.elapsed();
            push(
                format!("{label}, {concurrency} client(s): p50 / p99, requests/s"),
                format!(
                    "{} / {}, {:.0} req/s",
                    millis(percentile(&mut latencies, 0.5)),
                    millis(percentile(&mut latencies, 0.99)),
                    latencies.len() as f64 / elapsed.as_secs_f64()
                ),
            );
        }
    }
    let _ = stop.send(());
    server.await??;
    store.close().await;
    Ok(rows)
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MB.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}

async fn sync_bench(records: usize, changed: usize) -> anyhow::Result<Vec<Row>> {
    use crate::sync_cli::session;
    let mut rows = Vec::new();
    let mut push = |measure: String, value: String| {
        eprintln!("[sqlite] {measure}: {value}");
        rows.push(Row {
            backend: "sqlite".to_string(),
            measure,
            value,
        })
    };
    let dir = tempfile::tempdir()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = listener.local_addr()?;
    drop(listener);
    crate::demo::build_tree(dir.path(), base).await?;
    let mut nodes = Vec::new();
    for name in ["national", "zhejiang", "xihu"] {
        let mut config = crate::Config::load(&dir.path().join(name).join("licnode.toml"))?;
        config.sync.enabled = false;
        // Only the records made here move: no report is scheduled.
        config.schedule.monthly = None;
        config.schedule.yearly = None;
        config.http.listen = "127.0.0.1:0".parse()?;
        if let Some(peer) = config.peer.as_mut() {
            peer.listen = "127.0.0.1:0".parse()?;
        }
        nodes.push(crate::Node::start(&config).await?);
    }
    let url = |index: usize| -> anyhow::Result<String> {
        Ok(format!(
            "https://{}",
            nodes[index].peer_addr().context("peer listener")?
        ))
    };
    let (national_url, zhejiang_url) = (url(0)?, url(1)?);
    let (zhejiang, xihu) = (&nodes[1], &nodes[2]);
    let county = xihu.archive();
    let collection = licnode_model::collection("quality_archives").context("collection")?;
    let mut generator = licnode_gen::Generator::new(7);
    let mut writer = licnode_app::BulkWriter::new(
        county,
        "quality_archives",
        &licnode_app::Author::operator("bench"),
    )?;
    for start in (0..records).step_by(1_000) {
        let rows = (start..(start + 1_000).min(records))
            .map(|_| licnode_app::BulkRow {
                jurisdiction: Some("330106".into()),
                fields: generator.record(collection, "330106"),
            })
            .collect();
        writer.write(rows).await?;
    }
    writer.finish().await?;
    let payload: usize = county
        .changes_after(0, None, i64::MAX)
        .await?
        .iter()
        .map(|row| row.bytes.len())
        .sum();

    let (zhejiang_url_ref, national_url_ref) = (&zhejiang_url, &national_url);
    // The province relays while the county is still pushing, as its sync loop does: sessions
    // of the province with national run back to back until the county's session is over and
    // one more province session finds nothing new.
    let round = |label: &'static str| async move {
        let started = Instant::now();
        let county = async {
            let report =
                session(xihu.archive(), xihu.tls().context("tls")?, zhejiang_url_ref).await?;
            anyhow::Ok((report, started.elapsed()))
        };
        let county_finished = std::sync::atomic::AtomicBool::new(false);
        let province = async {
            let mut relayed = 0;
            loop {
                let done = county_finished.load(std::sync::atomic::Ordering::SeqCst);
                let report = session(
                    zhejiang.archive(),
                    zhejiang.tls().context("tls")?,
                    national_url_ref,
                )
                .await?;
                relayed += report.pushed;
                if done && report.pushed == 0 {
                    break;
                }
                if report.pushed == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            anyhow::Ok(relayed)
        };
        let county = async {
            let result = county.await;
            county_finished.store(true, std::sync::atomic::Ordering::SeqCst);
            result
        };
        let (county, relayed) = tokio::join!(county, province);
        let (up, county_done) = county?;
        let total = started.elapsed();
        anyhow::Ok((label, up.pushed, relayed?, county_done, total))
    };
    let (_, pushed, relayed, county_done, total) = round("cold").await?;
    anyhow::ensure!(
        pushed == records && relayed == records,
        "cold round moved {pushed}/{relayed}"
    );
    push(
        format!("cold: {records} records county → province → national"),
        format!(
            "{:.0} records/s end to end ({:.1} s; county → province {:.1} s)",
            records as f64 / total.as_secs_f64(),
            total.as_secs_f64(),
            county_done.as_secs_f64()
        ),
    );
    push(
        "change bytes per record (automerge, before base64/JSON/TLS)".to_string(),
        format!("{} B", payload / records.max(1)),
    );

    let page = county
        .list(&licnode_store::ListQuery {
            collection: "quality_archives".into(),
            limit: changed as i64,
            ..Default::default()
        })
        .await?;
    for (index, record) in page.items.iter().enumerate() {
        let mut patch = serde_json::Map::new();
        patch.insert("remarks".into(), serde_json::json!(format!("复查 {index}")));
        county
            .update(&record.id, &patch, &licnode_app::Author::operator("bench"))
            .await?;
    }
    let (_, pushed, relayed, county_done, total) = round("changed").await?;
    anyhow::ensure!(
        pushed == changed && relayed == changed,
        "changed round moved {pushed}/{relayed}"
    );
    push(
        format!("{changed} changed records county → province → national"),
        format!(
            "{:.3} s end to end (county → province {:.3} s)",
            total.as_secs_f64(),
            county_done.as_secs_f64()
        ),
    );
    let mut empty = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let report = session(xihu.archive(), xihu.tls().context("tls")?, &zhejiang_url).await?;
        empty.push(started.elapsed());
        anyhow::ensure!(
            report.pushed + report.pulled == 0,
            "an empty round moved changes"
        );
    }
    push(
        "empty round county ↔ province, new connections (p50 / p99 of 20)".to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut empty, 0.5)),
            millis(percentile(&mut empty, 0.99))
        ),
    );
    if let Some(peak) = peak_memory_mb() {
        push(
            "peak memory of the process hosting all three nodes".to_string(),
            format!("{peak:.0} MB"),
        );
    }
    for node in nodes {
        node.shutdown().await?;
    }
    Ok(rows)
}

/// `licnode bench reports`: loads `records` records of the four collections the monthly
/// roll-up reads into one province (every date spread evenly over the 96 months of 2019–2026),
/// then times the roll-up of June 2024 and a whole report run (roll-up, content, the record).
async fn reports_bench(backend: &str, records: usize, repeats: usize) -> anyhow::Result<Vec<Row>> {
    use chrono::Datelike;
    let mut rows = Vec::new();
    let mut push = |measure: &str, value: String| {
        eprintln!("[{backend}] {measure}: {value}");
        rows.push(Row {
            backend: backend.to_string(),
            measure: measure.to_string(),
            value,
        })
    };
    let dir = tempfile::tempdir()?;
    let node_code = "330000";
    let counties = licnode_model::divisions::counties_within(node_code);
    let (store, _database) = open_store(backend, dir.path(), "reports").await?;
    let archive = Archive::new(store.clone(), node_code);
    // Shares of the archive: applications, licences, refusals, licence events.
    let shares = [
        ("applications", "application_date", 3),
        ("licences", "issue_date", 4),
        ("refusals", "refusal_date", 1),
        ("licence_events", "event_date", 2),
    ];
    let first_day = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).context("date")?;
    let mut generator = licnode_gen::Generator::new(2024);
    let started = Instant::now();
    let mut loaded = 0u64;
    for (collection_name, date_field, share) in shares {
        let collection = licnode_model::collection(collection_name).context("collection")?;
        let count = records * share / 10;
        let mut writer = licnode_app::BulkWriter::new(
            &archive,
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
    push(
        &format!("load {loaded} records (bulk path)"),
        format!("{:.1} s", started.elapsed().as_secs_f64()),
    );

    let period = licnode_reports::Period::Month {
        year: 2024,
        month: 6,
    };
    let warm = store.rollup_monthly(node_code, &period).await?;
    let found =
        warm.applications.len() + warm.licences.len() + warm.refusals.len() + warm.events.len();
    let mut samples = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let query_started = Instant::now();
        let source = store.rollup_monthly(node_code, &period).await?;
        samples.push(query_started.elapsed());
        std::hint::black_box(source);
    }
    push(
        &format!(
            "monthly roll-up of {period}: {found} rows (median / worst of {})",
            samples.len()
        ),
        format!(
            "{} / {}",
            millis(percentile(&mut samples, 0.5)),
            millis(percentile(&mut samples, 1.0))
        ),
    );
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
    push(
        &format!("report run of {period} ({})", result.run.outcome),
        millis(run_started.elapsed()),
    );
    store.close().await;
    Ok(rows)
}
