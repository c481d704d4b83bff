//! The node's notion of "now", injectable so that schedules, deadlines and retention can be
//! tested across months and years without waiting.
//!
//! Dates in the regulation are calendar dates in China (UTC+8): a month ends at midnight
//! Beijing time, not at midnight UTC.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// The current instant in China Standard Time (UTC+8).
    fn now_china(&self) -> DateTime<FixedOffset> {
        let utc = Utc
            .timestamp_millis_opt(self.now_ms())
            .single()
            .unwrap_or_else(Utc::now);
        utc.with_timezone(&china())
    }

    /// Today's calendar date in China.
    fn today(&self) -> NaiveDate {
        self.now_china().date_naive()
    }

    /// How far this clock runs from the machine's, in milliseconds, when that is fixed: the
    /// node's certificate checks, which rustls makes at the machine's time, are moved by it.
    /// 0 for the machine's clock and for a clock that moves only when told ([`ManualClock`]).
    fn offset_from_machine_ms(&self) -> i64 {
        0
    }
}

/// A clock shared between the parts of a node.
pub type SharedClock = Arc<dyn Clock>;

/// UTC+8, the offset every date in the regulation is counted in.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Milliseconds since the epoch of midnight (China time) at the start of `date`.
pub fn start_of_day_ms(date: NaiveDate) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    china()
        .from_local_datetime(&midnight)
        .single()
        .expect("a fixed offset has no gaps")
        .timestamp_millis()
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        licnode_store::now_ms()
    }
}

/// The machine's clock moved by a fixed offset (milliseconds, negative for behind): a node whose
/// clock is ahead or behind, as fault tests start it (`LICNODE_CLOCK_OFFSET_MS`, development
/// builds only).
#[derive(Clone, Copy, Debug)]
pub struct OffsetClock {
    pub offset_ms: i64,
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        licnode_store::now_ms().saturating_add(self.offset_ms)
    }

    fn offset_from_machine_ms(&self) -> i64 {
        self.offset_ms
    }
}

/// A clock that moves only when told to: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `now_ms`.
    pub fn new(now_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now_ms: AtomicI64::new(now_ms),
        })
    }

    /// A clock standing at midnight (China time) at the start of `date`.
    pub fn at_date(date: NaiveDate) -> Arc<ManualClock> {
        ManualClock::new(start_of_day_ms(date))
    }

    /// Moves the clock to `now_ms` (backwards too: clocks get skewed).
    pub fn set_ms(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the clock to midnight (China time) at the start of `date`.
    pub fn set_date(&self, date: NaiveDate) {
        self.set_ms(start_of_day_ms(date));
    }

    /// Moves the clock forward by `millis`.
    pub fn advance_ms(&self, millis: i64) {
        self.now_ms.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_china_date_turns_at_midnight_beijing_time() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let clock = ManualClock::at_date(first);
        assert_eq!(clock.today(), first);
        clock.advance_ms(-1);
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        // Midnight in Beijing is 16:00 UTC the day before.
        assert_eq!(
            Utc.timestamp_millis_opt(start_of_day_ms(first))
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T16:00:00+00:00"
        );
    }
}
