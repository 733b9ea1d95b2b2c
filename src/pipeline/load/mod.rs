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

//! The steps, each in its file:
//! - [`decide`]: what this run will do and whether it may (the checkpoint
//!   it resumes, the analysis, every refusal); [`plan`] prints it for
//!   `--dry-run`.
//! - [`write`]: phase 0 and phase 1, and the learners marked missing;
//!   [`phase2`] and [`read`]: the learners, written and read in parallel.
//! - [`records`]: the run's and the snapshot's records in the graph;
//!   [`summary`]: what the run did, as printed.

mod decide;
mod phase2;
mod plan;
mod read;
mod records;
mod summary;
mod write;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::Config;
use crate::pipeline::analyze::{AnalyzeError, Depth};
use crate::pipeline::checkpoint::CheckpointError;
use crate::sink::neo4j::lock::{Claimant, HeldLock};
use crate::sink::neo4j::{Neo4jSink, SinkError};
use crate::source::reader::SourceError;
use crate::transform::today;
use decide::{Prepared, prepare};
use phase2::Phase2Start;
pub use plan::{LoadPlan, plan_load};
use summary::Finished;
pub use summary::{LoadSummary, PhaseSummary};

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
        "the file is the snapshot of {file}, and the graph already holds learners written by a run of the later \
         snapshot {later} ({kind}, run {run}{from}); nothing was written. Applying the earlier snapshot over them \
         would date state changes before ones already written. Either finish the later snapshot first (`load \
         --resume` its file, or load it whole) and load snapshots in date order from there on, or start the graph \
         again (`clear --all --yes`) and load every snapshot in date order"
    )]
    LaterSnapshotStarted {
        file: NaiveDate,
        later: NaiveDate,
        kind: String,
        run: String,
        from: String,
    },
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
        "the configuration asks {changes}: this load would write that for the learners that changed only, and \
         leave a graph that verify finds wrong; nothing was written. To apply it to the whole graph, load again \
         with --apply-graph-options (every learner of the file is written again; the relationships of an option \
         turned off are deleted); or set the option back"
    )]
    GraphOptionsChanged { changes: String },
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
    /// Apply graph options (`graph.*`) that differ from the graph's to the
    /// whole graph: every learner written again, the relationships of an
    /// option turned off deleted.
    pub apply_graph_options: bool,
}

/// Runs a whole load. Everything that can refuse the load (the file, the
/// rejects, the snapshot date, the share of learners it would mark missing,
/// a checkpoint from another file or graph) is decided before anything is
/// written.
pub async fn load(input: &Path, config: &Config, options: LoadOptions) -> Result<LoadSummary, LoadError> {
    // One load at a time, whichever machine it runs on: everything from
    // here reads the graph to decide what to write.
    let (sink, config) = connect_for_server(config).await?;
    let config = &config;
    let claimant = Claimant::this_process(&format!("load {}", input.display()), options.break_lock);
    let lock = sink.acquire_lock(&claimant).await?;
    let loaded = load_locked(input, config, options, sink, &lock).await;
    lock.release().await;
    loaded
}

/// Connects, and settles what depends on the server: the writers and the
/// batch size not set by the user are the defaults measured for it (see
/// [`Config::for_server`]);
/// a pool that follows them is then reconnected at its new size.
async fn connect_for_server(config: &Config) -> Result<(Neo4jSink, Config), SinkError> {
    let sink = Neo4jSink::connect(config).await?;
    let settled = config.for_server(&sink.server().agent);
    tracing::info!(
        server = %sink.server().agent,
        workers = settled.etl.num_workers,
        batch_size = settled.neo4j.batch_size,
        pool = settled.neo4j.max_connection_pool_size,
        "Writers and batch size in force (the defaults for this server unless configured)"
    );
    if settled.neo4j.max_connection_pool_size == config.neo4j.max_connection_pool_size {
        return Ok((sink, settled));
    }
    Ok((Neo4jSink::connect(&settled).await?, settled))
}

/// The writing steps of a started run: the shared entities, the learners,
/// the learners marked missing, and the run's and snapshot's records.
#[allow(clippy::too_many_arguments)]
async fn write_run(
    input: &Path,
    config: &Config,
    sink: &Neo4jSink,
    analysis: &crate::pipeline::analyze::Analysis,
    phases: &mut Vec<PhaseSummary>,
    snapshot_date: Option<NaiveDate>,
    check_existing: bool,
    missing: &mut decide::MissingPlan,
    run_id: &str,
    mut checkpoint: crate::pipeline::checkpoint::CheckpointV1,
    checkpoint_file: PathBuf,
) -> Result<
    (
        crate::sink::neo4j::EntitiesWritten,
        u64,
        String,
        phase2::LearnersWritten,
    ),
    LoadError,
> {
    let merged =
        write::write_entities_once(sink, analysis, config, &mut checkpoint, &checkpoint_file, phases).await?;
    let resume_after = checkpoint.committed_records;
    let load_id = checkpoint.load_id.clone();
    let load_date = snapshot_date.unwrap_or_else(today);
    let learners = phase2::write_learners(
        input,
        config,
        analysis,
        sink,
        Phase2Start {
            load_date,
            checkpoint,
            checkpoint_file,
            check_existing,
            known: std::mem::take(&mut missing.known),
        },
    )
    .await?;
    phases.push(learners.phase.clone());
    if check_existing {
        phases.push(write::mark_missing(sink, &missing.missing, load_date, config).await?);
    }
    records::record_finished_run(
        sink,
        input,
        config,
        analysis,
        snapshot_date,
        run_id,
        &learners,
        missing,
    )
    .await?;

    Ok((merged, resume_after, load_id, learners))
}

/// [`load`], the lock held: the list of its steps.
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
        options_change,
    } = prepare(input, config, options, Depth::Counts, sink).await?;
    decide::refuse_if_lock_lost(&sink, lock).await?;
    let mut sink = sink;
    if options_change.is_some() {
        sink.rewrite_every_learner();
    }

    // From here on the load writes.
    phases.push(write::create_schema(&sink).await?);
    let (checkpoint, run_id) = match resumed {
        Some(checkpoint) => {
            records::resume_run(
                &sink,
                input,
                config,
                &analysis,
                snapshot_date,
                checkpoint,
                &checkpoint_file,
            )
            .await?
        }
        None => records::start_run(&sink, input, config, &analysis, snapshot_date).await?,
    };
    if let Some(change) = options_change.as_ref().filter(|c| !c.turned_off.is_empty()) {
        phases.push(write::delete_turned_off(&sink, &change.turned_off, config).await?);
    }
    let written = write_run(
        input,
        config,
        &sink,
        &analysis,
        &mut phases,
        snapshot_date,
        check_existing,
        &mut missing,
        &run_id,
        checkpoint,
        checkpoint_file,
    )
    .await;
    let (merged, resume_after, load_id, learners) = match written {
        Ok(written) => written,
        Err(error) => {
            // The run's record says why it stopped, even when the reason
            // is that it lost the lock (that write skips the guard).
            sink.record_stopped_run(&run_id, &error.to_string(), std::time::Duration::from_secs(10))
                .await;
            return Err(error);
        }
    };

    Ok(LoadSummary::new(Finished {
        input,
        config,
        analysis: &analysis,
        phases,
        seconds: started.elapsed().as_secs_f64(),
        snapshot_date,
        load_id,
        run_id,
        resume_after,
        merged,
        learners,
        missing: &missing,
        retries: sink.retries(),
        batches_split: sink.splits(),
    }))
}
