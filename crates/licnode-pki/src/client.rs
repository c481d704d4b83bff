//! The client side of node-to-node TLS: an HTTP client (hyper-util's pooled client over
//! hyper-rustls) that presents the node's certificate, trusts only the national root, checks
//! the server's code instead of its host name, and speaks HTTP/2 or HTTP/1.1 by ALPN.
//!
//! Not reqwest: turning on reqwest's rustls support anywhere in the workspace turns it on for
//! every crate built with it (Cargo unifies features), and then every plain
//! `reqwest::Client::new()` — the demo's, the test harness's — panics unless a process-wide
//! crypto provider was installed first. This client needs no process default: it is built on
//! an explicit ring provider.

use std::time::Duration;

use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PkiError;
use crate::tls::{ExpectedPeer, NodeTls, enrollment_client_config};

/// How long to wait for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest response body read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A failed call to another node.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid URL {url:?}: {message}")]
    Url { url: String, message: String },
    #[error("cannot reach {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{url} answered {status}: {code}: {message}")]
    Refused {
        url: String,
        status: u16,
        /// The stable error code of the answer (`{"error": {"code": …}}`), or `http_<status>`.
        code: String,
        message: String,
    },
    #[error("{url} answered something unreadable: {message}")]
    Unreadable { url: String, message: String },
}

/// An HTTPS client to other nodes. Cheap to clone; connections are pooled and reused.
#[derive(Clone, Debug)]
pub struct PeerClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl PeerClient {
    /// A client on a rustls configuration (see [`NodeTls::client_config`]). Its ALPN list is
    /// replaced by `h2`, `http/1.1`.
    pub fn new(mut config: ClientConfig) -> Self {
        // hyper-rustls sets ALPN itself from the enabled HTTP versions.
        config.alpn_protocols.clear();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        PeerClient { client }
    }

    /// A client presenting this node's certificate to `expected` (its parent, usually).
    pub fn for_node(tls: &NodeTls, expected: ExpectedPeer) -> Result<Self, PkiError> {
        Ok(Self::new(tls.client_config(expected)?))
    }

    /// A client for a node without a certificate yet: it trusts `root` and presents nothing.
    pub fn for_enrollment(
        root: &CertificateDer<'_>,
        expected: ExpectedPeer,
    ) -> Result<Self, PkiError> {
        Ok(Self::new(enrollment_client_config(root, expected)?))
    }

    /// Sends a request and reads the whole answer (up to [`MAX_RESPONSE_BYTES`]).
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<http::Response<Bytes>, ClientError> {
        self.send_within(request, REQUEST_TIMEOUT).await
    }

    /// [`PeerClient::send`], giving up when the whole answer has not arrived within `timeout`
    /// (a peer that stopped answering is told from a slow one by the caller's choice).
    pub async fn send_within(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>, ClientError> {
        let url = request.uri().to_string();
        let unreachable = |message: String| ClientError::Unreachable {
            url: url.clone(),
            message,
        };
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| unreachable(error_chain(&error)))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|error| unreachable(error.to_string()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, bytes))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {} s", timeout.as_secs_f64())))?
    }

    /// GETs `url` and reads a JSON answer.
    pub async fn get_json<R: DeserializeOwned>(&self, url: &str) -> Result<R, ClientError> {
        let request = build_request(Method::GET, url, None)?;
        read_json(url, self.send(request).await?)
    }

    /// POSTs `body` as JSON to `url` and reads a JSON answer.
    pub async fn post_json<T: Serialize, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<R, ClientError> {
        self.post_json_within(url, body, REQUEST_TIMEOUT).await
    }

    /// GETs `url` and reads a JSON answer, within `timeout`.
    pub async fn get_json_within<R: DeserializeOwned>(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<R, ClientError> {
        let request = build_request(Method::GET, url, None)?;
        read_json(url, self.send_within(request, timeout).await?)
    }

    /// POSTs `body` as JSON to `url` and reads a JSON answer, within `timeout`.
    pub async fn post_json_within<T: Serialize, R: DeserializeOwned>(
        &self,
        url: &str,
        body: &T,
        timeout: Duration,
    ) -> Result<R, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|error| ClientError::Url {
            url: url.to_owned(),
            message: error.to_string(),
        })?;
        let request = build_request(Method::POST, url, Some(bytes))?;
        read_json(url, self.send_within(request, timeout).await?)
    }
}

impl PeerClient {
    /// POSTs `body` of `content_type` to `url`, asking for an answer of `accept`; returns the
    /// answer's content type and bytes. A refusal is read as the JSON error every node answers
    /// (its stable code), like [`PeerClient::post_json`]'s.
    pub async fn post_bytes_within(
        &self,
        url: &str,
        content_type: &str,
        accept: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(String, Bytes), ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|error: http::uri::InvalidUri| ClientError::Url {
                url: url.to_owned(),
                message: error.to_string(),
            })?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::ACCEPT, accept)
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| ClientError::Url {
                url: url.to_owned(),
                message: error.to_string(),
            })?;
        let response = self.send_within(request, timeout).await?;
        if response.status() != StatusCode::OK {
            return Err(refusal(url, &response));
        }
        let answered = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((answered, response.into_body()))
    }
}

fn build_request(
    method: Method,
    url: &str,
    json: Option<Vec<u8>>,
) -> Result<Request<Full<Bytes>>, ClientError> {
    let uri: Uri = url
        .parse()
        .map_err(|error: http::uri::InvalidUri| ClientError::Url {
            url: url.to_owned(),
            message: error.to_string(),
        })?;
    let mut builder = Request::builder().method(method).uri(uri);
    builder = builder.header(header::ACCEPT, "application/json");
    let body = match json {
        Some(bytes) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(bytes))
        }
        None => Full::new(Bytes::new()),
    };
    builder.body(body).map_err(|error| ClientError::Url {
        url: url.to_owned(),
        message: error.to_string(),
    })
}

fn read_json<R: DeserializeOwned>(
    url: &str,
    response: http::Response<Bytes>,
) -> Result<R, ClientError> {
    let status = response.status();
    if status != StatusCode::OK && status != StatusCode::CREATED {
        return Err(refusal(url, &response));
    }
    serde_json::from_slice(response.body()).map_err(|error| ClientError::Unreadable {
        url: url.to_owned(),
        message: error.to_string(),
    })
}

/// A refusal as every node answers it: `{"error": {"code", "message"}}`, or `http_<status>`.
fn refusal(url: &str, response: &http::Response<Bytes>) -> ClientError {
    let status = response.status();
    {
        let answer: Option<serde_json::Value> = serde_json::from_slice(response.body()).ok();
        let field = |name: &str| {
            answer
                .as_ref()
                .and_then(|value| value.get("error"))
                .and_then(|error| error.get(name))
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        ClientError::Refused {
            url: url.to_owned(),
            status: status.as_u16(),
            code: field("code").unwrap_or_else(|| format!("http_{}", status.as_u16())),
            message: field("message").unwrap_or_default(),
        }
    }
}

/// The error and its causes, joined: hyper's own message ("client error (Connect)") says
/// little without them.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        // A certificate refused in the handshake is said with its stable reason
        // (`expired: …`), not as the rustls error's debug form that carries it.
        if let Some(refusal) = tls_refusal(cause) {
            message.push_str("the peer's certificate is refused: ");
            message.push_str(&refusal.to_string());
            break;
        }
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The refusal a TLS error carries, read through the `io::Error`s the connector wraps it in
/// (tokio-rustls wraps it once, hyper-rustls once more).
fn tls_refusal(cause: &(dyn std::error::Error + 'static)) -> Option<crate::Refusal> {
    let mut error = cause;
    for _ in 0..4 {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(crate::Refusal::from_rustls(tls));
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::error_chain;
    use crate::{Refusal, RefusalReason};

    /// What hyper's client error looks like around a handshake that failed.
    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Connect(#[source] std::io::Error);

    #[test]
    fn a_certificate_refused_in_the_handshake_is_said_by_its_reason() {
        let refusal = Refusal::new(RefusalReason::Expired, "CertExpired");
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, refusal.into_rustls());
        let wrapped_again = std::io::Error::other(io);
        assert_eq!(
            error_chain(&Connect(wrapped_again)),
            "client error (Connect): the peer's certificate is refused: expired: CertExpired"
        );
        let other = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            error_chain(&Connect(other)),
            "client error (Connect): refused"
        );
    }
}
