//! `load`: the two-phase parallel pipeline into a Neo4j-compatible database.
//!
//! 1. Phase 0 creates constraints and indexes (idempotent).
//! 2. The analysis pass reads the whole file: rejects, duplicate keys and
//!    the shared entities (the same pass `check` runs).
//! 3. Phase 1 writes the shared entities with `MERGE`, batched, in parallel.
//! 4. Phase 2 reads the file again: transform threads turn rows into Bolt
//!    parameters, the reader groups them into batches of `neo4j.batch_size`,
//!    and `etl.num_workers` writers each commit one batch per transaction.
//!    Reading, transforming and writing overlap through bounded channels.
//!
//! Phase 2 never fights over nodes it creates: every learner key is written
//! by exactly one batch (duplicates were resolved by the analysis), shared
//! nodes already exist and are only matched. A batch first asks which of its
//! learners already exist and writes only the others, so loading a file
//! twice, or again after a crash, creates nothing twice.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Config;
use crate::graph::counts::RelTally;
use crate::graph::records::{EntityCollector, LearnerRecord, Props};
use crate::pipeline::analyze::{
    Analysis, AnalyzeError, analyze, key_fingerprint, read_limits, today, transform_options,
};
use crate::pipeline::checkpoint::{self, CheckpointError, CheckpointV1, CommitTracker};
use crate::pipeline::progress::PhaseProgress;
use crate::pipeline::scan::{ScanError, scan};
use crate::pipeline::text::{grouped, grouped_round};
use crate::sink::neo4j::lock::{Claimant, HeldLock, now_millis};
use crate::sink::neo4j::{
    BatchWritten, EntitiesWritten, LearnerBatch, Neo4jSink, PreparedLearners, SinkError,
};
use crate::source::growing::{self, Written};
use crate::source::reader::{SourceError, StreamFingerprint};
use crate::transform::chunk::transform_chunk;
use crate::transform::{TransformOptions, Transformer};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the load stopped: {reason}. {committed} rows are committed and recorded in {checkpoint}; once the cause is \
         fixed, continue with: learngraph load --resume {input}"
    )]
    Interrupted {
        reason: String,
        committed: u64,
        checkpoint: PathBuf,
        input: PathBuf,
    },
    #[error(
        "the file is the snapshot of {file}, older than the latest one the graph holds ({graph}); nothing was \
         written. Applying it would date state changes before ones already recorded: load snapshots in date \
         order, or pass --snapshot-date if the file's snapshot_id is wrong"
    )]
    OlderSnapshot { file: NaiveDate, graph: NaiveDate },
    #[error(
        "the snapshot date {date} is after today ({today}){}; nothing was written. A snapshot cannot come from the \
         future: fix the export's snapshot_id, or pass the right --snapshot-date",
        if *configured { " as configured" } else { ", as the file's snapshot_id says" }
    )]
    FutureSnapshot {
        date: NaiveDate,
        today: NaiveDate,
        configured: bool,
    },
    #[error(
        "this snapshot would mark {missing} of the graph's {present} present learners ({share:.1}%) as missing, above \
         etl.max_missing_share ({max:.1}%); nothing was written. Check that the file is the whole export (not a part \
         or a filtered one); if the learners really left, load again with --allow-missing"
    )]
    TooManyMissing {
        missing: u64,
        present: u64,
        share: f64,
        max: f64,
    },
    #[error(
        "the input {input} changed while it was being loaded (its bytes differ from the analysis pass from byte \
         {offset} on); the load stopped before writing anything from the changed part ({committed} rows are \
         committed). Wait until the export that writes the file has finished, then run the load again: rows \
         already in the graph are not written twice"
    )]
    InputChanged {
        input: PathBuf,
        offset: u64,
        committed: u64,
    },
    #[error(
        "{rejected} of {read} rows ({share:.3}%) were rejected, above validation.max_error_rate ({max:.3}%); nothing was \
         written. The rows and reasons are in {rejects}; fix them or raise the threshold"
    )]
    TooManyRejects {
        rejected: u64,
        read: u64,
        share: f64,
        max: f64,
        rejects: PathBuf,
    },
}

/// A second Ctrl-C: the user will not wait for the batches in flight (one
/// may hang on a silent connection until its deadline). Safe to stop
/// anywhere: the checkpoint on disk is atomic, and a resume recognises the
/// learners committed after it.
fn exit_at_once() -> ! {
    eprintln!(
        "error: interrupted twice: stopped at once, without waiting for the batches in flight; \
         run `learngraph load --resume FILE` to continue (rows committed after the last checkpoint are not written twice)"
    );
    // The exit code of a stopped load (exit::CONNECTION_LOST).
    std::process::exit(17)
}

/// One learner ready to write, and the relationships it brings. Records
/// wait in the queue as records: as Bolt maps they take several times the
/// memory, so they are converted only when their batch is sent.
struct ReadyLearner {
    record: LearnerRecord,
    tally: RelTally,
}

/// Duration and size of one phase.
#[derive(Debug, Serialize)]
pub struct PhaseSummary {
    pub name: &'static str,
    pub seconds: f64,
    pub items: u64,
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
    Ok(props)
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

impl LoadSummary {
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
            self.input.display(),
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
        let _ = writeln!(
            out,
            "Phase 2: {} batches of up to {} rows on {} writers ({} at once at most)",
            grouped(self.batches),
            grouped(self.largest_batch),
            self.writer_tasks,
            self.peak_concurrent_batches
        );
        let _ = writeln!(out, "Configuration:\n{}", self.configuration);
        out
    }
}

/// How to run a load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Continue from the input's checkpoint.
    pub resume: bool,
    /// Mark learners missing even when they are more than
    /// etl.max_missing_share of the graph.
    pub allow_missing: bool,
    /// Take the graph's load lock whatever its holder says.
    pub break_lock: bool,
}

/// A batch of learners on its way to a writer: its place in the file, so
/// that commits can be checkpointed in order.
struct Batch {
    index: u64,
    last_record: u64,
    learners: Vec<ReadyLearner>,
    /// The statement's parameters, built by the reading side while the
    /// writers are busy; `None` when the graph may already hold some rows.
    prepared: Option<PreparedLearners>,
}

/// Shared state of phase 2's writers.
struct Phase2 {
    sink: Neo4jSink,
    progress: PhaseProgress,
    written: AtomicU64,
    updated: AtomicU64,
    unchanged: AtomicU64,
    relationships: AtomicU64,
    /// State changes counted by (kind, transition).
    transitions: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// The load's one date: its snapshot's (today's for a file without
    /// any). Every change the load writes carries it, never a row's own
    /// snapshot_id.
    load_date: NaiveDate,
    batches: AtomicU64,
    largest_batch: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    checkpoint: CheckpointState,
}

/// The checkpoint as phase 2 advances it.
struct CheckpointState {
    path: PathBuf,
    interval: u64,
    inner: Mutex<(CommitTracker, CheckpointV1)>,
}

impl CheckpointState {
    /// Records a committed batch; writes the checkpoint every `interval` rows.
    fn committed(&self, index: u64, last_record: u64) -> Result<(), CheckpointError> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (tracker, checkpoint) = &mut *guard;
        let committed = tracker.committed(index, last_record);
        if committed >= checkpoint.committed_records + self.interval {
            checkpoint.committed_records = committed;
            checkpoint::write(&self.path, checkpoint)?;
        }
        Ok(())
    }

    /// Writes the checkpoint as it stands (on the way out).
    fn flush(&self, complete: bool) -> Result<u64, CheckpointError> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (tracker, checkpoint) = &mut *guard;
        checkpoint.committed_records = tracker.committed_records().max(checkpoint.committed_records);
        checkpoint.complete = complete;
        checkpoint::write(&self.path, checkpoint)?;
        Ok(checkpoint.committed_records)
    }
}

impl Phase2 {
    /// Writes one batch: asks which learners exist, creates the others.
    async fn write(&self, batch: Batch) -> Result<(), LoadError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        self.batches.fetch_add(1, Ordering::Relaxed);
        let size = batch.learners.len() as u64;
        self.largest_batch.fetch_max(size, Ordering::Relaxed);
        let result = self.write_inner(batch.learners, batch.prepared).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let written = result?;
        self.written.fetch_add(written.created, Ordering::Relaxed);
        self.updated.fetch_add(written.updated, Ordering::Relaxed);
        self.unchanged.fetch_add(written.unchanged, Ordering::Relaxed);
        self.relationships
            .fetch_add(written.relationships, Ordering::Relaxed);
        if !written.transitions.is_empty() {
            let mut transitions = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
            for transition in written.transitions {
                *transitions.entry(transition).or_default() += 1;
            }
        }
        self.progress.add(size);
        self.checkpoint.committed(batch.index, batch.last_record)?;
        Ok(())
    }

    async fn write_inner(
        &self,
        learners: Vec<ReadyLearner>,
        prepared: Option<PreparedLearners>,
    ) -> Result<BatchWritten, SinkError> {
        let records = with_relationship_counts(&learners);
        self.sink
            .write_learners(LearnerBatch {
                records: &records,
                load_date: self.load_date,
                prepared,
            })
            .await
    }
}

fn with_relationship_counts(learners: &[ReadyLearner]) -> Vec<(&LearnerRecord, u64)> {
    learners
        .iter()
        .map(|l| (&l.record, l.tally.relationships()))
        .collect()
}

/// Runs a whole load. Everything that can refuse the load (the file, the
/// rejects, the snapshot date, the share of learners it would mark missing,
/// a checkpoint from another file or graph) is decided before anything is
/// written.
pub async fn load(input: &Path, config: &Config, options: LoadOptions) -> Result<LoadSummary, LoadError> {
    // One load at a time, whichever machine it runs on: everything from
    // here reads the graph to decide what to write.
    let sink = Neo4jSink::connect(config).await?;
    let claimant = Claimant::this_process(&format!("load {}", input.display()), options.break_lock);
    let lock = sink.acquire_lock(&claimant).await?;
    let loaded = load_locked(input, config, options, sink, &lock).await;
    lock.release().await;
    loaded
}

/// [`load`], the lock held.
async fn load_locked(
    input: &Path,
    config: &Config,
    options: LoadOptions,
    sink: Neo4jSink,
    lock: &HeldLock,
) -> Result<LoadSummary, LoadError> {
    let Prepared {
        started,
        checkpoint_file,
        resumed,
        sink,
        mut phases,
        analysis,
        snapshot_date,
        check_existing,
        mut missing,
    } = prepare(input, config, options, sink).await?;
    // Taken over while this run analysed (its heartbeat seemed old to
    // another): the other run writes, this one must not.
    if lock.lost() {
        let refusal = match sink.lock_holder().await? {
            Some(holder) => holder.refusal(),
            None => SinkError::Locked {
                holder: "a run that took this run's lock over (and has finished since)".to_string(),
                since: "this run's analysis".to_string(),
                silent_seconds: 0,
            },
        };
        return Err(refusal.into());
    }

    // From here on the load writes.
    let progress = PhaseProgress::new("schema", "statements", None);
    let statements = sink.create_schema().await?;
    progress.add(statements as u64);
    phases.push(PhaseSummary {
        name: "phase 0 schema",
        seconds: progress.finish(),
        items: statements as u64,
    });
    // Every run keeps its own record: a resume adds one that names the run
    // it continues, so that no run's counts overwrite another's.
    let (mut checkpoint, run_id) = match resumed {
        Some(mut checkpoint) => {
            // The interrupted load's record stays (or, for an earlier
            // version's checkpoint, starts) in the graph, and the checkpoint
            // names it and the bytes it covers.
            if checkpoint.stream_fingerprint.is_empty() {
                checkpoint.stream_fingerprint = analysis.fingerprint.whole();
            }
            let mut interrupted = Props::default();
            interrupted.date("resumedOn", Some(today()));
            sink.record_load_run(&checkpoint.load_id, &interrupted).await?;
            checkpoint::write(&checkpoint_file, &checkpoint)?;
            let run_id = checkpoint::new_load_id();
            let mut props = run_start_props(input, &analysis, snapshot_date);
            props.str("resumes", Some(checkpoint.load_id.clone()));
            props.int("resumedAfterRecord", Some(checkpoint.committed_records as i64));
            sink.record_load_run(&run_id, &props).await?;
            (checkpoint, run_id)
        }
        None => {
            let checkpoint = start_checkpoint(&sink, input, config, &analysis, snapshot_date).await?;
            let run_id = checkpoint.load_id.clone();
            (checkpoint, run_id)
        }
    };

    let mut merged = EntitiesWritten::default();
    if checkpoint.entities_done {
        tracing::info!("Phase 1 was done by the interrupted load; skipping it");
    } else {
        merged = write_entities(&sink, &analysis, config, &mut phases).await?;
        checkpoint.entities_done = true;
        checkpoint::write(&checkpoint_file, &checkpoint)?;
    }

    let resume_after = checkpoint.committed_records;
    let load_id = checkpoint.load_id.clone();
    let phase2 = Arc::new(Phase2 {
        sink: sink.clone(),
        progress: PhaseProgress::new("learners", "rows", Some(analysis.rows_loaded)),
        written: AtomicU64::new(0),
        updated: AtomicU64::new(0),
        unchanged: AtomicU64::new(0),
        relationships: AtomicU64::new(0),
        transitions: Mutex::new(BTreeMap::new()),
        load_date: snapshot_date.unwrap_or_else(today),
        batches: AtomicU64::new(0),
        largest_batch: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        peak_in_flight: AtomicU64::new(0),
        checkpoint: CheckpointState {
            path: checkpoint_file.clone(),
            interval: config.etl.checkpoint_interval,
            inner: Mutex::new((CommitTracker::starting_at(resume_after), checkpoint)),
        },
    });
    run_phase2(
        input,
        config,
        &analysis,
        phase2.clone(),
        resume_after,
        check_existing,
        std::mem::take(&mut missing.known),
    )
    .await?;
    let phase2 = Arc::into_inner(phase2).expect("the writers are done");
    let learners_written = phase2.written.load(Ordering::Relaxed);
    phases.push(PhaseSummary {
        name: "phase 2 learners",
        seconds: phase2.progress.finish(),
        items: analysis.rows_loaded,
    });

    // A later snapshot: learners the graph holds that this file lacks are
    // marked, never deleted. A first load has nothing to mark.
    if check_existing {
        let progress = PhaseProgress::new("missing learners", "learners", None);
        sink.mark_missing(&missing.missing, phase2.load_date, config.neo4j.batch_size)
            .await?;
        progress.add(missing.missing.len() as u64);
        phases.push(PhaseSummary {
            name: "missing learners",
            seconds: progress.finish(),
            items: missing.missing.len() as u64,
        });
    }
    let marked_missing = missing.missing.len() as u64;
    let (learning_transitions, professional_transitions) =
        split_transitions(phase2.transitions.into_inner().unwrap_or_else(|p| p.into_inner()));
    let learners_updated = phase2.updated.load(Ordering::Relaxed);
    let learners_unchanged = phase2.unchanged.load(Ordering::Relaxed);
    let mut props = Props::default();
    props.str("file", Some(input.display().to_string()));
    props.int("rowsLoaded", Some(analysis.rows_loaded as i64));
    props.int("learnersNew", Some(learners_written as i64));
    props.int("learnersChanged", Some(learners_updated as i64));
    props.int("learnersUnchanged", Some(learners_unchanged as i64));
    props.int("learnersMissing", Some(marked_missing as i64));
    props.int("learnersKeptRowRejected", Some(missing.kept_row_rejected as i64));
    match (snapshot_date, config.etl.max_rows) {
        // A trial is no record of what the snapshot did.
        (Some(_), Some(rows)) => props.int("trialMaxRows", Some(rows as i64)),
        (Some(date), None) => {
            let snapshot = snapshot_record(&sink, &props, date, analysis.rows_loaded).await?;
            sink.record_snapshot(date, &snapshot).await?
        }
        (None, _) => {}
    }
    props.bool("complete", Some(true));
    props.int("endedMillis", Some(now_millis()));
    sink.record_load_run(&run_id, &props).await?;

    let seconds = started.elapsed().as_secs_f64();
    Ok(LoadSummary {
        input: input.to_path_buf(),
        phases,
        seconds,
        rows_read: analysis.rows_read,
        rows_accepted: analysis.rows_loaded,
        rows_rejected: analysis.rows_rejected(),
        rejected_by_reason: analysis.rejected_by_reason.clone(),
        rejects_file: analysis.rejects_file.clone(),
        learners_written,
        learners_updated,
        learners_unchanged,
        learners_marked_missing: marked_missing,
        learners_kept_row_rejected: missing.kept_row_rejected,
        learning_transitions,
        professional_transitions,
        snapshot_date,
        rows_off_snapshot: analysis.rows_off_snapshot(),
        trial_max_rows: config.etl.max_rows,
        resumed_after_record: resume_after,
        load_id,
        run_id,
        entity_nodes_merged: merged.written,
        entity_nodes_unchanged: merged.unchanged,
        relationships_written: phase2.relationships.load(Ordering::Relaxed),
        retries: sink.retries(),
        batches: phase2.batches.load(Ordering::Relaxed),
        largest_batch: phase2.largest_batch.load(Ordering::Relaxed),
        writer_tasks: config.etl.num_workers,
        peak_concurrent_batches: phase2.peak_in_flight.load(Ordering::SeqCst),
        rows_per_second: analysis.rows_loaded as f64 / seconds.max(1e-9),
        configuration: config.clone(),
    })
}

/// A load up to its first write: the file analysed, the graph asked, and
/// every refusal decided.
struct Prepared {
    started: Instant,
    checkpoint_file: PathBuf,
    resumed: Option<CheckpointV1>,
    sink: Neo4jSink,
    phases: Vec<PhaseSummary>,
    analysis: Analysis,
    snapshot_date: Option<NaiveDate>,
    /// The graph may hold some of the file's learners already.
    check_existing: bool,
    missing: MissingPlan,
}

async fn prepare(
    input: &Path,
    config: &Config,
    options: LoadOptions,
    sink: Neo4jSink,
) -> Result<Prepared, LoadError> {
    let started = Instant::now();
    let checkpoint_file = checkpoint::checkpoint_path(input);
    let mut resumed = open_checkpoint(&checkpoint_file, input, config, options.resume)?;
    if let Some(checkpoint) = &mut resumed {
        check_same_graph(&sink, checkpoint, &checkpoint_file, config).await?;
    }
    let mut phases = Vec::new();
    let analysis = analyze_for_load(input, config, &mut phases).await?;
    wait_until_written(input).await?;
    if let Some(checkpoint) = &resumed {
        checkpoint::check_same_stream(&checkpoint_file, checkpoint, &analysis.fingerprint.whole())?;
    }
    if let Some(date) = analysis.future_snapshot() {
        return Err(LoadError::FutureSnapshot {
            date,
            today: today(),
            configured: false,
        });
    }
    refuse_too_many_rejects(&analysis, config)?;
    let snapshot_date = snapshot_date(&analysis, config, &sink).await?;
    let check_existing = resumed.is_some() || sink.has_learners().await?;
    let missing = if check_existing {
        plan_missing(&sink, &analysis, config, options).await?
    } else {
        MissingPlan::default()
    };
    Ok(Prepared {
        started,
        checkpoint_file,
        resumed,
        sink,
        phases,
        analysis,
        snapshot_date,
        check_existing,
        missing,
    })
}

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
    let prepared = prepare(input, config, options, sink).await?;
    let analysis = &prepared.analysis;
    let learners_in_graph = prepared.missing.present_in_file;
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
                "The graph holds learners: {} of the file's are there (written only if changed), {} would come back \
                 (marked missing earlier), {} would be created, {} marked missing, {} kept as they are (row rejected)",
                grouped(self.learners_in_graph),
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

/// The checkpoint of the load being resumed, or `None` for a fresh load.
/// `--resume` without a checkpoint starts from the beginning, and says so.
fn open_checkpoint(
    path: &Path,
    input: &Path,
    config: &Config,
    resume: bool,
) -> Result<Option<CheckpointV1>, LoadError> {
    if !resume {
        return Ok(None);
    }
    match checkpoint::read_for_resume(path, input, config) {
        Ok(checkpoint) => {
            tracing::info!(
                checkpoint = %path.display(),
                committed_records = checkpoint.committed_records,
                entities_done = checkpoint.entities_done,
                "Resuming"
            );
            Ok(Some(checkpoint))
        }
        Err(CheckpointError::Finished { .. }) => {
            tracing::warn!(
                checkpoint = %path.display(),
                "The checkpoint records a finished load: nothing to resume, so this is a new load of the input as it \
                 is now (rows already in the graph as they are are not written again)"
            );
            Ok(None)
        }
        Err(CheckpointError::Missing { .. }) => {
            tracing::warn!(
                checkpoint = %path.display(),
                "No checkpoint to resume from: starting from the beginning (rows already in the graph are not written twice)"
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A resume continues the load its checkpoint records only on the graph
/// that load wrote to: after a `clear`, or against another database, the
/// rows up to the checkpoint would be silently absent.
async fn check_same_graph(
    sink: &Neo4jSink,
    checkpoint: &mut CheckpointV1,
    path: &Path,
    config: &Config,
) -> Result<(), LoadError> {
    if checkpoint.load_id.is_empty() {
        // Written by a version that did not record loads in the graph: the
        // graph cannot be checked; from here on the load is recorded.
        tracing::warn!(
            checkpoint = %path.display(),
            "The checkpoint holds no load id (an earlier version wrote it): resuming without checking that the graph is the one it was written against"
        );
        checkpoint.load_id = checkpoint::new_load_id();
        return Ok(());
    }
    if !sink.has_load_run(&checkpoint.load_id).await? {
        return Err(CheckpointError::OtherGraph {
            path: path.to_path_buf(),
            uri: config.neo4j.uri.clone(),
            database: config.neo4j.database.clone(),
            committed: checkpoint.committed_records,
        }
        .into());
    }
    Ok(())
}

/// Waits until a table's spool is written whole: a trial's analysis stops
/// after its first rows, and the checkpoint fingerprints the spool only
/// once it is in place (never an older one at the same path).
async fn wait_until_written(input: &Path) -> Result<(), LoadError> {
    let path = input.to_path_buf();
    let state = tokio::task::spawn_blocking(move || growing::wait(&path))
        .await
        .expect("waiting does not panic");
    match state {
        Written::Failed(message) => Err(SourceError::TableRead {
            path: input.to_path_buf(),
            message,
        }
        .into()),
        _ => Ok(()),
    }
}

/// The analysis pass, on a blocking thread, with its progress.
async fn analyze_for_load(
    input: &Path,
    config: &Config,
    phases: &mut Vec<PhaseSummary>,
) -> Result<Analysis, LoadError> {
    let progress = Arc::new(PhaseProgress::new("analyze", "rows", None));
    let analysis = {
        let (input, config, progress) = (input.to_path_buf(), config.clone(), progress.clone());
        tokio::task::spawn_blocking(move || {
            let mut last = 0;
            analyze(&input, &config, |rows| {
                progress.add(rows - last);
                last = rows;
            })
        })
        .await
        .expect("the analysis thread does not panic")?
    };
    phases.push(PhaseSummary {
        name: "analysis (read+check)",
        seconds: Arc::into_inner(progress)
            .map(PhaseProgress::finish)
            .unwrap_or(analysis.seconds),
        items: analysis.rows_read,
    });
    Ok(analysis)
}

fn refuse_too_many_rejects(analysis: &Analysis, config: &Config) -> Result<(), LoadError> {
    if analysis.rejected_share() > config.validation.max_error_rate {
        return Err(LoadError::TooManyRejects {
            rejected: analysis.rows_rejected(),
            read: analysis.rows_read,
            share: analysis.rejected_share() * 100.0,
            max: config.validation.max_error_rate * 100.0,
            rejects: analysis.rejects_file.clone(),
        });
    }
    Ok(())
}

/// The snapshot date of this load: configured, else the one most rows
/// carry. A date in the future is a broken export; one older than the
/// graph's latest would close current states with an earlier date than the
/// ones that opened them.
async fn snapshot_date(
    analysis: &Analysis,
    config: &Config,
    sink: &Neo4jSink,
) -> Result<Option<NaiveDate>, LoadError> {
    let date = config.etl.snapshot_date.or(analysis.dominant_snapshot());
    let off = analysis.rows_off_snapshot();
    if off > 0 {
        tracing::warn!(
            rows = off,
            dates = analysis.snapshot_dates.len(),
            snapshot = ?analysis.dominant_snapshot(),
            "Rows carry another snapshot_id than most of the file; the load is dated by the most common one"
        );
    }
    let Some(date) = date else { return Ok(None) };
    let today = today();
    if date > today {
        return Err(LoadError::FutureSnapshot {
            date,
            today,
            configured: config.etl.snapshot_date.is_some(),
        });
    }
    if let Some(graph) = sink.latest_snapshot().await?
        && date < graph
    {
        return Err(LoadError::OlderSnapshot { file: date, graph });
    }
    Ok(Some(date))
}

/// The learners a later snapshot marks missing: in the graph (and not
/// already marked), named by no row of the file. A learner whose row was
/// rejected is still in the file: it is kept as it is and counted apart.
#[derive(Debug, Default)]
struct MissingPlan {
    missing: Vec<String>,
    kept_row_rejected: u64,
    /// The fingerprints (`sourceHash`) of the present learners the file
    /// holds too, by key fingerprint: phase 2 skips a row whose learner's
    /// fingerprint is unchanged without asking the database.
    known: rustc_hash::FxHashMap<u128, i64>,
    /// Present learners the file holds too.
    present_in_file: u64,
}

async fn plan_missing(
    sink: &Neo4jSink,
    analysis: &Analysis,
    config: &Config,
    options: LoadOptions,
) -> Result<MissingPlan, LoadError> {
    let mut plan = MissingPlan::default();
    let present = sink
        .for_each_present_learner(|key, hash| {
            let fingerprint = key_fingerprint(&key);
            if analysis.learner_keys.contains_fingerprint(fingerprint) {
                plan.present_in_file += 1;
                if let Some(hash) = hash {
                    plan.known.insert(fingerprint, hash);
                }
                return;
            }
            if analysis.rejected_keys.contains(&fingerprint) {
                plan.kept_row_rejected += 1;
            } else {
                plan.missing.push(key);
            }
        })
        .await?;
    if let Some(rows) = config.etl.max_rows {
        tracing::warn!(
            rows,
            "A trial load reads only the first rows: no learner is marked missing"
        );
        plan.missing.clear();
    }
    if plan.kept_row_rejected > 0 {
        tracing::warn!(
            learners = plan.kept_row_rejected,
            rejects = %analysis.rejects_file.display(),
            "Learners whose row was rejected are kept as the graph has them, not marked missing"
        );
    }
    let share = plan.missing.len() as f64 / present.max(1) as f64;
    if share > config.etl.max_missing_share && !options.allow_missing {
        return Err(LoadError::TooManyMissing {
            missing: plan.missing.len() as u64,
            present,
            share: share * 100.0,
            max: config.etl.max_missing_share * 100.0,
        });
    }
    Ok(plan)
}

/// What a run's record says from its start.
fn run_start_props(input: &Path, analysis: &Analysis, snapshot_date: Option<NaiveDate>) -> Props {
    let mut props = Props::default();
    props.str("file", Some(input.display().to_string()));
    props.date("snapshotDate", snapshot_date);
    props.date("startedOn", Some(today()));
    props.int("startedMillis", Some(now_millis()));
    props.int("rowsRead", Some(analysis.rows_read as i64));
    props.bool("complete", Some(false));
    props
}

/// A fresh load's checkpoint, and its record in the graph: the load id that
/// binds the checkpoint to this graph.
async fn start_checkpoint(
    sink: &Neo4jSink,
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    snapshot_date: Option<NaiveDate>,
) -> Result<CheckpointV1, LoadError> {
    let mut checkpoint = CheckpointV1::new(input, config).map_err(|e| SourceError::Open {
        path: input.to_path_buf(),
        source: e,
    })?;
    checkpoint.stream_fingerprint = analysis.fingerprint.whole();
    let props = run_start_props(input, analysis, snapshot_date);
    sink.record_load_run(&checkpoint.load_id, &props).await?;
    checkpoint::write(&checkpoint::checkpoint_path(input), &checkpoint)?;
    Ok(checkpoint)
}

/// Phase 1: the shared entities.
async fn write_entities(
    sink: &Neo4jSink,
    analysis: &Analysis,
    config: &Config,
    phases: &mut Vec<PhaseSummary>,
) -> Result<EntitiesWritten, LoadError> {
    let entity_count: u64 = analysis
        .counts
        .nodes
        .iter()
        .filter(|(l, _)| **l != "Learner")
        .map(|(_, n)| n)
        .sum();
    tracing::info!(nodes = entity_count, "Phase 1: writing the shared entities");
    let progress = PhaseProgress::new("entities", "nodes", Some(entity_count));
    let merged = sink
        .write_entities(
            &analysis.entities,
            config.neo4j.batch_size,
            config.etl.num_workers,
        )
        .await?;
    progress.add(merged.written + merged.unchanged);
    tracing::info!(
        written = merged.written,
        unchanged = merged.unchanged,
        "Phase 1: shared nodes the graph did not hold as they are were written"
    );
    phases.push(PhaseSummary {
        name: "phase 1 shared nodes",
        seconds: progress.finish(),
        items: merged.written,
    });
    Ok(merged)
}

/// Phase 2: the reading side feeds `etl.num_workers` writers through a
/// bounded channel; Ctrl-C or a failed writer stops the reading, the
/// batches in flight finish, and the checkpoint is written on the way out.
async fn run_phase2(
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    phase2: Arc<Phase2>,
    resume_after: u64,
    check_existing: bool,
    known: rustc_hash::FxHashMap<u128, i64>,
) -> Result<(), LoadError> {
    // One batch waiting per writer keeps them busy without holding the file
    // in memory.
    let (batch_tx, batch_rx) = flume::bounded::<Batch>(config.etl.num_workers);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..config.etl.num_workers {
        let (phase2, batch_rx, stop) = (phase2.clone(), batch_rx.clone(), stop.clone());
        writers.spawn(async move {
            while let Ok(batch) = batch_rx.recv_async().await {
                if let Err(e) = phase2.write(batch).await {
                    stop.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
            Ok(())
        });
    }
    drop(batch_rx);
    let interrupted = Arc::new(AtomicBool::new(false));
    let signal = {
        let (stop, interrupted) = (stop.clone(), interrupted.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::warn!(
                    "Interrupted: finishing the batches in flight, then writing the checkpoint (Ctrl-C again exits at once)"
                );
                interrupted.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
                if tokio::signal::ctrl_c().await.is_ok() {
                    exit_at_once();
                }
            }
        })
    };

    let reader = {
        let (input, config, stop) = (input.to_path_buf(), config.clone(), stop.clone());
        let skip: HashSet<u64> = analysis.rejected_records.iter().copied().collect();
        let expected = analysis.fingerprint.clone();
        let phase2 = phase2.clone();
        tokio::task::spawn_blocking(move || {
            read_for_writing(
                &input,
                &config,
                &ReadPlan {
                    skip: &skip,
                    resume_after,
                    prepare: !check_existing,
                    expected: &expected,
                    known: &known,
                    phase2: &phase2,
                },
                &stop,
                batch_tx,
            )
        })
    };
    let mut failure: Option<LoadError> = None;
    while let Some(done) = writers.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                if failure.is_none() {
                    failure = Some(e);
                }
            }
            Err(join) if join.is_cancelled() => {}
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    signal.abort();
    let read_result = reader.await.expect("the reader thread does not panic");
    let finished = failure.is_none() && read_result.is_ok() && !interrupted.load(Ordering::SeqCst);
    let committed = phase2.checkpoint.flush(finished)?;
    let checkpoint_file = phase2.checkpoint.path.clone();
    if let Some(e) = failure {
        return Err(match e {
            LoadError::Sink(source) if source.is_connection_loss() => LoadError::Interrupted {
                reason: source.to_string(),
                committed,
                checkpoint: checkpoint_file,
                input: input.to_path_buf(),
            },
            other => other,
        });
    }
    read_result.map_err(|e| match e {
        ReadError::Source(e) => LoadError::Source(e),
        ReadError::Changed { offset } => LoadError::InputChanged {
            input: input.to_path_buf(),
            offset,
            committed,
        },
    })?;
    if interrupted.load(Ordering::SeqCst) {
        return Err(LoadError::Interrupted {
            reason: "interrupted (Ctrl-C)".to_string(),
            committed,
            checkpoint: checkpoint_file,
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// State changes by (kind, transition), split into learning and professional.
fn split_transitions(
    transitions: BTreeMap<(&'static str, String), u64>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut learning = BTreeMap::new();
    let mut professional = BTreeMap::new();
    for ((kind, transition), n) in transitions {
        let map = if kind == "learning" {
            &mut learning
        } else {
            &mut professional
        };
        map.insert(transition, n);
    }
    (learning, professional)
}

/// What phase 2's reading side skips and checks.
struct ReadPlan<'a> {
    /// Record numbers the analysis rejected.
    skip: &'a HashSet<u64>,
    /// A resumed load's committed rows.
    resume_after: u64,
    /// Build the statement parameters ahead of the writers.
    prepare: bool,
    /// The bytes the analysis read: every block must hash the same.
    expected: &'a StreamFingerprint,
    /// The graph's fingerprints of the learners it already holds: a row
    /// with the same one is unchanged and skipped here, without a call.
    known: &'a rustc_hash::FxHashMap<u128, i64>,
    /// Where skipped learners are counted.
    phase2: &'a Phase2,
}

impl ReadPlan<'_> {
    /// Whether the graph already holds this learner with this very
    /// fingerprint: nothing to write.
    fn is_unchanged(&self, record: &LearnerRecord) -> bool {
        !self.known.is_empty()
            && record
                .source_hash()
                .is_some_and(|hash| self.known.get(&key_fingerprint(&record.key)) == Some(&hash))
    }
}

/// Why phase 2's reading stopped early.
#[derive(Debug)]
enum ReadError {
    Source(SourceError),
    /// The file's bytes differ from the analysis pass's from this byte on.
    Changed {
        offset: u64,
    },
}

/// Phase 2's reading side: transforms the file again on the transform
/// threads, checks every block of bytes is the one the analysis read, skips the rows
/// the analysis rejected and those a resumed load already committed, and
/// sends batches of `neo4j.batch_size` learners, with their statement
/// parameters when `plan.prepare` is set.
fn read_for_writing(
    input: &Path,
    config: &Config,
    plan: &ReadPlan<'_>,
    stop: &AtomicBool,
    batches: flume::Sender<Batch>,
) -> Result<(), ReadError> {
    // The rows' states are dated by the load, not by each row's snapshot_id.
    let transformer = Transformer::new(TransformOptions {
        snapshot_date: Some(plan.phase2.load_date),
        ..transform_options(config)
    });
    let batch_size = config.neo4j.batch_size;
    let mut record_number = 0u64;
    let mut index = 0u64;
    let mut batch = Vec::with_capacity(batch_size);
    let prepare = plan.prepare;
    let mut send = |learners: Vec<ReadyLearner>, last_record: u64| -> Result<(), ()> {
        let prepared = prepare.then(|| PreparedLearners::new(&with_relationship_counts(&learners)));
        let sent = Batch {
            index,
            last_record,
            learners,
            prepared,
        };
        index += 1;
        // The writers are gone (one failed): stop reading.
        batches.send(sent).map_err(|_| ())
    };
    let result = scan(
        input,
        config.etl.transform_threads,
        config.etl.chunk_size,
        read_limits(config),
        Some(plan.expected),
        |entities: &mut EntityCollector, chunk| {
            transform_chunk(chunk, &transformer, entities)
                .rows
                .into_iter()
                .map(|row| {
                    row.result.ok().map(|record| {
                        let mut tally = RelTally::default();
                        tally.add(&record);
                        ReadyLearner { record, tally }
                    })
                })
                .collect::<Vec<_>>()
        },
        |rows: Vec<Option<ReadyLearner>>| -> Result<(), ()> {
            if stop.load(Ordering::SeqCst) {
                return Err(());
            }
            for ready in rows {
                record_number += 1;
                let Some(ready) = ready else { continue };
                if record_number <= plan.resume_after || plan.skip.contains(&record_number) {
                    continue;
                }
                if plan.is_unchanged(&ready.record) {
                    plan.phase2.unchanged.fetch_add(1, Ordering::Relaxed);
                    plan.phase2.progress.add(1);
                    continue;
                }
                batch.push(ready);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    send(full, record_number)?;
                }
            }
            Ok(())
        },
    );
    match result {
        Ok(_) => {
            if !batch.is_empty() {
                let _ = send(batch, record_number);
            }
            Ok(())
        }
        Err(ScanError::Source(SourceError::Changed { offset, .. })) => Err(ReadError::Changed { offset }),
        Err(ScanError::Source(e)) => Err(ReadError::Source(e)),
        Err(ScanError::Consume(())) => Ok(()),
    }
}
