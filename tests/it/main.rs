//! The one integration-test binary: each module tests one command against the real binary.
mod harness;
mod history;
mod history_state;
mod hostile;
mod issue10;
mod rules;
mod sarif;
mod scan;
mod snapshot;
mod staged;
mod verify;
