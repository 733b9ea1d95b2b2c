//! `learngraph verify`: compare the database with the file.

use std::path::PathBuf;

use crate::commands::{
    CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, READING, Shown, SourceArgs, announce,
    print_report, resolve_input,
};
use crate::config::FlagOverrides;
use crate::pipeline::input::{Passes, given_input};
use crate::pipeline::verify::verify;

/// Compare node and relationship counts in the database with the counts the
/// file implies (exit 4 on any difference) and answer a few analyst
/// questions from the graph.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The CSV export the graph was loaded from (or give --source for its
    /// MySQL table).
    pub input: Option<PathBuf>,
    /// Print the report as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &VerifyArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args.config.load_with(
        args.database
            .overrides(args.source.overrides(FlagOverrides::default())?)?,
    )?;
    given_input(args.input.as_deref(), &config)?;
    announce(
        &config,
        console,
        args.json,
        Shown::Connection(&[READING, CONNECTING]),
    );
    let input = resolve_input(args.input.clone(), &config, Passes::One).await?;
    let report = verify(&input, &config).await?;
    print_report(args.json, &report, || report.to_text())?;
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::VerifyFailed
    })
}
