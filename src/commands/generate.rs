//! `learngraph generate`: write a realistic learner-profile export.

use std::path::PathBuf;

use anyhow::Context;

use crate::commands::Outcome;
use crate::generate::{self, GenerateOptions};

/// Write a synthetic export with the shape and quirks of the production file.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of data rows to write.
    #[arg(long, default_value_t = 20_000)]
    pub rows: u64,
    /// Seed of the random streams; the same rows and seed give the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The CSV file to write.
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
    #[arg(long)]
    pub follow_up: bool,
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let summary = generate::generate(&GenerateOptions {
        rows: args.rows,
        seed: args.seed,
        out: args.out.clone(),
        dirty_rate: args.dirty,
        follow_up: args.follow_up,
    })
    .with_context(|| format!("generating {}", args.out.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "Generated {} rows ({:.1} MB) into {} in {:.1} s ({:.0} rows/s)",
        summary.rows,
        summary.bytes as f64 / 1e6,
        args.out.display(),
        seconds,
        summary.rows as f64 / seconds.max(1e-9)
    );
    if let Some(sidecar) = summary.sidecar {
        eprintln!(
            "Injected {} faults, listed in {}",
            summary.faults,
            sidecar.display()
        );
    }
    if let Some((changes, path)) = summary.changes {
        eprintln!(
            "Follow-up snapshot {}: {} learners changed, {} left, {} joined; listed in {}",
            changes.snapshot_id,
            changes.learners_changed,
            changes.learners_leaving,
            changes.learners_joining,
            path.display()
        );
    }
    Ok(Outcome::Success)
}
