//! Refused TLS handshakes in the audit log, counted rather than listed: one entry per source
//! address and minute with how many were refused and why, so a flood of certificate-less
//! connections cannot flood the log (Art. 37: refused connections leave a trace; issue 11,
//! item 8).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use licnode_app::Archive;
use licnode_pki::{RefusalRecord, Side};
use licnode_store::AuditEntry;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

const MINUTE_MS: i64 = 60_000;

/// How often the writer looks for minutes that have closed.
const FLUSH_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Distinct source addresses counted on their own within one minute; refusals from further
/// addresses share one entry without an address, so many addresses cannot fill the memory.
pub const MAX_ADDRESSES_PER_MINUTE: usize = 1024;

/// Claimed node codes listed in one entry.
const MAX_CLAIMED_CODES: usize = 16;

/// What one entry counts: one side of the handshake, one source address (none when dialling,
/// or past [`MAX_ADDRESSES_PER_MINUTE`]), one minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TallyKey {
    minute: i64,
    side: &'static str,
    remote: Option<IpAddr>,
}

#[derive(Debug, Default)]
struct Tally {
    count: u64,
    first_at_ms: i64,
    last_at_ms: i64,
    reasons: BTreeMap<&'static str, u64>,
    claimed_codes: BTreeSet<String>,
    /// The first refusal's words, for people.
    first_detail: String,
    /// Refusals the writer fell too far behind to see one by one.
    not_seen: u64,
    /// Whether this entry also counts addresses past [`MAX_ADDRESSES_PER_MINUTE`].
    other_addresses: bool,
}

/// Refusals counted per (minute, side, source address) until their minute closes.
#[derive(Debug, Default)]
pub struct RefusalTally {
    tallies: BTreeMap<TallyKey, Tally>,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Accepting => "accepting",
        Side::Dialling => "dialling",
    }
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl RefusalTally {
    /// Counts one refusal.
    pub fn add(&mut self, record: &RefusalRecord) {
        let at_ms = millis(record.at);
        let tally = self.tally_for(
            at_ms,
            side_name(record.side),
            record.remote.map(|remote| remote.ip().to_canonical()),
        );
        tally.count += 1;
        *tally.reasons.entry(record.reason.code()).or_default() += 1;
        if let Some(code) = &record.claimed_code
            && tally.claimed_codes.len() < MAX_CLAIMED_CODES
        {
            tally.claimed_codes.insert(code.chars().take(64).collect());
        }
        if tally.first_detail.is_empty() {
            tally.first_detail = record.detail.chars().take(256).collect();
        }
    }

    /// Counts refusals the writer missed (it fell behind the refusal log), at `at_ms`.
    pub fn add_not_seen(&mut self, not_seen: u64, at_ms: i64) {
        let tally = self.tally_for(at_ms, side_name(Side::Accepting), None);
        tally.count += not_seen;
        tally.not_seen += not_seen;
    }

    fn tally_for(&mut self, at_ms: i64, side: &'static str, remote: Option<IpAddr>) -> &mut Tally {
        let minute = at_ms.div_euclid(MINUTE_MS);
        let mut key = TallyKey {
            minute,
            side,
            remote,
        };
        let mut other_addresses = false;
        if remote.is_some() && !self.tallies.contains_key(&key) {
            let addresses_this_minute = self
                .tallies
                .keys()
                .filter(|held| held.minute == minute && held.remote.is_some())
                .count();
            if addresses_this_minute >= MAX_ADDRESSES_PER_MINUTE {
                key.remote = None;
                other_addresses = true;
            }
        }
        let tally = self.tallies.entry(key).or_insert_with(|| Tally {
            first_at_ms: at_ms,
            last_at_ms: at_ms,
            ..Tally::default()
        });
        tally.first_at_ms = tally.first_at_ms.min(at_ms);
        tally.last_at_ms = tally.last_at_ms.max(at_ms);
        tally.other_addresses |= other_addresses;
        tally
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// The entries of the minutes that closed before `now_ms`, taken out.
    pub fn take_closed(&mut self, now_ms: i64, refused_by: &str) -> Vec<AuditEntry> {
        let current_minute = now_ms.div_euclid(MINUTE_MS);
        let open = self.tallies.split_off(&TallyKey {
            minute: current_minute,
            side: "",
            remote: None,
        });
        let closed = std::mem::replace(&mut self.tallies, open);
        closed
            .into_iter()
            .map(|(key, tally)| entry(key, tally, refused_by))
            .collect()
    }

    /// Every entry held, closed minute or not, taken out (at shutdown).
    pub fn take_all(&mut self, refused_by: &str) -> Vec<AuditEntry> {
        std::mem::take(&mut self.tallies)
            .into_iter()
            .map(|(key, tally)| entry(key, tally, refused_by))
            .collect()
    }
}

/// One audit entry for one (minute, side, address): the node the certificates claimed when they
/// all claimed the same one, and in the detail the count, the reasons with their counts, the
/// claimed codes and the first and last time.
fn entry(key: TallyKey, tally: Tally, refused_by: &str) -> AuditEntry {
    let claimed_node = match tally.claimed_codes.len() {
        1 => tally.claimed_codes.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    // The most frequent reason, for readers that look at one.
    let reason = tally
        .reasons
        .iter()
        .max_by_key(|(_, count)| **count)
        .map(|(reason, _)| *reason);
    let mut detail = serde_json::json!({
        "refused_by": refused_by,
        "side": key.side,
        "remote": key.remote.map(|address| address.to_string()),
        "count": tally.count,
        "reason": reason,
        "reasons": tally.reasons,
        "claimed_codes": tally.claimed_codes,
        "minute_start_ms": key.minute * MINUTE_MS,
        "first_at_ms": tally.first_at_ms,
        "last_at_ms": tally.last_at_ms,
        "detail": tally.first_detail,
    });
    if tally.not_seen > 0 {
        detail["not_seen"] = tally.not_seen.into();
    }
    if tally.other_addresses {
        detail["other_addresses"] = true.into();
    }
    AuditEntry::new(
        licnode_store::AuditKind::CertificateRefused,
        &claimed_node,
        "",
        tally.last_at_ms,
    )
    .detail(detail)
}

/// The task that writes the node's refused handshakes to its audit log, a minute at a time:
/// counts every refusal `receiver` hears and writes each closed minute's entries to the audit log of `archive`;
/// once `cancel`, writes what is held, whether its minute closed or not, and ends. Subscribe
/// the receiver before the listeners start, so that no refusal goes unheard.
///
/// The node's supervisor stops the node if this task dies: a restarted one would have lost the
/// refusals it held, a gap in the audit trail nobody would see (Art. 37).
pub async fn record_refusals(
    mut receiver: Receiver<RefusalRecord>,
    archive: Archive,
    refused_by: String,
    cancel: CancellationToken,
) {
    let mut tally = RefusalTally::default();
    let mut ticker = tokio::time::interval(FLUSH_CHECK_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            received = receiver.recv() => match received {
                Ok(record) => tally.add(&record),
                // Refusals came faster than they were counted: count the missed ones.
                Err(RecvError::Lagged(missed)) => {
                    tally.add_not_seen(missed, millis(SystemTime::now()));
                }
                Err(RecvError::Closed) => break,
            },
            _ = ticker.tick() => {
                if !tally.is_empty() {
                    let closed = tally.take_closed(millis(SystemTime::now()), &refused_by);
                    write(&archive, &closed).await;
                }
            }
        }
    }
    // What was refused before the stop and not yet counted, then everything held.
    loop {
        match receiver.try_recv() {
            Ok(record) => tally.add(&record),
            Err(TryRecvError::Lagged(missed)) => {
                tally.add_not_seen(missed, millis(SystemTime::now()));
            }
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    write(&archive, &tally.take_all(&refused_by)).await;
}

async fn write(archive: &Archive, entries: &[AuditEntry]) {
    if entries.is_empty() {
        return;
    }
    if let Err(error) = archive.audit_all(entries).await {
        tracing::warn!(
            %error,
            entries = entries.len(),
            "cannot record refused handshakes in the audit log"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use licnode_pki::RefusalReason;
    use std::net::SocketAddr;

    fn refusal(at_ms: u64, remote: &str, reason: RefusalReason) -> RefusalRecord {
        RefusalRecord {
            at: UNIX_EPOCH + Duration::from_millis(at_ms),
            side: Side::Accepting,
            remote: Some(remote.parse::<SocketAddr>().expect("socket address")),
            reason,
            claimed_code: None,
            detail: "no certificate".into(),
        }
    }

    const MINUTE: u64 = 60_000;

    #[test]
    fn a_flood_from_one_address_is_one_entry_per_minute_with_its_count() {
        let mut tally = RefusalTally::default();
        let start = 1_000 * MINUTE + 50_000;
        for index in 0..300 {
            // Every connection comes from another port of the same address.
            let remote = format!("192.0.2.7:{}", 40_000 + index);
            tally.add(&refusal(
                start + index * 40,
                &remote,
                RefusalReason::NoClientCertificate,
            ));
        }
        tally.add(&refusal(
            start,
            "198.51.100.1:1",
            RefusalReason::UnknownIssuer,
        ));
        // The minute 1000 is still open at 1000:59.9: nothing is written yet.
        assert!(
            tally
                .take_closed((1_000 * MINUTE + 59_900) as i64, "330000")
                .is_empty()
        );
        let closed = tally.take_closed((1_001 * MINUTE + 1) as i64, "330000");
        assert_eq!(closed.len(), 2, "{closed:#?}");
        let flood = closed
            .iter()
            .find(|entry| entry.detail["remote"] == "192.0.2.7")
            .expect("the flood's entry");
        // 250 refusals fell in the first minute (50.00 s … 59.96 s).
        assert_eq!(flood.detail["count"], 250);
        assert_eq!(flood.detail["reasons"]["no_client_certificate"], 250);
        let rest = tally.take_all("330000");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].detail["count"], 50);
        assert!(tally.is_empty());
    }

    #[test]
    fn addresses_past_the_limit_share_one_entry() {
        let mut tally = RefusalTally::default();
        let count = MAX_ADDRESSES_PER_MINUTE + 10;
        for index in 0..count {
            let remote = format!("10.{}.{}.1:4000", index / 256, index % 256);
            tally.add(&refusal(0, &remote, RefusalReason::NoClientCertificate));
        }
        let entries = tally.take_all("330000");
        assert_eq!(entries.len(), MAX_ADDRESSES_PER_MINUTE + 1);
        let shared = entries
            .iter()
            .find(|entry| entry.detail["remote"].is_null())
            .expect("the shared entry");
        assert_eq!(shared.detail["count"], 10);
        assert_eq!(shared.detail["other_addresses"], true);
    }
}
