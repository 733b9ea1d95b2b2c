//! `verify`: the graph in the database against the counts the file implies
//! (the same [`expected_counts`](crate::graph::counts::expected_counts) that
//! `check` prints), plus a few analyst questions answered from the graph.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::graph::counts::{GraphCounts, expected_latest_snapshot};
use crate::graph::model::{Label, RelType};
use crate::pipeline::analyze::{Analysis, Depth, analyze, key_fingerprint};
use crate::pipeline::load::LoadError;
use crate::pipeline::outputs::terminal_safe;
use crate::pipeline::text::grouped;
use crate::sink::neo4j::Neo4jSink;
use crate::sink::neo4j::bolt::Row;
use crate::sink::neo4j::cypher::{GRADUATES_PER_PROGRAM, GRADUATES_PLACED, LEARNERS_PER_COUNTRY};

/// One count that differs.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Difference {
    pub what: String,
    pub expected: u64,
    pub actual: u64,
}

#[derive(Debug, Serialize)]
pub struct AnalystAnswers {
    /// (country code, learners), top 10.
    pub learners_per_country: Vec<(String, i64)>,
    /// (program, graduates), top 10.
    pub graduates_per_program: Vec<(String, i64)>,
    pub graduates: i64,
    pub graduates_placed: i64,
    /// Share of graduates whose isPlaced is true.
    pub graduate_employment_rate: f64,
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub input: PathBuf,
    pub expected: GraphCounts,
    pub actual: GraphCounts,
    pub differences: Vec<Difference>,
    /// The graph holds several snapshots: the latest one's view is compared.
    pub several_snapshots: bool,
    pub answers: AnalystAnswers,
}

impl VerifyReport {
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if self.several_snapshots {
            let _ = writeln!(
                out,
                "The graph holds several snapshots: compared is the latest one's view (learners not marked \
                 missing, their current states); shared nodes of earlier snapshots stay."
            );
        }
        let _ = writeln!(out, "{:<37} {:>12} {:>12}", "", "expected", "in database");
        for (section, expected, actual) in [
            ("node", &self.expected.nodes, &self.actual.nodes),
            (
                "relationship",
                &self.expected.relationships,
                &self.actual.relationships,
            ),
        ] {
            for (name, n) in expected {
                let got = actual.get(name).copied().unwrap_or(0);
                let fine = got == *n || (self.several_snapshots && shared(name) && got > *n);
                let mark = if fine { "" } else { "  <-- differs" };
                let _ = writeln!(
                    out,
                    "{section:>12} {name:<24} {:>12} {:>12}{mark}",
                    grouped(*n),
                    grouped(got)
                );
            }
        }
        let a = &self.answers;
        let _ = writeln!(out, "\nLearners per country (top 10):");
        for (country, n) in &a.learners_per_country {
            let country = terminal_safe(country);
            let _ = writeln!(out, "  {country:<8} {:>10}", grouped(*n));
        }
        let _ = writeln!(out, "Graduates per program (top 10):");
        for (program, n) in &a.graduates_per_program {
            let program = terminal_safe(program);
            let _ = writeln!(out, "  {program:<32} {:>10}", grouped(*n));
        }
        let _ = writeln!(
            out,
            "Placement rate of graduates: {} of {} placed ({:.1}%)",
            grouped(a.graduates_placed),
            grouped(a.graduates),
            a.graduate_employment_rate * 100.0
        );
        let _ = writeln!(
            out,
            "{}",
            if self.passed() {
                "PASSED: every count in the database matches the count derived from the file".to_string()
            } else {
                format!("FAILED: {} counts differ", self.differences.len())
            }
        );
        out
    }
}

/// Shared nodes and the relationships between them: after several
/// snapshots the graph holds earlier snapshots' too.
fn shared(name: &str) -> bool {
    name != Label::Learner.name()
        && RelType::ALL
            .iter()
            .all(|r| r.name() != name || r.ends().0 != Label::Learner)
        && !name.ends_with("(current)")
}

/// Counts that differ. With several snapshots, shared nodes may be more
/// than the latest file names (earlier snapshots' stay): only fewer differ.
fn differences(expected: &GraphCounts, actual: &GraphCounts, several_snapshots: bool) -> Vec<Difference> {
    let mut out = Vec::new();
    for (kind, e, a) in [
        ("nodes", &expected.nodes, &actual.nodes),
        ("relationships", &expected.relationships, &actual.relationships),
    ] {
        for (name, n) in e {
            let got = a.get(name).copied().unwrap_or(0);
            let differs = if several_snapshots && shared(name) {
                got < *n
            } else {
                got != *n
            };
            if differs {
                out.push(Difference {
                    what: format!("{kind} {name}"),
                    expected: *n,
                    actual: got,
                });
            }
        }
    }
    out
}

/// Learners the graph holds whose row in this file was rejected: the load
/// kept them as they were, so the file implies them too.
async fn kept_learners(sink: &Neo4jSink, analysis: &Analysis) -> Result<Vec<String>, LoadError> {
    if analysis.rejected_keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut kept = Vec::new();
    sink.for_each_present_learner(|key, _| {
        let fingerprint = key_fingerprint(&key);
        if !analysis.learner_keys.contains_fingerprint(fingerprint)
            && analysis.rejected_keys.contains(&fingerprint)
        {
            kept.push(key);
        }
    })
    .await?;
    Ok(kept)
}

/// Adds the kept learners, with the relationships the graph has for them,
/// to the counts the file implies.
async fn add_kept_learners(
    sink: &Neo4jSink,
    kept: &[String],
    latest_view: bool,
    expected: &mut GraphCounts,
) -> Result<(), LoadError> {
    if kept.is_empty() {
        return Ok(());
    }
    *expected.nodes.entry(Label::Learner.name()).or_default() += kept.len() as u64;
    let theirs = sink.learner_relationship_counts(kept, latest_view).await?;
    for (rel, n) in theirs.relationships {
        *expected.relationships.entry(rel).or_default() += n;
    }
    Ok(())
}

pub async fn verify(input: &Path, config: &Config) -> Result<VerifyReport, LoadError> {
    let sink = Neo4jSink::connect(config).await?;
    let analysis = {
        let (input, config) = (input.to_path_buf(), config.clone());
        tokio::task::spawn_blocking(move || analyze(&input, &config, Depth::Counts, |_| {}))
            .await
            .expect("the analysis thread does not panic")?
    };
    // A graph of several snapshots (or of one reloaded with learners marked
    // missing, or kept with their rows rejected) holds history the file
    // cannot predict: compare the latest snapshot's view instead.
    let kept = kept_learners(&sink, &analysis).await?;
    let several_snapshots =
        !kept.is_empty() || sink.snapshots().await? > 1 || sink.learners_marked_missing().await? > 0;
    let (mut expected, actual) = if several_snapshots {
        (
            expected_latest_snapshot(&analysis.tally, &analysis.counts),
            sink.latest_snapshot_counts().await?,
        )
    } else {
        (analysis.counts.clone(), sink.counts().await?)
    };
    add_kept_learners(&sink, &kept, several_snapshots, &mut expected).await?;
    let pairs = |rows: Vec<Row>| -> Vec<(String, i64)> {
        rows.iter()
            .filter_map(|r| Some((r.str("k")?, r.int("n")?)))
            .collect()
    };
    let learners_per_country = pairs(sink.read(LEARNERS_PER_COUNTRY, Vec::new()).await?);
    let graduates_per_program = pairs(sink.read(GRADUATES_PER_PROGRAM, Vec::new()).await?);
    let placed_rows = sink.read(GRADUATES_PLACED, Vec::new()).await?;
    let graduates = placed_rows.first().and_then(|r| r.int("n")).unwrap_or(0);
    let graduates_placed = placed_rows.first().and_then(|r| r.int("placed")).unwrap_or(0);
    Ok(VerifyReport {
        input: input.to_path_buf(),
        differences: differences(&expected, &actual, several_snapshots),
        expected,
        actual,
        several_snapshots,
        answers: AnalystAnswers {
            learners_per_country,
            graduates_per_program,
            graduates,
            graduates_placed,
            graduate_employment_rate: graduates_placed as f64 / (graduates.max(1)) as f64,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_several_snapshots_only_shared_counts_may_grow() {
        assert!(shared("Company"));
        assert!(shared("IN_COUNTRY"));
        assert!(!shared("Learner"));
        assert!(!shared("WORKS_FOR"));
        assert!(!shared("HAS_LEARNING_STATE (current)"));
        let mut expected = GraphCounts::default();
        expected.nodes.insert("Company", 10);
        expected.nodes.insert("Learner", 5);
        let mut actual = expected.clone();
        actual.nodes.insert("Company", 12);
        assert!(differences(&expected, &actual, true).is_empty());
        assert_eq!(differences(&expected, &actual, false).len(), 1);
        actual.nodes.insert("Learner", 6);
        assert_eq!(differences(&expected, &actual, true)[0].what, "nodes Learner");
    }
}
