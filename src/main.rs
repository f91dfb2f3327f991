//! The `keyhound` binary: parse arguments, run, map the outcome to an exit code, print errors
//! on one line. Nothing else calls `std::process::exit`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match keyhound::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    let outcome = match keyhound::run(cli.into_command()) {
        Ok(outcome) => outcome,
        Err(err) => {
            if !err.is_broken_pipe() {
                eprintln!("keyhound: error: {err}");
                keyhound::Outcome::Error
            } else {
                keyhound::Outcome::Clean
            }
        }
    };
    std::process::ExitCode::from(outcome)
}
