//! `learngraph generate`: realistic learner-profile exports on demand.
//!
//! Rows are generated in parallel chunks, each row from its own seeded random
//! stream, and written in order; the output is byte-identical for the same
//! row count and seed whatever the thread count, and memory stays bounded by
//! the chunk window, not the row count.

pub mod faults;
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
}

/// What was generated.
#[derive(Debug, Default)]
pub struct GenerateSummary {
    pub rows: u64,
    pub bytes: u64,
    pub faults: u64,
    pub sidecar: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("--dirty must be between 0 and 1, got {0}")]
    DirtyRate(f64),
}

/// Rows generated per parallel task.
const CHUNK_ROWS: u64 = 4_096;

/// One generated chunk: its CSV bytes and the faults in it, with the line
/// offset of each faulty row within the chunk.
struct Chunk {
    bytes: Vec<u8>,
    faults: Vec<(u64, u64, Fault)>,
    lines: u64,
}

pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if !(0.0..=1.0).contains(&options.dirty_rate) {
        return Err(GenerateError::DirtyRate(options.dirty_rate));
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Write { path, source }
    };
    let world = World::new(options.rows);
    let generator = RowGenerator::new(&world, options.seed, options.dirty_rate);
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
    let chunks = options.rows.div_ceil(CHUNK_ROWS);
    let window = (rayon::current_num_threads() as u64 * 2).max(2);
    let mut first = 0u64;
    while first < chunks {
        let last = (first + window).min(chunks);
        let generated: Vec<Chunk> = (first..last)
            .into_par_iter()
            .map(|chunk| {
                generate_chunk(
                    &generator,
                    chunk * CHUNK_ROWS,
                    ((chunk + 1) * CHUNK_ROWS).min(options.rows),
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
        }
        first = last;
    }
    out.flush().map_err(write_err(&options.out))?;
    if let Some(mut sidecar) = sidecar {
        sidecar.flush().map_err(write_err(&sidecar_path))?;
        summary.sidecar = Some(sidecar_path);
    }
    summary.rows = options.rows;
    Ok(summary)
}

fn generate_chunk(generator: &RowGenerator<'_>, from: u64, to: u64) -> Chunk {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::with_capacity(((to - from) as usize) * 1_700));
    let mut fields = RowFields::default();
    let mut faults = Vec::new();
    let mut lines = 0u64;
    for row in from..to {
        generator.fill(row, &mut fields);
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
    }
}
