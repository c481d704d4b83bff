//! The child's end of the replication engine's HTTP transport, and `licnode sync now`.
//!
//! [`HttpTransport`] carries each message of `licnode_sync::protocol` to the parent's peer
//! endpoints over mutual TLS, on one pooled connection pinned to the parent's certificate, and
//! back; the protocol itself — what to send, what each answer means — is the engine's
//! ([`licnode_app::replication`]). [`session`] runs one session through it, then hands up the
//! node's audit anchor and its links' state.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use licnode_app::Archive;
use licnode_app::replication::{self, Transport, TransportError};
use licnode_pki::{ClientError, ExpectedPeer, NodeTls, NodeTlsSettings, PeerClient};
use licnode_store::Store;
use licnode_sync::NodeRef;
use licnode_sync::protocol::{
    CURSOR_PATH, CursorResponse, FRAMED_CONTENT_TYPE, HELLO_PATH, PULL_PATH, PUSH_PATH,
    PullRequest, PullResponse, PushRequest, PushResponse, RECOVER_PATH, decode_framed,
    encode_framed,
};

pub use licnode_app::replication::SessionReport;

use crate::config::Config;

/// How long an ordinary exchange may take before the parent is taken as stalled (a stopped
/// process, a dead link that still holds the connection): a batch is applied well within it.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(15);

/// `licnode sync …`
#[derive(clap::Subcommand, Debug)]
pub enum SyncCommand {
    /// Run one replication session with the parent now: progress as it goes (changes and bytes
    /// each way, rate, time left), a one-line summary at the end.
    Now {
        /// The node's configuration file.
        #[arg(long, short, env = "LICNODE_CONFIG", default_value = "licnode.toml")]
        config: PathBuf,
    },
}

/// Runs a `licnode sync` command.
pub async fn run(command: SyncCommand) -> anyhow::Result<()> {
    match command {
        SyncCommand::Now { config } => {
            let config = Config::load(&config)?;
            let parent_urls = ParentUrls::new(config.node.parent_urls())
                .context("this node has no parent_url: it is the root of the tree")?;
            let level = config.node.level;
            let tls = NodeTls::load(NodeTlsSettings::for_node_dir(&config.base_dir())).context(
                "the node has no certificate yet: see `licnode pki request` / `install`",
            )?;
            let store = Store::open(&config.database_url()).await?;
            let archive = Archive::with_level(store, &config.node.code, level);
            let printer = ProgressPrinter::new(archive.last_seq().await?);
            let mut transport = HttpTransport::connect(&tls, &parent_urls).await?;
            let report = session_with(&archive, &tls, &mut transport, &|report| {
                printer.show(report)
            })
            .await?;
            println!("{report}");
            archive.close().await;
            Ok(())
        }
    }
}

/// Prints a session's progress to standard error, at most once a second.
struct ProgressPrinter {
    started: Instant,
    last_seq: i64,
    last_shown: std::sync::Mutex<Option<Instant>>,
}

impl ProgressPrinter {
    fn new(last_seq: i64) -> ProgressPrinter {
        ProgressPrinter {
            started: Instant::now(),
            last_seq,
            last_shown: std::sync::Mutex::new(None),
        }
    }

    fn show(&self, report: &SessionReport) {
        let Ok(mut last_shown) = self.last_shown.lock() else {
            return;
        };
        if last_shown.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last_shown = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let moved = (report.pushed + report.push_duplicates + report.pulled) as f64;
        let rate = moved / seconds;
        // What is left to push is at most the log past what the parent acknowledged.
        let left_up = (self.last_seq - report.acknowledged).max(0);
        let left = if rate > 0.0 && left_up > 0 {
            format!(", about {:.0} s left to push", left_up as f64 / rate)
        } else {
            String::new()
        };
        eprintln!(
            "… pushed {} changes ({:.1} MB), pulled {} ({:.1} MB), {:.0} changes/s{left}",
            report.pushed + report.push_duplicates,
            report.pushed_bytes as f64 / 1e6,
            report.pulled + report.pull_duplicates,
            report.pulled_bytes as f64 / 1e6,
            rate,
        );
    }
}

#[derive(serde::Deserialize)]
struct Hello {
    me: HelloNode,
}

#[derive(serde::Deserialize)]
struct HelloNode {
    code: String,
    level: licnode_model::Level,
}

/// The engine's transport over mutual-TLS HTTP: one client pinned to the parent's certificate
/// (its connections pooled and reused from one session to the next), each message a request
/// to its endpoint, each refusal its stable code. Batches travel framed
/// (`licnode_sync::protocol::encode_framed`): the change bytes as they are, not base64 in JSON. A parent that does not answer an exchange
/// within [`STALL_TIMEOUT`] (a long-poll: its wait and as much again) is taken as stalled.
///
/// A parent may answer at several URLs (a national node run as several processes, issue 15
/// item 4): [`HttpTransport::connect`] tries them in order and keeps the first that answers;
/// a transport on any but the preferred URL is given up after [`RETURN_TO_PREFERRED`]
/// ([`HttpTransport::keeps_its_parent`]), so the next session comes back to the first.
#[derive(Clone)]
pub struct HttpTransport {
    client: PeerClient,
    base: String,
    parent: NodeRef,
    /// Which of the parent's URLs this transport talks to (0: the preferred one).
    url_index: usize,
    connected_at: Instant,
    /// What this connection last handed up of the node's links.
    links_sent: crate::link_reports::LinksSent,
}

/// How long a URL that is not the last one may take to answer the first question before the
/// next URL is tried (the last one gets [`STALL_TIMEOUT`]).
pub const FAILOVER_PATIENCE: Duration = Duration::from_secs(5);

/// How long a transport connected to a fallback URL is kept before the preferred URL is tried
/// again at the next session.
pub const RETURN_TO_PREFERRED: Duration = Duration::from_secs(60);

/// Every URL a parent serves this node at, the preferred first (`[node] parent_url`, or
/// `[node] parent_urls`); never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentUrls(Vec<String>);

impl ParentUrls {
    /// The URLs in order; `None` when there is none.
    pub fn new(urls: Vec<String>) -> Option<ParentUrls> {
        (!urls.is_empty()).then_some(ParentUrls(urls))
    }

    /// The URLs, the preferred first.
    pub fn urls(&self) -> &[String] {
        &self.0
    }
}

impl From<&str> for ParentUrls {
    fn from(url: &str) -> ParentUrls {
        ParentUrls(vec![url.to_string()])
    }
}

impl From<&String> for ParentUrls {
    fn from(url: &String) -> ParentUrls {
        ParentUrls(vec![url.clone()])
    }
}

impl From<&ParentUrls> for ParentUrls {
    fn from(urls: &ParentUrls) -> ParentUrls {
        urls.clone()
    }
}

impl From<String> for ParentUrls {
    fn from(url: String) -> ParentUrls {
        ParentUrls(vec![url])
    }
}

impl std::fmt::Display for ParentUrls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0.join(", "))
    }
}

impl HttpTransport {
    /// Connects to the parent at the first of `parent_urls` that answers (connection refused,
    /// a TLS failure or no answer within [`FAILOVER_PATIENCE`] moves on to the next): learns the
    /// parent's code there (any node certificate of this network will do for that first
    /// question), then holds a client that talks only to a server whose certificate names that
    /// code.
    pub async fn connect(
        tls: &NodeTls,
        parent_urls: impl Into<ParentUrls>,
    ) -> anyhow::Result<HttpTransport> {
        let parent_urls: ParentUrls = parent_urls.into();
        let urls = parent_urls.urls();
        let mut failures = Vec::new();
        for (url_index, url) in urls.iter().enumerate() {
            let patience = if url_index + 1 == urls.len() {
                STALL_TIMEOUT
            } else {
                FAILOVER_PATIENCE
            };
            match HttpTransport::connect_one(tls, url, patience).await {
                Ok(mut transport) => {
                    if url_index > 0 {
                        tracing::warn!(
                            url = %transport.base,
                            skipped = %failures.join("; "),
                            "the parent's preferred URL does not answer: failed over"
                        );
                    }
                    transport.url_index = url_index;
                    return Ok(transport);
                }
                Err(error) if urls.len() == 1 => return Err(error),
                Err(error) => failures.push(format!("{error:#}")),
            }
        }
        anyhow::bail!("no URL of the parent answers: {}", failures.join("; "))
    }

    async fn connect_one(
        tls: &NodeTls,
        parent_url: &str,
        patience: Duration,
    ) -> anyhow::Result<HttpTransport> {
        let base = parent_url.trim_end_matches('/').to_owned();
        let hello: Hello = PeerClient::for_node(tls, ExpectedPeer::AnyNode)?
            .get_json_within(&format!("{base}{HELLO_PATH}"), patience)
            .await
            .with_context(|| format!("cannot reach the parent at {base}"))?;
        let parent = NodeRef::new(hello.me.code, hello.me.level);
        let client = PeerClient::for_node(tls, ExpectedPeer::Code(parent.code.clone()))?;
        Ok(HttpTransport {
            client,
            base,
            parent,
            url_index: 0,
            connected_at: Instant::now(),
            links_sent: crate::link_reports::LinksSent::default(),
        })
    }

    /// False once a transport on a fallback URL is older than [`RETURN_TO_PREFERRED`]: the
    /// next session connects again, trying the preferred URL first.
    pub fn keeps_its_parent(&self) -> bool {
        self.url_index == 0 || self.connected_at.elapsed() < RETURN_TO_PREFERRED
    }

    /// The parent, as its certificate named it.
    pub fn parent(&self) -> &NodeRef {
        &self.parent
    }

    /// The client pinned to the parent, for the exchanges beside replication (audit anchors,
    /// link reports).
    pub fn client(&self) -> &PeerClient {
        &self.client
    }

    /// The parent's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// POSTs a JSON request whose answer is a batch, asking for it framed (a parent of an
    /// older release answers JSON, which is read as well).
    async fn post_for_batch(
        &self,
        path: &str,
        request: &PullRequest,
        timeout: Duration,
    ) -> Result<PullResponse, TransportError> {
        let body = serde_json::to_vec(request)
            .map_err(|error| TransportError::Failed(error.to_string()))?;
        let (content_type, answer) = self
            .client
            .post_bytes_within(
                &format!("{}{path}", self.base),
                "application/json",
                &format!("{FRAMED_CONTENT_TYPE}, application/json"),
                body,
                timeout,
            )
            .await
            .map_err(transport_error)?;
        let unreadable = |error: String| {
            TransportError::Failed(format!("the parent's answer to {path}: {error}"))
        };
        if content_type.starts_with(FRAMED_CONTENT_TYPE) {
            decode_framed(&answer).map_err(|error| unreadable(error.to_string()))
        } else {
            serde_json::from_slice(&answer).map_err(|error| unreadable(error.to_string()))
        }
    }
}

/// A client error as the engine sees it: a refusal keeps its stable code.
fn transport_error(error: ClientError) -> TransportError {
    match error {
        ClientError::Refused { code, message, .. } => TransportError::Refused { code, message },
        other => TransportError::Failed(other.to_string()),
    }
}

impl Transport for HttpTransport {
    /// The parent as [`HttpTransport::connect`] learnt it: every exchange goes over connections
    /// whose certificate names that code, so asking again would prove nothing new.
    async fn hello(&mut self) -> Result<NodeRef, TransportError> {
        Ok(self.parent.clone())
    }

    async fn cursor(&mut self) -> Result<CursorResponse, TransportError> {
        self.client
            .get_json_within(&format!("{}{CURSOR_PATH}", self.base), STALL_TIMEOUT)
            .await
            .map_err(transport_error)
    }

    /// The batch goes framed (change bytes as they are, not base64 in JSON).
    async fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let body = encode_framed(request.clone())
            .map_err(|error| TransportError::Failed(error.to_string()))?;
        let (_, answer) = self
            .client
            .post_bytes_within(
                &format!("{}{PUSH_PATH}", self.base),
                FRAMED_CONTENT_TYPE,
                "application/json",
                body,
                STALL_TIMEOUT,
            )
            .await
            .map_err(transport_error)?;
        serde_json::from_slice(&answer).map_err(|error| {
            TransportError::Failed(format!("the parent's answer to a push: {error}"))
        })
    }

    async fn pull(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let wait = Duration::from_millis(request.wait_ms.unwrap_or(0));
        self.post_for_batch(PULL_PATH, request, STALL_TIMEOUT + wait)
            .await
    }

    async fn recover(&mut self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        self.post_for_batch(RECOVER_PATH, request, STALL_TIMEOUT)
            .await
    }
}

/// One session with the parent at `parent_url` (a new connection): push until caught up, then
/// pull until caught up, then hand up the audit anchor and the links' state.
pub async fn session(
    archive: &Archive,
    tls: &NodeTls,
    parent_url: &str,
) -> anyhow::Result<SessionReport> {
    let mut transport = HttpTransport::connect(tls, parent_url).await?;
    session_with(archive, tls, &mut transport, &|_| {}).await
}

/// One session through `transport` (whose connection may be reused from an earlier session),
/// `progress` called after every batch.
pub async fn session_with(
    archive: &Archive,
    tls: &NodeTls,
    transport: &mut HttpTransport,
    progress: replication::child::Progress<'_>,
) -> anyhow::Result<SessionReport> {
    let mut report = replication::run_session(archive, transport, progress)
        .await
        .with_context(|| format!("session with the parent at {}", transport.base))?;
    let (client, base, parent) = (&transport.client, &transport.base, &transport.parent);
    // The signed head of this node's audit chain goes to its witness (issue 11 item 5).
    let anchored = crate::anchors::hand_up(archive, tls, client, base, &parent.code).await?;
    report.audit_chain_broken = anchored.chain_broken;
    // The state of this node's links, and of its subtree's, goes up too (issue 12 item 7).
    let link = licnode_app::network::SessionLink {
        parent: parent.code.clone(),
        acknowledged: report.acknowledged,
        pulled_this_session: i64::try_from(report.pulled).unwrap_or(i64::MAX),
    };
    crate::link_reports::hand_up(archive, client, base, &link, &mut transport.links_sent).await?;
    Ok(report)
}
