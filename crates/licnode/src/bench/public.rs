//! `licnode bench public`: the public query service over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};
use licnode_store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Measurements, Row, millis, name_fragment, open_store, percent_encode, percentile};

/// The national node the licences are loaded into.
const NODE_CODE: &str = licnode_model::divisions::NATIONAL_CODE;

/// `licnode bench public`: a national node with `licences` generated licences, its public
/// query service on a local port, searched over HTTP.
pub(super) async fn public_bench(
    backend: &str,
    licences: usize,
    queries: usize,
    clients: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut measurements = Measurements::logged_with_prefix(backend, format!("{backend}:"));
    let dir = tempfile::tempdir()?;
    let model = licnode_model::collection("licences").context("licences collection")?;
    let (store, _database) = open_store(backend, dir.path(), "public").await?;
    let archive = Archive::new(store.clone(), NODE_CODE);

    let (names, numbers) = load_licences(
        backend,
        &store,
        &archive,
        model,
        licences,
        &mut measurements,
    )
    .await?;
    let (address, stop, server) = serve_public(archive).await?;
    let kinds = query_urls(&names, &numbers, address);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    // Warm up connections and caches.
    for url in kinds[0].1.iter().chain(&kinds[1].1).take(200) {
        client.get(url).send().await?.bytes().await?;
    }
    for (label, urls) in &kinds {
        anyhow::ensure!(!urls.is_empty(), "no sampled queries");
        measure_query_kind(&client, label, urls, queries, clients, &mut measurements).await?;
    }
    let _ = stop.send(());
    server.await??;
    store.close().await;
    Ok(measurements.into_rows())
}

/// Bulk load, generated batch by batch (a million inputs do not fit in memory at once); names
/// and numbers are sampled for the queries, and returned.
async fn load_licences(
    backend: &str,
    store: &Store,
    archive: &Archive,
    model: &'static licnode_model::Collection,
    licences: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let counties = licnode_model::divisions::counties_within(NODE_CODE);
    let mut generator = licnode_gen::Generator::new(6);
    let mut writer =
        licnode_app::BulkWriter::new(archive, "licences", &licnode_app::Author::operator("bench"))?;
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
    measurements.push(
        format!("bulk load {licences} licences"),
        format!(
            "{:.0} s ({:.0} records/s), database {:.0} MB",
            elapsed.as_secs_f64(),
            licences as f64 / elapsed.as_secs_f64(),
            store.size_bytes().await? as f64 / 1e6
        ),
    );
    Ok((names, numbers))
}

/// The public service alone, as on its own listener: its address, the sender that stops it
/// and its task. Rate limiting stays on (its cost is in the figures) with a rate no benchmark
/// client reaches: every request comes from 127.0.0.1.
async fn serve_public(
    archive: Archive,
) -> anyhow::Result<(
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let state = AppState::new(
        archive,
        NodeInfo {
            code: NODE_CODE.into(),
            level: "national".into(),
            name: "bench".into(),
            parent_url: None,
        },
    );
    let options = licnode_server::public::PublicOptions {
        requests_per_second: 1e9,
        burst: u32::MAX,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(licnode_server::public::serve(
        listener,
        state,
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok((address, stop, server))
}

/// The URLs of each kind of query: a two-character fragment from the middle of a sampled name
/// (the trade name sits after the region) as JSON and as an HTML page, and sampled licence
/// numbers as JSON.
fn query_urls(
    names: &[String],
    numbers: &[String],
    address: SocketAddr,
) -> [(&'static str, Vec<String>); 3] {
    let fragments: Vec<String> = names.iter().map(|name| name_fragment(name)).collect();
    let base = format!("http://{address}/public");
    [
        (
            "name fragment (2 chars), JSON",
            fragments
                .iter()
                .map(|f| format!("{base}/api/licences?q={}", percent_encode(f)))
                .collect(),
        ),
        (
            "licence number, JSON",
            numbers
                .iter()
                .map(|n| format!("{base}/api/licences?q={}", percent_encode(n)))
                .collect(),
        ),
        (
            "name fragment (2 chars), HTML page",
            fragments
                .iter()
                .map(|f| format!("{base}/licences?q={}", percent_encode(f)))
                .collect(),
        ),
    ]
}

/// One kind of query: for JSON, the hits on the first page; then latency and throughput with
/// one client and with `clients`.
async fn measure_query_kind(
    client: &reqwest::Client,
    label: &str,
    urls: &[String],
    queries: usize,
    clients: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
    // Hits per query, for the record.
    if label.contains("JSON") {
        let mut hits = 0usize;
        let probe = urls.len().min(200);
        for url in urls.iter().take(probe) {
            let body: serde_json::Value = client.get(url).send().await?.json().await?;
            hits += body["items"].as_array().map_or(0, Vec::len);
        }
        measurements.push(
            format!("{label}: results on the first page (mean of {probe})"),
            format!("{:.1}", hits as f64 / probe as f64),
        );
    }
    for concurrency in [1, clients.max(1)] {
        let urls = Arc::new(urls.to_vec());
        let started = Instant::now();
        let mut latencies = query_concurrently(client, urls, queries, concurrency).await?;
        let elapsed = started.elapsed();
        measurements.push(
            format!("{label}, {concurrency} client(s): p50 / p99, requests/s"),
            format!(
                "{} / {}, {:.0} req/s",
                millis(percentile(&mut latencies, 0.5)),
                millis(percentile(&mut latencies, 0.99)),
                latencies.len() as f64 / elapsed.as_secs_f64()
            ),
        );
    }
    Ok(())
}

/// `queries` requests over `urls`, `concurrency` at a time; the latency of each.
async fn query_concurrently(
    client: &reqwest::Client,
    urls: Arc<Vec<String>>,
    queries: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
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
    Ok(latencies)
}
