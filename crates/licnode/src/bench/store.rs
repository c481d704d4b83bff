//! `licnode bench store`: bulk and API writes, then list and search latency.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use licnode_app::Archive;
use licnode_server::{AppState, NodeInfo};
use licnode_store::SearchQuery;

use super::{Row, millis, open_store, percentile};

pub(super) async fn store_bench(
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
