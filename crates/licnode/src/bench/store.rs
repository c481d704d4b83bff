//! `licnode bench store`: bulk and API writes, then list and search latency.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use licnode_app::Archive;
use licnode_model::divisions::Division;
use licnode_server::{AppState, NodeInfo};
use licnode_store::{SearchQuery, Store};

use super::{Measurements, Row, millis, open_store, percentile};

/// A generated licence and the county it is filed in.
type LicenceInput = (String, serde_json::Map<String, serde_json::Value>);

/// The province whose counties the licences are filed in.
const NODE_CODE: &str = "330000";

pub(super) async fn store_bench(
    backend: &str,
    records: usize,
    api_records: usize,
    api_clients: usize,
    queries: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut measurements = Measurements::new(backend);
    let dir = tempfile::tempdir()?;
    let counties = licnode_model::divisions::counties_within(NODE_CODE);

    // Inputs, generated up front (not timed in the figures below).
    let inputs = generate_licences(records, &counties)?;
    let names: Vec<String> = inputs
        .iter()
        .filter_map(|(_, f)| f.get("enterprise_name")?.as_str().map(str::to_string))
        .collect();
    let numbers: Vec<String> = inputs
        .iter()
        .filter_map(|(_, f)| f.get("licence_number")?.as_str().map(str::to_string))
        .collect();

    let (store, _database) = open_store(backend, dir.path(), "bulk").await?;
    measure_bulk_create(&store, &inputs, records, &mut measurements).await?;
    measure_list_by_jurisdiction(&store, &counties, queries, &mut measurements).await?;
    measure_searches(&store, &names, &numbers, queries, &mut measurements).await?;
    store.close().await;

    // API path: one record per request, `api_clients` at a time, on a fresh database.
    if api_records > 0 {
        let (store, _api_database) = open_store(backend, dir.path(), "api").await?;
        let inputs = inputs[..api_records.min(inputs.len())].to_vec();
        measure_api_create(&store, inputs, api_clients, &mut measurements).await?;
        store.close().await;
    }
    Ok(measurements.into_rows())
}

/// `records` licences spread over `counties`, from a fixed seed.
fn generate_licences(records: usize, counties: &[&Division]) -> anyhow::Result<Vec<LicenceInput>> {
    let licences = licnode_model::collection("licences").context("licences collection")?;
    let mut generator = licnode_gen::Generator::new(42);
    Ok((0..records)
        .map(|index| {
            let county = counties[index % counties.len()].code.clone();
            let fields = generator.record(licences, &county);
            (county, fields)
        })
        .collect())
}

/// The bulk path: all inputs through one bulk writer, in batches of 1,000; then the bytes
/// stored per record.
async fn measure_bulk_create(
    store: &Store,
    inputs: &[LicenceInput],
    records: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
    let archive = Archive::new(store.clone(), NODE_CODE);
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
    measurements.push(
        format!("bulk create {inserted} licences"),
        format!(
            "{:.0} records/s ({:.1} s)",
            inserted as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
        ),
    );
    let size = store.size_bytes().await?;
    measurements.push(
        "bytes stored per record",
        format!(
            "{} B (database {:.1} MB)",
            size / records.max(1) as i64,
            size as f64 / 1e6
        ),
    );
    Ok(())
}

/// List latency: pages of 50 filtered by a county's jurisdiction.
async fn measure_list_by_jurisdiction(
    store: &Store,
    counties: &[&Division],
    queries: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
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
    measurements.push(
        "list by jurisdiction, page of 50 (p50 / p99)",
        format!(
            "{} / {}",
            millis(percentile(&mut samples, 0.5)),
            millis(percentile(&mut samples, 0.99))
        ),
    );
    Ok(())
}

/// Search latency: by a 2- or 4-character fragment of a name, and by licence number.
async fn measure_searches(
    store: &Store,
    names: &[String],
    numbers: &[String],
    queries: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
    for (label, make) in [
        ("search name, 2-char fragment", 0usize),
        ("search name, 4-char fragment", 1),
        ("search licence number", 2),
    ] {
        let mut samples = Vec::with_capacity(queries);
        for index in 0..queries {
            let pick = (index * 104_729) % names.len().max(1);
            let query = match make {
                0 | 1 => name_fragment_query(&names[pick], if make == 0 { 2 } else { 4 }),
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
        measurements.push(
            format!("{label} (p50 / p99)"),
            format!(
                "{} / {}",
                millis(percentile(&mut samples, 0.5)),
                millis(percentile(&mut samples, 0.99))
            ),
        );
    }
    Ok(())
}

/// A search for `length` characters from the middle of `name`: the trade name sits after the
/// region.
fn name_fragment_query(name: &str, length: usize) -> SearchQuery {
    let name: Vec<char> = name.chars().collect();
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

/// The API path: the staff API served on a local port, `inputs` created one per request by
/// `api_clients` clients at a time.
async fn measure_api_create(
    store: &Store,
    inputs: Vec<LicenceInput>,
    api_clients: usize,
    measurements: &mut Measurements,
) -> anyhow::Result<()> {
    let archive = Archive::new(store.clone(), NODE_CODE);
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
            code: NODE_CODE.into(),
            level: "province".into(),
            name: "bench".into(),
            parent_url: None,
        },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(licnode_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{address}/api/v1/licences/records");
    let client = reqwest::Client::new();
    let inputs = Arc::new(inputs);
    let started = Instant::now();
    let mut latencies =
        create_through_api(&client, &url, &token, inputs.clone(), api_clients).await?;
    let elapsed = started.elapsed();
    measurements.push(
        format!(
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
    Ok(())
}

/// Posts every input to `url`, `api_clients` requests at a time; the latency of each request.
async fn create_through_api(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    inputs: Arc<Vec<LicenceInput>>,
    api_clients: usize,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..api_clients {
        let (client, url, inputs, next, token) = (
            client.clone(),
            url.to_owned(),
            inputs.clone(),
            next.clone(),
            token.to_owned(),
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
    Ok(latencies)
}
