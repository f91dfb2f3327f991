//! Rate limits: how many checks run at once ([`Gate`]), how fast each provider is asked
//! ([`Pace`]), when a host said to come back ([`Pause`], [`hint`]), and how long a refused
//! request waits without a hint ([`backoff`]). Pure timing, no I/O and no knowledge of
//! providers; every wait ends by a deadline, so the verification budget holds.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::providers::Response;

/// Counting semaphore.
pub(super) struct Gate {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Gate {
    pub(super) fn new(n: usize) -> Gate {
        Gate {
            free: Mutex::new(n.max(1)),
            cv: Condvar::new(),
        }
    }
    /// Take a slot, waiting no later than `deadline`; false if none came free by then.
    pub(super) fn acquire_by(&self, deadline: Instant) -> bool {
        let mut free = self.free.lock().expect("gate lock");
        while *free == 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            free = self
                .cv
                .wait_timeout(free, deadline - now)
                .expect("gate lock")
                .0;
        }
        *free -= 1;
        true
    }
    pub(super) fn release(&self) {
        *self.free.lock().expect("gate lock") += 1;
        self.cv.notify_one();
    }
}

/// Per-provider pacing: request starts at least `interval` apart.
pub(super) struct Pace {
    next: Mutex<Instant>,
    interval: Duration,
}

impl Pace {
    pub(super) fn new(requests_per_second: f64) -> Pace {
        Pace {
            next: Mutex::new(Instant::now()),
            interval: Duration::from_secs_f64(1.0 / requests_per_second.max(0.01)),
        }
    }
    /// Wait for the next start time; false (without waiting) if it falls after `deadline`.
    pub(super) fn wait_by(&self, deadline: Instant) -> bool {
        let at = {
            let mut next = self.next.lock().expect("pace lock");
            let at = (*next).max(Instant::now());
            if at > deadline {
                return false;
            }
            *next = at + self.interval;
            at
        };
        sleep_until(at);
        true
    }
}

/// A host's "come back later" (issue 10, #29): after a rate-limited answer that says when to
/// come back, no request to that host starts before then, whichever key it carries; before,
/// only the refused request waited while the others kept the limit exhausted.
pub(super) struct Pause {
    until: Mutex<Instant>,
}

impl Pause {
    pub(super) fn new() -> Pause {
        Pause {
            until: Mutex::new(Instant::now()),
        }
    }
    pub(super) fn until(&self) -> Instant {
        *self.until.lock().expect("pause lock")
    }
    /// Pause until `then`, unless already paused longer.
    pub(super) fn extend(&self, then: Instant) {
        let mut until = self.until.lock().expect("pause lock");
        *until = (*until).max(then);
    }
}

pub(super) fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// The longest wait a provider's hint is taken at: past the budget anyway, and small enough
/// that adding it to an `Instant` cannot overflow.
const MAX_HINT: Duration = Duration::from_secs(3600);

/// When a rate-limited answer says to come back: `Retry-After` (seconds) or OpenAI's
/// `x-ratelimit-reset-*` durations.
pub(super) fn hint(r: &Response) -> Option<Duration> {
    if let Some(secs) = r
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        // `try_from` refuses infinity and overflow: a hostile header must not panic.
        return Some(
            Duration::try_from_secs_f64(secs.max(0.0)).map_or(MAX_HINT, |d| d.min(MAX_HINT)),
        );
    }
    [
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "x-ratelimit-reset",
    ]
    .iter()
    .find_map(|h| r.header(h).and_then(parse_duration))
    .map(|d| d.min(MAX_HINT))
}

/// How long one request waits before trying again when the provider gave no hint:
/// exponential backoff with jitter, at most 30 s.
pub(super) fn backoff(attempt: u32) -> Duration {
    jittered(exponential(attempt, Duration::from_secs(30)), random_u64())
}

/// 0.5 s doubled for each earlier attempt, at most `cap`.
fn exponential(attempt: u32, cap: Duration) -> Duration {
    (Duration::from_millis(500) * (1u32 << attempt.min(16))).min(cap)
}

/// "Equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): half of `d` for
/// sure, the other half spread by `r`, so clients that were refused together do not come back
/// together, yet none comes back at once.
fn jittered(d: Duration, r: u64) -> Duration {
    let half = d / 2;
    let fraction = (r >> 11) as f64 / (1u64 << 53) as f64; // uniform in [0, 1), 53 bits
    half + half.mul_f64(fraction)
}

/// A random u64 without a crate: each `RandomState` is keyed from the OS's randomness (then
/// per-thread increments), and SipHash over a counter spreads it.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.finish()
}

/// `1s`, `6m0s`, `20ms`, `0.5s` (OpenAI's reset headers).
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += n * unit;
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    if !any {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(&format!("{}s", "9".repeat(400))), None);
    }

    fn rate_limited(header: &str, value: &str) -> Response {
        Response {
            status: 429,
            headers: vec![(header.into(), value.into())],
            body: String::new(),
        }
    }

    #[test]
    fn hints_are_followed_and_hostile_ones_survived() {
        assert_eq!(
            hint(&rate_limited("retry-after", "2")),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            hint(&rate_limited("x-ratelimit-reset-requests", "20ms")),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            hint(&rate_limited("retry-after", "-5")),
            Some(Duration::ZERO)
        );
        for hostile in ["inf", "1e300"] {
            assert_eq!(hint(&rate_limited("retry-after", hostile)), Some(MAX_HINT));
        }
        assert_eq!(hint(&Response::default()), None);
    }

    #[test]
    fn waits_end_by_their_deadline() {
        let gate = Gate::new(1);
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(gate.acquire_by(soon));
        assert!(!gate.acquire_by(soon), "no slot free, deadline passes");
        gate.release();
        assert!(gate.acquire_by(soon));
        let pace = Pace::new(0.1); // 10 s apart
        assert!(pace.wait_by(Instant::now() + Duration::from_secs(1)));
        assert!(!pace.wait_by(Instant::now() + Duration::from_secs(1)));
        let pause = Pause::new();
        let later = Instant::now() + Duration::from_secs(5);
        pause.extend(later);
        pause.extend(Instant::now());
        assert_eq!(pause.until(), later, "a pause never shrinks");
    }

    /// Issue 10 (#25): the jitter was the gap between two clock reads, neither random nor spread.
    #[test]
    fn issue_10_backoff_jitter_is_random_spread_and_bounded() {
        for attempt in [0, 3, 20] {
            let full = exponential(attempt, Duration::from_secs(30));
            let draws: Vec<Duration> = (0..1000).map(|_| backoff(attempt)).collect();
            assert!(
                draws.iter().all(|d| *d >= full / 2 && *d <= full),
                "attempt {attempt}: a draw outside [{:?}, {full:?}]",
                full / 2
            );
            let mut distinct = draws.clone();
            distinct.sort();
            distinct.dedup();
            assert!(distinct.len() > 900, "attempt {attempt}: draws repeat");
            // 1000 uniform draws all missing the bottom (or top) tenth: p = 0.9^1000.
            let tenth = (full / 2) / 10;
            assert!(draws.iter().any(|d| *d < full / 2 + tenth), "never low");
            assert!(draws.iter().any(|d| *d > full - tenth), "never high");
        }
        assert_eq!(
            exponential(0, Duration::from_secs(30)),
            Duration::from_millis(500)
        );
        assert_eq!(
            exponential(40, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        assert_eq!(jittered(Duration::from_secs(2), 0), Duration::from_secs(1));
        assert!(jittered(Duration::from_secs(2), u64::MAX) <= Duration::from_secs(2));
    }
}
