//! `licnode bench public`: the public query service over HTTP.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};

use super::{Row, millis, open_store, percentile};

/// `licnode bench public`: a national node with `licences` generated licences, its public
/// query service on a local port, searched over HTTP.
pub(super) async fn public_bench(
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
