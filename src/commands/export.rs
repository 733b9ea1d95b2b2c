//! `learngraph export`: files for `neo4j-admin database import full`.

use std::path::PathBuf;

use crate::commands::{ConfigArgs, Console, Outcome, READING, Shown, SourceArgs, announce, print_report};
use crate::config::FlagOverrides;
use crate::pipeline::export::export;
use crate::pipeline::input::{Passes, given_input, input_file};

/// Write node and relationship files for the offline importer (the fastest
/// first load into an empty Neo4j database), with `import.sh` and
/// `schema.cypher`; rejects and the data-quality report as for `check`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The CSV export to convert (or give --source for its MySQL table).
    pub input: Option<PathBuf>,
    /// The folder to write into: created, or replaced if it holds an earlier
    /// export, only once every file is complete.
    #[arg(long)]
    pub out: PathBuf,
    /// Compress the files with gzip (`.csv.gz`; the importer reads them).
    #[arg(long)]
    pub gzip: bool,
    /// Print the data-quality report as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: &ExportArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args
        .config
        .load_with(args.source.overrides(FlagOverrides::default())?)?;
    given_input(args.input.as_deref(), &config)?;
    announce(&config, console, args.json, Shown::Settings(&[READING]));
    let input = input_file(args.input.as_deref(), &config, Passes::One)?;
    let outcome = export(&input, &args.out, args.gzip, &config)?;
    let report = &outcome.report;
    print_report(args.json, report, || {
        let mut text = report.to_text();
        text.push_str(&format!(
            "Wrote {} files into {}:\n",
            outcome.files.len(),
            args.out.display()
        ));
        for file in &outcome.files {
            text.push_str(&format!("  {}\n", file.display()));
        }
        text.push_str(&format!(
            "Import with: {}\n",
            args.out.join("import.sh").display()
        ));
        text
    })?;
    Ok(if report.within_threshold {
        Outcome::Success
    } else {
        Outcome::TooManyRejects
    })
}
