//! The fault proxy against a plain TCP echo server: each fault does what it says, and nothing
//! else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use licnode_testkit::faults::{Direction, FaultProxy, TriggerAction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that echoes every byte back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0_u8; 4096];
                while let Ok(read) = stream.read(&mut buffer).await {
                    if read == 0 || stream.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    address
}

async fn proxy_to_echo() -> FaultProxy {
    FaultProxy::start(echo_server().await).await.expect("proxy")
}

/// Sends `bytes` and reads as many back, within `patience`; `None` when they do not all come.
async fn round_trip(stream: &mut TcpStream, bytes: &[u8], patience: Duration) -> Option<Vec<u8>> {
    stream.write_all(bytes).await.ok()?;
    let mut answer = vec![0_u8; bytes.len()];
    match tokio::time::timeout(patience, stream.read_exact(&mut answer)).await {
        Ok(Ok(_)) => Some(answer),
        _ => None,
    }
}

const PATIENCE: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn bytes_pass_through_unchanged_and_are_counted_both_ways() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    let message: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    let answer = round_trip(&mut stream, &message, PATIENCE).await;
    assert_eq!(answer.as_deref(), Some(message.as_slice()));
    let statistics = proxy.statistics();
    assert_eq!(statistics.bytes_child_to_parent, 100_000);
    assert_eq!(statistics.bytes_parent_to_child, 100_000);
    assert_eq!(statistics.connections, 1);
}

#[tokio::test]
async fn a_partition_holds_bytes_both_ways_until_it_heals() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    proxy.partition();
    assert_eq!(round_trip(&mut stream, b"held", SHORT).await, None);
    proxy.heal();
    let mut answer = [0_u8; 4];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut answer))
        .await
        .expect("the held bytes arrive after the heal")
        .expect("read");
    assert_eq!(&answer, b"held");
}

#[tokio::test]
async fn a_one_way_partition_lets_the_request_through_and_holds_the_answer() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    proxy.partition_one_way(Direction::ParentToChild);
    assert_eq!(round_trip(&mut stream, b"ping", SHORT).await, None);
    // The request reached the parent (its echo is counted on the way back, then held).
    assert_eq!(proxy.statistics().bytes_child_to_parent, 4);
    assert_eq!(proxy.statistics().bytes_parent_to_child, 4);
    proxy.heal();
    let mut answer = [0_u8; 4];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut answer))
        .await
        .expect("the answer arrives after the heal")
        .expect("read");
    assert_eq!(&answer, b"ping");
}

#[tokio::test]
async fn a_reset_breaks_open_connections_and_new_ones_work() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    assert!(round_trip(&mut stream, b"one", PATIENCE).await.is_some());
    proxy.reset_connections();
    let mut buffer = [0_u8; 8];
    let after_reset = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
        .await
        .expect("the reset is seen at once");
    assert!(
        matches!(after_reset, Err(_) | Ok(0)),
        "a reset connection carries nothing more: {after_reset:?}"
    );
    let mut fresh = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    assert!(round_trip(&mut fresh, b"two", PATIENCE).await.is_some());
    assert_eq!(proxy.statistics().resets, 1);
}

#[tokio::test]
async fn a_half_open_connection_stays_open_and_carries_nothing() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    assert!(round_trip(&mut stream, b"open", PATIENCE).await.is_some());
    proxy.leave_half_open();
    assert_eq!(round_trip(&mut stream, b"lost", SHORT).await, None);
    // Still open: writing succeeds, nothing closes it.
    stream
        .write_all(b"more")
        .await
        .expect("still open for writing");
    let mut fresh = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    assert!(round_trip(&mut fresh, b"fresh", PATIENCE).await.is_some());
}

#[tokio::test]
async fn delay_and_throttle_slow_the_bytes_down() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    proxy.delay(Duration::from_millis(200));
    let started = Instant::now();
    assert!(round_trip(&mut stream, b"slow", PATIENCE).await.is_some());
    // One chunk each way, each held 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(400));
    proxy.heal();
    proxy.throttle(Direction::ChildToParent, 10_000);
    let started = Instant::now();
    assert!(
        round_trip(&mut stream, &[7_u8; 5_000], PATIENCE)
            .await
            .is_some()
    );
    assert!(started.elapsed() >= Duration::from_millis(450));
}

#[tokio::test]
async fn a_byte_trigger_fires_before_the_crossing_chunk_is_forwarded() {
    let proxy = proxy_to_echo().await;
    let mut stream = TcpStream::connect(proxy.listen_address())
        .await
        .expect("connect");
    let fired = Arc::new(AtomicBool::new(false));
    let flag = fired.clone();
    proxy.after_bytes(
        Direction::ChildToParent,
        10,
        TriggerAction::Hook(Box::new(move || flag.store(true, Ordering::SeqCst))),
    );
    assert!(round_trip(&mut stream, b"12345", PATIENCE).await.is_some());
    assert!(!fired.load(Ordering::SeqCst), "5 of 10 bytes: not yet");
    proxy.after_bytes(Direction::ChildToParent, 3, TriggerAction::Reset);
    // The next chunk crosses both counts: the hook runs and the connection is reset before the
    // chunk reaches the parent, so nothing comes back.
    assert_eq!(round_trip(&mut stream, b"abcdefgh", SHORT).await, None);
    assert!(fired.load(Ordering::SeqCst));
    let statistics = proxy.statistics();
    assert_eq!(statistics.triggers_fired, 2);
    assert_eq!(statistics.resets, 1);
    assert_eq!(statistics.bytes_parent_to_child, 5);
    assert_eq!(proxy.disarm_triggers(), 0);
}
