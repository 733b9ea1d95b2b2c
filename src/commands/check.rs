//! `learngraph check`: transform a whole export without a database and print
//! what a load would create and what the data-quality rules found.

use std::path::PathBuf;

use crate::commands::{ConfigArgs, Console, Outcome, READING, Shown, SourceArgs, announce, print_report};
use crate::config::FlagOverrides;
use crate::pipeline::analyze::{Depth, analyze};
use crate::pipeline::input::{Passes, given_input, input_file};
use crate::pipeline::report::CheckReport;

/// Read and transform an export, write its rejects, and report counts and
/// data-quality findings. Exits 3 when the rejected share is above
/// validation.max_error_rate.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The CSV export to check (or give --source for its MySQL table).
    pub input: Option<PathBuf>,
    /// Print the report as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: &CheckArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args
        .config
        .load_with(args.source.overrides(FlagOverrides::default())?)?;
    given_input(args.input.as_deref(), &config)?;
    announce(&config, console, args.json, Shown::Settings(&[READING]));
    let input = input_file(args.input.as_deref(), &config, Passes::One)?;
    let analysis = analyze(&input, &config, Depth::Counts, |_| {})?;
    let report = CheckReport::new(&analysis, &config);
    print_report(args.json, &report, || report.to_text())?;
    Ok(if report.within_threshold {
        Outcome::Success
    } else {
        Outcome::TooManyRejects
    })
}
