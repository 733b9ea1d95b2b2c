//! What a load did, as the command prints it and `--json` gives it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use super::decide::MissingPlan;
use super::phase2::LearnersWritten;
use crate::config::Config;
use crate::pipeline::analyze::Analysis;
use crate::pipeline::text::{grouped, grouped_round};
use crate::sink::neo4j::EntitiesWritten;

/// Duration and size of one phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    pub name: &'static str,
    pub seconds: f64,
    pub items: u64,
}

/// What a load did.
#[derive(Debug, Serialize)]
pub struct LoadSummary {
    pub input: PathBuf,
    pub phases: Vec<PhaseSummary>,
    pub seconds: f64,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    pub rejects_file: PathBuf,
    /// Learners created by this run (new to the graph).
    pub learners_written: u64,
    /// Learners in the graph whose data this snapshot changed, updated.
    pub learners_updated: u64,
    /// Learners in the graph already as this file has them, left alone.
    pub learners_unchanged: u64,
    /// Of the unchanged, those written again for graph options applied to
    /// the whole graph (`--apply-graph-options`).
    pub learners_rewritten_for_options: u64,
    /// Learners in the graph but not in this file, marked `missingSince`.
    pub learners_marked_missing: u64,
    /// Learners in the graph whose row in this file was rejected: kept as
    /// they were, not marked missing.
    pub learners_kept_row_rejected: u64,
    /// State changes by kind, e.g. `"Active -> Graduate": 1234`.
    pub learning_transitions: BTreeMap<String, u64>,
    pub professional_transitions: BTreeMap<String, u64>,
    /// The snapshot date recorded for this load.
    pub snapshot_date: Option<chrono::NaiveDate>,
    /// Accepted rows whose snapshot_id is not the load's snapshot date.
    pub rows_off_snapshot: u64,
    /// A trial load (`--max-rows`) read only this many rows: learners
    /// beyond them were neither compared nor marked missing.
    pub trial_max_rows: Option<u64>,
    /// The id of this load's first `LoadRun` record in the graph (a resume
    /// keeps the interrupted load's: the checkpoint is bound to it).
    pub load_id: String,
    /// The id of this run's own `LoadRun` record, which holds its counts
    /// (the load's id, unless this run resumed it).
    pub run_id: String,
    /// A resumed load skipped the rows up to this record.
    pub resumed_after_record: u64,
    /// Shared nodes written: new, or changed since the graph's snapshot.
    pub entity_nodes_merged: u64,
    /// Shared nodes the graph already held exactly as the file has them.
    pub entity_nodes_unchanged: u64,
    pub relationships_written: u64,
    pub retries: u64,
    /// Phase-2 batches the server refused for its transaction memory limit,
    /// written in halves instead.
    pub batches_split: u64,
    /// Phase 2 batches sent to the writers, the largest one's row count, the
    /// writer tasks and the most batches in flight at once: the settings
    /// really in force.
    pub batches: u64,
    pub largest_batch: u64,
    pub writer_tasks: usize,
    pub peak_concurrent_batches: u64,
    /// Accepted rows per second over the whole run.
    pub rows_per_second: f64,
    pub configuration: Config,
}

/// Everything a finished load knows, gathered for its summary.
pub(super) struct Finished<'a> {
    pub input: &'a Path,
    pub config: &'a Config,
    pub analysis: &'a Analysis,
    pub phases: Vec<PhaseSummary>,
    pub seconds: f64,
    pub snapshot_date: Option<NaiveDate>,
    pub load_id: String,
    pub run_id: String,
    pub resume_after: u64,
    pub merged: EntitiesWritten,
    pub learners: LearnersWritten,
    pub missing: &'a MissingPlan,
    pub retries: u64,
    pub batches_split: u64,
}

impl LoadSummary {
    pub(super) fn new(done: Finished<'_>) -> Self {
        let Finished {
            input,
            config,
            analysis,
            phases,
            seconds,
            snapshot_date,
            load_id,
            run_id,
            resume_after,
            merged,
            learners,
            missing,
            retries,
            batches_split,
        } = done;
        LoadSummary {
            input: input.to_path_buf(),
            phases,
            seconds,
            rows_read: analysis.rows_read,
            rows_accepted: analysis.rows_loaded,
            rows_rejected: analysis.rows_rejected(),
            rejected_by_reason: analysis.rejected_by_reason.clone(),
            rejects_file: analysis.rejects_file.clone(),
            learners_written: learners.created,
            learners_updated: learners.updated,
            learners_unchanged: learners.unchanged,
            learners_rewritten_for_options: learners.rewritten,
            learners_marked_missing: missing.missing.len() as u64,
            learners_kept_row_rejected: missing.kept_row_rejected,
            learning_transitions: learners.learning_transitions,
            professional_transitions: learners.professional_transitions,
            snapshot_date,
            rows_off_snapshot: analysis.rows_off_snapshot(),
            trial_max_rows: config.etl.max_rows,
            resumed_after_record: resume_after,
            load_id,
            run_id,
            entity_nodes_merged: merged.written,
            entity_nodes_unchanged: merged.unchanged,
            relationships_written: learners.relationships,
            retries,
            batches_split,
            batches: learners.batches,
            largest_batch: learners.largest_batch,
            writer_tasks: config.etl.num_workers,
            peak_concurrent_batches: learners.peak_concurrent_batches,
            rows_per_second: analysis.rows_loaded as f64 / seconds.max(1e-9),
            configuration: config.clone(),
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(rows) = self.trial_max_rows {
            let _ = writeln!(
                out,
                "TRIAL LOAD: only the first {rows} rows of the file were read (--max-rows); learners beyond them \
                 were neither compared nor marked missing, and no Snapshot record was written"
            );
        }
        let _ = writeln!(
            out,
            "Load of {} finished in {:.1} s",
            crate::text::terminal_safe(&self.input.display().to_string()),
            self.seconds
        );
        for phase in &self.phases {
            let _ = writeln!(
                out,
                "  {:<22} {:>8.1} s {:>12} items {:>10}/s",
                phase.name,
                phase.seconds,
                grouped(phase.items),
                grouped_round(phase.items as f64 / phase.seconds.max(1e-9))
            );
        }
        let _ = writeln!(
            out,
            "Rows: {} read, {} accepted, {} rejected (see {})",
            grouped(self.rows_read),
            grouped(self.rows_accepted),
            grouped(self.rows_rejected),
            self.rejects_file.display()
        );
        for (reason, n) in &self.rejected_by_reason {
            let _ = writeln!(out, "  rejected {reason:<24} {:>10}", grouped(*n));
        }
        let _ = writeln!(
            out,
            "Written: {} new learners, {} shared nodes merged ({} already in the graph as they are), {} relationships; \
{} retries; {} rows/s",
            grouped(self.learners_written),
            grouped(self.entity_nodes_merged),
            grouped(self.entity_nodes_unchanged),
            grouped(self.relationships_written),
            grouped(self.retries),
            grouped_round(self.rows_per_second)
        );
        if self.batches_split > 0 {
            let _ = writeln!(
                out,
                "{} batches were over the server's transaction memory limit and were written in smaller parts; \
                 a smaller neo4j.batch_size avoids the retries",
                grouped(self.batches_split)
            );
        }
        let snapshot = self
            .snapshot_date
            .map_or("no date".to_string(), |d| d.to_string());
        let _ = writeln!(
            out,
            "Snapshot {snapshot}: {} new, {} changed, {} unchanged, {} missing (marked, kept), {} kept as they were \
(row rejected)",
            grouped(self.learners_written),
            grouped(self.learners_updated),
            grouped(self.learners_unchanged),
            grouped(self.learners_marked_missing),
            grouped(self.learners_kept_row_rejected)
        );
        if self.learners_rewritten_for_options > 0 {
            let _ = writeln!(
                out,
                "  of the unchanged, {} written again for the graph options applied",
                grouped(self.learners_rewritten_for_options)
            );
        }
        if self.rows_off_snapshot > 0 {
            let _ = writeln!(
                out,
                "  {} accepted rows carry another snapshot_id than {snapshot}",
                grouped(self.rows_off_snapshot)
            );
        }
        for (kind, transitions) in [
            ("learning state", &self.learning_transitions),
            ("professional status", &self.professional_transitions),
        ] {
            for (transition, n) in transitions {
                let _ = writeln!(out, "  {kind:<20} {transition:<36} {:>10}", grouped(*n));
            }
        }
        if self.batches == 0 {
            let _ = writeln!(out, "Phase 2: no learner to write");
        } else {
            let _ = writeln!(
                out,
                "Phase 2: {} {} of up to {} rows on {} {} ({} at once at most)",
                grouped(self.batches),
                if self.batches == 1 { "batch" } else { "batches" },
                grouped(self.largest_batch),
                self.writer_tasks,
                if self.writer_tasks == 1 {
                    "writer"
                } else {
                    "writers"
                },
                self.peak_concurrent_batches
            );
        }
        // The configuration was shown once, at the start: not again here.
        out
    }
}
