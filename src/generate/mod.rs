//! `learngraph generate`: realistic learner-profile exports on demand.
//!
//! Rows are generated in parallel chunks, each row from its own seeded random
//! stream, and written in order; the output is byte-identical for the same
//! row count and seed whatever the thread count, and memory stays bounded by
//! the chunk window, not the row count.

pub mod faults;
pub mod follow_up;
pub mod profile;
pub mod row;
pub mod vocab;
pub mod world;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::source::columns::COLUMNS;
use faults::{Fault, FaultRecord};
use follow_up::{ChangeReport, FollowUpPlan};
use row::{RowFields, RowGenerator};
use world::World;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub rows: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// Share of rows to damage (0 for a clean file).
    pub dirty_rate: f64,
    /// Write the follow-up snapshot of the file `rows` and `seed` make.
    pub follow_up: bool,
}

/// What was generated.
#[derive(Debug, Default)]
pub struct GenerateSummary {
    pub rows: u64,
    pub bytes: u64,
    pub faults: u64,
    pub sidecar: Option<PathBuf>,
    /// For a follow-up: what changed, also written to `<out>.changes.json`.
    pub changes: Option<(ChangeReport, PathBuf)>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("--dirty must be between 0 and 1, got {0}")]
    DirtyRate(f64),
    #[error(
        "--follow-up writes a clean file: its change report counts learners a damaged row would hide; drop --dirty"
    )]
    DirtyFollowUp,
}

/// Rows generated per parallel task.
const CHUNK_ROWS: u64 = 4_096;

/// One generated chunk: its CSV bytes and the faults in it, with the line
/// offset of each faulty row within the chunk; for a follow-up, what changed.
struct Chunk {
    bytes: Vec<u8>,
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
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Write { path, source }
    };
    let world = World::new(options.rows);
    let generator = RowGenerator::new(&world, options.seed, options.dirty_rate);
    let plan = options
        .follow_up
        .then(|| FollowUpPlan::new(&generator, options.rows));
    let total_rows = plan.as_ref().map_or(options.rows, FollowUpPlan::total_rows);
    let mut changes = ChangeReport::default();
    if let Some(parent) = options.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_err(parent))?;
    }
    let file = File::create(&options.out).map_err(write_err(&options.out))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(COLUMNS).map_err(|e| GenerateError::Write {
        path: options.out.clone(),
        source: e.into(),
    })?;
    let header = header.into_inner().unwrap_or_default();
    out.write_all(&header).map_err(write_err(&options.out))?;

    let sidecar_path = faults::sidecar_path(&options.out);
    let mut sidecar = if options.dirty_rate > 0.0 {
        let file = File::create(&sidecar_path).map_err(write_err(&sidecar_path))?;
        Some(csv::Writer::from_writer(BufWriter::new(file)))
    } else {
        None
    };

    let mut summary = GenerateSummary {
        bytes: header.len() as u64,
        ..GenerateSummary::default()
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
                    &generator,
                    plan.as_ref(),
                    chunk * CHUNK_ROWS,
                    ((chunk + 1) * CHUNK_ROWS).min(total_rows),
                )
            })
            .collect();
        for chunk in generated {
            out.write_all(&chunk.bytes).map_err(write_err(&options.out))?;
            summary.bytes += chunk.bytes.len() as u64;
            if let Some(sidecar) = sidecar.as_mut() {
                for (line_offset, record, fault) in &chunk.faults {
                    sidecar
                        .serialize(FaultRecord::new(line + line_offset, record + 1, *fault))
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
    out.flush().map_err(write_err(&options.out))?;
    if let Some(mut sidecar) = sidecar {
        sidecar.flush().map_err(write_err(&sidecar_path))?;
        summary.sidecar = Some(sidecar_path);
    }
    if let Some(plan) = plan {
        changes.base_rows = plan.base_rows;
        changes.rows_written = summary.rows;
        changes.snapshot_id = follow_up::SNAPSHOT_ID;
        let path = follow_up::report_path(&options.out);
        let text = serde_json::to_string_pretty(&changes).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(write_err(&path))?;
        summary.changes = Some((changes, path));
    }
    Ok(summary)
}

fn generate_chunk(generator: &RowGenerator<'_>, plan: Option<&FollowUpPlan>, from: u64, to: u64) -> Chunk {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::with_capacity(((to - from) as usize) * 1_700));
    let mut fields = RowFields::default();
    let mut faults = Vec::new();
    let mut lines = 0u64;
    let mut rows = 0u64;
    let mut changes = ChangeReport::default();
    for row in from..to {
        if let Some(plan) = plan
            && plan.leaves(generator, row)
        {
            changes.learners_leaving += 1;
            continue;
        }
        generator.fill(row, &mut fields);
        if let Some(plan) = plan {
            changes.add(plan.change(generator, row, &mut fields));
            if row >= plan.base_rows && !generator.repeats_key(row) {
                changes.learners_joining += 1;
            }
        }
        rows += 1;
        let before = writer.get_ref().len();
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(&fields.fields);
        let _ = writer.flush();
        let bytes = &writer.get_ref()[before..];
        if let Some(fault) = generator.fault(row) {
            faults.push((lines, row, fault));
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
