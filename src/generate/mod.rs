//! `learngraph generate`: realistic learner-profile exports on demand.
//!
//! Rows are generated in parallel chunks, each row from its own seeded random
//! stream, and written in order; the output is byte-identical for the same
//! row count and seed whatever the thread count, and memory stays bounded by
//! the chunk window, not the row count.

pub mod faults;
pub mod fields;
pub mod parquet;
pub mod profile;
pub mod row;
pub mod snapshots;
pub mod vocab;
pub mod world;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::source::columns::{COLUMNS, col};
use faults::{Fault, FaultRecord};
use fields::RowFields;
use row::RowGenerator;
use snapshots::{ChangeReport, Presence, SnapshotPlan};
use world::World;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub rows: u64,
    pub seed: u64,
    /// The file to write; for a sequence, the folder its files go into.
    pub out: PathBuf,
    /// Share of rows to damage (0 for a clean file).
    pub dirty_rate: f64,
    /// Write the follow-up snapshot of the file `rows` and `seed` make.
    pub follow_up: bool,
    /// Write this many successive snapshots into the folder `out`.
    pub snapshots: Option<u32>,
    /// The files' form.
    pub format: FileFormat,
}

/// The form of the generated files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// The CSV export.
    #[default]
    Csv,
    /// The same rows as Parquet, every column as text (see [`parquet`]).
    Parquet,
}

/// What was generated: one entry per file written.
#[derive(Debug, Default)]
pub struct GenerateSummary {
    pub files: Vec<FileSummary>,
}

/// One generated file.
#[derive(Debug, Default)]
pub struct FileSummary {
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    pub faults: u64,
    pub sidecar: Option<PathBuf>,
    /// For a later snapshot: what changed, also written to `<file>.changes.json`.
    pub changes: Option<(ChangeReport, PathBuf)>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("--dirty must be between 0 and 1, got {0}")]
    DirtyRate(f64),
    #[error(
        "--follow-up writes a clean file: its change report counts learners a damaged row would hide; drop --dirty (or use --snapshots 2, whose files may be dirty)"
    )]
    DirtyFollowUp,
    #[error("--snapshots must be at least 1")]
    NoSnapshots,
    #[error(
        "--format parquet writes clean rows: a Parquet file cannot hold the rows of the wrong length or the invalid \
         UTF-8 that --dirty plants; generate the damaged sample as CSV"
    )]
    DirtyParquet,
    #[error(
        "--snapshots {asked}: snapshot {asked} would be dated {date}, after today, and a load refuses a snapshot from the future; ask for at most {most}"
    )]
    FutureSnapshot {
        asked: u32,
        date: chrono::NaiveDate,
        most: u32,
    },
}

/// Rows generated per parallel task.
const CHUNK_ROWS: u64 = 4_096;

/// One generated chunk: its CSV bytes and the faults in it, with the line
/// offset of each faulty row within the chunk; for a later snapshot, what
/// changed.
struct Chunk {
    bytes: Vec<u8>,
    /// Each damaged row: its line and record within the chunk (from 0).
    faults: Vec<(u64, u64, Fault)>,
    lines: u64,
    rows: u64,
    changes: ChangeReport,
}

pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if !(0.0..=1.0).contains(&options.dirty_rate) {
        return Err(GenerateError::DirtyRate(options.dirty_rate));
    }
    if options.follow_up && options.dirty_rate > 0.0 {
        return Err(GenerateError::DirtyFollowUp);
    }
    if options.format == FileFormat::Parquet && options.dirty_rate > 0.0 {
        return Err(GenerateError::DirtyParquet);
    }
    let format = options.format;
    let world = World::new(options.rows);
    let generator = RowGenerator::new(&world, options.seed, options.dirty_rate);
    let mut summary = GenerateSummary::default();
    match options.snapshots {
        Some(0) => return Err(GenerateError::NoSnapshots),
        Some(count) => {
            let today = crate::transform::today();
            if snapshots::snapshot_date(count) > today {
                let most = (1..count)
                    .rev()
                    .find(|&k| snapshots::snapshot_date(k) <= today)
                    .unwrap_or(0);
                return Err(GenerateError::FutureSnapshot {
                    asked: count,
                    date: snapshots::snapshot_date(count),
                    most,
                });
            }
            std::fs::create_dir_all(&options.out).map_err(write_err(&options.out))?;
            let plan = SnapshotPlan::new(&generator, options.rows, count);
            for step in 1..=count {
                let mut path = options.out.join(snapshots::file_name(step));
                if format == FileFormat::Parquet {
                    path.set_extension("parquet");
                }
                summary.files.push(write_file(
                    &generator,
                    options.rows,
                    Some((&plan, step)),
                    &path,
                    format,
                )?);
            }
        }
        None if options.follow_up => {
            let plan = SnapshotPlan::new(&generator, options.rows, 2);
            summary.files.push(write_file(
                &generator,
                options.rows,
                Some((&plan, 2)),
                &options.out,
                format,
            )?);
        }
        None => summary
            .files
            .push(write_file(&generator, options.rows, None, &options.out, format)?),
    }
    Ok(summary)
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + use<> {
    let path = path.to_path_buf();
    move |source| GenerateError::Write { path, source }
}

/// Writes one file: the first snapshot, or snapshot `step` of a sequence.
/// As Parquet, the rows are written as CSV first, beside it.
fn write_file(
    generator: &RowGenerator<'_>,
    rows: u64,
    sequence: Option<(&SnapshotPlan, u32)>,
    path: &Path,
    format: FileFormat,
) -> Result<FileSummary, GenerateError> {
    if format == FileFormat::Csv {
        return write_csv_file(generator, rows, sequence, path, path);
    }
    let mut csv = path.as_os_str().to_owned();
    csv.push(".csv-partial");
    let csv = PathBuf::from(csv);
    let mut summary = write_csv_file(generator, rows, sequence, &csv, path)?;
    let written = parquet::csv_to_parquet(&csv, path);
    let _ = std::fs::remove_file(&csv);
    summary.bytes = written?;
    summary.path = path.to_path_buf();
    Ok(summary)
}

/// Writes one file as CSV at `path`; its side files (faults, changes) are
/// named after `named`.
fn write_csv_file(
    generator: &RowGenerator<'_>,
    rows: u64,
    sequence: Option<(&SnapshotPlan, u32)>,
    path: &Path,
    named: &Path,
) -> Result<FileSummary, GenerateError> {
    let total_rows = sequence.map_or(rows, |(plan, step)| plan.rows_in(step));
    let mut changes = ChangeReport::default();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_err(parent))?;
    }
    let file = File::create(path).map_err(write_err(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(COLUMNS).map_err(|e| GenerateError::Write {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let header = header.into_inner().unwrap_or_default();
    out.write_all(&header).map_err(write_err(path))?;

    let sidecar_path = faults::sidecar_path(named);
    let mut sidecar = if generator.dirty_rate > 0.0 {
        let file = File::create(&sidecar_path).map_err(write_err(&sidecar_path))?;
        Some(csv::Writer::from_writer(BufWriter::new(file)))
    } else {
        None
    };

    let mut summary = FileSummary {
        path: path.to_path_buf(),
        bytes: header.len() as u64,
        ..FileSummary::default()
    };
    let mut line = 2u64;
    let chunks = total_rows.div_ceil(CHUNK_ROWS);
    let window = (rayon::current_num_threads() as u64 * 2).max(2);
    let mut first = 0u64;
    while first < chunks {
        let last = (first + window).min(chunks);
        let generated: Vec<Chunk> = (first..last)
            .into_par_iter()
            .map(|chunk| {
                generate_chunk(
                    generator,
                    sequence,
                    chunk * CHUNK_ROWS,
                    ((chunk + 1) * CHUNK_ROWS).min(total_rows),
                )
            })
            .collect();
        for chunk in generated {
            out.write_all(&chunk.bytes).map_err(write_err(path))?;
            summary.bytes += chunk.bytes.len() as u64;
            if let Some(sidecar) = sidecar.as_mut() {
                for (line_offset, record_offset, fault) in &chunk.faults {
                    let record = summary.rows + record_offset + 1;
                    sidecar
                        .serialize(FaultRecord::new(line + line_offset, record, *fault))
                        .map_err(|e| GenerateError::Write {
                            path: sidecar_path.clone(),
                            source: e.into(),
                        })?;
                }
            }
            summary.faults += chunk.faults.len() as u64;
            line += chunk.lines;
            summary.rows += chunk.rows;
            changes.absorb(chunk.changes);
        }
        first = last;
    }
    out.flush().map_err(write_err(path))?;
    if let Some(mut sidecar) = sidecar {
        sidecar.flush().map_err(write_err(&sidecar_path))?;
        summary.sidecar = Some(sidecar_path);
    }
    if let Some((plan, step)) = sequence.filter(|(_, step)| *step > 1) {
        changes.base_rows = plan.base_rows;
        changes.rows_written = summary.rows;
        changes.snapshot_id = snapshots::snapshot_id(step);
        let report = snapshots::report_path(named);
        let text = serde_json::to_string_pretty(&changes).unwrap_or_default();
        std::fs::write(&report, text + "\n").map_err(write_err(&report))?;
        summary.changes = Some((changes, report));
    }
    Ok(summary)
}

fn generate_chunk(
    generator: &RowGenerator<'_>,
    sequence: Option<(&SnapshotPlan, u32)>,
    from: u64,
    to: u64,
) -> Chunk {
    let step = sequence.map_or(1, |(_, step)| step);
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::with_capacity(((to - from) as usize) * 1_700));
    let mut fields = RowFields::default();
    let mut faults = Vec::new();
    let mut lines = 0u64;
    let mut rows = 0u64;
    let mut changes = ChangeReport::default();
    let future_id = snapshots::FUTURE_SNAPSHOT_ID.to_string();
    for row in from..to {
        generator.fill_clean(row, &mut fields);
        if let Some((plan, step)) = sequence {
            match plan.presence(generator, row, step) {
                Presence::Absent { leaving } => {
                    changes.learners_leaving += u64::from(leaving);
                    continue;
                }
                Presence::Present { returning, joining } => {
                    let repeat = generator.repeats_key(row);
                    changes.learners_returning += u64::from(returning && !repeat);
                    changes.learners_joining += u64::from(joining && !repeat);
                    let change = plan.advance(generator, row, step, &mut fields);
                    if !returning && !joining {
                        changes.add(change);
                    }
                }
            }
        }
        let fault = if fields.fields[col::SNAPSHOT_ID] == future_id.as_bytes() {
            // One reason per row: the row from the future is not damaged too.
            Some(Fault::FutureSnapshotId)
        } else {
            generator.damage(row, step, &mut fields)
        };
        let record_offset = rows;
        rows += 1;
        let before = writer.get_ref().len();
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(&fields.fields);
        let _ = writer.flush();
        let bytes = &writer.get_ref()[before..];
        if let Some(fault) = fault {
            faults.push((lines, record_offset, fault));
            Fault::restore_shape(&mut fields);
        }
        lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Chunk {
        bytes: writer.into_inner().unwrap_or_default(),
        faults,
        lines,
        rows,
        changes,
    }
}
