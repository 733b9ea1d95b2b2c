//! The analysis pass: every row transformed, duplicate keys resolved, shared
//! entities collected, rejects written, and the graph's expected counts
//! derived. `check` prints it; a load starts from it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Config;
use crate::graph::counts::{GraphCounts, RelTally, expected_counts};
use crate::graph::records::{Entities, EntityCollector, LearnerRecord};
use crate::pipeline::outputs::{OutputError, refuse_file_over_input};
use crate::pipeline::rejects::{RejectsError, RejectsWriter};
use crate::pipeline::scan::{ScanError, scan};
use crate::sink::admin_csv::OutputFileError;
use crate::source::reader::{Chunk, ReadLimits, SourceError, StreamFingerprint};
use crate::transform::chunk::{RowResult, TransformedChunk, transform_chunk, transform_chunk_into};
use crate::transform::quality::{Finding, Findings};
use crate::transform::{Reject, TransformOptions, Transformer, today};

/// What the analysis keeps of an accepted row: its key's fingerprint and the
/// relationships it writes.
pub struct RowSummary {
    pub key: u128,
    /// The row's fingerprint (`sourceHash`), to tell a later snapshot's
    /// changed learners from the unchanged ones before any write.
    pub source_hash: Option<i64>,
    pub tally: RelTally,
    pub snapshot: Option<chrono::NaiveDate>,
}

impl RowSummary {
    fn of(record: &LearnerRecord) -> Self {
        let mut tally = RelTally::default();
        tally.add(record);
        RowSummary {
            key: key_fingerprint(&record.key),
            source_hash: record.source_hash(),
            tally,
            snapshot: record.snapshot,
        }
    }
}

/// A chunk as the analysis needs it: each accepted record reduced to its
/// summary on the transform thread.
pub type SummarizedChunk = TransformedChunk<RowSummary>;

fn summarize_chunk(transformed: TransformedChunk) -> SummarizedChunk {
    let rows = transformed
        .rows
        .into_iter()
        .map(|row| RowResult {
            line: row.line,
            raw: row.raw,
            result: row.result.map(|record| RowSummary::of(&record)),
            rejected_key: row.rejected_key,
        })
        .collect();
    TransformedChunk {
        bytes: transformed.bytes,
        rows,
        findings: transformed.findings,
        entities: transformed.entities,
    }
}

/// A 128-bit fingerprint of a learner key: 16 bytes per key instead of the
/// key itself keeps the duplicate check small for millions of rows.
pub fn key_fingerprint(key: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(key.as_bytes())
}

/// Remembers the first line of every learner key, in file order, and the
/// fingerprint of that row.
#[derive(Default)]
pub struct KeyRegistry {
    /// Key fingerprint -> (line, the row's `sourceHash` or [`NO_HASH`]).
    /// The hash costs no memory: a u128 key pads each entry to 32 bytes.
    first_lines: rustc_hash::FxHashMap<u128, (u64, i64)>,
}

/// A row without a fingerprint, in [`KeyRegistry`] (an `Option` would make
/// each entry 48 bytes instead of 32).
const NO_HASH: i64 = i64::MIN;

/// The rows a file of `input_bytes` holds if all are like its first chunk's
/// (capped, so that an odd first chunk cannot reserve much).
fn estimated_rows(input_bytes: u64, first: &SummarizedChunk) -> usize {
    const CAP: u64 = 50_000_000;
    let bytes = (first.bytes.len() as u64).max(1);
    (input_bytes.saturating_mul(first.rows.len() as u64) / bytes).min(CAP) as usize
}

impl KeyRegistry {
    /// Makes room for `rows` more keys at once: growing a table of
    /// millions step by step moved every key several times, on the thread
    /// that takes the chunks in order.
    pub fn reserve(&mut self, rows: usize) {
        self.first_lines.reserve(rows);
    }

    /// Whether an accepted row has the learner key `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.first_lines.contains_key(&key_fingerprint(key))
    }

    /// Whether an accepted row has the key with this fingerprint.
    pub fn contains_fingerprint(&self, fingerprint: u128) -> bool {
        self.first_lines.contains_key(&fingerprint)
    }

    /// The fingerprint (`sourceHash`) of the accepted row with the key of
    /// this fingerprint.
    pub fn source_hash(&self, fingerprint: u128) -> Option<i64> {
        self.first_lines
            .get(&fingerprint)
            .map(|(_, hash)| *hash)
            .filter(|hash| *hash != NO_HASH)
    }

    /// `Ok` for the first row with the key `fingerprint`, or the
    /// duplicate-key rejection.
    pub fn register(&mut self, fingerprint: u128, line: u64, source_hash: Option<i64>) -> Result<(), Reject> {
        match self.first_lines.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(first) => Err(Reject::DuplicateKey {
                first_line: first.get().0,
            }),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((line, source_hash.unwrap_or(NO_HASH)));
                Ok(())
            }
        }
    }
}

/// What the analysis found.
pub struct Analysis {
    pub input: PathBuf,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    /// Record numbers (1-based) of rejected rows.
    pub rejected_records: HashSet<u64>,
    pub rejects_file: PathBuf,
    pub findings: Findings,
    pub entities: Entities,
    pub tally: RelTally,
    pub counts: GraphCounts,
    /// The learner keys of the accepted rows.
    pub learner_keys: KeyRegistry,
    /// Fingerprints of the keys rejected rows name (other than duplicates):
    /// learners the file still holds, whose row could not be loaded.
    pub rejected_keys: rustc_hash::FxHashSet<u128>,
    /// Accepted rows per snapshot date (from each row's snapshot_id).
    pub snapshot_dates: BTreeMap<chrono::NaiveDate, u64>,
    /// Rows rejected for a snapshot_id after today, per date.
    pub future_snapshot_dates: BTreeMap<chrono::NaiveDate, u64>,
    /// The bytes this pass read, chunk by chunk.
    pub fingerprint: StreamFingerprint,
    pub seconds: f64,
}

impl Analysis {
    pub fn rows_rejected(&self) -> u64 {
        self.rows_read - self.rows_loaded
    }

    /// The file's snapshot date: the one most accepted rows carry (the
    /// latest of equally common ones).
    pub fn dominant_snapshot(&self) -> Option<chrono::NaiveDate> {
        self.snapshot_dates
            .iter()
            .max_by_key(|(date, rows)| (**rows, **date))
            .map(|(date, _)| *date)
    }

    /// The date most of the file's rows carry, when it is after today: a
    /// whole export from the future (its rows were rejected one by one;
    /// the load is refused as a whole).
    pub fn future_snapshot(&self) -> Option<chrono::NaiveDate> {
        let accepted = self.snapshot_dates.values().copied().max().unwrap_or(0);
        self.future_snapshot_dates
            .iter()
            .max_by_key(|(date, rows)| (**rows, **date))
            .filter(|(_, rows)| **rows > accepted)
            .map(|(date, _)| *date)
    }

    /// Accepted rows whose snapshot_id differs from the dominant one.
    pub fn rows_off_snapshot(&self) -> u64 {
        let dominant = self.dominant_snapshot();
        self.snapshot_dates
            .iter()
            .filter(|(date, _)| Some(**date) != dominant)
            .map(|(_, rows)| rows)
            .sum()
    }

    pub fn rejected_share(&self) -> f64 {
        if self.rows_read == 0 {
            0.0
        } else {
            self.rows_rejected() as f64 / self.rows_read as f64
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Rejects(#[from] RejectsError),
    #[error(transparent)]
    Output(#[from] OutputFileError),
    #[error(transparent)]
    OutputPath(#[from] OutputError),
}

impl From<ScanError<AnalyzeError>> for AnalyzeError {
    fn from(e: ScanError<AnalyzeError>) -> Self {
        match e {
            ScanError::Source(e) => AnalyzeError::Source(e),
            ScanError::Consume(e) => e,
        }
    }
}

/// The transform options a configuration sets.
pub fn transform_options(config: &Config) -> TransformOptions {
    TransformOptions {
        snapshot_date: config.etl.snapshot_date,
        latest_snapshot: Some(today()),
        counts_only: false,
    }
}

/// How much of the input a pass reads, from the configuration.
pub fn read_limits(config: &Config) -> ReadLimits {
    ReadLimits {
        records: config.etl.max_rows,
        record_bytes: config.etl.max_record_bytes,
    }
}

/// What the analysis pass keeps of each row beyond the counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Counts, findings, entities and rejections: every pass that writes
    /// nothing from it (check, verify, a load's analysis).
    Counts,
    /// Also each row's fingerprint (`sourceHash`), a third more work: a
    /// dry run tells changed learners from unchanged ones by it.
    Fingerprints,
}

/// Runs the analysis pass over `input`.
pub fn analyze(
    input: &Path,
    config: &Config,
    depth: Depth,
    progress: impl FnMut(u64),
) -> Result<Analysis, AnalyzeError> {
    let options = TransformOptions {
        counts_only: depth == Depth::Counts,
        ..transform_options(config)
    };
    analyze_chunks(
        input,
        config,
        options,
        progress,
        |entities, chunk, transformer| {
            let summarized =
                transform_chunk_into(chunk, transformer, entities, |record| RowSummary::of(&record));
            (summarized, ())
        },
        |(), _| Ok(()),
    )
}

/// The analysis pass, with more output: `extra` runs on the transform
/// threads with each chunk's full records, and `accept` receives its result
/// in file order together with which of the chunk's rows were accepted
/// (after the duplicate-key check).
pub fn analyze_with<X: Send>(
    input: &Path,
    config: &Config,
    options: TransformOptions,
    progress: impl FnMut(u64),
    extra: impl Fn(&TransformedChunk) -> X + Sync,
    accept: impl FnMut(X, &[bool]) -> Result<(), AnalyzeError>,
) -> Result<Analysis, AnalyzeError> {
    analyze_chunks(
        input,
        config,
        options,
        progress,
        |entities, chunk, transformer| {
            let transformed = transform_chunk(chunk, transformer, entities);
            let extra = extra(&transformed);
            (summarize_chunk(transformed), extra)
        },
        accept,
    )
}

/// The analysis pass, with `work` turning each chunk into its summary (and
/// any extra output) on the transform threads.
fn analyze_chunks<X: Send>(
    input: &Path,
    config: &Config,
    options: TransformOptions,
    mut progress: impl FnMut(u64),
    work: impl Fn(&mut EntityCollector, Chunk, &Transformer) -> (SummarizedChunk, X) + Sync,
    mut accept: impl FnMut(X, &[bool]) -> Result<(), AnalyzeError>,
) -> Result<Analysis, AnalyzeError> {
    let started = Instant::now();
    let transformer = Transformer::new(options);
    let rejects_file = config.rejects_path(input);
    refuse_file_over_input(&rejects_file, input)?;
    let mut rejects = RejectsWriter::create(&rejects_file)?;
    let mut keys = KeyRegistry::default();
    // A table or a file still being written has no final size yet: 0.
    let input_bytes = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    // A Parquet file says how many rows it holds.
    let input_rows = crate::source::parquet::row_count(input);
    let mut analysis = Analysis {
        input: input.to_path_buf(),
        rows_read: 0,
        rows_loaded: 0,
        rejected_by_reason: BTreeMap::new(),
        rejected_records: HashSet::default(),
        rejects_file: rejects_file.clone(),
        findings: Findings::default(),
        entities: Entities::default(),
        tally: RelTally::default(),
        counts: GraphCounts::default(),
        learner_keys: KeyRegistry::default(),
        rejected_keys: rustc_hash::FxHashSet::default(),
        snapshot_dates: BTreeMap::new(),
        future_snapshot_dates: BTreeMap::new(),
        fingerprint: StreamFingerprint::default(),
        seconds: 0.0,
    };
    let (fingerprint, collectors) = scan(
        input,
        config.etl.transform_threads,
        config.etl.chunk_size,
        read_limits(config),
        None,
        |entities: &mut EntityCollector, chunk| work(entities, chunk, &transformer),
        |(chunk, extra): (SummarizedChunk, X)| -> Result<(), AnalyzeError> {
            if analysis.rows_read == 0 {
                let rows = input_rows
                    .map_or_else(|| estimated_rows(input_bytes, &chunk), |rows| rows as usize)
                    .min(config.etl.max_rows.unwrap_or(u64::MAX) as usize);
                keys.reserve(rows);
            }
            let mut accepted = Vec::with_capacity(chunk.rows.len());
            for row in chunk.rows {
                let (line, raw) = (row.line, row.raw);
                analysis.rows_read += 1;
                let record_number = analysis.rows_read;
                let outcome = row.result.and_then(|summary| {
                    keys.register(summary.key, line, summary.source_hash)
                        .map(|()| summary)
                });
                match outcome {
                    Ok(summary) => {
                        analysis.rows_loaded += 1;
                        analysis.tally.merge(&summary.tally);
                        if let Some(date) = summary.snapshot {
                            *analysis.snapshot_dates.entry(date).or_default() += 1;
                        }
                        accepted.push(true);
                    }
                    Err(reject) => {
                        if let Reject::FutureSnapshotId { date, .. } = reject {
                            *analysis.future_snapshot_dates.entry(date).or_default() += 1;
                        }
                        if matches!(reject, Reject::DuplicateKey { .. }) {
                            analysis.findings.add(Finding::DuplicateKey);
                        } else if let Some(key) = row.rejected_key {
                            analysis.rejected_keys.insert(key_fingerprint(&key));
                        }
                        *analysis.rejected_by_reason.entry(reject.code()).or_default() += 1;
                        analysis.rejected_records.insert(record_number);
                        rejects.write(record_number, line, &reject, &chunk.bytes[raw])?;
                        accepted.push(false);
                    }
                }
            }
            accept(extra, &accepted)?;
            analysis.findings.merge(&chunk.findings);
            analysis.entities.absorb(chunk.entities);
            progress(analysis.rows_read);
            Ok(())
        },
    )?;
    rejects.finish()?;
    analysis.fingerprint = fingerprint;
    if analysis.rows_read == 0 {
        return Err(AnalyzeError::Source(SourceError::NoRows {
            path: input.to_path_buf(),
        }));
    }
    analysis
        .findings
        .set(Finding::NameVariantMerged, analysis.entities.name_variants());
    let spellings = EntityCollector::spellings(&collectors);
    drop(collectors);
    analysis.entities.choose_names(&spellings);
    analysis.counts = expected_counts(&analysis.entities, &analysis.tally, config.graph);
    analysis.learner_keys = keys;
    analysis.seconds = started.elapsed().as_secs_f64();
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_keeps_each_rows_fingerprint_in_the_room_its_key_pads() {
        assert_eq!(
            std::mem::size_of::<(u128, (u64, i64))>(),
            std::mem::size_of::<(u128, u64)>()
        );
        let mut keys = KeyRegistry::default();
        let (a, b) = (key_fingerprint("a"), key_fingerprint("b"));
        keys.register(a, 2, Some(-7)).expect("first");
        keys.register(b, 3, None).expect("first");
        assert!(matches!(
            keys.register(a, 4, Some(1)),
            Err(Reject::DuplicateKey { first_line: 2 })
        ));
        assert_eq!(keys.source_hash(a), Some(-7));
        assert_eq!(keys.source_hash(b), None);
        assert_eq!(keys.source_hash(key_fingerprint("c")), None);
    }

    fn chunk_of(rows: usize, bytes: usize) -> SummarizedChunk {
        TransformedChunk {
            bytes: vec![b'x'; bytes],
            rows: (0..rows)
                .map(|row| RowResult {
                    line: row as u64 + 2,
                    raw: 0..0,
                    result: Err(Reject::MissingKey),
                    rejected_key: None,
                })
                .collect(),
            findings: Findings::default(),
            entities: Entities::default(),
        }
    }

    #[test]
    fn the_key_table_is_sized_from_the_first_chunk() {
        assert_eq!(estimated_rows(1_000_000, &chunk_of(10, 1_000)), 10_000);
        assert_eq!(
            estimated_rows(0, &chunk_of(10, 1_000)),
            0,
            "a table has no size yet"
        );
        assert_eq!(estimated_rows(u64::MAX, &chunk_of(10, 1)), 50_000_000, "capped");
        assert_eq!(estimated_rows(100, &chunk_of(0, 0)), 0);
    }
}
