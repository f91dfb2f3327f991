//! Rate limits: how many checks run at once ([`Gate`]), how fast each provider is asked
//! ([`Pace`]), and how long to wait after a provider says "too many requests" ([`backoff`]).
//! Pure timing, no I/O and no knowledge of providers.

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
    pub(super) fn acquire(&self) {
        let mut free = self.free.lock().expect("gate lock");
        while *free == 0 {
            free = self.cv.wait(free).expect("gate lock");
        }
        *free -= 1;
    }
    pub(super) fn release(&self) {
        *self.free.lock().expect("gate lock") += 1;
        self.cv.notify_one();
    }
}

/// Per-provider pacing: request starts at least `interval` apart.
pub(super) struct Pace {
    pub(super) next: Mutex<Instant>,
    pub(super) interval: Duration,
}

impl Pace {
    pub(super) fn wait(&self) {
        let at = {
            let mut next = self.next.lock().expect("pace lock");
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
    }
}

/// How long to wait before retrying a rate-limited request: the provider's `Retry-After` or
/// `x-ratelimit-reset-*`, else exponential backoff with jitter; capped at 30 s.
pub(super) fn backoff(r: &Response, attempt: u32) -> Duration {
    let cap = Duration::from_secs(30);
    if let Some(secs) = r
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        // `try_from` refuses NaN, infinity and overflow: a hostile header must not panic.
        return Duration::try_from_secs_f64(secs.max(0.0)).map_or(cap, |d| d.min(cap));
    }
    for h in [
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "x-ratelimit-reset",
    ] {
        if let Some(d) = r.header(h).and_then(parse_duration) {
            return d.min(cap);
        }
    }
    jittered(exponential(attempt, cap), random_u64())
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
    fn backoff_follows_the_providers_hint_and_survives_hostile_ones() {
        let cap = Duration::from_secs(30);
        assert_eq!(
            backoff(&rate_limited("retry-after", "2"), 0),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff(&rate_limited("x-ratelimit-reset-requests", "20ms"), 0),
            Duration::from_millis(20)
        );
        for hostile in ["inf", "1e300", "NaN", "-5"] {
            assert!(backoff(&rate_limited("retry-after", hostile), 0) <= cap);
        }
    }

    /// Issue 10 (#25): the jitter was the gap between two clock reads, neither random nor spread.
    #[test]
    fn issue_10_backoff_jitter_is_random_spread_and_bounded() {
        let none = Response::default();
        for attempt in [0, 3, 20] {
            let full = exponential(attempt, Duration::from_secs(30));
            let draws: Vec<Duration> = (0..1000).map(|_| backoff(&none, attempt)).collect();
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
