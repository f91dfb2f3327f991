//! All colours in one place: whether to colour ([`use_color`]: `--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`, a terminal) and how each piece of human output is
//! styled when colour is on.

use std::ffi::OsString;

use owo_colors::OwoColorize;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether to colour the human report. `--color always|never` wins; with `auto`, in this order:
/// `NO_COLOR` set and not empty turns colour off (no-color.org), `CLICOLOR_FORCE` set and not
/// `0` turns it on even off a terminal, `CLICOLOR=0` or `TERM=dumb` turn it off, else colour
/// when the report goes to a terminal (bixense.com/clicolors).
pub(crate) fn use_color(
    choice: ColorChoice,
    to_terminal: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> bool {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if set("CLICOLOR").is_some_and(|v| v == "0")
                || set("TERM").is_some_and(|v| v == "dumb")
            {
                false
            } else {
                to_terminal
            }
        }
    }
}

/// Colour choice resolved once per run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn path(&self, s: &str) -> String {
        if self.color {
            s.magenta().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub(crate) fn rule(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub(crate) fn secret(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_follows_flags_then_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| OsString::from(*v))
            }
        };
        let auto = ColorChoice::Auto;
        assert!(use_color(auto, true, env(&[])));
        assert!(!use_color(auto, false, env(&[])));
        assert!(!use_color(auto, true, env(&[("NO_COLOR", "1")])));
        assert!(use_color(auto, true, env(&[("NO_COLOR", "")])));
        assert!(use_color(auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!use_color(
            auto,
            false,
            env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        ));
        assert!(!use_color(auto, true, env(&[("TERM", "dumb")])));
        assert!(use_color(
            auto,
            false,
            env(&[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(!use_color(auto, true, env(&[("CLICOLOR", "0")])));
        assert!(use_color(
            ColorChoice::Always,
            false,
            env(&[("NO_COLOR", "1")])
        ));
        assert!(!use_color(
            ColorChoice::Never,
            true,
            env(&[("CLICOLOR_FORCE", "1")])
        ));
    }
}
