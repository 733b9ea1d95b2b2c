//! `learngraph clear`: delete what a load wrote, in batches.

use crate::commands::{CLEARING, CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce};
use crate::config::FlagOverrides;
use crate::graph::model::Label;
use crate::pipeline::progress::PhaseProgress;
use crate::pipeline::text::grouped;
use crate::sink::neo4j::lock::Claimant;
use crate::sink::neo4j::{Neo4jSink, SinkError};

/// Delete learners and their relationships (`--phase 2`) or the whole graph
/// (`--all`), in batches of neo4j.batch_size. Needs `--yes`.
#[derive(Debug, clap::Args)]
pub struct ClearArgs {
    /// Delete phase 2 only: Learner nodes and their relationships.
    #[arg(long, value_parser = ["2"], conflicts_with = "all", required_unless_present = "all")]
    pub phase: Option<String>,
    /// Delete every node and relationship in the database.
    #[arg(long)]
    pub all: bool,
    /// Confirm the deletion.
    #[arg(long)]
    pub yes: bool,
    /// Take the graph's load lock even though another run holds it.
    #[arg(long)]
    pub break_lock: bool,
    /// Overrides neo4j.batch_size: nodes deleted per transaction.
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &ClearArgs, console: Console) -> anyhow::Result<Outcome> {
    if !args.yes {
        return Err(crate::exit::UsageError(
            "clear deletes data from the database; add --yes to confirm".to_string(),
        )
        .into());
    }
    let config = args.config.load_with(FlagOverrides {
        batch_size: args.batch_size,
        ..args.database.overrides(FlagOverrides::default())?
    })?;
    announce(&config, console, false, Shown::Settings(&[CONNECTING, CLEARING]));
    let sink = Neo4jSink::connect(&config).await?;
    // Never under a running load.
    let command = if args.all {
        "clear --all"
    } else {
        "clear --phase 2"
    };
    let lock = sink
        .acquire_lock(&Claimant::this_process(command, args.break_lock))
        .await?;
    let cleared = clear(&sink, args.all, config.neo4j.batch_size).await;
    lock.release().await;
    eprintln!("Deleted {} nodes and their relationships", grouped(cleared?));
    Ok(Outcome::Success)
}

async fn clear(sink: &Neo4jSink, all: bool, batch_size: usize) -> Result<u64, SinkError> {
    let labels: Option<&[Label]> = if all { None } else { Some(&[Label::Learner]) };
    // The relationships go first, then the nodes, a transaction at a time.
    let progress = PhaseProgress::new("clear", "nodes and relationships deleted", None);
    let deleted = sink.delete_nodes(labels, batch_size, &|n| progress.add(n)).await;
    progress.finish();
    let mut deleted = deleted?;
    // The snapshot records describe the learners: they go with them.
    deleted += sink.delete_snapshots().await?;
    Ok(deleted)
}
