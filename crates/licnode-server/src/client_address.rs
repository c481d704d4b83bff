//! The address a request comes from: the TCP peer, or — only when that peer is one of the
//! node's trusted reverse proxies (`[http] trusted_proxies`) — the client its `X-Forwarded-For`
//! names. Login throttling, the public service's rate limiter and audit entries all use this one
//! address (issue 11, item 9).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The header a reverse proxy appends the address of its own peer to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` the node believes: addresses and networks,
/// IPv4 and IPv6. Empty (the default) believes nobody's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

/// A `trusted_proxies` entry that is neither an address nor a network.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{value:?} is neither an IP address nor a network in CIDR notation (10.0.0.0/8, fd00::/8)")]
pub struct TrustedProxyError {
    pub value: String,
}

impl TrustedProxies {
    /// Parses each entry as an address (`127.0.0.1`, `::1`) or a network (`10.0.0.0/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, TrustedProxyError> {
        let networks = entries
            .iter()
            .map(|entry| {
                let text = entry.as_ref().trim();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map(|network| network.trunc())
                    .map_err(|_| TrustedProxyError {
                        value: entry.as_ref().to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies { networks })
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The client of a request from `peer` carrying `headers`. The peer itself, unless it is a
    /// trusted proxy; then the right-most address of `X-Forwarded-For` that is not a trusted
    /// proxy. Whatever lies left of that address was written by the client and is not believed;
    /// an entry that is not an address ends the walk at the last trusted proxy seen.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Several header lines are one list, in order (RFC 9110, 5.3).
        let entries: Vec<&str> = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for entry in entries.iter().rev() {
            let Some(forwarded) = forwarded_address(entry) else {
                break;
            };
            client = forwarded;
            if !self.contains(forwarded) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry as an address: `192.0.2.1`, `2001:db8::1`, and the forms with a
/// port some proxies write (`192.0.2.1:5000`, `[2001:db8::1]:5000`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .map(|address| address.to_canonical())
}

/// The address a request comes from, as [`TrustedProxies::client_of`] decided it. Handlers
/// take it as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The client address of `request`: the one the middleware put there, else the TCP peer,
    /// else the unspecified address (a request that did not come through a socket).
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddress {
        if let Some(address) = extensions.get::<ClientAddress>() {
            return *address;
        }
        ClientAddress(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |info| {
                    info.0.ip().to_canonical()
                }),
        )
    }

    /// The key a client is counted under by the limiters: IPv4 as is, IPv6 by its /64 network,
    /// since one subscriber usually holds a whole /64.
    pub fn counting_key(self) -> IpAddr {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// Middleware: decides the request's [`ClientAddress`] once, from the TCP peer and the trusted
/// proxies, and hands it to everything after.
pub(crate) async fn remember_client_address(
    State(trusted_proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = ClientAddress::of(request.extensions()).0;
    let client = ClientAddress(trusted_proxies.client_of(peer, request.headers()));
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                FORWARDED_FOR,
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        headers
    }

    fn address(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn addresses_and_networks_of_both_families_parse_and_anything_else_is_named() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "127.0.0.1", "fd00::/8", "::1"])
            .expect("valid entries");
        assert!(trusted.contains(address("10.1.2.3")));
        assert!(trusted.contains(address("127.0.0.1")));
        assert!(!trusted.contains(address("127.0.0.2")));
        assert!(trusted.contains(address("fd12::7")));
        assert!(trusted.contains(address("::1")));
        // A v4 peer seen through a dual-stack socket.
        assert!(trusted.contains(address("::ffff:10.9.9.9")));
        for bad in ["10.0.0.0/33", "localhost", "10.0.0", ""] {
            let error = TrustedProxies::parse(&["127.0.0.1", bad]).expect_err(bad);
            assert_eq!(error.value, bad);
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).expect("valid");
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client_of(address("198.51.100.4"), &headers),
            address("198.51.100.4")
        );
        assert_eq!(
            TrustedProxies::default().client_of(address("10.0.0.1"), &headers),
            address("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_forwarded_address_is_the_client() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1"]).expect("valid");
        // The client forged the first entry; the outer proxy (192.0.2.1) and the inner one
        // (10.0.0.5) appended what they saw.
        let headers = forwarded(&["1.1.1.1, 198.51.100.7", "192.0.2.1"]);
        assert_eq!(
            trusted.client_of(address("10.0.0.5"), &headers),
            address("198.51.100.7")
        );
        // Ports and brackets some proxies write.
        let headers = forwarded(&["[2001:db8::5]:4711"]);
        assert_eq!(
            trusted.client_of(address("10.0.0.5"), &headers),
            address("2001:db8::5")
        );
        // Nothing forwarded: the proxy itself.
        assert_eq!(
            trusted.client_of(address("10.0.0.5"), &HeaderMap::new()),
            address("10.0.0.5")
        );
        // An entry that is not an address (no proxy writes one) ends the walk at the last
        // trusted proxy seen.
        let headers = forwarded(&["198.51.100.7, not-an-address, 192.0.2.1"]);
        assert_eq!(
            trusted.client_of(address("10.0.0.5"), &headers),
            address("192.0.2.1")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            ClientAddress(address("2001:db8:1:2::ffff")).counting_key(),
            ClientAddress(address("2001:db8:1:2::1")).counting_key()
        );
        assert_ne!(
            ClientAddress(address("2001:db8:1:3::1")).counting_key(),
            ClientAddress(address("2001:db8:1:2::1")).counting_key()
        );
        assert_eq!(
            ClientAddress(address("::ffff:192.0.2.1")).counting_key(),
            address("192.0.2.1")
        );
    }
}
