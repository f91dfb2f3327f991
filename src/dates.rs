//! Dates, for the history source and the reports: [`rfc3339`] formats a commit's author date, and
//! [`parse_since`] reads the `--since` argument (a date, a date-time with a zone, or an age; see
//! [`SINCE_FORMS`]). Plain arithmetic on the proleptic Gregorian calendar: no time-zone database,
//! no locale, no natural language; only [`now`] reads the clock. [`since`] adds every other form
//! git reads (`git log --since`: "last tuesday", "2.weeks.ago", a date-time without a zone in
//! local time) by asking git, so `--since` means what it means to git.

use std::fmt;

/// `--since` names no date or age that [`parse_since`] or git reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadDate {
    pub value: String,
}

impl fmt::Display for BadDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--since {}: not a date; use {SINCE_FORMS}, or any date `git log --since` reads (\"2.weeks.ago\", \"last tuesday\")",
            self.value
        )
    }
}

impl std::error::Error for BadDate {}

/// RFC 3339 date-time of `secs` since the epoch at `offset` minutes east of UTC.
pub(crate) fn rfc3339(secs: i64, offset: i32) -> String {
    let local = secs + i64::from(offset) * 60;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

/// The forms `--since` accepts, for help and error messages.
pub(crate) const SINCE_FORMS: &str = "YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM:SS with Z or \
    +HH:MM/-HH:MM (2024-05-01T09:30:00+02:00), or an age: N d|w|m|y, N days|weeks|months|years, \
    optionally followed by \"ago\" (90d, 2w, 6m, \"6 months\", 1y, \"3 days ago\"; a month is 30 \
    days, a year 365)";

/// The seconds since the epoch that `--since TEXT` names, ages counted back from `now`; an error
/// listing [`SINCE_FORMS`] when it is none of them.
pub(crate) fn parse_since(text: &str, now: i64) -> Result<i64, BadDate> {
    let t = text.trim();
    parse_datetime(t)
        .or_else(|| parse_date(t))
        .or_else(|| parse_age(t).and_then(|age| now.checked_sub(age)))
        .ok_or_else(|| BadDate {
            value: text.to_string(),
        })
}

/// The seconds since the epoch that `--since TEXT` names: [`parse_since`]'s forms, else
/// whatever git reads as a date (its own approximate-date parser, through `git config
/// --type=expiry-date`, which refuses what it cannot read where `git log` would silently take
/// "now"); an error listing the forms when neither reads it.
pub(crate) fn since(text: &str, now: i64) -> Result<i64, BadDate> {
    parse_since(text, now).or_else(|e| {
        let t = text.trim();
        // A day that does not exist (2023-02-29) is refused: git would read it as some other day.
        let dated = t.len() >= 10
            && t.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if dated && parse_date(&t[..10]).is_none() {
            return Err(e);
        }
        git_date(t).ok_or(e)
    })
}

/// A date as git reads it, in seconds since the epoch. No config file is read (`--file
/// /dev/null`); the value is the default of a key that does not exist, converted to a date.
/// Git's "now" and "all" mean the end of time, "never" the epoch.
fn git_date(text: &str) -> Option<i64> {
    if text.is_empty() || text.starts_with('-') {
        return None;
    }
    let null = if cfg!(windows) { "NUL" } else { "/dev/null" };
    let out = crate::git::command()
        .args(["config", "--file", null, "--type=expiry-date", "--default"])
        .arg(text)
        .args(["--get", "keyhound.since"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let digits = String::from_utf8(out.stdout).ok()?;
    let digits = digits.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<i64>().unwrap_or(i64::MAX))
}

/// Seconds since the epoch now, from the system clock.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD` at UTC midnight: exactly that shape, a day that exists.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (number(&s[..4])?, number(&s[5..7])?, number(&s[8..])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// `YYYY-MM-DDTHH:MM:SS` with `Z` or `+HH:MM`/`-HH:MM` (RFC 3339 without fractions).
fn parse_datetime(s: &str) -> Option<i64> {
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    let rest = rest.strip_prefix(['T', 't'])?;
    let (time, zone) = (rest.get(..8)?, rest.get(8..)?);
    let t = time.as_bytes();
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (h, mi, sec) = (
        number(&time[..2])?,
        number(&time[3..5])?,
        number(&time[6..])?,
    );
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = zone[1..].split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            let (oh, om) = (number(oh)?, number(om)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(parse_date(date)? + h * 3600 + mi * 60 + sec - offset)
}

/// An age in seconds: `90d`, `2w`, `6m`, `1y`, `6 months`, `3 days ago`.
fn parse_age(s: &str) -> Option<i64> {
    let s = s.strip_suffix(" ago").unwrap_or(s).trim_end();
    let digits = s.find(|c: char| !c.is_ascii_digit())?;
    let n = number(&s[..digits])?;
    let days = match s[digits..].trim_start() {
        "d" | "day" | "days" => 1,
        "w" | "week" | "weeks" => 7,
        "m" | "month" | "months" => 30,
        "y" | "year" | "years" => 365,
        _ => return None,
    };
    n.checked_mul(days * 86_400)
}

/// A run of ASCII digits (no sign, no spaces) as a number.
fn number(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(rfc3339(1_700_000_000, -300), "2023-11-14T17:13:20-05:00");
    }

    #[test]
    fn since_accepts_dates_date_times_and_ages() {
        let now = 1_700_000_000;
        let day = 86_400;
        let cases: &[(&str, Option<i64>)] = &[
            ("2024-01-01", Some(1_704_067_200)),
            (" 2024-02-29 ", Some(1_709_164_800)),
            ("2023-11-14T22:13:20Z", Some(now)),
            ("2023-11-14t22:13:20z", Some(now)),
            ("2023-11-14T23:13:20+01:00", Some(now)),
            ("2023-11-14T17:13:20-05:00", Some(now)),
            ("2023-11-14T22:13:20", None),
            ("2023-11-14T22:13:20+0100", None),
            ("2023-11-14T24:00:00Z", None),
            ("90d", Some(now - 90 * day)),
            ("2w", Some(now - 14 * day)),
            ("6m", Some(now - 180 * day)),
            ("6 months", Some(now - 180 * day)),
            ("1y", Some(now - 365 * day)),
            ("1 year ago", Some(now - 365 * day)),
            ("3 days ago", Some(now - 3 * day)),
            ("2024-13-01", None),
            ("2023-02-29", None),
            ("2024-1-1", None),
            ("soon", None),
            ("last tuesday", None),
            ("-3d", None),
            ("3", None),
            ("3 fortnights", None),
            ("99999999999999999999d", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_since(text, now).ok(), *want, "{text:?}");
        }
        let err = parse_since("last tuesday", now).unwrap_err().to_string();
        assert!(err.starts_with("--since last tuesday: not a date"), "{err}");
        assert!(err.contains("3 days ago"), "{err}");
    }

    #[test]
    fn since_also_reads_what_git_reads() {
        let now = 1_700_000_000;
        // Our own forms do not ask git (and keep their meaning: a month is 30 days).
        assert_eq!(since("6m", now).ok(), Some(now - 180 * 86_400));
        // Git's: a zone-less date-time is local time, so only its day is certain here.
        let t = since("2023-11-14T22:13:20", now).unwrap();
        assert!((t - now).abs() <= 14 * 3600, "{t}");
        let week = since("1.week.ago", now).unwrap();
        assert!(
            week > now,
            "ages from git count back from the clock, not from `now`"
        );
        for bad in [
            "soonish",
            "2023-02-29T10:00:00",
            "2023-13-01 noon",
            "",
            "--all",
        ] {
            assert!(since(bad, now).is_err(), "{bad:?}");
        }
    }
}
