//! Phase 2: `etl.num_workers` writers take batches of learners from a
//! bounded channel and commit one batch per transaction; the checkpoint
//! follows the commits in file order. Ctrl-C or a failed writer stops the
//! reading, the batches in flight finish, and the checkpoint is written on
//! the way out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use rustc_hash::FxHashMap;
use tokio::task::JoinSet;

use super::LoadError;
use super::read::{ReadError, ReadPlan, read_for_writing};
use super::summary::PhaseSummary;
use crate::config::Config;
use crate::graph::counts::{GraphOptions, RelTally};
use crate::graph::records::LearnerRecord;
use crate::pipeline::analyze::Analysis;
use crate::pipeline::checkpoint::{self, CheckpointError, CheckpointV1, CommitTracker};
use crate::pipeline::progress::PhaseProgress;
use crate::sink::neo4j::{BatchWritten, LearnerBatch, Neo4jSink, PreparedLearners, SinkError};

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
pub(super) struct ReadyLearner {
    pub record: LearnerRecord,
    pub tally: RelTally,
}

/// A batch of learners on its way to a writer: its place in the file, so
/// that commits can be checkpointed in order.
pub(super) struct Batch {
    pub index: u64,
    pub last_record: u64,
    pub learners: Vec<ReadyLearner>,
    /// The statement's parameters, built by the reading side while the
    /// writers are busy; `None` when the graph may already hold some rows.
    pub prepared: Option<PreparedLearners>,
}

/// Shared state of phase 2's writers.
pub(super) struct Phase2 {
    sink: Neo4jSink,
    /// The optional relationships the load writes.
    options: GraphOptions,
    progress: PhaseProgress,
    written: AtomicU64,
    updated: AtomicU64,
    rewritten: AtomicU64,
    unchanged: AtomicU64,
    relationships: AtomicU64,
    /// State changes counted by (kind, transition).
    transitions: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// The load's one date: its snapshot's (today's for a file without
    /// any). Every change the load writes carries it, never a row's own
    /// snapshot_id.
    pub load_date: NaiveDate,
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
    /// What the writers did, once they are done.
    fn finish(self, rows: u64) -> LearnersWritten {
        let (learning_transitions, professional_transitions) =
            split_transitions(self.transitions.into_inner().unwrap_or_else(|p| p.into_inner()));
        LearnersWritten {
            created: self.written.into_inner(),
            updated: self.updated.into_inner(),
            rewritten: self.rewritten.into_inner(),
            unchanged: self.unchanged.into_inner(),
            relationships: self.relationships.into_inner(),
            learning_transitions,
            professional_transitions,
            batches: self.batches.into_inner(),
            largest_batch: self.largest_batch.into_inner(),
            peak_concurrent_batches: self.peak_in_flight.into_inner(),
            phase: PhaseSummary {
                name: "phase 2 learners",
                seconds: self.progress.finish(),
                items: rows,
            },
        }
    }

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
        self.rewritten.fetch_add(written.rewritten, Ordering::Relaxed);
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

    /// A learner the graph holds as the file has it: skipped by the reader.
    pub(super) fn count_unchanged(&self) {
        self.unchanged.fetch_add(1, Ordering::Relaxed);
        self.progress.add(1);
    }

    async fn write_inner(
        &self,
        learners: Vec<ReadyLearner>,
        prepared: Option<PreparedLearners>,
    ) -> Result<BatchWritten, SinkError> {
        let records = with_relationship_counts(&learners, self.options);
        self.sink
            .write_learners(LearnerBatch {
                records: &records,
                load_date: self.load_date,
                prepared,
            })
            .await
    }
}

/// Each learner with the relationships a load with `options` writes of it.
pub(super) fn with_relationship_counts(
    learners: &[ReadyLearner],
    options: GraphOptions,
) -> Vec<(&LearnerRecord, u64)> {
    learners
        .iter()
        .map(|l| (&l.record, l.tally.relationships(options)))
        .collect()
}

/// Where phase 2 starts from.
pub(super) struct Phase2Start {
    /// The load's one date: every change it writes carries it.
    pub load_date: NaiveDate,
    pub checkpoint: CheckpointV1,
    pub checkpoint_file: PathBuf,
    /// The graph may hold some of the file's learners already.
    pub check_existing: bool,
    /// The graph's fingerprints of the present learners the file holds.
    pub known: FxHashMap<u128, i64>,
}

/// What phase 2 wrote.
pub(super) struct LearnersWritten {
    pub created: u64,
    pub updated: u64,
    /// Unchanged learners written again for graph options applied.
    pub rewritten: u64,
    pub unchanged: u64,
    pub relationships: u64,
    pub learning_transitions: BTreeMap<String, u64>,
    pub professional_transitions: BTreeMap<String, u64>,
    pub batches: u64,
    pub largest_batch: u64,
    pub peak_concurrent_batches: u64,
    pub phase: PhaseSummary,
}

/// Phase 2, from `start` to the end of the file (or the first failure).
pub(super) async fn write_learners(
    input: &Path,
    config: &Config,
    analysis: &Analysis,
    sink: &Neo4jSink,
    start: Phase2Start,
) -> Result<LearnersWritten, LoadError> {
    let resume_after = start.checkpoint.committed_records;
    let phase2 = Arc::new(Phase2 {
        sink: sink.clone(),
        options: config.graph,
        progress: PhaseProgress::new("learners", "rows", Some(analysis.rows_loaded)),
        written: AtomicU64::new(0),
        updated: AtomicU64::new(0),
        rewritten: AtomicU64::new(0),
        unchanged: AtomicU64::new(0),
        relationships: AtomicU64::new(0),
        transitions: Mutex::new(BTreeMap::new()),
        load_date: start.load_date,
        batches: AtomicU64::new(0),
        largest_batch: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        peak_in_flight: AtomicU64::new(0),
        checkpoint: CheckpointState {
            path: start.checkpoint_file,
            interval: config.etl.checkpoint_interval,
            inner: Mutex::new((CommitTracker::starting_at(resume_after), start.checkpoint)),
        },
    });
    let read_plan = ReadPlan {
        skip: analysis.rejected_records.iter().copied().collect(),
        resume_after,
        prepare: !start.check_existing,
        expected: analysis.fingerprint.clone(),
        known: start.known,
    };
    run_phase2(input, config, phase2.clone(), read_plan).await?;
    let phase2 = Arc::into_inner(phase2).expect("the writers are done");
    Ok(phase2.finish(analysis.rows_loaded))
}

/// The reading side feeds the writers through a bounded channel until the
/// file ends, a writer fails or Ctrl-C; then the checkpoint is written and
/// the first cause of a stop becomes the load's error.
async fn run_phase2(
    input: &Path,
    config: &Config,
    phase2: Arc<Phase2>,
    plan: ReadPlan,
) -> Result<(), LoadError> {
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    let (batch_tx, writers) = spawn_writers(config.etl.num_workers, &phase2, &stop);
    let signal = watch_ctrl_c(&stop, &interrupted);
    let reader = {
        let (input, config, stop, phase2) =
            (input.to_path_buf(), config.clone(), stop.clone(), phase2.clone());
        tokio::task::spawn_blocking(move || {
            read_for_writing(&input, &config, &plan, &phase2, &stop, batch_tx)
        })
    };
    let failure = first_failure(writers).await;
    signal.abort();
    let read_result = reader.await.expect("the reader thread does not panic");
    let interrupted = interrupted.load(Ordering::SeqCst);
    let finished = failure.is_none() && read_result.is_ok() && !interrupted;
    let committed = phase2.checkpoint.flush(finished)?;
    let stopped = |reason: String| LoadError::Interrupted {
        reason,
        committed,
        checkpoint: phase2.checkpoint.path.clone(),
        input: input.to_path_buf(),
    };
    if let Some(e) = failure {
        return Err(match e {
            LoadError::Sink(source) if source.is_connection_loss() => stopped(source.to_string()),
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
    if interrupted {
        return Err(stopped("interrupted (Ctrl-C)".to_string()));
    }
    Ok(())
}

/// `writers` tasks, each committing one batch at a time from a channel
/// that holds one batch waiting per writer: they stay busy without the file
/// being held in memory. A failed writer raises `stop` for the reader.
fn spawn_writers(
    writers: usize,
    phase2: &Arc<Phase2>,
    stop: &Arc<AtomicBool>,
) -> (flume::Sender<Batch>, JoinSet<Result<(), LoadError>>) {
    let (batch_tx, batch_rx) = flume::bounded::<Batch>(writers);
    let mut tasks = JoinSet::new();
    for _ in 0..writers {
        let (phase2, batch_rx, stop) = (phase2.clone(), batch_rx.clone(), stop.clone());
        tasks.spawn(async move {
            while let Ok(batch) = batch_rx.recv_async().await {
                if let Err(e) = phase2.write(batch).await {
                    stop.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
            Ok(())
        });
    }
    (batch_tx, tasks)
}

/// The first Ctrl-C stops the reading and lets the batches in flight
/// finish; a second exits at once.
fn watch_ctrl_c(stop: &Arc<AtomicBool>, interrupted: &Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let (stop, interrupted) = (stop.clone(), interrupted.clone());
    // Registered here, before any batch is sent, rather than when the task
    // first runs: a Ctrl-C during the first batch is then caught too.
    let sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    tokio::spawn(async move {
        let Ok(mut sigint) = sigint else {
            return;
        };
        if sigint.recv().await.is_some() {
            tracing::warn!(
                "Interrupted: finishing the batches in flight, then writing the checkpoint (Ctrl-C again exits at once)"
            );
            interrupted.store(true, Ordering::SeqCst);
            stop.store(true, Ordering::SeqCst);
            if sigint.recv().await.is_some() {
                exit_at_once();
            }
        }
    })
}

/// Waits for every writer; the first error any of them met.
async fn first_failure(mut writers: JoinSet<Result<(), LoadError>>) -> Option<LoadError> {
    let mut failure = None;
    while let Some(done) = writers.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure.get_or_insert(e);
            }
            Err(join) if join.is_cancelled() => {}
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    failure
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
