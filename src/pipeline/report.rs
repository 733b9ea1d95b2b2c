//! The data-quality report of an analysis, as text for people and as one
//! JSON document for machines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::config::Config;
use crate::pipeline::analyze::Analysis;
use crate::pipeline::outputs::terminal_safe;
use crate::pipeline::text::{grouped, grouped_round};
use crate::transform::quality::Finding;

/// A check report that cannot be read back (`report --check FILE`). The
/// hint names a new file, never the one given: that may be the export.
#[derive(Debug, thiserror::Error)]
pub enum CheckReportError {
    #[error(
        "cannot read the check report {path}: {source}; write one with `learngraph check EXPORT --json > \
         check.json` and pass `--check check.json`"
    )]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not a check report ({detail}); write one with `learngraph check EXPORT --json > check.json` \
         and pass `--check check.json`"
    )]
    NotAReport { path: PathBuf, detail: String },
}

/// Reads back the JSON a `check --json` wrote.
pub fn read_check_report(path: &std::path::Path) -> Result<serde_json::Value, CheckReportError> {
    let bytes = std::fs::read(path).map_err(|source| CheckReportError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| CheckReportError::NotAReport {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The file read, or the `mysql://` source its rows came from.
    pub input: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub rejected_share: f64,
    pub max_error_rate: f64,
    /// True when the rejected share is at most `max_error_rate`.
    pub within_threshold: bool,
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    pub rejects_file: PathBuf,
    pub nodes: BTreeMap<&'static str, u64>,
    pub relationships: BTreeMap<&'static str, u64>,
    pub findings: BTreeMap<Finding, u64>,
    pub unknown_countries: BTreeMap<String, u64>,
    /// The file's snapshot date: the snapshot_id most accepted rows carry.
    /// The load's date: configured, else the snapshot_id most rows carry.
    pub snapshot_date: Option<chrono::NaiveDate>,
    /// Where it came from: `configured` or `snapshot_id`.
    pub snapshot_date_from: &'static str,
    /// Rows whose snapshot_id a configured date overrides.
    pub rows_snapshot_id_overridden: u64,
    /// Accepted rows per snapshot date, when the file holds more than one.
    pub rows_per_snapshot: BTreeMap<chrono::NaiveDate, u64>,
    /// Accepted rows whose snapshot_id is not the file's snapshot date.
    pub rows_off_snapshot: u64,
    /// Fingerprint of every byte read (two reads of the same bytes agree).
    pub input_fingerprint: String,
    pub seconds: f64,
    pub rows_per_second: f64,
}

impl CheckReport {
    pub fn new(analysis: &Analysis, config: &Config) -> Self {
        let max_error_rate = config.validation.max_error_rate;
        CheckReport {
            // A table's rows stream through a pipe or a spool file named
            // after it: the user named the table, so the report does too.
            input: match &config.source {
                Some(source) => source.table.to_string(),
                None => analysis.input.display().to_string(),
            },
            rows_read: analysis.rows_read,
            rows_loaded: analysis.rows_loaded,
            rows_rejected: analysis.rows_rejected(),
            rejected_share: analysis.rejected_share(),
            max_error_rate,
            within_threshold: analysis.rejected_share() <= max_error_rate,
            rejected_by_reason: analysis.rejected_by_reason.clone(),
            rejects_file: analysis.rejects_file.clone(),
            nodes: analysis.counts.nodes.clone(),
            relationships: analysis.counts.relationships.clone(),
            findings: analysis.findings.counts().clone(),
            unknown_countries: analysis.findings.unknown_countries().clone(),
            snapshot_date: config.etl.snapshot_date.or(analysis.dominant_snapshot()),
            snapshot_date_from: if config.etl.snapshot_date.is_some() {
                "configured"
            } else {
                "snapshot_id"
            },
            rows_snapshot_id_overridden: analysis
                .findings
                .get(crate::transform::quality::Finding::SnapshotIdOverridden),
            rows_per_snapshot: if analysis.snapshot_dates.len() > 1 {
                analysis.snapshot_dates.clone()
            } else {
                BTreeMap::new()
            },
            rows_off_snapshot: analysis.rows_off_snapshot(),
            input_fingerprint: analysis.fingerprint.whole(),
            seconds: analysis.seconds,
            rows_per_second: analysis.rows_read as f64 / analysis.seconds.max(1e-9),
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Input: {}", terminal_safe(&self.input));
        let _ = writeln!(
            out,
            "Rows: {} read, {} accepted, {} rejected ({:.3}%; threshold {:.3}%) in {:.1} s ({} rows/s)",
            grouped(self.rows_read),
            grouped(self.rows_loaded),
            grouped(self.rows_rejected),
            self.rejected_share * 100.0,
            self.max_error_rate * 100.0,
            self.seconds,
            grouped_round(self.rows_per_second)
        );
        match (self.snapshot_date, self.snapshot_date_from) {
            (Some(date), "configured") => {
                let _ = writeln!(
                    out,
                    "Snapshot: {date} (configured: --snapshot-date or etl.snapshot_date)"
                );
                if self.rows_snapshot_id_overridden > 0 {
                    let _ = writeln!(
                        out,
                        "  WARNING: {} rows carry another snapshot_id; the configured date overrides it (a load \
                         dates them {date})",
                        grouped(self.rows_snapshot_id_overridden)
                    );
                }
            }
            (Some(date), _) => {
                let _ = writeln!(out, "Snapshot: {date} (the snapshot_id most rows carry)");
            }
            (None, _) => {}
        }
        if self.rows_off_snapshot > 0 {
            let _ = writeln!(
                out,
                "  {} accepted rows carry another snapshot_id:",
                grouped(self.rows_off_snapshot)
            );
            for (date, n) in &self.rows_per_snapshot {
                let _ = writeln!(out, "  {date:<28} {:>12}", grouped(*n));
            }
        }
        if !self.rejected_by_reason.is_empty() {
            let _ = writeln!(
                out,
                "Rejected by reason (rows in {}):",
                terminal_safe(&self.rejects_file.display().to_string())
            );
            for (reason, n) in &self.rejected_by_reason {
                let _ = writeln!(out, "  {reason:<28} {:>12}", grouped(*n));
            }
        }
        let _ = writeln!(out, "Nodes a load creates:");
        for (label, n) in &self.nodes {
            let _ = writeln!(out, "  {label:<28} {:>12}", grouped(*n));
        }
        let _ = writeln!(out, "Relationships a load creates:");
        for (rel, n) in &self.relationships {
            let _ = writeln!(out, "  {rel:<28} {:>12}", grouped(*n));
        }
        let _ = writeln!(out, "Data-quality findings:");
        for (finding, n) in &self.findings {
            let name = serde_json::to_value(finding)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let _ = writeln!(out, "  {name:<28} {:>12}", grouped(*n));
        }
        if !self.unknown_countries.is_empty() {
            let _ = writeln!(out, "Unknown country names (no code given):");
            for (name, n) in &self.unknown_countries {
                let name = terminal_safe(name);
                let _ = writeln!(out, "  {name:<28} {:>12}", grouped(*n));
            }
        }
        if !self.within_threshold {
            let _ = writeln!(
                out,
                "FAILED: {:.3}% of rows were rejected, above validation.max_error_rate ({:.3}%); see {}",
                self.rejected_share * 100.0,
                self.max_error_rate * 100.0,
                terminal_safe(&self.rejects_file.display().to_string())
            );
        }
        out
    }
}
