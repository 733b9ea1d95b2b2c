//! `load --dry-run`: what a load would do, from the decisions of
//! [`super::decide`], with nothing written.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use super::decide::prepare;
use super::{LoadError, LoadOptions};
use crate::config::Config;
use crate::pipeline::analyze::{Depth, key_fingerprint};
use crate::pipeline::text::grouped;
use crate::sink::neo4j::Neo4jSink;

/// What a load would do (`load --dry-run`): everything a load decides
/// before its first write, and nothing written.
#[derive(Debug, Serialize)]
pub struct LoadPlan {
    pub dry_run: bool,
    pub input: PathBuf,
    pub database: String,
    pub snapshot_date: Option<NaiveDate>,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    pub rejects_file: PathBuf,
    /// The graph already holds learners: this is a later snapshot (or a
    /// resume), applied as a change.
    pub graph_holds_learners: bool,
    /// The file's learners the graph holds (each written only if changed).
    pub learners_in_graph: u64,
    /// Of those, the ones whose row differs from what the graph holds (by
    /// the fingerprint, `sourceHash`): written.
    pub learners_changed: u64,
    /// The ones whose row is the graph's: not written.
    pub learners_unchanged: u64,
    /// The file's learners the graph lacks: created.
    pub learners_new: u64,
    /// The file's learners an earlier snapshot marked missing: they come
    /// back (updated, the mark removed), not created.
    pub learners_returning: u64,
    pub learners_to_mark_missing: u64,
    pub learners_kept_row_rejected: u64,
    /// A resume would skip the rows up to this record.
    pub resume_after_record: u64,
    /// The graph the file describes: nodes by label (shared nodes merged,
    /// learners created or updated) and relationships by type.
    pub nodes: BTreeMap<&'static str, u64>,
    pub relationships: BTreeMap<&'static str, u64>,
    pub seconds: f64,
}

/// `load --dry-run`: the analysis, the checks against the graph and the
/// plan, without writing anything to the database.
pub async fn plan_load(input: &Path, config: &Config, options: LoadOptions) -> Result<LoadPlan, LoadError> {
    let sink = Neo4jSink::connect(config).await?;
    // The fingerprints tell the learners a load would write from those it
    // would leave as they are.
    let prepared = prepare(input, config, options, Depth::Fingerprints, sink).await?;
    let analysis = &prepared.analysis;
    let learners_in_graph = prepared.missing.present_in_file;
    let learners_unchanged = prepared
        .missing
        .known
        .iter()
        .filter(|(key, hash)| analysis.learner_keys.source_hash(**key) == Some(**hash))
        .count() as u64;
    let mut learners_returning = 0u64;
    if prepared.check_existing {
        prepared
            .sink
            .for_each_missing_learner(|key| {
                learners_returning +=
                    u64::from(analysis.learner_keys.contains_fingerprint(key_fingerprint(&key)));
            })
            .await?;
    }
    Ok(LoadPlan {
        dry_run: true,
        input: input.to_path_buf(),
        database: config.neo4j.database.clone(),
        snapshot_date: prepared.snapshot_date,
        rows_read: analysis.rows_read,
        rows_accepted: analysis.rows_loaded,
        rows_rejected: analysis.rows_rejected(),
        rejected_by_reason: analysis.rejected_by_reason.clone(),
        rejects_file: analysis.rejects_file.clone(),
        graph_holds_learners: prepared.check_existing,
        learners_in_graph,
        learners_changed: learners_in_graph.saturating_sub(learners_unchanged),
        learners_unchanged,
        learners_new: analysis
            .rows_loaded
            .saturating_sub(learners_in_graph + learners_returning),
        learners_returning,
        learners_to_mark_missing: prepared.missing.missing.len() as u64,
        learners_kept_row_rejected: prepared.missing.kept_row_rejected,
        resume_after_record: prepared.resumed.as_ref().map_or(0, |c| c.committed_records),
        nodes: analysis.counts.nodes.clone(),
        relationships: analysis.counts.relationships.clone(),
        seconds: prepared.started.elapsed().as_secs_f64(),
    })
}

impl LoadPlan {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Dry run: nothing was written to database {}.", self.database);
        let _ = writeln!(
            out,
            "Rows: {} read, {} would load, {} rejected (see {})",
            grouped(self.rows_read),
            grouped(self.rows_accepted),
            grouped(self.rows_rejected),
            self.rejects_file.display()
        );
        if let Some(date) = self.snapshot_date {
            let _ = writeln!(out, "Snapshot: {date}");
        }
        if self.graph_holds_learners {
            let _ = writeln!(
                out,
                "The graph holds learners: {} of the file's are there ({} changed, written; {} unchanged, not \
                 written), {} would come back (marked missing earlier), {} would be created, {} marked missing, {} \
                 kept as they are (row rejected)",
                grouped(self.learners_in_graph),
                grouped(self.learners_changed),
                grouped(self.learners_unchanged),
                grouped(self.learners_returning),
                grouped(self.learners_new),
                grouped(self.learners_to_mark_missing),
                grouped(self.learners_kept_row_rejected)
            );
        } else {
            let _ = writeln!(
                out,
                "The graph holds no learners: a first load creates all {}",
                grouped(self.learners_new)
            );
        }
        if self.resume_after_record > 0 {
            let _ = writeln!(
                out,
                "A resume would skip the rows up to record {}",
                grouped(self.resume_after_record)
            );
        }
        let _ = writeln!(out, "The graph of this file:");
        for (label, n) in &self.nodes {
            let _ = writeln!(out, "  {label:<26} {:>12} nodes", grouped(*n));
        }
        for (rel, n) in &self.relationships {
            let _ = writeln!(out, "  {rel:<26} {:>12} relationships", grouped(*n));
        }
        out
    }
}
