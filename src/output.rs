//! Writing a file keyhound produces (`--output`, `--state`, an agent's hook file): [`write`],
//! one function for all of them (issue 19 item 17).
//!
//! - A regular file, or a path that does not exist yet, is written whole or not at all: to a
//!   temporary file beside it (a name no other run uses: process id, a counter and the clock,
//!   created with `O_EXCL`) that is then renamed onto the path. A killed run leaves the old file;
//!   two runs writing one `--state` at once each rename a whole file (the last one wins).
//! - Anything else is written in place and never replaced: `/dev/null`, `/dev/stdout`, a FIFO, a
//!   socket, and a symbolic link (written through, so the link stays a link). Renaming over
//!   `/dev/null` replaced the device with a regular file, which as root breaks every program.
//! - `private` (a report holding secrets in full): a new file is created `0600`, and so is the
//!   file renamed onto an existing one; in place (a device, a FIFO), the mode is not touched.
//!   Otherwise a replaced file keeps its permissions.
//! - Every error names the file: `report.json: cannot write: No space left on device`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Write `path` with what `body` writes (see the module documentation). The error is the
/// message for the user, naming the file.
pub(crate) fn write(
    path: &Path,
    private: bool,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let failed = |e: io::Error| format!("{}: cannot write: {e}", path.display());
    let replace = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.file_type().is_file().then_some(Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(None),
        Err(e) => return Err(failed(e)),
    };
    let Some(existing) = replace else {
        // In place: a device, a FIFO, a socket or a symbolic link.
        let file = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(failed)?;
        return fill(file, body).map_err(failed);
    };
    let (tmp, file) = temporary(path, private).map_err(failed)?;
    let written = (|| {
        if let (false, Some(meta)) = (private, &existing) {
            file.set_permissions(meta.permissions())?;
        }
        fill(file, body)?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(failed)
}

/// Write `body` into `file`, flushed (a full disk shows here at the latest). Not synced: the
/// rename makes a killed run leave the old file or the new one whole, which is the promise; a
/// sync per state file would cost a re-audit more than its walk.
fn fill(file: File, body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut out = BufWriter::new(file);
    body(&mut out)?;
    out.flush()
}

/// A new file beside `path` that no other run (or thread) picks: `.NAME.tmp-PID-N-NANOS`.
fn temporary(path: &Path, private: bool) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}.tmp-{}-{n}-{nanos}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_replaced_whole_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write(&path, false, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        // A failing body leaves the old file and no temporary one.
        let err = write(&path, false, |_| Err(io::Error::other("boom"))).unwrap_err();
        assert!(err.contains("r.json: cannot write: boom"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temporary_names_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let (a, _) = temporary(&path, false).unwrap();
        let (b, _) = temporary(&path, false).unwrap();
        assert_ne!(a, b);
    }
}
