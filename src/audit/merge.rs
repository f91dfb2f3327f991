//! `keyhound merge REPORT...`: the shard reports of one `keyhound audit --shards N` joined into
//! the report one process would have written for the whole list, and the canonical form every
//! organisation report takes, so that the two are the same bytes.
//!
//! [`combine`] checks that the reports belong together (the same list, the same N, the same
//! keyhound), keeps one report per shard (a report given twice, or a rerun beside the report it
//! replaces, counts once: the complete one, else the last given), takes each repository's
//! coverage record and findings from the shard that audited it, and names every repository no
//! report covers as not audited (incomplete: exit 2). [`canonical`] then orders everything by
//! content alone: findings by the repository's place in the list, then path, position, rule and
//! commit; one summary per unique secret across all repositories (first commit, still present at
//! any branch tip, every path); coverage records in list order. A whole-list report leaves out
//! the run statistics that depend on the split ([`Summary::without_run_statistics`]: times,
//! blobs and bytes read), so the same audit gives the same bytes however it was split.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::KEYHOUND;
use crate::error::Error;
use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::scan::history::SecretTable;
use crate::summary::{
    AuditRecord, Coverage, SecretSummary, SkipReason, Summary, VerificationCounts,
};

/// One audit report: a shard's, or a whole list's.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// Where it came from, for messages (a file name).
    pub origin: String,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl Part {
    fn record(&self) -> &AuditRecord {
        self.summary
            .audit
            .as_ref()
            .expect("combine checks every part has an audit record")
    }

    /// (index, count) of the shard; a whole-list report is shard 0 of 1.
    fn shard(&self) -> (usize, usize) {
        self.record()
            .shard
            .as_ref()
            .map_or((0, 1), |s| (s.index, s.count))
    }

    fn complete(&self) -> bool {
        !self.summary.incomplete && self.summary.coverage.iter().all(|c| !c.incomplete)
    }
}

/// Join shard reports into the report of the whole list (see the module documentation).
pub(crate) fn combine(parts: Vec<Part>) -> Result<Part, Error> {
    let Some(first) = parts.first() else {
        return Err(Error::new("merge needs at least one report"));
    };
    for p in &parts {
        if p.summary.audit.is_none() {
            return Err(Error::new(format!(
                "{}: not a report of `keyhound audit` (no audit record in its summary); merge joins the JSON reports of `keyhound audit --shard K/N --format json --show-secrets`",
                p.origin
            )));
        }
    }
    let reference = first.record().clone();
    let count = first.shard().1;
    for p in &parts[1..] {
        let record = p.record();
        if record.list != reference.list || record.repositories != reference.repositories {
            return Err(Error::new(format!(
                "{} and {} audit different repository lists ({} and {}); merge the shards of one list",
                first.origin, p.origin, reference.list, record.list
            )));
        }
        if record.since != reference.since || record.unreachable != reference.unreachable {
            return Err(Error::new(format!(
                "{} and {} were audited with different --since or --unreachable; audit every shard with the same options",
                first.origin, p.origin
            )));
        }
        if p.shard().1 != count {
            return Err(Error::new(format!(
                "{} is a shard of {} and {} a shard of {}; merge the shards of one `--shards N` run",
                first.origin,
                count,
                p.origin,
                p.shard().1
            )));
        }
    }
    let versions: Vec<&str> = {
        let mut v: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.record().shard.as_ref().map(|s| s.keyhound.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if versions.len() > 1 || versions.first().is_some_and(|v| *v != KEYHOUND) {
        return Err(Error::new(format!(
            "the shards were audited by keyhound {} and this is keyhound {KEYHOUND}; audit every shard and merge with one version, so the rules are the same",
            versions.join(", ")
        )));
    }
    let plans: Vec<&Vec<usize>> = parts
        .iter()
        .filter_map(|p| p.record().shard.as_ref().map(|s| &s.plan))
        .collect();
    if plans.windows(2).any(|w| w[0] != w[1]) {
        crate::diag::warn(
            "the shards planned the list differently (a local repository's size changed between their runs); each repository is taken from the shard that audited it",
        );
    }
    let plan: Vec<usize> = plans
        .first()
        .map_or_else(|| vec![0; reference.repositories.len()], |p| (*p).clone());

    // One report per shard: the complete one, else the last given.
    let mut by_shard: BTreeMap<usize, Part> = BTreeMap::new();
    for p in parts {
        let index = p.shard().0;
        if let Some(kept) = by_shard.get(&index) {
            let replace = p.complete() || !kept.complete();
            crate::diag::note(&format!(
                "{} and {} are both shard {index}/{count}; using {}",
                kept.origin,
                p.origin,
                if replace { &p.origin } else { &kept.origin }
            ));
            if !replace {
                continue;
            }
        }
        by_shard.insert(index, p);
    }

    // Each repository from the first shard that has a record of it.
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut coverage: Vec<Coverage> = Vec::new();
    for (&index, p) in &by_shard {
        for c in &p.summary.coverage {
            if !taken.contains_key(&c.repository) {
                taken.insert(c.repository.clone(), index);
                coverage.push(c.clone());
            }
        }
    }
    for (name, &shard) in reference.repositories.iter().zip(&plan) {
        if taken.contains_key(name) {
            continue;
        }
        let why = if by_shard.contains_key(&shard) {
            format!("not audited: the report of shard {shard}/{count} has no record of it")
        } else {
            format!("not audited: no report of shard {shard}/{count} (rerun that shard, then merge again)")
        };
        coverage.push(Coverage {
            repository: name.clone(),
            incomplete: true,
            error: Some(why),
            ..Coverage::default()
        });
    }

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut verified = false;
    for (&index, p) in &by_shard {
        let s = &p.summary;
        summary.files += s.files;
        summary.bytes += s.bytes;
        summary.elapsed_ms += s.elapsed_ms;
        summary.errors += s.errors;
        summary.suppressed += s.suppressed;
        summary.incomplete |= s.incomplete;
        verified |= s.verification.is_some();
        skipped.extend(s.skipped.iter().cloned());
        summary.secrets.extend(s.secrets.iter().cloned());
        findings.extend(
            p.findings
                .iter()
                .filter(|f| {
                    f.repository
                        .as_ref()
                        .is_none_or(|r| taken.get(r) == Some(&index))
                })
                .cloned(),
        );
    }
    summary.skipped = skipped;
    summary.coverage = coverage;
    if verified {
        summary.verification = Some(VerificationCounts::of(&findings));
    }
    summary.audit = Some(AuditRecord {
        shard: None,
        ..reference
    });
    Ok(Part {
        origin: "merged".into(),
        findings,
        summary,
    })
}

/// The canonical form of an audit report: findings sorted by content, one summary per unique
/// secret (recomputed from the findings, `present` from the parts' summaries, exposure up to
/// `now`), coverage in list order, the skipped blobs each once.
pub(crate) fn canonical(part: &mut Part, rules: &RuleSet, now: i64) {
    let record = part.summary.audit.clone().unwrap_or_default();
    let position: HashMap<&str, usize> = record
        .repositories
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let place = |f: &Finding| {
        f.repository
            .as_deref()
            .and_then(|r| position.get(r).copied())
            .unwrap_or(usize::MAX)
    };
    part.findings.sort_by_cached_key(|f| {
        (
            place(f),
            f.sort_key(),
            f.fingerprint.clone(),
            f.location.end_line,
            f.location.end_column,
        )
    });
    let mut present = Presence::default();
    for s in &part.summary.secrets {
        if s.present_at_tip {
            present.secrets.insert(s.fingerprint.clone());
        }
        for l in &s.locations {
            present.locations.insert(
                (s.fingerprint.clone(), l.repository.clone(), l.path.clone()),
                l.present_at_tip,
            );
        }
    }
    let secrets = secrets(&part.findings, &present, rules, now);
    part.summary.secrets = secrets;
    part.summary.findings = part.findings.len();
    let skipped = &mut part.summary.skipped;
    crate::pipeline::one_per_path(skipped);
    part.summary.skipped_binary = skipped
        .iter()
        .filter(|s| s.reason == SkipReason::Binary)
        .count() as u64;
    part.summary.skipped_large = skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::TooLarge { .. }))
        .count() as u64;
    let mut coverage = std::mem::take(&mut part.summary.coverage);
    coverage.sort_by_key(|c| {
        position
            .get(c.repository.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    });
    part.summary.coverage = coverage;
    part.summary.incomplete |= part
        .summary
        .coverage
        .iter()
        .any(|c| c.incomplete || c.error.is_some());
}

/// What the parts' summaries say is still at a branch tip: secrets (by fingerprint), and
/// (fingerprint, repository, path) locations where a part audited several repositories.
#[derive(Default)]
struct Presence {
    secrets: HashSet<String>,
    locations: HashMap<(String, String, String), bool>,
}

/// One summary per unique secret of `findings` (in report order): its rule, every path,
/// repository and (repository, path) location with the earliest commit there, the earliest
/// commit of all, and whether it is still at a branch tip (of any repository; of that
/// repository for a location); still-present first, then the longest exposed, then by
/// fingerprint. A location no part recorded (a shard of one repository writes none) takes the
/// secret's presence.
fn secrets(
    findings: &[Finding],
    present: &Presence,
    rules: &RuleSet,
    now: i64,
) -> Vec<SecretSummary> {
    let mut table = SecretTable::new(rules, now);
    for f in findings {
        let anywhere = present.secrets.contains(&f.fingerprint);
        let here = f.repository.as_ref().is_some_and(|r| {
            present
                .locations
                .get(&(
                    f.fingerprint.clone(),
                    r.clone(),
                    f.provenance.path().to_string(),
                ))
                .copied()
                .unwrap_or(anywhere)
        });
        table.add(f, anywhere, here);
    }
    table.finish()
}
