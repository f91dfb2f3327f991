//! All colours in one place. Each function styles a piece of human output when colour is on.

use owo_colors::OwoColorize;

/// Colour choice resolved once per run.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn path(&self, s: &str) -> String {
        if self.color {
            s.magenta().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn rule(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn secret(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
}
