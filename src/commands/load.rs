//! `learngraph load`: load an export into a Neo4j-compatible database.

use std::path::PathBuf;

use crate::commands::{ConfigArgs, DatabaseArgs, LogFormat, Outcome, announce, resolve_input};
use crate::config::FlagOverrides;
use crate::pipeline::input::Passes;
use crate::pipeline::load::{LoadError, LoadOptions, load, plan_load};

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
    /// Analyse the file, ask the graph and print what the load would do
    /// (learners to create, update and mark missing; nodes and
    /// relationships), writing nothing to the database.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// A trial load of the file's first N rows (said plainly in the
    /// summary): no learner is marked missing and no Snapshot recorded.
    #[arg(long, value_name = "N")]
    pub max_rows: Option<u64>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &LoadArgs, log_format: LogFormat) -> anyhow::Result<Outcome> {
    let config = args.config.load_with(FlagOverrides {
        max_rows: args.max_rows,
        ..args.database.overrides(args.config.overrides())?
    })?;
    announce(&config, log_format);
    let options = LoadOptions {
        resume: args.resume,
        allow_missing: args.allow_missing,
    };
    if args.dry_run {
        let input = resolve_input(args.input.clone(), &config, Passes::One).await?;
        return match plan_load(&input, &config, options).await {
            Ok(plan) => {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&plan)?);
                } else {
                    print!("{}", plan.to_text());
                }
                Ok(Outcome::Success)
            }
            Err(error) => refused(error, log_format),
        };
    }
    let input = resolve_input(
        args.input.clone(),
        &config,
        Passes::Spooled { resume: args.resume },
    )
    .await?;
    match load(&input, &config, options).await {
        Ok(summary) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", summary.to_text());
            }
            Ok(Outcome::Success)
        }
        Err(error) => refused(error, log_format),
    }
}

/// Too many rejects is an outcome with its own exit code; every other
/// error goes to the binary's edge.
fn refused(error: LoadError, log_format: LogFormat) -> anyhow::Result<Outcome> {
    match error {
        error @ LoadError::TooManyRejects { .. } => {
            match log_format {
                LogFormat::Text => eprintln!("error: {error}"),
                LogFormat::Json => tracing::error!(error = %error, "Stopped"),
            }
            Ok(Outcome::TooManyRejects)
        }
        other => Err(other.into()),
    }
}
