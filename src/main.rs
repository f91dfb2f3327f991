//! The `keyhound` binary: parse arguments, run, map the outcome to an exit code, print errors
//! on one line. Nothing else calls `std::process::exit`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // A panic message can quote scanned text (a failed string slice prints the string), so the
    // hook prints only where it happened, and the run ends with the error status.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "keyhound: error: internal error at {at}; please report it (details withheld: they may hold scanned content)"
        );
    }));
    let cli = match std::panic::catch_unwind(cli::Cli::try_parse) {
        Err(_) => return std::process::ExitCode::from(2),
        Ok(Ok(cli)) => cli,
        Ok(Err(e)) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    let outcome = match std::panic::catch_unwind(|| keyhound::run(cli.into_command())) {
        Ok(Ok(outcome)) => outcome,
        // stdout was closed before the output was written (`keyhound rules | head -1`): end
        // as a program killed by SIGPIPE does (status 141 in a shell), never with 0, which
        // would turn a failing run green under `set -o pipefail` (issue 19 item 5).
        Ok(Err(err)) if err.is_broken_pipe() => return closed_pipe(),
        Ok(Err(err)) => {
            // An error can name outside text (a path, a repository): escaped for the terminal.
            eprintln!(
                "keyhound: error: {}",
                keyhound::diag::escape(&err.to_string())
            );
            keyhound::Outcome::Error
        }
        Err(_) => keyhound::Outcome::Error,
    };
    std::process::ExitCode::from(outcome)
}

/// End the process by SIGPIPE, as a program writing to a closed pipe is ended when it does not
/// ignore the signal (Rust ignores it, so writes fail with `BrokenPipe` instead).
#[cfg(unix)]
fn closed_pipe() -> std::process::ExitCode {
    // SAFETY: `signal` and `raise` take no pointers; restoring the default action of SIGPIPE
    // and raising it ends the process here, as the kernel would have on the failed write.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Not reached; the status a shell shows for a process ended by SIGPIPE.
    std::process::ExitCode::from(141)
}

#[cfg(not(unix))]
fn closed_pipe() -> std::process::ExitCode {
    std::process::ExitCode::from(2)
}
