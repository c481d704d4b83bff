//! The state of the network's links, the child's side (issue 12 item 7): at the end of every
//! session the node hands its parent the state of its own links — to the parent, as the
//! session and the sync loop know it, and to each of its children — then relays what its
//! subtree reported since the last relay, so the national node sees every link of the tree.
//!
//! A connection kept between sessions remembers what it last handed up: when the links are as
//! they were then but for their times, and that was less than [`HEARTBEAT`] ago, nothing is
//! sent (a quiet session costs the parent no write, issue 14). So a parent's view of a link's
//! last success may be up to [`HEARTBEAT`] old; every other change goes up with the session.

use std::time::{Duration, Instant};

use licnode_app::Archive;
use licnode_app::network::{MAX_LINK_REPORT_BATCH, SessionLink};
use licnode_pki::{ClientError, PeerClient};
use licnode_server::links::{LINKS_RELAY_PATH, LinkRelayRequest, LinkRelayResponse};
use licnode_store::link_reports::LinkReport;

/// The longest a connection goes without handing up its node's links when they have not
/// changed but for their times.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// What a connection last handed up: the reports with their times cleared, and when.
#[derive(Clone, Debug, Default)]
pub struct LinksSent(Option<(Vec<LinkReport>, Instant)>);

impl LinksSent {
    /// True when `shape` (reports with their times cleared) is what was sent less than
    /// [`HEARTBEAT`] ago.
    fn unchanged(&self, shape: &[LinkReport]) -> bool {
        self.0
            .as_ref()
            .is_some_and(|(sent, at)| at.elapsed() < HEARTBEAT && sent == shape)
    }
}

fn without_times(reports: &[LinkReport]) -> Vec<LinkReport> {
    reports
        .iter()
        .map(|report| LinkReport {
            last_success_ms: None,
            reported_at_ms: 0,
            ..report.clone()
        })
        .collect()
}

/// Hands the parent at `base` this node's links (unless `sent` says the parent has them) and
/// its subtree's reports; returns how many reports the parent kept. A parent of an older
/// release, which keeps no link reports, is noted and skipped: the session's changes have
/// moved.
pub async fn hand_up(
    archive: &Archive,
    client: &PeerClient,
    base: &str,
    session: &SessionLink,
    sent: &mut LinksSent,
) -> anyhow::Result<usize> {
    let own = archive
        .own_link_reports(session, licnode_store::now_ms())
        .await?;
    let shape = without_times(&own);
    if sent.unchanged(&shape) {
        return relay(archive, client, base, &session.parent).await;
    }
    let mut kept = 0;
    for batch in own.chunks(MAX_LINK_REPORT_BATCH) {
        match send(client, base, batch).await {
            Ok(stored) => kept += stored,
            Err(ClientError::Refused { status: 404, .. }) => {
                tracing::warn!(
                    parent = %session.parent,
                    "the parent keeps no link reports (older release): this node's links are \
                     not reported up"
                );
                return Ok(0);
            }
            Err(error) => return Err(error.into()),
        }
    }
    sent.0 = Some((shape, Instant::now()));
    Ok(kept + relay(archive, client, base, &session.parent).await?)
}

async fn send(
    client: &PeerClient,
    base: &str,
    reports: &[LinkReport],
) -> Result<usize, ClientError> {
    let request = LinkRelayRequest {
        reports: reports.to_vec(),
    };
    let answer: LinkRelayResponse = client
        .post_json(&format!("{base}{LINKS_RELAY_PATH}"), &request)
        .await?;
    Ok(answer.stored)
}

/// Relays the reports that arrived here after the relay cursor, in arrival order, moving the
/// cursor after each answered batch.
async fn relay(
    archive: &Archive,
    client: &PeerClient,
    base: &str,
    parent_code: &str,
) -> anyhow::Result<usize> {
    let mut kept = 0;
    loop {
        let held = archive
            .link_reports_to_relay(parent_code, MAX_LINK_REPORT_BATCH as i64)
            .await?;
        let Some(last_key) = held.last().map(|held| held.report_key) else {
            break;
        };
        let reports: Vec<LinkReport> = held.into_iter().map(|held| held.report).collect();
        kept += send(client, base, &reports).await?;
        archive.link_reports_relayed(parent_code, last_key).await?;
    }
    Ok(kept)
}
