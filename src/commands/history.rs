//! `learngraph history`: every snapshot and every run of `load` the graph
//! records, newest first; with `--fail-if-last-failed` the exit status says
//! whether the latest run finished, for a monitor.

use crate::commands::{
    CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce, print_report,
};
use crate::pipeline::history::history;

/// What the graph holds and whether the last run worked: every snapshot
/// (date, learners present, new, changed, missing, state transitions) and
/// every run of load (start, end, outcome, rows, resumed or trial), newest
/// first, from the graph's own Snapshot and LoadRun records. Writes nothing.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Print the history as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Exit 30 when the latest run of load did not finish (it stopped, or is
    /// still running): for a monitor or a scheduler's next step.
    #[arg(long)]
    pub fail_if_last_failed: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &HistoryArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args.config.load_connecting(&args.database)?;
    announce(&config, console, args.json, Shown::Connection(&[CONNECTING]));
    let history = history(&config).await?;
    print_report(args.json, &history, || history.to_text())?;
    Ok(match history.last_run_finished {
        Some(false) if args.fail_if_last_failed => Outcome::LastRunUnfinished,
        _ => Outcome::Success,
    })
}
