//! Phase 2's reading side: the file read and transformed again, every
//! block checked against the analysis, and the learners to write grouped
//! into batches of `neo4j.batch_size`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::FxHashMap;

use super::phase2::{Batch, Phase2, ReadyLearner, with_relationship_counts};
use crate::config::Config;
use crate::graph::counts::{GraphOptions, RelTally};
use crate::graph::records::{EntityCollector, LearnerRecord};
use crate::pipeline::analyze::{key_fingerprint, read_limits, transform_options};
use crate::pipeline::scan::{ScanError, scan};
use crate::sink::neo4j::PreparedLearners;
use crate::source::reader::{Chunk, SourceError, StreamFingerprint};
use crate::transform::chunk::transform_chunk;
use crate::transform::{TransformOptions, Transformer};

/// What phase 2's reading side skips and checks.
pub(super) struct ReadPlan {
    /// Record numbers the analysis rejected.
    pub skip: HashSet<u64>,
    /// A resumed load's committed rows.
    pub resume_after: u64,
    /// Build the statement parameters ahead of the writers.
    pub prepare: bool,
    /// The bytes the analysis read: every block must hash the same.
    pub expected: StreamFingerprint,
    /// The graph's fingerprints of the learners it already holds: a row
    /// with the same one is unchanged and skipped here, without a call.
    pub known: FxHashMap<u128, i64>,
}

impl ReadPlan {
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
pub(super) enum ReadError {
    Source(SourceError),
    /// The file's bytes differ from the analysis pass's from this byte on.
    Changed {
        offset: u64,
    },
}

/// Transforms the file again on the transform threads, checks every block
/// of bytes is the one the analysis read, skips the rows the analysis
/// rejected, those a resumed load already committed and those the graph
/// holds unchanged (counted in `phase2`), and sends the others in batches.
pub(super) fn read_for_writing(
    input: &Path,
    config: &Config,
    plan: &ReadPlan,
    phase2: &Phase2,
    stop: &AtomicBool,
    batches: flume::Sender<Batch>,
) -> Result<(), ReadError> {
    // The rows' states are dated by the load, not by each row's snapshot_id.
    let transformer = Transformer::new(TransformOptions {
        snapshot_date: Some(phase2.load_date),
        ..transform_options(config)
    });
    let mut batcher = Batcher::new(config.neo4j.batch_size, config.graph, plan.prepare, batches);
    let mut record_number = 0u64;
    let result = scan(
        input,
        config.etl.transform_threads,
        config.etl.chunk_size,
        read_limits(config),
        Some(&plan.expected),
        |entities: &mut EntityCollector, chunk| ready_learners(chunk, &transformer, entities),
        |rows: Vec<Option<ReadyLearner>>| -> Result<(), WritersGone> {
            if stop.load(Ordering::SeqCst) {
                return Err(WritersGone);
            }
            for ready in rows {
                record_number += 1;
                let Some(ready) = ready else { continue };
                if record_number <= plan.resume_after || plan.skip.contains(&record_number) {
                    continue;
                }
                if plan.is_unchanged(&ready.record) {
                    phase2.count_unchanged();
                    continue;
                }
                batcher.push(ready, record_number)?;
            }
            Ok(())
        },
    );
    match result {
        Ok(_) => {
            let _ = batcher.finish(record_number);
            Ok(())
        }
        Err(ScanError::Source(SourceError::Changed { offset, .. })) => Err(ReadError::Changed { offset }),
        Err(ScanError::Source(e)) => Err(ReadError::Source(e)),
        Err(ScanError::Consume(WritersGone)) => Ok(()),
    }
}

/// A chunk's rows as phase 2 needs them, on the transform thread: each
/// accepted record with the relationships it brings, a rejected one as
/// `None` (it still counts as a record of the file).
fn ready_learners(
    chunk: Chunk,
    transformer: &Transformer,
    entities: &mut EntityCollector,
) -> Vec<Option<ReadyLearner>> {
    transform_chunk(chunk, transformer, entities)
        .rows
        .into_iter()
        .map(|row| {
            row.result.ok().map(|record| {
                let mut tally = RelTally::default();
                tally.add(&record);
                ReadyLearner { record, tally }
            })
        })
        .collect()
}

/// The reading stopped because the writers stopped taking batches (one
/// failed, or Ctrl-C): not an error of the reading.
struct WritersGone;

/// Groups learners into numbered batches of `size` and sends each, with
/// its statement's parameters when `prepare` is set.
struct Batcher {
    size: usize,
    options: GraphOptions,
    prepare: bool,
    next_index: u64,
    learners: Vec<ReadyLearner>,
    batches: flume::Sender<Batch>,
}

impl Batcher {
    fn new(size: usize, options: GraphOptions, prepare: bool, batches: flume::Sender<Batch>) -> Self {
        Batcher {
            size,
            options,
            prepare,
            next_index: 0,
            learners: Vec::with_capacity(size),
            batches,
        }
    }

    /// Adds the learner of record `record_number`; sends the batch it fills.
    fn push(&mut self, learner: ReadyLearner, record_number: u64) -> Result<(), WritersGone> {
        self.learners.push(learner);
        if self.learners.len() >= self.size {
            let full = std::mem::replace(&mut self.learners, Vec::with_capacity(self.size));
            self.send(full, record_number)?;
        }
        Ok(())
    }

    /// Sends the last, partly filled batch.
    fn finish(mut self, last_record: u64) -> Result<(), WritersGone> {
        if self.learners.is_empty() {
            return Ok(());
        }
        let last = std::mem::take(&mut self.learners);
        self.send(last, last_record)
    }

    fn send(&mut self, learners: Vec<ReadyLearner>, last_record: u64) -> Result<(), WritersGone> {
        let prepared = self
            .prepare
            .then(|| PreparedLearners::new(&with_relationship_counts(&learners, self.options)));
        let batch = Batch {
            index: self.next_index,
            last_record,
            learners,
            prepared,
        };
        self.next_index += 1;
        self.batches.send(batch).map_err(|_| WritersGone)
    }
}
