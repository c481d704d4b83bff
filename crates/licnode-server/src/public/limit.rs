//! Per-client rate limiting of the public service: `governor`'s GCRA (a token bucket without a
//! timer) per client address, IPv6 by its /64 since one subscriber usually holds a whole /64.
//! No login, so the address is the only thing that tells clients apart.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};

/// Clients remembered before those with a full allowance again are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// One GCRA state per client address, reading time from `C`.
type KeyedGcra<C> =
    Gcra<IpAddr, HashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Allowances by client address.
pub(crate) struct RateLimiter<C: Clock = MonotonicClock> {
    /// None: limiting is off (a rate of 0).
    limiter: Option<KeyedGcra<C>>,
}

impl RateLimiter {
    /// `per_second` requests a second sustained (0 turns limiting off), `burst` at once.
    pub(crate) fn new(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::with_clock(per_second, burst, MonotonicClock)
    }
}

impl<C: Clock> RateLimiter<C> {
    /// The same, reading time from `clock`.
    pub(crate) fn with_clock(per_second: f64, burst: u32, clock: C) -> RateLimiter<C> {
        let per_second = if per_second.is_finite() {
            per_second.max(0.0)
        } else {
            0.0
        };
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        // One request's worth of allowance comes back every 1/rate seconds.
        let quota = (per_second > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / per_second).ok())
            .flatten()
            .and_then(Quota::with_period)
            .map(|quota| quota.allow_burst(burst));
        RateLimiter {
            limiter: quota.map(|quota| Gcra::hashmap_with_clock(quota, clock)),
        }
    }

    /// Takes one request's allowance for `client`; when none is left, how long until it is.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        let key = crate::client_address::ClientAddress(client).counting_key();
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(2.0, 3, clock.clone());
        let client: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..3 {
            assert!(limiter.check(client).is_ok());
        }
        let wait = limiter.check(client).expect_err("limited");
        assert!(wait <= Duration::from_millis(500) && wait > Duration::ZERO);
        clock.advance(Duration::from_millis(600));
        assert!(limiter.check(client).is_ok());
        // Another client is not affected.
        assert!(limiter.check([192, 0, 2, 2].into()).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let limiter = RateLimiter::with_clock(1.0, 1, FakeRelativeClock::default());
        let first: IpAddr = "2001:db8:1:2::1".parse().expect("address");
        let same_network: IpAddr = "2001:db8:1:2::ffff".parse().expect("address");
        let other_network: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert!(limiter.check(first).is_ok());
        assert!(limiter.check(same_network).is_err());
        assert!(limiter.check(other_network).is_ok());
    }

    #[test]
    fn a_rate_of_zero_turns_limiting_off() {
        let limiter = RateLimiter::with_clock(0.0, 1, FakeRelativeClock::default());
        for _ in 0..100 {
            assert!(limiter.check([192, 0, 2, 1].into()).is_ok());
        }
    }

    #[test]
    fn a_burst_of_zero_still_lets_one_request_through() {
        let limiter = RateLimiter::with_clock(1.0, 0, FakeRelativeClock::default());
        let client: IpAddr = [192, 0, 2, 1].into();
        assert!(limiter.check(client).is_ok());
        assert!(limiter.check(client).is_err());
    }

    #[test]
    fn a_fractional_rate_refills_after_its_period() {
        let clock = FakeRelativeClock::default();
        // One request every four seconds.
        let limiter = RateLimiter::with_clock(0.25, 1, clock.clone());
        let client: IpAddr = [192, 0, 2, 1].into();
        assert!(limiter.check(client).is_ok());
        let wait = limiter.check(client).expect_err("limited");
        assert!(
            wait > Duration::from_secs(3) && wait <= Duration::from_secs(4),
            "{wait:?}"
        );
        clock.advance(Duration::from_secs(4));
        assert!(limiter.check(client).is_ok());
    }

    #[test]
    fn many_clients_with_full_allowances_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(100.0, 1, clock.clone());
        for index in 0..=PRUNE_ABOVE as u32 {
            assert!(limiter.check(IpAddr::from(index.to_be_bytes())).is_ok());
        }
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check([192, 0, 2, 1].into()).is_ok());
        let remembered = limiter.limiter.as_ref().map_or(0, |gcra| gcra.len());
        assert!(remembered < 10, "{remembered}");
    }
}
