//! `licnode bench web`: every page of the staff web application at a province holding
//! `licences` licences (and a few hundred records of every other collection it may author),
//! timed over a loopback connection from a client that keeps its session cookie.
//!
//! The pages are not listed here: the benchmark signs in once per role and follows the links
//! of the pages it reaches (breadth first, three links deep from the home page), so a page added
//! to the application is measured without touching this file. Links are grouped by their shape
//! (record ids and cursors replaced by placeholders); each shape is timed on up to two URLs.
//! Downloads (CSV, XLSX, print views) and the public service are left out: they are not pages a
//! clerk waits on in the same way, and `bench public` measures the latter.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::{Archive, Author, BulkRow, BulkWriter};
use licnode_server::{AppState, NodeInfo};
use licnode_store::Role;

use super::{Measurements, Row, millis, name_fragment, open_store, percent_encode, percentile};

/// The province the benchmark's node serves.
const PROVINCE: &str = "330000";
const PASSWORD: &str = "bench-password";
/// Records of every other collection the province may author.
const OTHER_RECORDS: usize = 300;
/// URLs timed per page shape.
const URLS_PER_SHAPE: usize = 2;

pub(super) async fn web_bench(
    backend: &str,
    licences: usize,
    requests: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut measurements = Measurements::new(backend);
    let dir = tempfile::tempdir()?;
    let (store, _database) = open_store(backend, dir.path(), "web").await?;
    let roles = [
        ("bench-admin", Role::Administrator),
        ("bench-approver", Role::Approver),
        ("bench-clerk", Role::Clerk),
        ("bench-auditor", Role::Auditor),
    ];
    for (name, role) in roles {
        store.add_user(name, name, role, PASSWORD).await?;
    }
    let archive = Archive::with_level(store.clone(), PROVINCE, licnode_model::Level::Province);

    let started = Instant::now();
    let fragment = load(&archive, licences).await?;
    store.refresh_statistics().await?;
    measurements.push(
        format!("load {licences} licences and {OTHER_RECORDS} of each other collection"),
        format!(
            "{:.0} s, database {:.0} MB",
            started.elapsed().as_secs_f64(),
            store.size_bytes().await? as f64 / 1e6
        ),
    );

    let (base, stop, server) = serve_staff(archive).await?;
    let mut measured_shapes = HashSet::new();
    let mut all_latencies = Vec::new();
    for (name, role) in roles {
        let client = sign_in(&base, name).await?;
        let mut urls = crawl(&client, &base).await?;
        urls.push(format!(
            "/collections/licences?q={}",
            percent_encode(&fragment)
        ));
        for (page_shape, urls) in urls_by_shape(urls) {
            if !measured_shapes.insert(page_shape.clone()) {
                continue;
            }
            let mut latencies = time_pages(&client, &base, &urls, requests, name).await?;
            all_latencies.extend(latencies.iter().copied());
            measurements.push(
                format!("{page_shape} ({role:?}): p50 / p99 / max"),
                three(&mut latencies),
            );
        }
    }
    measurements.push(
        format!(
            "every page above ({} shapes, {} requests): p50 / p99 / max",
            measured_shapes.len(),
            all_latencies.len()
        ),
        three(&mut all_latencies),
    );
    // The one action that reads everything: the audit log verified end to end (a POST, which
    // the crawl does not make).
    let auditor = sign_in(&base, "bench-auditor").await?;
    let mut verifications = time_audit_verification(&auditor, &base, 5).await?;
    measurements.push(
        "POST /audit/verify, the whole audit log verified (5 runs): p50 / max".to_string(),
        format!(
            "{} / {}",
            millis(percentile(&mut verifications, 0.5)),
            millis(verifications.iter().max().copied().unwrap_or_default())
        ),
    );
    let _ = stop.send(());
    server.await??;
    store.close().await;
    Ok(measurements.into_rows())
}

/// Runs the audit verification `runs` times as the signed-in `client`; the time of each.
async fn time_audit_verification(
    client: &reqwest::Client,
    base: &str,
    runs: usize,
) -> anyhow::Result<Vec<Duration>> {
    let page = client
        .get(format!("{base}/audit/verify"))
        .send()
        .await?
        .text()
        .await?;
    let token = hidden_value(&page, "csrf_token").context("the verification form's token")?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/audit/verify"))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(serde_urlencoded::to_string([(
                "csrf_token",
                token.as_str(),
            )])?)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        times.push(started.elapsed());
        anyhow::ensure!(status.as_u16() == 303, "POST /audit/verify: {status}");
    }
    Ok(times)
}

/// The staff web application of the province on a local port: its base URL, the sender that
/// stops it and its task.
async fn serve_staff(
    archive: Archive,
) -> anyhow::Result<(
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(
        archive,
        NodeInfo {
            code: PROVINCE.into(),
            level: "province".into(),
            name: "浙江省市场监督管理局".into(),
            parent_url: None,
        },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(licnode_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Ok((base, stop, server))
}

/// The URLs grouped by their shape, at most [`URLS_PER_SHAPE`] of each.
fn urls_by_shape(urls: Vec<String>) -> BTreeMap<String, Vec<String>> {
    let mut by_shape: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for url in urls {
        let entry = by_shape.entry(shape(&url)).or_default();
        if entry.len() < URLS_PER_SHAPE {
            entry.push(url);
        }
    }
    by_shape
}

/// Each of `urls` requested `requests` times by the client signed in as `name`; the latency
/// of each request.
async fn time_pages(
    client: &reqwest::Client,
    base: &str,
    urls: &[String],
    requests: usize,
    name: &str,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(requests * urls.len());
    for url in urls {
        for _ in 0..requests {
            let request_started = Instant::now();
            let response = client.get(format!("{base}{url}")).send().await?;
            let status = response.status();
            response.bytes().await?;
            latencies.push(request_started.elapsed());
            anyhow::ensure!(status.is_success(), "{url} as {name}: {status}");
        }
    }
    Ok(latencies)
}

fn three(latencies: &mut [Duration]) -> String {
    let p50 = percentile(latencies, 0.5);
    let p99 = percentile(latencies, 0.99);
    let max = latencies.iter().max().copied().unwrap_or_default();
    format!("{} / {} / {}", millis(p50), millis(p99), millis(max))
}

/// Loads the province's archive through the bulk path; returns a two-character fragment of a
/// licensed enterprise's name for the search page.
async fn load(archive: &Archive, licences: usize) -> anyhow::Result<String> {
    let counties = licnode_model::divisions::counties_within(PROVINCE);
    anyhow::ensure!(!counties.is_empty(), "no counties within {PROVINCE}");
    let author = Author::operator("bench");
    let mut generator = licnode_gen::Generator::new(12);
    let node = archive.scope.node_ref();
    let mut fragment = String::new();
    for collection in licnode_model::collections() {
        let count = if collection.name == "licences" {
            licences
        } else {
            OTHER_RECORDS
        };
        let first_county = &counties[0].code;
        if !licnode_sync::may_author(&node, collection.name, first_county).is_allowed()
            && !licnode_sync::may_author(&node, collection.name, PROVINCE).is_allowed()
        {
            continue;
        }
        let mut writer = BulkWriter::new(archive, collection.name, &author)?;
        let mut created = 0;
        while created < count {
            let batch_size = 2_000.min(count - created);
            let batch = (created..created + batch_size)
                .map(|index| {
                    let county = &counties[(index * 7919) % counties.len()].code;
                    let jurisdiction =
                        if licnode_sync::may_author(&node, collection.name, county).is_allowed() {
                            county.clone()
                        } else {
                            PROVINCE.to_string()
                        };
                    let fields = generator.record(collection, &jurisdiction);
                    BulkRow {
                        jurisdiction: Some(jurisdiction),
                        fields,
                    }
                })
                .collect::<Vec<_>>();
            if fragment.is_empty() && collection.name == "licences" {
                let name = batch
                    .first()
                    .and_then(|row| row.fields.get("enterprise_name"))
                    .and_then(|value| value.as_str())
                    .unwrap_or_default();
                fragment = name_fragment(name);
            }
            let (refused, _) = writer.write(batch).await?;
            anyhow::ensure!(
                refused.is_empty(),
                "generated {} refused: {:?}",
                collection.name,
                refused.first()
            );
            created += batch_size;
        }
        writer.finish().await?;
    }
    Ok(fragment)
}

/// A client that sends `user`'s session cookie with every request (and follows no redirect,
/// so a page that answers with the sign-in page's redirect fails the run).
async fn sign_in(base: &str, user: &str) -> anyhow::Result<reqwest::Client> {
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let sign_in_page = anonymous.get(format!("{base}/login")).send().await?;
    // The sign-in form's token is bound to a cookie set with the page.
    let sign_in_cookies = cookie_pairs(sign_in_page.headers()).join("; ");
    let page = sign_in_page.text().await?;
    let token = hidden_value(&page, "csrf_token").context("the sign-in page's CSRF token")?;
    let response = anonymous
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, sign_in_cookies)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(serde_urlencoded::to_string([
            ("csrf_token", token.as_str()),
            ("name", user),
            ("password", PASSWORD),
        ])?)
        .send()
        .await?;
    let session = cookie_pairs(response.headers())
        .into_iter()
        .find(|pair| pair.starts_with(licnode_server::web::SESSION_COOKIE))
        .with_context(|| format!("{user} could not sign in"))?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, session.parse()?);
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()?)
}

/// The `name=value` pairs of a response's `Set-Cookie` headers.
fn cookie_pairs(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::to_string)
        .collect()
}

fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker)? + marker.len();
    let rest = &page[at..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The same-origin pages reachable from `/` within three links, as paths with their queries.
async fn crawl(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let mut seen = HashSet::from(["/".to_string()]);
    let mut queue = VecDeque::from([("/".to_string(), 0)]);
    let mut pages = Vec::new();
    let mut shapes_followed: BTreeMap<String, usize> = BTreeMap::new();
    while let Some((path, depth)) = queue.pop_front() {
        let response = client.get(format!("{base}{path}")).send().await?;
        let is_html = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        if !response.status().is_success() || !is_html {
            continue;
        }
        let body = response.text().await?;
        pages.push(path);
        if depth == 3 {
            continue;
        }
        for link in links(&body) {
            let followed = shapes_followed.entry(shape(&link)).or_default();
            if *followed >= URLS_PER_SHAPE || !seen.insert(link.clone()) {
                continue;
            }
            *followed += 1;
            queue.push_back((link, depth + 1));
        }
    }
    Ok(pages)
}

/// The page links of an HTML page worth timing: same origin, not a download, not the public
/// service, not signing out.
fn links(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in body.split("href=\"").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let link = piece[..end].replace("&amp;", "&");
        let excluded = !link.starts_with('/')
            || link.starts_with("//")
            || link.starts_with("/public")
            || link.starts_with("/web/")
            || link.starts_with("/logout")
            || link.starts_with("/api/")
            || ["format=", ".csv", ".xlsx", "export", "download", "print"]
                .iter()
                .any(|marker| link.contains(marker));
        if !excluded {
            found.push(link);
        }
    }
    found
}

/// A link's shape: id-like path segments and query values replaced by placeholders.
fn shape(link: &str) -> String {
    let (path, query) = link.split_once('?').unwrap_or((link, ""));
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let digits = segment.chars().filter(char::is_ascii_digit).count();
            if segment.len() >= 12 && digits >= 4 {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    let mut names: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split('=').next().unwrap_or(pair))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        segments.join("/")
    } else {
        format!("{}?{}", segments.join("/"), names.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_and_query_values_do_not_make_new_shapes() {
        assert_eq!(
            shape("/records/0192f3a4-7b2c-7d11-9e3f-1234567890ab"),
            "/records/{id}"
        );
        assert_eq!(
            shape("/collections/licences?after=1234&q=%E6%B5%99"),
            "/collections/licences?after&q"
        );
        assert_eq!(
            shape("/collections/licences/new"),
            "/collections/licences/new"
        );
    }

    #[test]
    fn downloads_and_other_services_are_not_timed_as_pages() {
        let page = r#"<a href="/collections/licences?q=a&amp;after=3">next</a>
            <a href="/public/licences">public</a><a href="/reports/x.xlsx">xlsx</a>
            <a href="https://example.org/">out</a><a href="/records/abc">record</a>"#;
        assert_eq!(
            links(page),
            vec!["/collections/licences?q=a&after=3", "/records/abc"]
        );
    }
}
