//! `learngraph ping`: check the connection, the user's rights and the
//! schema before a real load.

use crate::commands::{
    CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce, print_report,
};
use crate::pipeline::ping::ping;

/// Connect and report the server (agent, Bolt version, address), the
/// database, whether this user may write (a write rolled back) and the key
/// constraints present. Writes nothing. Exit 14, 15 or 16 when the server,
/// the user or the database is refused, 28 when writing is not allowed.
#[derive(Debug, clap::Args)]
pub struct PingArgs {
    /// Print the report as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &PingArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args.config.load_connecting(&args.database)?;
    announce(&config, console, args.json, Shown::Connection(&[CONNECTING]));
    let report = ping(&config).await?;
    print_report(args.json, &report, || report.to_text())?;
    Ok(if report.write_access {
        Outcome::Success
    } else {
        Outcome::WriteRefused
    })
}
