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
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use neo4rs::BoltType;
use serde::Serialize;

use crate::config::Config;
use crate::graph::counts::RelTally;
use crate::pipeline::analyze::{AnalyzeError, analyze, transform_chunk, transform_options};
use crate::pipeline::progress::PhaseProgress;
use crate::pipeline::scan::{ScanError, scan};
use crate::sink::neo4j::{Neo4jSink, SinkError, params};
use crate::source::reader::SourceError;
use crate::transform::Transformer;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error(transparent)]
    Source(#[from] SourceError),
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

/// One learner ready to write: its key, its row parameters, and the
/// relationships it brings.
struct ReadyLearner {
    key: String,
    row: BoltType,
    tally: RelTally,
}

/// Duration and size of one phase.
#[derive(Debug, Serialize)]
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
    /// Learners written by this run.
    pub learners_written: u64,
    /// Learners already in the database (an earlier run wrote them).
    pub learners_already_present: u64,
    pub entity_nodes_merged: u64,
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
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Load of {} finished in {:.1} s",
            self.input.display(),
            self.seconds
        );
        for phase in &self.phases {
            let _ = writeln!(
                out,
                "  {:<22} {:>8.1} s {:>12} items {:>10.0}/s",
                phase.name,
                phase.seconds,
                phase.items,
                phase.items as f64 / phase.seconds.max(1e-9)
            );
        }
        let _ = writeln!(
            out,
            "Rows: {} read, {} accepted, {} rejected (see {})",
            self.rows_read,
            self.rows_accepted,
            self.rows_rejected,
            self.rejects_file.display()
        );
        for (reason, n) in &self.rejected_by_reason {
            let _ = writeln!(out, "  rejected {reason:<24} {n:>10}");
        }
        let _ = writeln!(
            out,
            "Written: {} learners ({} already present), {} shared nodes merged, {} relationships; {} retries; {:.0} rows/s",
            self.learners_written,
            self.learners_already_present,
            self.entity_nodes_merged,
            self.relationships_written,
            self.retries,
            self.rows_per_second
        );
        let _ = writeln!(
            out,
            "Phase 2: {} batches of up to {} rows on {} writers ({} at once at most)",
            self.batches, self.largest_batch, self.writer_tasks, self.peak_concurrent_batches
        );
        let _ = writeln!(out, "Configuration:\n{}", self.configuration);
        out
    }
}

fn tally_relationships(t: &RelTally) -> u64 {
    t.has_skill
        + t.enrolled_in
        + t.works_for
        + t.runs_venture
        + t.studied_at
        + t.has_learning_state
        + t.has_professional_status
        + t.resides_in
        + t.from_country
}

/// Runs a whole load.
pub async fn load(input: &Path, config: &Config) -> Result<LoadSummary, LoadError> {
    let started = Instant::now();
    let sink = Neo4jSink::connect(config).await?;
    let mut phases = Vec::new();

    let progress = PhaseProgress::new("schema", "statements", None);
    let statements = sink.create_schema().await?;
    progress.add(statements as u64);
    phases.push(PhaseSummary {
        name: "phase 0 schema",
        seconds: progress.finish(),
        items: statements as u64,
    });

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
    if analysis.rejected_share() > config.validation.max_error_rate {
        return Err(LoadError::TooManyRejects {
            rejected: analysis.rows_rejected(),
            read: analysis.rows_read,
            share: analysis.rejected_share() * 100.0,
            max: config.validation.max_error_rate * 100.0,
            rejects: analysis.rejects_file.clone(),
        });
    }

    let entity_count: u64 = analysis
        .counts
        .nodes
        .iter()
        .filter(|(l, _)| **l != "Learner")
        .map(|(_, n)| n)
        .sum();
    let progress = PhaseProgress::new("entities", "nodes", Some(entity_count));
    let merged = sink
        .write_entities(
            &analysis.entities,
            config.neo4j.batch_size,
            config.etl.num_workers,
        )
        .await?;
    progress.add(merged);
    phases.push(PhaseSummary {
        name: "phase 1 shared nodes",
        seconds: progress.finish(),
        items: merged,
    });

    let progress = Arc::new(PhaseProgress::new("learners", "rows", Some(analysis.rows_loaded)));
    let written = Arc::new(AtomicU64::new(0));
    let present = Arc::new(AtomicU64::new(0));
    let relationships = Arc::new(AtomicU64::new(0));
    let batches = Arc::new(AtomicU64::new(0));
    let largest_batch = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicU64::new(0));
    let peak_in_flight = Arc::new(AtomicU64::new(0));
    let (batch_tx, batch_rx) = flume::bounded::<Vec<ReadyLearner>>(config.etl.num_workers * 2);
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..config.etl.num_workers {
        let (sink, batch_rx) = (sink.clone(), batch_rx.clone());
        let (written, present, relationships, progress) = (
            written.clone(),
            present.clone(),
            relationships.clone(),
            progress.clone(),
        );
        let (batches, largest_batch, in_flight, peak_in_flight) = (
            batches.clone(),
            largest_batch.clone(),
            in_flight.clone(),
            peak_in_flight.clone(),
        );
        writers.spawn(async move {
            while let Ok(batch) = batch_rx.recv_async().await {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak_in_flight.fetch_max(now, Ordering::SeqCst);
                batches.fetch_add(1, Ordering::Relaxed);
                largest_batch.fetch_max(batch.len() as u64, Ordering::Relaxed);
                let keys: Vec<String> = batch.iter().map(|l| l.key.clone()).collect();
                let existing = sink.existing_learners(&keys).await?;
                let size = batch.len() as u64;
                let mut rows = Vec::with_capacity(batch.len());
                let mut rels = 0;
                for learner in batch {
                    if !existing.contains(&learner.key) {
                        rels += tally_relationships(&learner.tally);
                        rows.push(learner.row);
                    }
                }
                let new = rows.len() as u64;
                if !rows.is_empty() {
                    sink.write_learners(rows).await?;
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
                written.fetch_add(new, Ordering::Relaxed);
                present.fetch_add(size - new, Ordering::Relaxed);
                relationships.fetch_add(rels, Ordering::Relaxed);
                progress.add(size);
            }
            Ok::<(), SinkError>(())
        });
    }
    drop(batch_rx);

    let reader = {
        let (input, config) = (input.to_path_buf(), config.clone());
        let skip: HashSet<u64> = analysis.rejected_records.iter().copied().collect();
        tokio::task::spawn_blocking(move || read_for_writing(&input, &config, &skip, batch_tx))
    };
    let mut failure: Option<LoadError> = None;
    while let Some(done) = writers.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                if failure.is_none() {
                    failure = Some(e.into());
                }
                // Stop the other writers; the reader stops when its channel closes.
                writers.abort_all();
            }
            Err(join) if join.is_cancelled() => {}
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    let read_result = reader.await.expect("the reader thread does not panic");
    if let Some(e) = failure {
        return Err(e);
    }
    read_result?;
    let learners_written = written.load(Ordering::Relaxed);
    phases.push(PhaseSummary {
        name: "phase 2 learners",
        seconds: Arc::into_inner(progress)
            .map(PhaseProgress::finish)
            .unwrap_or_default(),
        items: analysis.rows_loaded,
    });

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
        learners_already_present: present.load(Ordering::Relaxed),
        entity_nodes_merged: merged,
        relationships_written: relationships.load(Ordering::Relaxed),
        retries: sink.retries(),
        batches: batches.load(Ordering::Relaxed),
        largest_batch: largest_batch.load(Ordering::Relaxed),
        writer_tasks: config.etl.num_workers,
        peak_concurrent_batches: peak_in_flight.load(Ordering::SeqCst),
        rows_per_second: analysis.rows_loaded as f64 / seconds.max(1e-9),
        configuration: config.clone(),
    })
}

/// Phase 2's reading side: transforms the file again on the transform
/// threads, skips the rows the analysis rejected, and sends batches of
/// `neo4j.batch_size` learners to the writers.
fn read_for_writing(
    input: &Path,
    config: &Config,
    skip: &HashSet<u64>,
    batches: flume::Sender<Vec<ReadyLearner>>,
) -> Result<(), SourceError> {
    let transformer = Transformer::new(transform_options(config));
    let batch_size = config.neo4j.batch_size;
    let mut record_number = 0u64;
    let mut batch = Vec::with_capacity(batch_size);
    let result = scan(
        input,
        config.etl.transform_threads,
        config.etl.chunk_size,
        |chunk| {
            transform_chunk(chunk, &transformer)
                .rows
                .into_iter()
                .map(|row| {
                    row.result.ok().map(|record| {
                        let mut tally = RelTally::default();
                        tally.add(&record);
                        ReadyLearner {
                            row: params::learner(&record),
                            key: record.key,
                            tally,
                        }
                    })
                })
                .collect::<Vec<_>>()
        },
        |rows: Vec<Option<ReadyLearner>>| -> Result<(), ()> {
            for ready in rows {
                record_number += 1;
                let Some(ready) = ready else { continue };
                if skip.contains(&record_number) {
                    continue;
                }
                batch.push(ready);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    // The writers are gone (one failed): stop reading.
                    batches.send(full).map_err(|_| ())?;
                }
            }
            Ok(())
        },
    );
    match result {
        Ok(()) => {
            if !batch.is_empty() {
                let _ = batches.send(batch);
            }
            Ok(())
        }
        Err(ScanError::Source(e)) => Err(e),
        Err(ScanError::Consume(())) => Ok(()),
    }
}
