//! `learngraph ping`: check the connection, the user's rights and the
//! schema before a real load.

use crate::commands::{ConfigArgs, DatabaseArgs, LogFormat, Outcome, announce};
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

pub async fn run(args: &PingArgs, log_format: LogFormat) -> anyhow::Result<Outcome> {
    let config = args
        .config
        .load_with(args.database.overrides(args.config.overrides())?)?;
    if !args.json || log_format == LogFormat::Json {
        announce(&config, log_format);
    }
    let report = ping(&config).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.write_access {
        Outcome::Success
    } else {
        Outcome::WriteRefused
    })
}
