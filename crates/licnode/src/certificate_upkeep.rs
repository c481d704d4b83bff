//! A child's upkeep of its trust material from its parent: the CRLs of the CAs above (so
//! revocations flow down the tree) and its own certificate, renewed within its renewal window.
//! It is once-only work (issue 15 item 2): the processes of a node share its `pki` directory,
//! so one of them fetches and renews, and every process's hourly reload picks the files up.
//! Each round asks the parent's URLs in order until one answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::once_only::OnceOnly;
use crate::supervisor::Supervisor;

/// How often a child fetches its parent's CRLs and checks whether to renew its certificate.
const CERTIFICATE_UPKEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Starts the upkeep as once-only work of a node that has a parent.
pub fn spawn(
    supervisor: &Supervisor,
    once_only: &OnceOnly,
    config: &Config,
    tls: &licnode_pki::NodeTls,
) {
    let parent_urls = config.node.parent_urls();
    if parent_urls.is_empty() {
        return;
    }
    let node_dir = config.base_dir();
    let tls = tls.clone();
    once_only.spawn_task(supervisor, "certificate upkeep", move |cancel| {
        keep_certificates_current(node_dir.clone(), parent_urls.clone(), tls.clone(), cancel)
    });
}

/// Keeps the node's trust material current from its parent, over mutual TLS, every
/// [`CERTIFICATE_UPKEEP_INTERVAL`] until `cancel` (a round under way is finished first). The
/// serving listeners pick both up without a restart.
async fn keep_certificates_current(
    node_dir: PathBuf,
    parent_urls: Vec<String>,
    tls: licnode_pki::NodeTls,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(CERTIFICATE_UPKEEP_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let client =
            match licnode_pki::PeerClient::for_node(&tls, licnode_pki::ExpectedPeer::AnyNode) {
                Ok(client) => client,
                Err(error) => {
                    tracing::warn!(%error, "certificate upkeep: no client");
                    continue;
                }
            };
        for parent_url in &parent_urls {
            if one_round(&node_dir, &client, parent_url, &tls).await {
                break;
            }
        }
        if let Err(error) = tls.reload() {
            tracing::warn!(%error, "cannot reload the certificate material");
        }
    }
}

/// One round against the parent at `parent_url`; false when the parent did not answer there.
async fn one_round(
    node_dir: &Path,
    client: &licnode_pki::PeerClient,
    parent_url: &str,
    tls: &licnode_pki::NodeTls,
) -> bool {
    match licnode_pki::enroll::refresh_crls(node_dir, client, parent_url).await {
        Ok(issuers) => tracing::debug!(?issuers, "CRLs refreshed from the parent"),
        Err(error) => {
            tracing::warn!(%error, %parent_url, "cannot refresh CRLs from the parent");
            return false;
        }
    }
    if tls.own_identity().renewal_due(std::time::SystemTime::now()) {
        match licnode_pki::enroll::renew(node_dir, client, parent_url).await {
            Ok(_) => tracing::info!("node certificate renewed"),
            Err(error) => tracing::warn!(%error, "cannot renew the node certificate"),
        }
    }
    true
}
