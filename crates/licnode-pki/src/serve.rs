//! Serving HTTP over TLS with our own accept loop (tokio-rustls + hyper-util): TCP_NODELAY on
//! every connection, ALPN `h2` and `http/1.1`, every refused handshake logged with its reason,
//! and on mutual-TLS listeners the verified [`PeerIdentity`](crate::PeerIdentity) inserted into every request's
//! extensions.
//!
//! The service is any tower service over `http::Request<hyper::body::Incoming>` — an
//! `axum::Router` is one — so this crate needs no web framework.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::tls::{NodeTls, accepted_peer};
use crate::verify::{Refusal, RefusalLog, RefusalReason, Side};

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may take to finish after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The error type a served response body may have.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `service` over mutual TLS on `listener` until `shutdown` resolves. Only clients
/// whose certificate [`crate::verify::verify_node_chain`] accepts get a response; each request
/// carries the client's [`crate::PeerIdentity`] as an extension.
pub async fn serve_mutual_tls<S, B>(
    listener: TcpListener,
    tls: NodeTls,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = tls.mutual_tls_server_config();
    serve_with(listener, config, tls.refusals(), true, service, shutdown).await
}

/// Serves `service` over server-authenticated TLS (no client certificate asked): the
/// enrollment endpoint, which a child reaches before it has a certificate. Requests carry no
/// peer identity.
pub async fn serve_server_tls<S, B>(
    listener: TcpListener,
    tls: NodeTls,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = tls.server_only_config();
    serve_with(listener, config, tls.refusals(), false, service, shutdown).await
}

async fn serve_with<S, B>(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    refusals: Arc<RefusalLog>,
    mutual: bool,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let acceptor = TlsAcceptor::from(config);
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            acceptor: acceptor.clone(),
            refusals: refusals.clone(),
            mutual,
            remote,
        };
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let service = service.clone();
        tokio::spawn(async move {
            let Some((tls_stream, peer)) = connection.handshake(stream).await else {
                return;
            };
            let service = service.map_request(move |mut request: Request<Incoming>| {
                if let Some(peer) = &peer {
                    request.extensions_mut().insert(peer.clone());
                }
                request
            });
            let served = builder
                .serve_connection(TokioIo::new(tls_stream), TowerToHyperService::new(service))
                .into_owned();
            if let Err(error) = watcher.watch(served).await {
                tracing::debug!(%remote, error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    Ok(())
}

struct Connection {
    acceptor: TlsAcceptor,
    refusals: Arc<RefusalLog>,
    mutual: bool,
    remote: SocketAddr,
}

impl Connection {
    /// The TLS handshake, and on mutual TLS the peer's identity; `None` when refused (logged).
    async fn handshake(
        self,
        stream: TcpStream,
    ) -> Option<(
        tokio_rustls::server::TlsStream<TcpStream>,
        Option<crate::PeerIdentity>,
    )> {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(remote = %self.remote, error = %error, "cannot set TCP_NODELAY");
        }
        let accepted = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream)).await;
        let tls_stream = match accepted {
            Ok(Ok(tls_stream)) => tls_stream,
            Ok(Err(error)) => {
                let refusal = match error
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    Some(tls_error) => Refusal::from_rustls(tls_error),
                    None => Refusal::new(RefusalReason::HandshakeFailed, error.to_string()),
                };
                self.refusals
                    .record(Side::Accepting, Some(self.remote), &refusal);
                return None;
            }
            Err(_) => {
                let refusal = Refusal::new(
                    RefusalReason::HandshakeFailed,
                    format!("no TLS handshake within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                );
                self.refusals
                    .record(Side::Accepting, Some(self.remote), &refusal);
                return None;
            }
        };
        if !self.mutual {
            return Some((tls_stream, None));
        }
        match accepted_peer(tls_stream.get_ref().1.peer_certificates()) {
            Ok(peer) => {
                tracing::debug!(remote = %self.remote, code = %peer.code, level = %peer.level, "peer accepted");
                Some((tls_stream, Some(peer)))
            }
            Err(refusal) => {
                self.refusals
                    .record(Side::Accepting, Some(self.remote), &refusal);
                None
            }
        }
    }
}
