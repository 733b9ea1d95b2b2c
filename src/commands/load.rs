//! `learngraph load`: load an export into a Neo4j-compatible database.

use std::path::PathBuf;

use crate::commands::{
    CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, READING, Shown, SourceArgs, WRITING, WriteArgs,
    announce, print_report, resolve_input,
};
use crate::config::FlagOverrides;
use crate::pipeline::input::{Passes, given_input};
use crate::pipeline::load::{LoadOptions, load, plan_load};
use crate::pipeline::lock::lock_input;

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
    /// Take the graph's load lock even though another run holds it (for
    /// an operator who knows that run is gone; see Troubleshooting).
    #[arg(long)]
    pub break_lock: bool,
    /// Apply graph options (graph.resides_in, graph.from_country) that
    /// differ from those the graph is written with to the whole graph:
    /// every learner of the file is written again, and the relationships of
    /// an option turned off are deleted. Without it such a load is refused
    /// (exit 32).
    #[arg(long)]
    pub apply_graph_options: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &LoadArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args.config.load_with(FlagOverrides {
        max_rows: args.max_rows,
        ..args.write.overrides(
            args.database
                .overrides(args.source.overrides(FlagOverrides::default())?)?,
        )?
    })?;
    given_input(args.input.as_deref(), &config)?;
    // A load shows its configuration even with --json: its summary on
    // stdout stays apart, and the settings of a long run matter.
    announce(
        &config,
        console,
        false,
        Shown::Settings(&[READING, CONNECTING, WRITING]),
    );
    let options = LoadOptions {
        resume: args.resume,
        allow_missing: args.allow_missing,
        break_lock: args.break_lock,
        apply_graph_options: args.apply_graph_options,
    };
    if args.dry_run {
        let input = resolve_input(args.input.clone(), &config, Passes::One).await?;
        let plan = plan_load(&input, &config, options).await?;
        print_report(args.json, &plan, || plan.to_text())?;
        return Ok(Outcome::Success);
    }
    // One load of an input at a time on this machine, before its spool or
    // checkpoint is touched; released when this run ends, however it ends.
    let local = args
        .input
        .clone()
        .or_else(|| config.source.as_ref().map(|s| s.spool_path.clone()));
    let _local_lock = match &local {
        Some(path) => Some(lock_input(path, &format!("load {}", path.display()))?),
        None => None,
    };
    let input = resolve_input(
        args.input.clone(),
        &config,
        Passes::Spooled { resume: args.resume },
    )
    .await?;
    let summary = load(&input, &config, options).await?;
    print_report(args.json, &summary, || summary.to_text())?;
    Ok(Outcome::Success)
}
