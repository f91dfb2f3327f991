//! Baselines: findings accepted once (`keyhound baseline create`), keyed by rule id and secret
//! fingerprint, never by line, so moving code does not bring a finding back and a new key on an
//! old line is still reported. `--baseline FILE` drops what the file lists; `keyhound baseline
//! prune` reports and removes entries that no longer match anything.
//!
//! A baseline written before issue 19 holds the old fingerprints (plain SHA-256); an entry
//! matches a finding by either form, the old one worked out in memory only for this comparison
//! and never written. `baseline create` and `prune` write the current form.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::fingerprint::legacy_fingerprint;

/// The default baseline file name.
pub(crate) const FILE_NAME: &str = ".keyhound-baseline.json";

/// One accepted finding. `path`, `line` and `redacted` are for the reader only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub rule: String,
    pub fingerprint: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub line: usize,
    #[serde(default)]
    pub redacted: String,
}

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

impl Baseline {
    /// A baseline accepting every finding given (one entry per rule and fingerprint).
    pub(crate) fn from_findings(findings: &[Finding]) -> Baseline {
        let mut seen = HashSet::new();
        let entries = findings
            .iter()
            .filter(|f| seen.insert((f.rule_id.clone(), f.fingerprint.clone())))
            .map(|f| Entry {
                rule: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                path: f.provenance.path().to_string(),
                line: f.location.line,
                redacted: f.redacted.clone(),
            })
            .collect();
        Baseline {
            version: 1,
            entries,
        }
    }

    /// Read a baseline; the error names the file and, for bad JSON, the line.
    pub(crate) fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read baseline: {e}", path.display()))?;
        Baseline::parse(&text, &path.display().to_string())
    }

    /// Parse baseline text; `origin` names it in errors.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Baseline, String> {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "{origin}:{}: not a keyhound baseline: {}",
                e.line(),
                e.to_string().split(" at line").next().unwrap_or_default()
            )
        })
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), String> {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline serializes");
        text.push('\n');
        std::fs::write(path, text)
            .map_err(|e| format!("{}: cannot write baseline: {e}", path.display()))
    }

    /// True when the baseline accepts this finding (by its fingerprint, or by the old form).
    pub(crate) fn accepts(&self, f: &Finding) -> bool {
        let mut legacy = None;
        self.entries.iter().any(|e| {
            e.rule == f.rule_id
                && (e.fingerprint == f.fingerprint
                    || e.fingerprint
                        == *legacy.get_or_insert_with(|| {
                            legacy_fingerprint(&f.rule_id, f.secret.as_bytes())
                        }))
        })
    }

    /// Rewrite the entries in the old fingerprint form that match one of `findings` in the
    /// current form (and its redaction), dropping any that then repeat an entry; returns how
    /// many were rewritten.
    pub(crate) fn upgrade(&mut self, findings: &[Finding]) -> usize {
        let by_legacy: std::collections::HashMap<(&str, String), &Finding> = findings
            .iter()
            .map(|f| {
                let legacy = legacy_fingerprint(&f.rule_id, f.secret.as_bytes());
                ((f.rule_id.as_str(), legacy), f)
            })
            .collect();
        let mut rewritten = 0;
        for e in &mut self.entries {
            if let Some(f) = by_legacy.get(&(e.rule.as_str(), e.fingerprint.clone())) {
                if e.fingerprint != f.fingerprint {
                    e.fingerprint = f.fingerprint.clone();
                    e.redacted = f.redacted.clone();
                    rewritten += 1;
                }
            }
        }
        let mut seen = HashSet::new();
        self.entries
            .retain(|e| seen.insert((e.rule.clone(), e.fingerprint.clone())));
        rewritten
    }

    /// Entries that match none of `findings`.
    pub(crate) fn stale(&self, findings: &[Finding]) -> Vec<Entry> {
        let mut live: HashSet<(&str, String)> = HashSet::new();
        for f in findings {
            live.insert((f.rule_id.as_str(), f.fingerprint.clone()));
            live.insert((
                f.rule_id.as_str(),
                legacy_fingerprint(&f.rule_id, f.secret.as_bytes()),
            ));
        }
        self.entries
            .iter()
            .filter(|e| !live.contains(&(e.rule.as_str(), e.fingerprint.clone())))
            .cloned()
            .collect()
    }
}
