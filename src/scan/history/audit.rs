//! What a history scan's findings say per secret: [`group`] merges repeated findings of one
//! secret at one path, and [`audit`] builds the per-secret summary (first commit, author, days
//! exposed, still present at a branch tip). In a range audit a secret the base's history already
//! had is dated from there (`HistoryResult::before_base`), not from the range that copied it
//! (issue 10, #18 there). Pure functions of the scan's result: no I/O, no clock, no formatting.

use std::collections::{BTreeMap, HashMap, HashSet};

use git2::Oid;

use super::HistoryResult;
use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::summary::{SecretLocation, SecretSummary};

/// Group findings: one per (repository, secret, path), the earliest commit kept, unless every
/// occurrence was asked for.
pub(crate) fn group(findings: &mut Vec<Finding>, all: bool) {
    if !all {
        keep_earliest(findings);
    }
}

/// Keep one finding per (repository, secret, path): the one of the earliest commit. A fork's
/// copy of a secret is a finding of the fork too: whoever clones the fork has it.
pub(super) fn keep_earliest(findings: &mut Vec<Finding>) {
    let time = |f: &Finding| f.provenance.commit().map_or(i64::MAX, |c| c.time);
    let mut best: HashMap<(Option<&str>, &str, &str), usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        let key = (
            f.repository.as_deref(),
            f.fingerprint.as_str(),
            f.provenance.path(),
        );
        match best.get(&key) {
            Some(&j) if time(&findings[j]) <= time(f) => {}
            _ => {
                best.insert(key, i);
            }
        }
    }
    let keep: HashSet<usize> = best.into_values().collect();
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        keep.contains(&(i - 1))
    });
}

/// One summary per unique secret of `reported` (the findings the policy let through, from
/// `result`'s scan): first commit, exposure in days up to `now` (seconds since the
/// epoch), still present at a branch tip; still-present secrets first, then the longest exposed.
/// In an audit of several repositories a secret is one entry however many repositories have
/// it: it lists them, and its first commit is the earliest in any.
///
/// A secret the range reports that the base's history already had is dated from its first
/// commit there, and that path is listed too: a key copied into a pull request from a file
/// committed two years ago has been exposed for two years, and the reviewer must treat it as an
/// old leak to revoke, not as a new one the pull request can simply drop.
pub(crate) fn audit(
    reported: &[Finding],
    result: &HistoryResult,
    rules: &RuleSet,
    now: i64,
) -> Vec<SecretSummary> {
    let at_tip = |f: &Finding, tips: Option<&HashSet<Oid>>| {
        f.blob
            .as_deref()
            .and_then(|b| Oid::from_str(b).ok())
            .is_some_and(|b| tips.is_some_and(|t| t.contains(&b)))
    };
    let mut table = SecretTable::new(rules, now);
    let reported = reported.iter().map(|f| (f, true));
    let earlier = result.before_base.iter().map(|f| (f, false));
    for (f, in_report) in reported.chain(earlier) {
        if !in_report && !table.has(&f.fingerprint) {
            // Only secrets the report lists get a summary.
            continue;
        }
        let here = f
            .repository
            .as_ref()
            .is_some_and(|r| at_tip(f, result.tips_by_repository.get(r)));
        table.add(f, at_tip(f, Some(&result.at_tips)), here);
    }
    table.finish()
}

/// The per-secret summaries, built one finding at a time by whatever knows which occurrences
/// are at a branch tip: [`audit`] from the scan's tips, `keyhound merge` from what the shards'
/// reports recorded.
pub(crate) struct SecretTable<'a> {
    rules: &'a RuleSet,
    now: i64,
    by_secret: BTreeMap<&'a str, SecretSummary>,
    first_time: HashMap<&'a str, i64>,
    location_time: HashMap<(&'a str, &'a str, &'a str), i64>,
}

impl<'a> SecretTable<'a> {
    /// `now`: seconds since the epoch, the end of every exposure.
    pub(crate) fn new(rules: &'a RuleSet, now: i64) -> SecretTable<'a> {
        SecretTable {
            rules,
            now,
            by_secret: BTreeMap::new(),
            first_time: HashMap::new(),
            location_time: HashMap::new(),
        }
    }

    /// The secret with this fingerprint has a summary already.
    pub(crate) fn has(&self, fingerprint: &str) -> bool {
        self.by_secret.contains_key(fingerprint)
    }

    /// Count one occurrence of a secret: `present` if it is at a branch tip of any repository,
    /// `here` if at a tip of its own repository (for the (repository, path) location, in an
    /// audit of several repositories).
    pub(crate) fn add(&mut self, f: &'a Finding, present: bool, here: bool) {
        let rules = self.rules;
        let entry = self
            .by_secret
            .entry(&f.fingerprint)
            .or_insert_with(|| SecretSummary {
                rule: f.rule_id.clone(),
                provider: rules.rules[f.rule].provider.clone(),
                redacted: f.redacted.clone(),
                fingerprint: f.fingerprint.clone(),
                present_at_tip: false,
                first_commit: String::new(),
                first_author: String::new(),
                first_date: String::new(),
                exposed_days: 0,
                paths: Vec::new(),
                repositories: Vec::new(),
                locations: Vec::new(),
            });
        let path = f.provenance.path();
        let commit = f.provenance.commit();
        if let Some(repository) = &f.repository {
            if !entry.repositories.contains(repository) {
                entry.repositories.push(repository.clone());
            }
            let time = commit.map_or(i64::MAX, |c| c.time);
            let key = (f.fingerprint.as_str(), repository.as_str(), path);
            match entry
                .locations
                .iter_mut()
                .find(|l| l.repository == *repository && l.path == path)
            {
                Some(l) => {
                    l.present_at_tip |= here;
                    if time < self.location_time[&key] {
                        l.first_commit = commit.map(|c| c.id.clone()).unwrap_or_default();
                        self.location_time.insert(key, time);
                    }
                }
                None => {
                    entry.locations.push(SecretLocation {
                        repository: repository.clone(),
                        path: path.to_string(),
                        first_commit: commit.map(|c| c.id.clone()).unwrap_or_default(),
                        present_at_tip: here,
                    });
                    self.location_time.insert(key, time);
                }
            }
        }
        entry.present_at_tip |= present;
        if !entry.paths.iter().any(|p| p == path) {
            entry.paths.push(path.to_string());
        }
        if let Some(c) = commit {
            let t = self.first_time.entry(&f.fingerprint).or_insert(i64::MAX);
            if c.time < *t {
                *t = c.time;
                entry.first_commit = c.id.clone();
                entry.first_author = format!("{} <{}>", c.author, c.email);
                entry.first_date = c.date.clone();
                entry.exposed_days = (self.now - c.time).max(0) / 86_400;
            }
        }
    }

    /// The summaries: still-present secrets first, then the longest exposed, then by
    /// fingerprint.
    pub(crate) fn finish(self) -> Vec<SecretSummary> {
        let mut secrets: Vec<SecretSummary> = self.by_secret.into_values().collect();
        secrets.sort_by(|a, b| {
            b.present_at_tip
                .cmp(&a.present_at_tip)
                .then(b.exposed_days.cmp(&a.exposed_days))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        secrets
    }
}
