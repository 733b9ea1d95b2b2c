//! `learngraph load`: load an export into a Neo4j-compatible database.

use std::path::PathBuf;

use crate::commands::{ConfigArgs, DatabaseArgs, Outcome, resolve_input};
use crate::pipeline::input::Passes;
use crate::pipeline::load::{LoadError, LoadOptions, load};

/// Load an export: schema, shared entities, then learners with all their
/// relationships, in parallel batches. Loading the same file again changes
/// nothing.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The CSV export to load (or give --source for its MySQL table).
    pub input: Option<PathBuf>,
    /// Print the run summary as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Continue an interrupted load from its checkpoint
    /// (`<input>.checkpoint.json`).
    #[arg(long)]
    pub resume: bool,
    /// Mark learners missing from this snapshot even when they are more
    /// than etl.max_missing_share of the graph's present learners.
    #[arg(long)]
    pub allow_missing: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &LoadArgs) -> anyhow::Result<Outcome> {
    let config = args
        .config
        .load_with(args.database.overrides(args.config.overrides())?)?;
    tracing::info!(configuration = %config.to_string().replace('\n', ", "), "Starting load");
    eprintln!("Configuration:\n{config}\n");
    let input = resolve_input(
        args.input.clone(),
        &config,
        Passes::Spooled { resume: args.resume },
    )
    .await?;
    match load(
        &input,
        &config,
        LoadOptions {
            resume: args.resume,
            allow_missing: args.allow_missing,
        },
    )
    .await
    {
        Ok(summary) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", summary.to_text());
            }
            Ok(Outcome::Success)
        }
        Err(error @ LoadError::TooManyRejects { .. }) => {
            eprintln!("error: {error}");
            Ok(Outcome::TooManyRejects)
        }
        Err(e) => Err(e.into()),
    }
}
