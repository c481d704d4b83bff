//! What the simulation wrote, where the authority table sends each record, and the check that
//! every node holds exactly that: every record at every node the rules send it to, nothing at
//! a node they do not send it to, nothing quarantined.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use licnode_sync::{Decision, Flow, Link};

use super::network::Network;

/// A record written and acknowledged during the simulation.
#[derive(Clone, Debug)]
pub struct Written {
    pub id: String,
    pub collection: &'static str,
    pub jurisdiction: String,
    /// The index of the node that wrote it.
    pub origin: usize,
    pub at: Instant,
}

/// What decides where a record goes: its collection, its jurisdiction, the node that wrote it.
type RouteKey = (&'static str, String, usize);

/// Every record written, and where the rules send each.
#[derive(Default)]
pub struct Ledger {
    written: Mutex<Vec<Written>>,
    holders: Mutex<HashMap<RouteKey, Vec<usize>>>,
}

/// What the final check found; clean when every list is empty.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Records checked.
    pub records: usize,
    /// Nodes that hold fewer records of a collection than the rules send them.
    pub lost: Vec<String>,
    /// Nodes that hold more records of a collection than the rules send them, or a record the
    /// rules do not send them.
    pub misplaced: Vec<String>,
    /// Nodes with quarantined changes (nothing in the simulation is refused on purpose).
    pub quarantined: Vec<String>,
    /// Records looked up one by one at each node that must hold them (small runs).
    pub looked_up: usize,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.lost.is_empty() && self.misplaced.is_empty() && self.quarantined.is_empty()
    }
}

/// At most this many (record, holder) pairs are looked up one by one.
const LOOKUPS_AT_MOST: usize = 200_000;

impl Ledger {
    pub fn record(&self, written: Written) {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(written);
    }

    /// Every record written so far.
    pub fn written(&self) -> Vec<Written> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The nodes that must hold `written`: its author, and every node replication reaches
    /// from a holder in one step that `licnode_sync::decide` allows (the rules are asked,
    /// never restated here).
    pub fn holders(&self, network: &Network, written: &Written) -> Vec<usize> {
        let key = (
            written.collection,
            written.jurisdiction.clone(),
            written.origin,
        );
        let mut cache = self.holders.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| reach(network, written))
            .clone()
    }

    /// How many records of each collection each node must hold.
    pub fn expected_counts(&self, network: &Network) -> Vec<BTreeMap<&'static str, i64>> {
        let mut expected = vec![BTreeMap::new(); network.nodes.len()];
        for written in self.written() {
            for holder in self.holders(network, &written) {
                *expected[holder].entry(written.collection).or_insert(0) += 1;
            }
        }
        expected
    }

    /// Compares every running node's counts with the rules; `Ok(None)` when all agree.
    pub async fn disagreement(&self, network: &Network) -> anyhow::Result<Option<Verdict>> {
        let expected = self.expected_counts(network);
        let mut verdict = Verdict {
            records: self.written().len(),
            ..Verdict::default()
        };
        for (index, member) in network.nodes.iter().enumerate() {
            let Some(archive) = network.archive(index) else {
                continue;
            };
            let held: BTreeMap<String, i64> = archive.counts().await?.into_iter().collect();
            for (collection, want) in &expected[index] {
                let have = held.get(*collection).copied().unwrap_or(0);
                let line = format!("{}: {collection} {have} held, {want} expected", member.node);
                if have < *want {
                    verdict.lost.push(line);
                } else if have > *want {
                    verdict.misplaced.push(line);
                }
            }
            for (collection, have) in &held {
                if *have > 0 && !expected[index].contains_key(collection.as_str()) {
                    verdict.misplaced.push(format!(
                        "{}: {collection} {have} held, none expected",
                        member.node
                    ));
                }
            }
            let quarantined = archive.quarantine_count().await?;
            if quarantined > 0 {
                verdict
                    .quarantined
                    .push(format!("{}: {quarantined} quarantined", member.node));
            }
        }
        Ok((!verdict.is_clean()).then_some(verdict))
    }

    /// Waits until every node holds what the rules send it (checking every two seconds), at
    /// most `timeout`; then the verdict, with every record looked up at every holder when the
    /// run is small enough.
    pub async fn settle(&self, network: &Network, timeout: Duration) -> anyhow::Result<Verdict> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.disagreement(network).await? {
                None => break,
                Some(verdict) if Instant::now() >= deadline => return Ok(verdict),
                Some(_) => tokio::time::sleep(Duration::from_secs(2)).await,
            }
        }
        let mut verdict = Verdict {
            records: self.written().len(),
            ..Verdict::default()
        };
        let written = self.written();
        let pairs: usize = written
            .iter()
            .map(|record| self.holders(network, record).len())
            .sum();
        if pairs <= LOOKUPS_AT_MOST {
            for record in &written {
                for holder in self.holders(network, record) {
                    let Some(archive) = network.archive(holder) else {
                        continue;
                    };
                    verdict.looked_up += 1;
                    if archive.find(&record.id).await?.is_none() {
                        verdict.lost.push(format!(
                            "{}: {} {} missing",
                            network.nodes[holder].node, record.collection, record.id
                        ));
                    }
                }
            }
        }
        Ok(verdict)
    }
}

/// The nodes that `written` reaches under the rules (see [`Ledger::holders`]).
fn reach(network: &Network, written: &Written) -> Vec<usize> {
    let author = &network.nodes[written.origin].node;
    let mut holders = vec![written.origin];
    let mut frontier = vec![written.origin];
    while let Some(index) = frontier.pop() {
        let member = &network.nodes[index];
        let neighbours = member
            .parent
            .map(|parent| (parent, Link::Parent))
            .into_iter()
            .chain(member.children.iter().map(|child| (*child, Link::Child)));
        for (other, link) in neighbours {
            if holders.contains(&other) {
                continue;
            }
            let decision = licnode_sync::decide(
                &member.node,
                &network.nodes[other].node,
                link,
                Flow::Send,
                written.collection,
                &written.jurisdiction,
                author,
            );
            if matches!(decision, Decision::Allow) {
                holders.push(other);
                frontier.push(other);
            }
        }
    }
    holders
}
