//! The repository list of `keyhound audit --repos-from LIST`: one repository a line, a local
//! path or a git URL, `#` starting a comment line, blank lines ignored, and an optional size
//! hint (`size=120M`) after the location so shards can be balanced before anything is cloned
//! (an organisation's API listing gives each repository's size; GitHub's is in KiB:
//! `size=12345K`).
//!
//! Each [`Entry`] has a display name: the location with any credentials in a URL replaced by
//! `***` ([`redact_url`]). Only the display name is ever printed or written to a report, and the
//! list's identity ([`List::identity`], which every shard report carries so `keyhound merge` can
//! refuse shards of different lists) is a hash of the display names. Relative paths are taken
//! from the current directory, as for `keyhound history PATH`. This module reads text only: it
//! neither touches the repositories nor the network.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Where a repository is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A repository on this machine (work tree, a directory in one, or a bare repository).
    Path(PathBuf),
    /// A git URL (`https://`, `ssh://`, `git://`, `file://` or scp-like `host:path`), mirrored
    /// into the cache before it is audited. Holds the URL as written, credentials included.
    Url(String),
}

/// One repository of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub location: Location,
    /// The location as reports name it: credentials redacted.
    pub name: String,
    /// `size=...` on the line, in bytes.
    pub size_hint: Option<u64>,
}

/// The list, in the order given, each repository once.
#[derive(Debug, Clone, Default)]
pub(crate) struct List {
    pub entries: Vec<Entry>,
}

impl List {
    /// Parse a list; `origin` names it in errors (`repos.txt:12: ...`).
    pub(crate) fn parse(text: &str, origin: &str) -> Result<List, Error> {
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{origin}:{}", i + 1);
            let (location, size_hint) =
                split_hint(line).map_err(|why| Error::new(format!("{}: {why}", at())))?;
            let entry = if is_url(location) {
                Entry {
                    name: redact_url(location),
                    location: Location::Url(location.to_string()),
                    size_hint,
                }
            } else {
                Entry {
                    name: location.to_string(),
                    location: Location::Path(PathBuf::from(location)),
                    size_hint,
                }
            };
            if entries.iter().any(|e| e.name == entry.name) {
                crate::diag::note(&format!(
                    "{}: {} is listed twice; audited once",
                    at(),
                    entry.name
                ));
                continue;
            }
            entries.push(entry);
        }
        if entries.is_empty() {
            return Err(Error::new(format!(
                "{origin}: no repositories listed (one path or git URL a line; # starts a comment)"
            )));
        }
        Ok(List { entries })
    }

    /// Read the list from a file, or standard input for `-`.
    pub(crate) fn read(path: &std::path::Path) -> Result<List, Error> {
        let shown = path.display().to_string();
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
                .map_err(|e| Error::new(format!("standard input: cannot read the list: {e}")))?
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| Error::new(format!("{shown}: cannot read the list: {e}")))?
        };
        List::parse(
            &text,
            if shown == "-" {
                "standard input"
            } else {
                &shown
            },
        )
    }

    /// The list's identity: SHA-256 of the display names in order. Every shard computes the
    /// same from the same list; credentials do not enter it.
    pub(crate) fn identity(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.entries {
            h.update(e.name.as_bytes());
            h.update(b"\n");
        }
        format!("sha256:{:x}", h.finalize())
    }

    /// The display names, in list order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }
}

/// `LOCATION [size=N[K|M|G]]`: the location and the size hint in bytes.
fn split_hint(line: &str) -> Result<(&str, Option<u64>), String> {
    let Some((location, last)) = line.rsplit_once(char::is_whitespace) else {
        return Ok((line, None));
    };
    let Some(size) = last.strip_prefix("size=") else {
        return Ok((line, None));
    };
    let (digits, unit) = match size.char_indices().last() {
        Some((i, 'K' | 'k')) => (&size[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&size[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&size[..i], 1 << 30),
        _ => (size, 1),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| {
            format!("\"{last}\" is not a size hint (examples: size=4096, size=12345K, size=2G)")
        })?;
    Ok((location.trim_end(), Some(bytes)))
}

/// Whether a list entry is a URL rather than a local path, by git's own rule: a scheme
/// (`https://`, `file://`...), or scp-like `[user@]host:path` where no `/` comes before the
/// first `:` (`./a:b` and `/srv/a:b` are paths).
pub(crate) fn is_url(s: &str) -> bool {
    if let Some((scheme, _)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    }
    match s.find(':') {
        // `C:\...` style single letters are drive letters on Windows, not hosts.
        Some(colon) => colon > 1 && !s[..colon].contains('/'),
        None => false,
    }
}

/// A URL with its credentials replaced by `***`: the user and password of
/// `scheme://user:password@host/...`, and for http(s) the user alone too (a token given as the
/// user name, as GitHub accepts). `ssh://git@host/...` and `git@host:path` keep their user: it
/// names an account, not a secret. Text that is not a URL comes back unchanged.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let web = matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ftp" | "ftps"
    );
    if !userinfo.contains(':') && !web {
        return url.to_string();
    }
    format!("{scheme}://***@{}", &rest[at + 1..])
}

/// `text` (a message from git, which may quote the URL) with the credentials of `url` removed:
/// the URL itself, its user information and the password alone are all replaced.
pub(crate) fn redact_in(text: &str, url: &str) -> String {
    let clean = redact_url(url);
    if clean == url {
        return text.to_string();
    }
    let mut out = text.replace(url, &clean);
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            out = out.replace(&format!("{userinfo}@"), "***@");
            for part in userinfo.split(':').filter(|p| p.len() >= 4) {
                out = out.replace(part, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        for url in [
            "https://github.com/org/repo.git",
            "ssh://git@host/org/repo",
            "git://127.0.0.1:9418/repo",
            "file:///srv/git/repo.git",
            "git@github.com:org/repo.git",
            "host:repo",
        ] {
            assert!(is_url(url), "{url}");
        }
        for path in [
            "/srv/repo",
            "./a:b",
            "repo",
            "../x/y",
            "/srv/a:b",
            "C:\\repo",
        ] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    fn credentials_are_redacted() {
        let cases = [
            ("https://user:hunter22@host/r.git", "https://***@host/r.git"),
            (
                "https://ghp_token0123@github.com/o/r",
                "https://***@github.com/o/r",
            ),
            ("ssh://git@host/o/r", "ssh://git@host/o/r"),
            ("ssh://me:pw12@host/o/r", "ssh://***@host/o/r"),
            ("https://host/o/r@v1", "https://host/o/r@v1"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("/srv/repo", "/srv/repo"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
        let said =
            "fatal: unable to access 'https://user:hunter22@host/r.git/': user:hunter22 hunter22";
        let clean = redact_in(said, "https://user:hunter22@host/r.git");
        assert!(!clean.contains("hunter22"), "{clean}");
        assert!(clean.contains("https://***@host/r.git"), "{clean}");
    }

    #[test]
    fn lines_comments_hints_and_duplicates() {
        let list = List::parse(
            "# org\n\n/srv/a\n  https://u:p4ss@h/b.git   size=12K\n/srv/a\n/srv/with space size=3\n",
            "list",
        )
        .unwrap();
        let names: Vec<&str> = list.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["/srv/a", "https://***@h/b.git", "/srv/with space"]);
        assert_eq!(list.entries[1].size_hint, Some(12 << 10));
        assert_eq!(list.entries[2].size_hint, Some(3));
        assert_eq!(
            list.entries[1].location,
            Location::Url("https://u:p4ss@h/b.git".into())
        );
        assert!(List::parse("# nothing\n", "list").is_err());
        let bad = List::parse("/srv/a size=lots\n", "list").unwrap_err();
        assert!(bad.to_string().starts_with("list:1:"), "{bad}");
    }

    #[test]
    fn identity_ignores_credentials_not_order() {
        let a = List::parse("https://u:one1@h/r\n/srv/b\n", "l").unwrap();
        let b = List::parse("https://u:two2@h/r\n/srv/b\n", "l").unwrap();
        let c = List::parse("/srv/b\nhttps://u:one1@h/r\n", "l").unwrap();
        assert_eq!(a.identity(), b.identity());
        assert_ne!(a.identity(), c.identity());
    }
}
