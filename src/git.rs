//! The one way keyhound starts the `git` program ([`command`]): with every setting through
//! which a repository's own config could make git run a program turned off (issue 19 item 13).
//! A repository that is scanned may be hostile: its `.git/config` is not the user's, and
//! `keyhound staged` ran its `core.fsmonitor` through `git diff --cached`.
//!
//! What is turned off, and why each:
//! - `core.fsmonitor`: a program git runs to learn which files changed (index refresh);
//! - `core.hooksPath=/dev/null`: hooks (`reference-transaction` runs on a fetch's ref updates);
//! - `--no-pager`: `core.pager` and `pager.<command>`;
//! - `diff.external` and `diff.<driver>.textconv`/`command`: `GIT_EXTERNAL_DIFF` is dropped from
//!   the environment, and the diff callers pass `--no-ext-diff --no-textconv`;
//! - `log.showSignature`: it runs `gpg.program`.
//!
//! It does not touch what the user chose for the network (`credential.helper`,
//! `core.sshCommand`, `GIT_SSH_COMMAND`: the audit's fetches need them) nor the system config
//! (`GIT_CONFIG_NOSYSTEM` is left as it is: that file is the administrator's, not the
//! repository's). Callers add the folder (`-C`, `--git-dir` or `current_dir`) and the arguments.

use std::process::{Command, Stdio};

/// `git` with no program-running setting of the repository in effect, no pager, no prompt on
/// stdin (stdin is empty unless the caller pipes it).
pub(crate) fn command() -> Command {
    let mut cmd = command_with_hooks();
    cmd.args(["-c", "core.hooksPath=/dev/null"]);
    cmd
}

/// [`command`] with `core.hooksPath` as configured, for asking git where the hooks live
/// (`git rev-parse --git-path hooks`); never for a command that runs hooks.
pub(crate) fn command_with_hooks() -> Command {
    let mut cmd = Command::new("git");
    cmd.args([
        "--no-pager",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "log.showSignature=false",
    ])
    .env_remove("GIT_EXTERNAL_DIFF")
    .env_remove("GIT_PAGER")
    .stdin(Stdio::null());
    cmd
}
