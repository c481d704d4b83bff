//! Jepsen's set test for the tree: clients write through each node's staff API and log every
//! acknowledged record with its fields ([`WriteLog`]); once the faults heal, [`check`] asks
//! every node for every acknowledged record and says what is lost, misplaced, stored twice or
//! altered, what the quarantines hold and whether `licnode audit verify` passes. Only
//! acknowledged writes are promised: a write whose node died before answering may or may not be
//! there.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use licnode_model::Level;
use licnode_sync::{Decision, Flow, Link, NodeRef};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::tree::FaultTree;
use crate::testing::binary;

/// A write the node answered 201 to.
#[derive(Clone, Debug)]
pub struct Acknowledged {
    pub id: String,
    pub collection: &'static str,
    /// The node that acknowledged it (its author).
    pub origin: NodeRef,
    pub jurisdiction: String,
    /// The [`fingerprint`] of the fields the node answered with: a soak of hours acknowledges
    /// millions of writes, and their fields as JSON values would not fit in memory.
    pub fields: u64,
}

/// A digest of `fields` that does not depend on the order of an object's keys: equal for equal
/// values, and different for different values but with chance 2^-64.
pub fn fingerprint(fields: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn feed(value: &Value, hasher: &mut std::collections::hash_map::DefaultHasher) {
        match value {
            Value::Null => 0_u8.hash(hasher),
            Value::Bool(flag) => (1_u8, flag).hash(hasher),
            Value::Number(number) => (2_u8, number.to_string()).hash(hasher),
            Value::String(text) => (3_u8, text).hash(hasher),
            Value::Array(items) => {
                (4_u8, items.len()).hash(hasher);
                for item in items {
                    feed(item, hasher);
                }
            }
            Value::Object(map) => {
                (5_u8, map.len()).hash(hasher);
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    key.hash(hasher);
                    feed(&map[key], hasher);
                }
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    feed(fields, &mut hasher);
    hasher.finish()
}

/// What the clients did: every acknowledged write, and the count of the others.
#[derive(Debug, Default)]
pub struct WriteLog {
    acknowledged: Mutex<Vec<Acknowledged>>,
    /// Requests sent.
    pub attempts: AtomicU64,
    /// Requests that got no answer (the node was killed, frozen or down) or a 5xx.
    pub unanswered: AtomicU64,
    /// Answers a healthy node must never give (4xx): a harness or node bug.
    unexpected: Mutex<Vec<String>>,
}

impl WriteLog {
    /// Every acknowledged write so far.
    pub fn acknowledged(&self) -> Vec<Acknowledged> {
        lock(&self.acknowledged).clone()
    }

    /// How many writes were acknowledged so far (without copying them).
    pub fn acknowledged_count(&self) -> usize {
        lock(&self.acknowledged).len()
    }

    fn acknowledge(&self, write: Acknowledged) {
        lock(&self.acknowledged).push(write);
    }

    fn unexpected(&self, answer: String) {
        lock(&self.unexpected).push(answer);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What each node's clients write: the collection, as the authority table lets that node
/// author it. Counties send quality archives up (Art. 12), the province licences up (Art. 11)
/// and keeps letters and visits (Art. 14, local), the national centre sends reviewers down
/// (Art. 15, 30, 32).
pub fn collections_written_at(level: Level) -> &'static [&'static str] {
    match level {
        Level::National => &["reviewers"],
        Level::Province => &["licences", "letters_visits"],
        _ => &["quality_archives"],
    }
}

/// Starts one client per node and collection, writing until `stop` is cancelled, each request
/// given `patience` to be answered.
pub fn spawn_writers(
    tree: &FaultTree,
    log: std::sync::Arc<WriteLog>,
    stop: CancellationToken,
    seed: u64,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut writers = Vec::new();
    for (index, member) in tree.nodes.iter().enumerate() {
        for (offset, collection) in collections_written_at(member.level).iter().enumerate() {
            let writer = Writer {
                origin: member.node_ref(),
                collection,
                url: format!("{}/api/v1/{collection}/records", member.node.base_url),
                client: member.node.client.clone(),
                seed: seed
                    .wrapping_mul(1_000)
                    .wrapping_add((index * 10 + offset) as u64),
            };
            writers.push(tokio::spawn(writer.run(log.clone(), stop.clone())));
        }
    }
    writers
}

/// How long a client waits for an answer before counting the write as unanswered.
const PATIENCE: Duration = Duration::from_secs(5);

struct Writer {
    origin: NodeRef,
    collection: &'static str,
    url: String,
    client: reqwest::Client,
    seed: u64,
}

impl Writer {
    async fn run(self, log: std::sync::Arc<WriteLog>, stop: CancellationToken) {
        let Some(model) = licnode_model::collection(self.collection) else {
            log.unexpected(format!("unknown collection {}", self.collection));
            return;
        };
        let mut generator = licnode_gen::Generator::new(self.seed);
        // Records of the node's own territory (the national centre's: a province's).
        // The national centre's and the province's records concern 西湖区, the counties' their
        // own territory.
        let jurisdiction = match self.origin.level {
            Level::National | Level::Province => "330106".to_string(),
            _ => self.origin.code.clone(),
        };
        while !stop.is_cancelled() {
            let input = Value::Object(generator.record(model, &jurisdiction));
            log.attempts.fetch_add(1, Ordering::SeqCst);
            let sent = self
                .client
                .post(format!("{}?jurisdiction={jurisdiction}", self.url))
                .json(&input)
                .timeout(PATIENCE)
                .send()
                .await;
            let answered = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap_or_default();
                    match status {
                        201 => self.acknowledged(&log, &body),
                        500.. => false,
                        _ => {
                            log.unexpected(format!("{} {status}: {body}", self.url));
                            true
                        }
                    }
                }
                Err(_) => false,
            };
            if !answered {
                log.unanswered.fetch_add(1, Ordering::SeqCst);
            }
            let pause = if answered { 20 } else { 200 };
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_millis(pause)) => {}
            }
        }
    }

    /// Logs a 201; `false` when its body is not the record (the answer was cut short).
    fn acknowledged(&self, log: &WriteLog, body: &Value) -> bool {
        let (Some(id), Some(jurisdiction)) = (body["id"].as_str(), body["jurisdiction"].as_str())
        else {
            return false;
        };
        log.acknowledge(Acknowledged {
            id: id.to_string(),
            collection: self.collection,
            origin: self.origin.clone(),
            jurisdiction: jurisdiction.to_string(),
            fields: fingerprint(&body["fields"]),
        });
        true
    }
}

/// The nodes of `tree` that must hold `write` (see [`holders_in`]).
pub fn expected_holders(tree: &FaultTree, write: &Acknowledged) -> HashSet<String> {
    let topology: Vec<(NodeRef, Option<usize>)> = tree
        .nodes
        .iter()
        .map(|member| (member.node_ref(), member.parent))
        .collect();
    holders_in(&topology, write)
}

/// The nodes of a tree (each node with the index of its parent) that must hold `write`: its
/// author, and every node replication reaches from a holder in one step that
/// `licnode_sync::decide` allows (the rules are asked, never restated here).
pub fn holders_in(topology: &[(NodeRef, Option<usize>)], write: &Acknowledged) -> HashSet<String> {
    let mut holders: HashSet<String> = HashSet::from([write.origin.code.clone()]);
    let mut frontier = vec![write.origin.code.clone()];
    while let Some(code) = frontier.pop() {
        let Some(index) = topology.iter().position(|(node, _)| node.code == code) else {
            continue;
        };
        let (holder, holder_parent) = &topology[index];
        for (other_index, (other, other_parent)) in topology.iter().enumerate() {
            let link = if *holder_parent == Some(other_index) {
                Link::Parent
            } else if *other_parent == Some(index) {
                Link::Child
            } else {
                continue;
            };
            let decision = licnode_sync::decide(
                holder,
                other,
                link,
                Flow::Send,
                write.collection,
                &write.jurisdiction,
                &write.origin,
            );
            if matches!(decision, Decision::Allow) && holders.insert(other.code.clone()) {
                frontier.push(other.code.clone());
            }
        }
    }
    holders
}

/// What the checker found; clean when every list is empty.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Acknowledged records checked.
    pub records: usize,
    /// An acknowledged record missing at a node the rules send it to.
    pub lost: Vec<String>,
    /// A record at a node the rules do not send it to.
    pub misplaced: Vec<String>,
    /// A record whose change was stored more than once at a node.
    pub duplicated: Vec<String>,
    /// A record whose fields at a node differ from those acknowledged.
    pub altered: Vec<String>,
    /// Quarantined changes (nothing is forged on purpose in a fault run).
    pub quarantined: Vec<String>,
    /// `licnode audit verify` failures.
    pub audit: Vec<String>,
    /// Answers no healthy node gives (4xx to a valid write).
    pub unexpected_answers: Vec<String>,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.lost.is_empty()
            && self.misplaced.is_empty()
            && self.duplicated.is_empty()
            && self.altered.is_empty()
            && self.quarantined.is_empty()
            && self.audit.is_empty()
            && self.unexpected_answers.is_empty()
    }
}

/// How many changes of each record a node's change log holds.
async fn changes_by_record(
    member: &super::tree::TreeNode,
) -> anyhow::Result<HashMap<String, usize>> {
    let mut counts = HashMap::new();
    let mut after = 0_i64;
    loop {
        let (status, page) = member
            .node
            .get(&format!("/api/v1/changes?after={after}&limit=500"))
            .await?;
        anyhow::ensure!(status == 200, "{}: changes answered {status}", member.code);
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        let Some(last) = changes.last().and_then(|change| change["seq"].as_i64()) else {
            return Ok(counts);
        };
        for change in &changes {
            let record = change["record_id"].as_str().unwrap_or_default().to_string();
            *counts.entry(record).or_insert(0) += 1;
        }
        after = last;
    }
}

/// The nodes that must hold each kind of write, asked of the rules once per collection, author
/// and jurisdiction rather than once per write and node.
struct Holders<'tree> {
    tree: &'tree FaultTree,
    known: HashMap<(&'static str, String, String), HashSet<String>>,
}

impl<'tree> Holders<'tree> {
    fn new(tree: &'tree FaultTree) -> Self {
        Self {
            tree,
            known: HashMap::new(),
        }
    }

    fn of(&mut self, write: &Acknowledged) -> &HashSet<String> {
        let key = (
            write.collection,
            write.origin.code.clone(),
            write.jurisdiction.clone(),
        );
        let tree = self.tree;
        self.known
            .entry(key)
            .or_insert_with(|| expected_holders(tree, write))
    }
}

/// Where every acknowledged record is, by the change logs alone: lost, misplaced and
/// duplicated (cheap enough to run once per sync interval while waiting for convergence).
pub async fn placement(tree: &FaultTree, log: &WriteLog) -> anyhow::Result<Verdict> {
    let mut counts = Vec::with_capacity(tree.nodes.len());
    for member in &tree.nodes {
        counts.push(changes_by_record(member).await?);
    }
    let mut verdict = Verdict {
        unexpected_answers: lock(&log.unexpected).clone(),
        ..Verdict::default()
    };
    let mut holders = Holders::new(tree);
    let written = lock(&log.acknowledged);
    verdict.records = written.len();
    for (member, counts) in tree.nodes.iter().zip(&counts) {
        for write in written.iter() {
            let held = counts.get(&write.id).copied().unwrap_or(0);
            let expected = holders.of(write).contains(member.code);
            let label = || label(write, member.code);
            match (expected, held) {
                (true, 0) => verdict.lost.push(label()),
                (false, 1..) => verdict.misplaced.push(label()),
                (_, 2..) => verdict.duplicated.push(label()),
                _ => {}
            }
        }
    }
    Ok(verdict)
}

/// How the verdict names a write at a node.
fn label(write: &Acknowledged, code: &str) -> String {
    format!(
        "{} ({} by {}) at {code}",
        write.id, write.collection, write.origin.code
    )
}

/// The [`fingerprint`] of every record of the written collections a node lists, by id, read a
/// page at a time over its staff API.
async fn listed_fields(member: &super::tree::TreeNode) -> anyhow::Result<HashMap<String, u64>> {
    let mut collections: Vec<&str> = [
        Level::National,
        Level::Province,
        Level::Prefecture,
        Level::County,
    ]
    .iter()
    .flat_map(|level| collections_written_at(*level).iter().copied())
    .collect();
    collections.sort_unstable();
    collections.dedup();
    let mut listed = HashMap::new();
    for collection in collections {
        let mut after: Option<String> = None;
        loop {
            let cursor = after
                .as_deref()
                .map(|next| format!("&after={next}"))
                .unwrap_or_default();
            let (status, page) = member
                .node
                .get(&format!("/api/v1/{collection}/records?limit=500{cursor}"))
                .await?;
            anyhow::ensure!(
                status == 200,
                "{}: the list of {collection} answered {status}: {page}",
                member.code
            );
            for record in page["items"].as_array().into_iter().flatten() {
                if let Some(id) = record["id"].as_str() {
                    listed.insert(id.to_string(), fingerprint(&record["fields"]));
                }
            }
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => break,
            }
        }
    }
    Ok(listed)
}

/// The whole check: placement, then every expected copy's fields (read from the nodes' lists),
/// every quarantine and every node's audit chain (`licnode audit verify`, which also checks it
/// against the parent's anchor).
pub async fn check(tree: &FaultTree, log: &WriteLog) -> anyhow::Result<Verdict> {
    let mut verdict = placement(tree, log).await?;
    let lost: HashSet<String> = verdict.lost.iter().cloned().collect();
    let mut holders = Holders::new(tree);
    for member in &tree.nodes {
        let listed = listed_fields(member).await?;
        let mut altered = Vec::new();
        {
            let written = lock(&log.acknowledged);
            for write in written.iter() {
                if !holders.of(write).contains(member.code) {
                    continue;
                }
                match listed.get(&write.id) {
                    Some(print) if *print == write.fields => {}
                    Some(_) => altered.push(write.id.clone()),
                    // Placement said where it is missing; a record in the change log but not
                    // in the list cannot be read as written.
                    None if lost.contains(&label(write, member.code)) => {}
                    None => verdict.altered.push(format!(
                        "{} at {}: in the change log but not listed",
                        write.id, member.code
                    )),
                }
            }
        }
        // Only the fingerprints were kept: the altered copies' fields are read again to say
        // what they hold.
        for id in altered {
            let (_, record) = member.node.get(&format!("/api/v1/records/{id}")).await?;
            verdict.altered.push(format!(
                "{id} at {}: {} is not what was acknowledged",
                member.code, record["fields"]
            ));
        }
        let (_, quarantine) = member
            .node
            .get("/api/v1/sync/quarantine?limit=1000")
            .await?;
        let held = quarantine["quarantined"].as_array().map_or(0, Vec::len);
        if held > 0 {
            verdict
                .quarantined
                .push(format!("{}: {held} changes: {quarantine}", member.code));
        }
        if let Some(failure) = audit_verify(member).await? {
            verdict.audit.push(format!("{}: {failure}", member.code));
        }
    }
    Ok(verdict)
}

/// `licnode audit verify` of a node; the failure's output, `None` when it passes.
async fn audit_verify(member: &super::tree::TreeNode) -> anyhow::Result<Option<String>> {
    let Some(config) = member.node.config_file().map(str::to_string) else {
        anyhow::bail!("{} is not a process", member.code);
    };
    let output = tokio::task::spawn_blocking(move || {
        binary()
            .args(["audit", "verify", "--config", &config])
            .output()
    })
    .await??;
    Ok((!output.status.success()).then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }))
}

/// Waits, one sync interval at a time, until every acknowledged record is where the rules send
/// it, at most `intervals` intervals; then runs the whole [`check`]. Returns the verdict and how
/// long convergence took.
pub async fn converge_and_check(
    tree: &FaultTree,
    log: &WriteLog,
    intervals: u32,
) -> anyhow::Result<(Verdict, Duration)> {
    let started = Instant::now();
    let deadline = started + tree.options.sync_interval * intervals;
    loop {
        let placed = placement(tree, log).await?;
        let placed_everywhere =
            placed.lost.is_empty() && placed.misplaced.is_empty() && placed.duplicated.is_empty();
        eprintln!(
            "checker: placement pass at {:.1} s: {} not yet where they belong, {} misplaced, {} twice",
            started.elapsed().as_secs_f64(),
            placed.lost.len(),
            placed.misplaced.len(),
            placed.duplicated.len()
        );
        if placed_everywhere || Instant::now() >= deadline {
            let took = started.elapsed();
            return Ok((check(tree, log).await?, took));
        }
        tokio::time::sleep(tree.options.sync_interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fault tree's shape: national, Zhejiang, 西湖区 and 滨江区 under Zhejiang.
    fn topology() -> Vec<(NodeRef, Option<usize>)> {
        vec![
            (NodeRef::national(), None),
            (NodeRef::new("330000", Level::Province), Some(0)),
            (NodeRef::new("330106", Level::County), Some(1)),
            (NodeRef::new("330108", Level::County), Some(1)),
        ]
    }

    fn holders(collection: &'static str, origin: usize, jurisdiction: &str) -> Vec<String> {
        let write = Acknowledged {
            id: "record".into(),
            collection,
            origin: topology()[origin].0.clone(),
            jurisdiction: jurisdiction.into(),
            fields: fingerprint(&Value::Null),
        };
        let mut codes: Vec<String> = holders_in(&topology(), &write).into_iter().collect();
        codes.sort();
        codes
    }

    #[test]
    fn a_fingerprint_ignores_key_order_and_sees_any_changed_value() {
        let written = serde_json::json!({"name": "甲", "items": [1, "二", null], "ok": true});
        let listed: Value =
            serde_json::from_str(r#"{"ok": true, "items": [1, "二", null], "name": "甲"}"#)
                .unwrap();
        assert_eq!(fingerprint(&written), fingerprint(&listed));
        for altered in [
            serde_json::json!({"name": "乙", "items": [1, "二", null], "ok": true}),
            serde_json::json!({"name": "甲", "items": [1, null, "二"], "ok": true}),
            serde_json::json!({"name": "甲", "items": [1, "二", null], "ok": false}),
            serde_json::json!({"name": "甲", "items": [1, "二", null]}),
            serde_json::json!({"name": "甲", "items": ["1", "二", null], "ok": true}),
        ] {
            assert_ne!(fingerprint(&written), fingerprint(&altered), "{altered}");
        }
    }

    // The checker's expectations come from the authority table; these are the answers the
    // campaign relies on, so a checker that expects nothing anywhere cannot pass unnoticed.
    #[test]
    fn the_checker_expects_each_written_collection_where_the_rules_send_it() {
        // Art. 12, 20: a county's quality archive goes up to its province and national, not to
        // the sibling county.
        assert_eq!(
            holders("quality_archives", 2, "330106"),
            ["100000", "330000", "330106"]
        );
        // Art. 11, 12, 29: a provincial licence goes up to national and down, as a copy, to the
        // county whose territory holds the enterprise — not to the sibling county.
        assert_eq!(
            holders("licences", 1, "330106"),
            ["100000", "330000", "330106"]
        );
        // Art. 14: letters and visits stay where they were written.
        assert_eq!(holders("letters_visits", 1, "330106"), ["330000"]);
        // Art. 15, 30, 32: the reviewer registry goes down to every node.
        assert_eq!(
            holders("reviewers", 0, "330106"),
            ["100000", "330000", "330106", "330108"]
        );
    }
}
