//! The one integration-test binary: each module tests one command against the real binary.
mod ci;
mod formats;
mod harness;
mod history;
mod hostile;
mod issue10;
mod readme;
mod readme_ci;
mod rules;
mod sarif;
mod sarif_limits;
mod scan;
mod snapshot;
mod staged;
mod verify;
mod verify_ai;
mod wheel;
