//! The one integration-test binary: each module tests one command against the real binary.
// The tests print their own diagnostics; the one-output-channel rule (clippy.toml) is the
// library's.
#![allow(clippy::disallowed_methods)]
mod agent;
mod archives;
mod audit;
mod audit_safety;
mod ci;
mod cli;
mod deploy;
mod encodings;
mod formats;
mod gitleaks;
mod harness;
mod history;
mod history_multi;
mod history_state;
mod hostile;
mod html;
mod issue10;
mod precision;
mod readme;
mod readme_ci;
mod redaction;
mod rules;
mod sarif;
mod sarif_limits;
mod scan;
mod snapshot;
mod staged;
mod terminal;
mod verify;
mod verify_ai;
mod wheel;
