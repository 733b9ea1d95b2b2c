//! The load's records in the graph: its `LoadRun` when it starts (or
//! resumes) and when it finishes, and the `Snapshot` record of a complete
//! load.

use std::path::Path;

use chrono::NaiveDate;

use super::LoadError;
use super::decide::MissingPlan;
use super::phase2::LearnersWritten;
use crate::config::Config;
use crate::graph::records::Props;
use crate::pipeline::analyze::Analysis;
use crate::pipeline::checkpoint::{self, CheckpointV1};
use crate::sink::neo4j::{Neo4jSink, RunStamp};
use crate::source::reader::SourceError;
use crate::transform::today;

/// What a run's record says from its start.
fn run_start_props(
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    snapshot_date: Option<NaiveDate>,
) -> Props {
    let mut props = Props::default();
    // The graph options it writes with: a later load with others is refused
    // or applied to the whole graph, never half done.
    props.bool("residesIn", Some(config.graph.resides_in));
    props.bool("fromCountry", Some(config.graph.from_country));
    props.str("file", Some(input.display().to_string()));
    props.date("snapshotDate", snapshot_date);
    props.date("startedOn", Some(today()));
    props.int("rowsRead", Some(analysis.rows_read as i64));
    props.str("learngraphVersion", Some(crate::VERSION.to_string()));
    props.bool("complete", Some(false));
    props
}

/// The Snapshot record of a complete load: this run's record, with the
/// learners created, changed and marked missing counted from the marks the
/// snapshot's load left in the graph (`firstSnapshot`, `changedBySnapshot`,
/// `missingSince`), so that a load done by several runs (a trial, a killed
/// run and its resume) is recorded whole, not as its last run's share.
async fn snapshot_record(
    sink: &Neo4jSink,
    run: &Props,
    date: NaiveDate,
    rows_loaded: u64,
) -> Result<Props, LoadError> {
    let (new, changed, missing) = sink.snapshot_learners(date).await?;
    let mut props = run.clone();
    props.0.retain(|(key, _)| {
        !matches!(
            *key,
            "learnersNew" | "learnersChanged" | "learnersUnchanged" | "learnersMissing"
        )
    });
    props.int("learnersNew", Some(new as i64));
    props.int("learnersChanged", Some(changed as i64));
    props.int(
        "learnersUnchanged",
        Some(rows_loaded.saturating_sub(new + changed) as i64),
    );
    props.int("learnersMissing", Some(missing as i64));
    // This run is not yet recorded complete: it is one more.
    props.int("loads", Some(sink.complete_loads(date).await? as i64 + 1));
    Ok(props)
}

/// A fresh load: its checkpoint and its `LoadRun` record, whose id is the
/// run's and the load's and binds the checkpoint to this graph.
pub(super) async fn start_run(
    sink: &Neo4jSink,
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    snapshot_date: Option<NaiveDate>,
) -> Result<(CheckpointV1, String), LoadError> {
    let mut checkpoint = CheckpointV1::new(input, config).map_err(|e| SourceError::Open {
        path: input.to_path_buf(),
        source: e,
    })?;
    checkpoint.stream_fingerprint = analysis.fingerprint.whole();
    let props = run_start_props(input, config, analysis, snapshot_date);
    sink.record_load_run(&checkpoint.load_id, &props, RunStamp::Start)
        .await?;
    checkpoint::write(&checkpoint::checkpoint_path(input), &checkpoint)?;
    let run_id = checkpoint.load_id.clone();
    Ok((checkpoint, run_id))
}

/// A resumed load: every run keeps its own record, so that no run's counts
/// overwrite another's. The interrupted load's record stays (or, for an
/// earlier version's checkpoint, starts) in the graph, marked resumed, and
/// this run's record names it and the rows it had committed.
pub(super) async fn resume_run(
    sink: &Neo4jSink,
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    snapshot_date: Option<NaiveDate>,
    mut checkpoint: CheckpointV1,
    checkpoint_file: &Path,
) -> Result<(CheckpointV1, String), LoadError> {
    if checkpoint.stream_fingerprint.is_empty() {
        checkpoint.stream_fingerprint = analysis.fingerprint.whole();
    }
    let mut interrupted = Props::default();
    interrupted.date("resumedOn", Some(today()));
    sink.record_load_run(&checkpoint.load_id, &interrupted, RunStamp::Neither)
        .await?;
    checkpoint::write(checkpoint_file, &checkpoint)?;
    let run_id = checkpoint::new_load_id();
    let mut props = run_start_props(input, config, analysis, snapshot_date);
    props.str("resumes", Some(checkpoint.load_id.clone()));
    props.int("resumedAfterRecord", Some(checkpoint.committed_records as i64));
    sink.record_load_run(&run_id, &props, RunStamp::Start).await?;
    Ok((checkpoint, run_id))
}

/// The run's record once it is done, and the snapshot's: a trial
/// (`--max-rows`) is no record of what the snapshot did, so it writes none.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_finished_run(
    sink: &Neo4jSink,
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    snapshot_date: Option<NaiveDate>,
    run_id: &str,
    learners: &LearnersWritten,
    missing: &MissingPlan,
) -> Result<(), LoadError> {
    let mut props = Props::default();
    props.str("file", Some(input.display().to_string()));
    props.int("rowsLoaded", Some(analysis.rows_loaded as i64));
    props.int("learnersNew", Some(learners.created as i64));
    props.int("learnersChanged", Some(learners.updated as i64));
    props.int("learnersUnchanged", Some(learners.unchanged as i64));
    props.int("learnersMissing", Some(missing.missing.len() as i64));
    props.int("learnersKeptRowRejected", Some(missing.kept_row_rejected as i64));
    match (snapshot_date, config.etl.max_rows) {
        (Some(_), Some(rows)) => props.int("trialMaxRows", Some(rows as i64)),
        (Some(date), None) => {
            let snapshot = snapshot_record(sink, &props, date, analysis.rows_loaded).await?;
            sink.record_snapshot(date, &snapshot).await?
        }
        (None, _) => {}
    }
    props.bool("complete", Some(true));
    sink.record_load_run(run_id, &props, RunStamp::End).await?;
    Ok(())
}
