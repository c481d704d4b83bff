//! A TCP fault proxy between a child node and its parent's mutual-TLS sync listener.
//!
//! The proxy forwards bytes and nothing else: TLS passes through it untouched, so the child
//! still authenticates the parent and the parent the child. The child's `parent_url` names the
//! proxy. What the network can do to a session, the proxy does on command:
//!
//! - **partition** both ways or one way: bytes in a blocked direction are held (as TCP holds
//!   unacknowledged segments) and flow again when the partition heals; a new connection waits
//!   for its SYN to get through;
//! - **delay** every chunk, and **throttle** a direction to a number of bytes per second;
//! - **reset** every open connection (RST, not FIN) in the middle of whatever it carries;
//! - **half-open**: the open connections stop forwarding without being closed, the way a
//!   connection through a dead NAT looks to both ends, until they are reset;
//! - **byte triggers**: after N more bytes in one direction, reset or call a hook (a kill -9 of
//!   either node) *before* forwarding the chunk that crosses N, so that a fault lands inside a
//!   session by construction rather than by timing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which way bytes travel through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the child (the dialling side) to the parent's listener.
    ChildToParent,
    /// From the parent back to the child.
    ParentToChild,
}

/// What a byte trigger does when its count is reached.
pub enum TriggerAction {
    /// Resets every open connection (RST) before the crossing chunk is forwarded.
    Reset,
    /// Calls the hook before the crossing chunk is forwarded (e.g. kill -9 a node).
    Hook(Box<dyn FnOnce() + Send>),
}

/// The network conditions in force; every pump watches them.
#[derive(Clone, Debug, Default)]
struct Conditions {
    blocked_child_to_parent: bool,
    blocked_parent_to_child: bool,
    delay: Duration,
    child_to_parent_bytes_per_second: Option<u64>,
    parent_to_child_bytes_per_second: Option<u64>,
    /// Connections numbered below this are reset.
    reset_below: u64,
    /// Connections numbered below this are half-open: they forward nothing.
    frozen_below: u64,
}

impl Conditions {
    fn blocked(&self, direction: Direction) -> bool {
        match direction {
            Direction::ChildToParent => self.blocked_child_to_parent,
            Direction::ParentToChild => self.blocked_parent_to_child,
        }
    }

    fn bytes_per_second(&self, direction: Direction) -> Option<u64> {
        match direction {
            Direction::ChildToParent => self.child_to_parent_bytes_per_second,
            Direction::ParentToChild => self.parent_to_child_bytes_per_second,
        }
    }

    fn flowing(&self, direction: Direction, connection: u64) -> bool {
        !self.blocked(direction) && connection >= self.frozen_below
    }
}

/// A byte trigger waiting for its count.
struct ArmedTrigger {
    direction: Direction,
    remaining: u64,
    action: TriggerAction,
}

/// Counters of what the proxy carried and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStatistics {
    pub connections: u64,
    pub bytes_child_to_parent: u64,
    pub bytes_parent_to_child: u64,
    pub resets: u64,
    pub triggers_fired: u64,
}

/// State shared by the proxy handle, its accept loop and its pumps.
struct Shared {
    upstream: SocketAddr,
    conditions: watch::Sender<Conditions>,
    triggers: Mutex<Vec<ArmedTrigger>>,
    next_connection: AtomicU64,
    bytes_child_to_parent: AtomicU64,
    bytes_parent_to_child: AtomicU64,
    resets: AtomicU64,
    triggers_fired: AtomicU64,
}

impl Shared {
    fn reset_all(&self) {
        let next = self.next_connection.load(Ordering::SeqCst);
        self.conditions
            .send_modify(|conditions| conditions.reset_below = next);
        self.resets.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts `bytes` in `direction` and fires every trigger whose count they reach.
    fn count(&self, direction: Direction, bytes: u64) {
        let counter = match direction {
            Direction::ChildToParent => &self.bytes_child_to_parent,
            Direction::ParentToChild => &self.bytes_parent_to_child,
        };
        counter.fetch_add(bytes, Ordering::SeqCst);
        let due: Vec<TriggerAction> = {
            let mut triggers = self
                .triggers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut due = Vec::new();
            let mut kept = Vec::new();
            for mut trigger in triggers.drain(..) {
                if trigger.direction != direction {
                    kept.push(trigger);
                } else if trigger.remaining <= bytes {
                    due.push(trigger.action);
                } else {
                    trigger.remaining -= bytes;
                    kept.push(trigger);
                }
            }
            *triggers = kept;
            due
        };
        for action in due {
            self.triggers_fired.fetch_add(1, Ordering::SeqCst);
            match action {
                TriggerAction::Reset => self.reset_all(),
                TriggerAction::Hook(hook) => hook(),
            }
        }
    }
}

/// A running fault proxy; it stops (and drops every connection) when dropped.
pub struct FaultProxy {
    listen_address: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let listen_address = listener.local_addr()?;
        let (conditions, _) = watch::channel(Conditions::default());
        let shared = Arc::new(Shared {
            upstream,
            conditions,
            triggers: Mutex::new(Vec::new()),
            next_connection: AtomicU64::new(0),
            bytes_child_to_parent: AtomicU64::new(0),
            bytes_parent_to_child: AtomicU64::new(0),
            resets: AtomicU64::new(0),
            triggers_fired: AtomicU64::new(0),
        });
        let accept_loop = tokio::spawn(accept_connections(listener, shared.clone()));
        Ok(FaultProxy {
            listen_address,
            shared,
            accept_loop,
        })
    }

    /// The address the child dials.
    pub fn listen_address(&self) -> SocketAddr {
        self.listen_address
    }

    /// `https://<listen address>`, for the child's `parent_url`.
    pub fn url(&self) -> String {
        format!("https://{}", self.listen_address)
    }

    /// Blocks both directions: nothing passes until [`FaultProxy::heal`].
    pub fn partition(&self) {
        self.shared.conditions.send_modify(|conditions| {
            conditions.blocked_child_to_parent = true;
            conditions.blocked_parent_to_child = true;
        });
    }

    /// Blocks one direction only: the other still flows.
    pub fn partition_one_way(&self, direction: Direction) {
        self.shared
            .conditions
            .send_modify(|conditions| match direction {
                Direction::ChildToParent => conditions.blocked_child_to_parent = true,
                Direction::ParentToChild => conditions.blocked_parent_to_child = true,
            });
    }

    /// Ends partitions, delay and throttling; half-open connections stay frozen until reset.
    pub fn heal(&self) {
        self.shared.conditions.send_modify(|conditions| {
            conditions.blocked_child_to_parent = false;
            conditions.blocked_parent_to_child = false;
            conditions.delay = Duration::ZERO;
            conditions.child_to_parent_bytes_per_second = None;
            conditions.parent_to_child_bytes_per_second = None;
        });
    }

    /// Holds every chunk for `delay` before forwarding it, both ways.
    pub fn delay(&self, delay: Duration) {
        self.shared
            .conditions
            .send_modify(|conditions| conditions.delay = delay);
    }

    /// Limits `direction` to `bytes_per_second` (at least 1).
    pub fn throttle(&self, direction: Direction, bytes_per_second: u64) {
        let rate = Some(bytes_per_second.max(1));
        self.shared
            .conditions
            .send_modify(|conditions| match direction {
                Direction::ChildToParent => conditions.child_to_parent_bytes_per_second = rate,
                Direction::ParentToChild => conditions.parent_to_child_bytes_per_second = rate,
            });
    }

    /// Resets every open connection with an RST, wherever it is in its stream.
    pub fn reset_connections(&self) {
        self.shared.reset_all();
    }

    /// Freezes every open connection: it stays open and forwards nothing, either way.
    /// Connections opened afterwards flow normally.
    pub fn leave_half_open(&self) {
        let next = self.shared.next_connection.load(Ordering::SeqCst);
        self.shared
            .conditions
            .send_modify(|conditions| conditions.frozen_below = next);
    }

    /// After `bytes` more bytes in `direction`, runs `action` before forwarding the chunk that
    /// reaches the count. Triggers fire once.
    pub fn after_bytes(&self, direction: Direction, bytes: u64, action: TriggerAction) {
        self.shared
            .triggers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(ArmedTrigger {
                direction,
                remaining: bytes.max(1),
                action,
            });
    }

    /// Drops the triggers that have not fired; returns how many there were.
    pub fn disarm_triggers(&self) -> usize {
        let mut triggers = self
            .shared
            .triggers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = triggers.len();
        triggers.clear();
        count
    }

    /// What the proxy carried and did so far.
    pub fn statistics(&self) -> ProxyStatistics {
        let shared = &self.shared;
        ProxyStatistics {
            connections: shared.next_connection.load(Ordering::SeqCst),
            bytes_child_to_parent: shared.bytes_child_to_parent.load(Ordering::SeqCst),
            bytes_parent_to_child: shared.bytes_parent_to_child.load(Ordering::SeqCst),
            resets: shared.resets.load(Ordering::SeqCst),
            triggers_fired: shared.triggers_fired.load(Ordering::SeqCst),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.shared.reset_all();
    }
}

async fn accept_connections(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((downstream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let number = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(carry_connection(downstream, number, shared.clone()));
    }
}

/// Connects `downstream` to the parent once its SYN would get through, then pumps both ways
/// until either end closes or the connection is reset.
async fn carry_connection(downstream: TcpStream, number: u64, shared: Arc<Shared>) {
    let mut conditions = shared.conditions.subscribe();
    let connectable = conditions
        .wait_for(|now| now.reset_below > number || !now.blocked(Direction::ChildToParent))
        .await
        .map(|now| now.reset_below <= number)
        .unwrap_or(false);
    let upstream = match connectable {
        true => TcpStream::connect(shared.upstream).await,
        false => Err(std::io::Error::other("reset before connecting")),
    };
    let Ok(upstream) = upstream else {
        // The parent is down (or the connection was reset): the child sees its connection drop.
        let _ = downstream.set_zero_linger();
        return;
    };
    for stream in [&downstream, &upstream] {
        // An RST, not a FIN, when the proxy drops the connection.
        let _ = stream.set_zero_linger();
        let _ = stream.set_nodelay(true);
    }
    let (downstream_read, downstream_write) = downstream.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let up = pump(
        downstream_read,
        upstream_write,
        Direction::ChildToParent,
        number,
        shared.clone(),
    );
    let down = pump(
        upstream_read,
        downstream_write,
        Direction::ParentToChild,
        number,
        shared.clone(),
    );
    tokio::pin!(up, down);
    // A clean close of one direction lets the other finish (a half-close); a reset or an error
    // drops both halves at once (RST both ways).
    tokio::select! {
        closed_cleanly = &mut up => if closed_cleanly { down.await; },
        closed_cleanly = &mut down => if closed_cleanly { up.await; },
    }
}

/// Forwards one direction. Returns `true` when the source closed cleanly (the other direction
/// may go on), `false` on reset or error.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    direction: Direction,
    number: u64,
    shared: Arc<Shared>,
) -> bool {
    let mut conditions = shared.conditions.subscribe();
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let step = async {
            let read = from.read(&mut buffer).await?;
            if read == 0 {
                let _ = to.shutdown().await;
                return Ok::<bool, std::io::Error>(false);
            }
            shared.count(direction, read as u64);
            let mut watching = shared.conditions.subscribe();
            // A chunk read before a partition began is held until it heals.
            let now = watching
                .wait_for(|now| now.reset_below > number || now.flowing(direction, number))
                .await
                .map(|now| now.clone())
                .map_err(std::io::Error::other)?;
            if now.reset_below > number {
                return Err(std::io::Error::other("reset"));
            }
            if !now.delay.is_zero() {
                tokio::time::sleep(now.delay).await;
            }
            // A throttled link delivers a chunk once its bytes have had time to cross.
            if let Some(rate) = now.bytes_per_second(direction) {
                let seconds = read as f64 / rate as f64;
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            }
            to.write_all(&buffer[..read]).await?;
            Ok(true)
        };
        let reset = conditions.wait_for(|now| now.reset_below > number);
        tokio::select! {
            outcome = step => match outcome {
                Ok(true) => {}
                Ok(false) => return true,
                Err(_) => return false,
            },
            _ = reset => return false,
        }
    }
}
