//! Reading blobs in a given order (issue 12), each reading thread on its own: through libgit2
//! ([`read_git2`], the default), or with one `git cat-file --batch` process per call ([`read`],
//! `KEYHOUND_HISTORY_READER=git`, for benchmarks), fed the ids on a writer thread while the
//! caller's thread takes each blob's bytes as git inflates them. Either way a delta chain read
//! in pack order finds its base in the delta-base cache, so each base is inflated once. A size
//! over the limit (from the listing, or the object's header) is read past, never held. An
//! object that cannot be read (corrupt, or git stops) is reported for that object, and the
//! reader goes on with the next ones. [`Listing`] is the pack order itself: `git cat-file
//! --batch-all-objects --unordered --batch-check`, the blobs of every pack by offset with
//! their sizes.
//!
//! On git/git (`bench/history.sh git`), libgit2 in-process is the faster: 5.6 GB of blob
//! versions through a pipe cost 4-5 s of system CPU (pipe pages), more than the inflating in
//! either. It decides nothing about which blobs to read (see `attribute`) and does not scan
//! (see `read`).

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use git2::{ErrorCode, ObjectType, Oid, Repository};

/// One blob as the reader got it.
pub(super) enum Blob<'a> {
    Bytes(&'a [u8]),
    /// Over the size limit: its size; the content was never kept.
    TooLarge(u64),
    /// Not in the object database.
    Missing,
    /// Could not be read: why (no content of it).
    Failed(String),
}

/// `git --git-dir DIR` with bounded memory. By default each `cat-file` process keeps up to 96 MB
/// of delta bases (`core.deltaBaseCacheLimit`) and maps up to 8 GiB of pack in 1 GiB windows;
/// read in pack order, a delta's base is one of the last few objects read, so a small cache
/// serves the chain as well as a large one, and small windows cost nothing measurable. On
/// git/git (two processes, each half of the blobs in pack order, `bench/README.md`) these
/// settings take each process from 217 MB to 59 MB peak RSS at the same speed (2.77-3.22 s
/// against 3.29-3.42 s for one half).
pub(super) fn git(git_dir: &Path) -> Command {
    let mut cmd = crate::git::command();
    cmd.arg("--git-dir")
        .arg(git_dir)
        .args([
            "-c",
            "core.deltaBaseCacheLimit=16m",
            "-c",
            "core.packedGitWindowSize=1m",
            "-c",
            "core.packedGitLimit=8m",
        ])
        .env("GIT_OPTIONAL_LOCKS", "0")
        // In a partial clone, a blob the clone left out is missing, not fetched one round trip
        // at a time from the promisor remote in the middle of an audit (git 2.44 and later).
        .env("GIT_NO_LAZY_FETCH", "1");
    cmd
}

/// Whether to read blobs with `git cat-file` instead of libgit2 (a benchmark switch; see the
/// module doc).
pub(super) fn use_git() -> bool {
    std::env::var_os("KEYHOUND_HISTORY_READER").is_some_and(|v| v == "git")
}

/// The blobs of the object database in pack order (each pack by offset, then loose objects),
/// with their sizes. `complete` is false when git stopped early (a corrupt object): what was
/// listed is still an order, and blobs it lacks are read after it.
pub(super) struct Listing {
    pub blobs: Vec<(Oid, u64)>,
    pub complete: bool,
}

impl Listing {
    /// Ask git for the listing; `None` when git cannot be run.
    pub fn read(git_dir: &Path) -> Option<Listing> {
        let mut child = git(git_dir)
            .args([
                "cat-file",
                "--batch-all-objects",
                "--unordered",
                "--batch-check=%(objectname) %(objecttype) %(objectsize)",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let out = BufReader::with_capacity(1 << 16, child.stdout.take().expect("stdout is piped"));
        let mut blobs = Vec::new();
        let mut complete = true;
        for line in out.split(b'\n') {
            let Ok(line) = line else {
                complete = false;
                break;
            };
            let mut parts = line.split(|&b| b == b' ');
            let (Some(id), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next())
            else {
                complete = false;
                continue;
            };
            if kind != b"blob" {
                continue;
            }
            let id = std::str::from_utf8(id)
                .ok()
                .and_then(|s| Oid::from_str(s).ok());
            let size = std::str::from_utf8(size).ok().and_then(|s| s.parse().ok());
            match (id, size) {
                (Some(id), Some(size)) => blobs.push((id, size)),
                _ => complete = false,
            }
        }
        complete &= child.wait().is_ok_and(|s| s.success());
        Some(Listing { blobs, complete })
    }
}

/// Read `ids` in this order with `git cat-file --batch`, calling `each(index, blob)` once per id.
/// Content over `max` bytes is read past. Err only when git cannot be started at all (the
/// caller then reads with [`read_git2`]); after a failure on one object, a new process reads the
/// rest.
pub(super) fn read(
    git_dir: &Path,
    ids: &[Oid],
    max: u64,
    mut each: impl FnMut(usize, Blob),
) -> std::io::Result<()> {
    let mut next = 0;
    let mut buf = Vec::new();
    while next < ids.len() {
        let mut child = match spawn(git_dir) {
            Ok(c) => c,
            Err(e) if next == 0 => return Err(e),
            Err(e) => {
                for i in next..ids.len() {
                    each(i, Blob::Failed(format!("cannot run git: {e}")));
                }
                return Ok(());
            }
        };
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let base = next;
        let rest = &ids[base..];
        next = std::thread::scope(|scope| {
            // Write on another thread: git answers while we still write, and pipes are bounded.
            scope.spawn(move || {
                let mut w = BufWriter::with_capacity(1 << 16, stdin);
                for id in rest {
                    if writeln!(w, "{id}").is_err() {
                        return;
                    }
                }
                let _ = w.flush();
            });
            let mut reader = BufReader::with_capacity(1 << 16, stdout);
            let stopped = read_answers(&mut reader, rest, max, &mut buf, |i, b| each(base + i, b));
            if stopped.is_some() {
                // git stopped: the writer sees a closed pipe and ends; make sure git is gone.
                let _ = child.kill();
            }
            drop(reader);
            stopped.map_or(ids.len(), |i| base + i + 1)
        });
        let _ = child.wait();
    }
    Ok(())
}

/// `git cat-file --batch --buffer` (answers buffered: ids come from a writer, never waited
/// for), its answers through a 1 MiB pipe where the system allows (64 KiB is the default):
/// fewer switches between git and the reader on 5.6 GB of git/git.
fn spawn(git_dir: &Path) -> std::io::Result<Child> {
    let child = git(git_dir)
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    #[cfg(target_os = "linux")]
    if let Some(out) = &child.stdout {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a pipe descriptor this process owns; a refusal (EPERM beyond
        // /proc/sys/fs/pipe-max-size) leaves the pipe as it was.
        unsafe {
            libc::fcntl(out.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
    Ok(child)
}

/// Take git's answers for `ids`; `Some(i)` when git stopped at `ids[i]` (reported as failed).
fn read_answers(
    reader: &mut impl BufRead,
    ids: &[Oid],
    max: u64,
    buf: &mut Vec<u8>,
    mut each: impl FnMut(usize, Blob),
) -> Option<usize> {
    let mut header = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let stopped = |each: &mut dyn FnMut(usize, Blob)| {
            each(i, Blob::Failed("git cat-file stopped at it".into()));
            Some(i)
        };
        header.clear();
        if reader.read_until(b'\n', &mut header).unwrap_or(0) == 0 {
            return stopped(&mut each);
        }
        let line = String::from_utf8_lossy(&header);
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.first() != Some(&id.to_string().as_str()) {
            return stopped(&mut each);
        }
        let size = match parts[..] {
            [_, "missing"] => {
                each(i, Blob::Missing);
                continue;
            }
            [_, kind, size] => match size.parse::<u64>() {
                Ok(size) if kind == "blob" => size,
                Ok(size) => {
                    if skip(reader, size + 1).is_err() {
                        return stopped(&mut each);
                    }
                    each(i, Blob::Failed(format!("a {kind}, not a blob")));
                    continue;
                }
                Err(_) => return stopped(&mut each),
            },
            _ => return stopped(&mut each),
        };
        if size > max {
            if skip(reader, size + 1).is_err() {
                return stopped(&mut each);
            }
            each(i, Blob::TooLarge(size));
            continue;
        }
        buf.clear();
        let got = reader.by_ref().take(size + 1).read_to_end(buf);
        if !matches!(got, Ok(n) if n as u64 == size + 1) {
            return stopped(&mut each);
        }
        buf.pop(); // the newline after the content
        each(i, Blob::Bytes(buf));
    }
    None
}

fn skip(reader: &mut impl Read, n: u64) -> std::io::Result<()> {
    let skipped = std::io::copy(&mut reader.take(n), &mut std::io::sink())?;
    if skipped == n {
        Ok(())
    } else {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

/// [`read`] through libgit2: the same order, the same answers.
pub(super) fn read_git2(
    git_dir: &Path,
    ids: &[Oid],
    sizes: &[Option<u64>],
    max: u64,
    mut each: impl FnMut(usize, Blob),
) -> Result<(), git2::Error> {
    let repo = Repository::open(git_dir)?;
    let odb = repo.odb()?;
    for (i, &id) in ids.iter().enumerate() {
        let header = match sizes.get(i).copied().flatten() {
            Some(size) => Ok((size as usize, ObjectType::Blob)),
            None => odb.read_header(id),
        };
        match header {
            Ok((size, _)) if size as u64 > max => each(i, Blob::TooLarge(size as u64)),
            Err(e) if e.code() == ErrorCode::NotFound => each(i, Blob::Missing),
            _ => match odb.read(id) {
                Ok(obj) if obj.kind() == ObjectType::Blob => each(i, Blob::Bytes(obj.data())),
                Ok(obj) => each(i, Blob::Failed(format!("a {}, not a blob", obj.kind()))),
                Err(e) if e.code() == ErrorCode::NotFound => each(i, Blob::Missing),
                Err(e) => each(i, Blob::Failed(e.message().to_string())),
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    /// What `read_answers` reported, as text.
    fn answers(stream: &[u8], ids: &[Oid], max: u64) -> (Vec<String>, Option<usize>) {
        let mut got = Vec::new();
        let mut buf = Vec::new();
        let stopped = read_answers(&mut &stream[..], ids, max, &mut buf, |i, b| {
            got.push(match b {
                Blob::Bytes(b) => format!("{i} bytes {}", String::from_utf8_lossy(b)),
                Blob::TooLarge(n) => format!("{i} too large {n}"),
                Blob::Missing => format!("{i} missing"),
                Blob::Failed(why) => format!("{i} failed {why}"),
            })
        });
        (got, stopped)
    }

    #[test]
    fn cat_file_answers_blobs_missing_large_and_cut_off() {
        let (a, b, c, d) = (id(1), id(2), id(3), id(4));
        let stream =
            format!("{a} blob 3\nabc\n{b} missing\n{c} blob 10\n0123456789\n{d} blob 5\nab");
        let (got, stopped) = answers(stream.as_bytes(), &[a, b, c, d], 5);
        assert_eq!(
            got,
            [
                "0 bytes abc",
                "1 missing",
                "2 too large 10",
                "3 failed git cat-file stopped at it"
            ]
        );
        assert_eq!(stopped, Some(3));
        // An answer for another object than asked: git and the reader disagree, stop there.
        let (got, stopped) = answers(format!("{b} blob 1\nx\n").as_bytes(), &[a], 5);
        assert_eq!(got, ["0 failed git cat-file stopped at it"]);
        assert_eq!(stopped, Some(0));
    }
}
