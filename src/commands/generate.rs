//! `learngraph generate`: write a realistic learner-profile export.

use crate::pipeline::text::{grouped, grouped_round};
use std::path::PathBuf;

use anyhow::Context;

use crate::commands::Outcome;
use crate::generate::{self, FileFormat, FileSummary, GenerateOptions};

/// Write a synthetic export with the shape and quirks of the production file.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of data rows to write.
    #[arg(long, default_value_t = 20_000)]
    pub rows: u64,
    /// Seed of the random streams; the same rows and seed give the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The CSV file to write; with --snapshots, the folder to write the
    /// snapshots into (`snapshot-1.csv`, `snapshot-2.csv`, ...).
    #[arg(long)]
    pub out: PathBuf,
    /// Share of rows to damage (broken JSON, wrong column count, empty key,
    /// invalid UTF-8, NUL byte, unknown country); each fault is listed in
    /// `<out>.faults.csv`.
    #[arg(long, default_value_t = 0.0)]
    pub dirty: f64,
    /// Write the next snapshot of the file that --rows and --seed make: a
    /// quarter later, some enrolled learners graduated or dropped out, some
    /// found a job, a few left and about 1% are new. What changed is written
    /// to `<out>.changes.json`.
    #[arg(long, conflicts_with = "snapshots")]
    pub follow_up: bool,
    /// Write K successive snapshots of one population, a quarter apart from
    /// 2025-09-30, into the folder --out: learners enroll, graduate, drop
    /// out, find and lose jobs, move and add skills; some leave and some
    /// come back; about 1% are new each quarter. Each later file's changes
    /// are in `snapshot-N.csv.changes.json`; with --dirty each file damages
    /// other rows and holds one row from the future.
    #[arg(long, value_name = "K")]
    pub snapshots: Option<u32>,
    /// The files' form: the CSV export, or the same rows as Parquet (every
    /// column as text, snappy, row groups of 50,000 rows; clean rows only).
    #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
    pub format: FileFormat,
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let summary = generate::generate(&GenerateOptions {
        rows: args.rows,
        seed: args.seed,
        out: args.out.clone(),
        dirty_rate: args.dirty,
        follow_up: args.follow_up,
        snapshots: args.snapshots,
        format: args.format,
    })
    .with_context(|| format!("generating {}", args.out.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let sequence = summary.files.len() > 1;
    for file in &summary.files {
        print_file(file, sequence);
    }
    if summary.files.len() > 1 {
        eprintln!(
            "Generated {} snapshots into {} in {:.1} s",
            summary.files.len(),
            args.out.display(),
            seconds
        );
    } else if let Some(file) = summary.files.first() {
        eprintln!(
            "Generated {} rows ({:.1} MB) into {} in {:.1} s ({} rows/s)",
            grouped(file.rows),
            file.bytes as f64 / 1e6,
            file.path.display(),
            seconds,
            grouped_round(file.rows as f64 / seconds.max(1e-9))
        );
    }
    Ok(Outcome::Success)
}

fn print_file(file: &FileSummary, sequence: bool) {
    if let Some(sidecar) = &file.sidecar {
        eprintln!(
            "Injected {} faults into {}, listed in {}",
            grouped(file.faults),
            file.path.display(),
            sidecar.display()
        );
    }
    match &file.changes {
        Some((changes, path)) => eprintln!(
            "Snapshot {} ({} rows): {} learners changed, {} left, {} came back, {} joined; listed in {}",
            changes.snapshot_id,
            grouped(file.rows),
            grouped(changes.learners_changed),
            grouped(changes.learners_leaving),
            grouped(changes.learners_returning),
            grouped(changes.learners_joining),
            path.display()
        ),
        None if sequence => eprintln!(
            "Snapshot 1 ({} rows): {}",
            grouped(file.rows),
            file.path.display()
        ),
        None => {}
    }
}
