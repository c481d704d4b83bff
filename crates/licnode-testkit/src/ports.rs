//! Loopback ports for nodes a test starts as separate processes.
//!
//! A port found by binding port 0 comes from the kernel's ephemeral range, the same range every
//! outgoing connection's local port is taken from: between the test choosing it and the node
//! binding it, any client connection on the machine (the test's own, a parallel test's) may
//! take it, and the node fails to start. Ports here are drawn at random from below that range,
//! where the kernel never puts a connection by itself, checked free by binding them, and never
//! handed out twice by one process.

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::TcpListener;
use std::sync::Mutex;

/// Ports this process has handed out.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// How many ports below the ephemeral range are drawn from.
const SPAN: u16 = 10_000;

/// A loopback port nothing listens on now, outside the kernel's ephemeral range when the
/// range leaves room below it, and not handed out before by this process.
///
/// # Panics
/// When no port is free after many draws (the machine is out of ports).
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `count` consecutive loopback ports, each as [`free_port`] gives one: for a
/// process that listens on several ports counted from one base (`licnode demo --listen`
/// serves seven nodes from it). Every port of the block is checked and handed out, so a port
/// another test of this process draws later is never inside it.
///
/// # Panics
/// When `count` is 0, or no block is free after many draws.
pub fn free_ports(count: u16) -> u16 {
    assert!(count > 0, "a block of no ports");
    let lowest_ephemeral = ephemeral_range_start().unwrap_or(32_768);
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    for _ in 0..1_000 {
        let first = match lowest_ephemeral.checked_sub(SPAN) {
            // The whole block below the range.
            Some(start) if start >= 1_024 && count < SPAN => {
                start + (random() % u64::from(SPAN - count + 1)) as u16
            }
            // No room below the range: the kernel's choice for one port, as before.
            _ if count == 1 => bound_port(0).expect("a free port"),
            _ => 1_024 + (random() % u64::from(u16::MAX - 1_024 - count)) as u16,
        };
        let block = first..=first + (count - 1);
        if block
            .clone()
            .all(|port| !handed_out.contains(&port) && bound_port(port).is_some())
        {
            handed_out.extend(block);
            return first;
        }
    }
    panic!("no {count} free loopback ports in a row after 1,000 draws");
}

/// The port a loopback listener bound to `port` got, if it could bind (the listener is closed
/// again at once).
fn bound_port(port: u16) -> Option<u16> {
    TcpListener::bind(("127.0.0.1", port))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .ok()
}

/// The first port of the kernel's ephemeral range (Linux).
fn ephemeral_range_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

/// A random number: std's hasher keys are random per process and differ for every new state.
fn random() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_bindable_distinct_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: HashSet<&u16> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "a port handed out twice");
        if let Some(start) = ephemeral_range_start().filter(|start| *start >= 1_024 + SPAN) {
            assert!(
                ports
                    .iter()
                    .all(|port| *port < start && *port >= start - SPAN),
                "ports outside [{}, {start}): {ports:?}",
                start - SPAN
            );
        }
        for port in &ports[..10] {
            TcpListener::bind(("127.0.0.1", *port)).expect("a handed-out port binds");
        }
    }

    #[test]
    fn a_block_of_ports_is_bindable_and_no_later_port_falls_inside_it() {
        let first = free_ports(62);
        for port in first..first + 62 {
            TcpListener::bind(("127.0.0.1", port)).expect("a port of the block binds");
        }
        for _ in 0..500 {
            let port = free_port();
            assert!(
                !(first..first + 62).contains(&port),
                "{port} handed out inside the block at {first}"
            );
        }
    }
}
