//! `learngraph report`: the catalogue's answers and a check's data-quality
//! findings as one self-contained HTML page.

use std::path::PathBuf;

use anyhow::Context;

use crate::commands::{CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce};
use crate::pipeline::ask::ask_all;
use crate::pipeline::history::{History, RunOutcome, history};
use crate::pipeline::outputs::write_atomically;
use crate::pipeline::report::read_check_report;
use crate::sink::report::{Page, render};

/// Write the analysts' report: every question of `learngraph ask` that
/// needs no parameter, answered by the database with charts, plus the
/// data-quality findings of a check. One HTML file with everything inline:
/// it opens offline and can be mailed as it is.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The HTML file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// A check report (`learngraph check FILE --json > check.json`) whose
    /// data-quality findings the page shows.
    #[arg(long, value_name = "CHECK_JSON")]
    pub check: Option<PathBuf>,
    /// Count learners that a later snapshot no longer holds.
    #[arg(long)]
    pub include_missing: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &ReportArgs, console: Console) -> anyhow::Result<Outcome> {
    // The check report is read first: a wrong path fails before the queries.
    let check = args.check.as_deref().map(read_check_report).transpose()?;
    let config = args.config.load_connecting(&args.database)?;
    announce(&config, console, false, Shown::Connection(&[CONNECTING]));
    let answers = ask_all(&config, args.include_missing).await?;
    let describes = describes(&history(&config).await?);
    let generated = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let html = render(&Page {
        database: &config.neo4j.uri,
        generated: &generated,
        include_missing: args.include_missing,
        answers: &answers,
        check: check.as_ref(),
        describes: &describes,
    });
    // Whole or not at all: a full disk or a kill keeps the previous page.
    write_atomically(&args.out, html.as_bytes())
        .with_context(|| format!("writing the report {}", args.out.display()))?;
    eprintln!(
        "Wrote {} ({} questions answered{})",
        args.out.display(),
        answers.len(),
        if check.is_some() {
            ", with the check's data quality"
        } else {
            ""
        }
    );
    Ok(Outcome::Success)
}

/// Which snapshot and run the page describes: the latest snapshot the graph
/// records and the latest run of load, with whether it finished.
fn describes(history: &History) -> String {
    let snapshot = history
        .snapshots
        .first()
        .map_or("no snapshot recorded yet".to_string(), |s| {
            format!("the snapshot {}", s.date)
        });
    match history.runs.first() {
        None => format!("{snapshot}."),
        Some(run) => format!(
            "{snapshot}; the latest run of load is {} ({}{}).",
            run.id,
            match run.outcome {
                RunOutcome::Finished => "finished",
                RunOutcome::StoppedAndResumed => "stopped, resumed",
                RunOutcome::Stopped => "STOPPED",
                RunOutcome::Unfinished => "DID NOT FINISH",
            },
            run.ended_at
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        ),
    }
}
