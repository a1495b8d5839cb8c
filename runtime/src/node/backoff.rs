//! client-go's `flowcontrol.Backoff` with the kubelet's expiry rule: 10 s doubling to 300 s,
//! forgotten when more than 600 s pass between the last update and the event looked at.

use std::time::Duration;

use jiff::Timestamp;

use crate::clock::since;

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);
const EXPIRY: Duration = Duration::from_secs(600);

#[derive(Debug, Default, Clone)]
pub struct Backoff {
    entry: Option<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    delay: Duration,
    last_update: Timestamp,
}

impl Backoff {
    fn live_entry(&self, event_time: Timestamp) -> Option<&Entry> {
        self.entry
            .as_ref()
            .filter(|entry| since(event_time, entry.last_update) <= EXPIRY)
    }

    /// `IsInBackOffSince`: is `now` still inside the window that started at `event_time`?
    pub fn in_backoff_since(&self, event_time: Timestamp, now: Timestamp) -> bool {
        self.live_entry(event_time)
            .is_some_and(|entry| since(now, event_time) < entry.delay)
    }

    /// `IsInBackOffSinceUpdate` (image pulls): within the window that started at the last
    /// update?
    pub fn in_backoff_since_update(&self, now: Timestamp) -> bool {
        self.live_entry(now)
            .is_some_and(|entry| since(now, entry.last_update) < entry.delay)
    }

    /// The current window length (for `back-off 20s restarting failed container=…`).
    pub fn delay(&self) -> Duration {
        self.entry.as_ref().map_or(INITIAL, |e| e.delay)
    }

    /// When the window that started at `event_time` ends.
    pub fn expires_at(&self, event_time: Timestamp) -> Timestamp {
        crate::clock::add(event_time, self.delay())
    }

    /// `Next`: start (or restart) at 10 s, or double up to the cap.
    pub fn next(&mut self, event_time: Timestamp, now: Timestamp) {
        let delay = match self.live_entry(event_time) {
            Some(entry) => (entry.delay * 2).min(MAX),
            None => INITIAL,
        };
        self.entry = Some(Entry {
            delay,
            last_update: now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    #[test]
    fn doubles_from_ten_seconds_to_five_minutes() {
        let mut backoff = Backoff::default();
        assert!(!backoff.in_backoff_since(at(0), at(0)));
        let mut delays = Vec::new();
        let mut t = 0;
        for _ in 0..8 {
            backoff.next(at(t), at(t));
            delays.push(backoff.delay().as_secs());
            t += 30;
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn window_is_measured_from_the_exit() {
        let mut backoff = Backoff::default();
        backoff.next(at(0), at(0));
        assert!(backoff.in_backoff_since(at(60), at(61)));
        assert!(backoff.in_backoff_since(at(60), at(69)));
        assert!(!backoff.in_backoff_since(at(60), at(70)));
    }

    #[test]
    fn resets_after_ten_minutes_of_running() {
        let mut backoff = Backoff::default();
        backoff.next(at(0), at(0));
        backoff.next(at(30), at(30));
        assert_eq!(backoff.delay().as_secs(), 20);
        // The next instance ran for more than 600 s before exiting: start over.
        assert!(!backoff.in_backoff_since(at(700), at(701)));
        backoff.next(at(700), at(701));
        assert_eq!(backoff.delay().as_secs(), 10);
    }
}
