//! Per-client rate limiting of the public service: a token bucket per peer address (IPv6 by
//! its /64, since one subscriber usually holds a whole /64). No login, so the address is the
//! only thing that tells clients apart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before the full ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by client address.
pub(crate) struct RateLimiter {
    /// Tokens added per second; 0 turns limiting off.
    per_second: f64,
    /// Bucket size: requests a client may make at once.
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: if per_second.is_finite() {
                per_second.max(0.0)
            } else {
                0.0
            },
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`; when none is left, how long until one is.
    pub(crate) fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let key = crate::client_address::ClientAddress(client).counting_key();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > PRUNE_ABOVE {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second
                    < burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(2.0, 3);
        let client: IpAddr = [192, 0, 2, 1].into();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(client, start).is_ok());
        }
        let wait = limiter.check(client, start).expect_err("limited");
        assert!(wait <= Duration::from_millis(500) && wait > Duration::ZERO);
        assert!(
            limiter
                .check(client, start + Duration::from_millis(600))
                .is_ok()
        );
        // Another client is not affected.
        assert!(limiter.check([192, 0, 2, 2].into(), start).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let limiter = RateLimiter::new(1.0, 1);
        let start = Instant::now();
        let first: IpAddr = "2001:db8:1:2::1".parse().expect("address");
        let same_network: IpAddr = "2001:db8:1:2::ffff".parse().expect("address");
        let other_network: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert!(limiter.check(first, start).is_ok());
        assert!(limiter.check(same_network, start).is_err());
        assert!(limiter.check(other_network, start).is_ok());
    }

    #[test]
    fn a_rate_of_zero_turns_limiting_off() {
        let limiter = RateLimiter::new(0.0, 1);
        let start = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check([192, 0, 2, 1].into(), start).is_ok());
        }
    }
}
