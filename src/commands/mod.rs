//! One module per subcommand, each with its arguments and a `run`, plus the
//! configuration flags they share.

pub mod ask;
pub mod check;
pub mod clear;
pub mod export;
pub mod generate;
pub mod history;
pub mod load;
pub mod mcp;
pub mod ping;
pub mod report;
pub mod verify;

use std::path::PathBuf;

use crate::config::{Config, EnvOverrides, FlagOverrides, RawConfig};
use crate::pipeline::input::{Passes, input_file};

/// [`input_file`] off the async runtime's threads: reading a table into its
/// spool blocks for as long as the table takes.
pub async fn resolve_input(
    input: Option<PathBuf>,
    config: &Config,
    passes: Passes,
) -> anyhow::Result<PathBuf> {
    let config = config.clone();
    Ok(tokio::task::spawn_blocking(move || input_file(input.as_deref(), &config, passes)).await??)
}

/// How log lines are written on stderr (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How a command speaks on stderr: the log format and whether `-v` asked
/// for every detail. Read once from the flags in `main` and passed down.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub log_format: LogFormat,
    pub verbose: bool,
}

/// How much of the configuration a command shows at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Every key: the command decides what a run writes (`load`, `export`,
    /// `clear`, `check`).
    Everything,
    /// One line saying where it connects (`ask`, `report`, `verify`,
    /// `ping`); every key with `-v`.
    Connection,
}

/// Shows the configuration in force, password redacted, at the start of a
/// command: a block of `key = value` lines for a reader (or the one line
/// of [`Shown::Connection`]), or with `--log-format json` one log event
/// whose `configuration` field holds every key as a JSON object, so that
/// stderr stays one JSON object per line. With text logs, a command whose
/// report goes to stdout as JSON (`json_report`) leaves it out.
pub fn announce(config: &Config, console: Console, json_report: bool, shown: Shown) {
    match console.log_format {
        LogFormat::Text if json_report => {}
        LogFormat::Text if shown == Shown::Connection && !console.verbose => eprintln!(
            "Connecting to {} (database {}, user {})\n",
            config.neo4j.uri, config.neo4j.database, config.neo4j.user
        ),
        LogFormat::Text => eprintln!("Configuration:\n{config}\n"),
        LogFormat::Json => {
            let settings: serde_json::Map<String, serde_json::Value> = config
                .to_string()
                .lines()
                .filter_map(|line| line.split_once(" = "))
                .map(|(key, value)| (key.to_string(), serde_json::Value::String(value.to_string())))
                .collect();
            tracing::info!(configuration = %serde_json::Value::Object(settings), "Configuration");
        }
    }
}

/// Prints a command's report on stdout: one JSON document with `--json`,
/// else its text.
pub fn print_report(
    json: bool,
    report: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        write_stdout(format!("{}\n", serde_json::to_string_pretty(report)?).as_bytes())
    } else {
        write_stdout(text().as_bytes())
    }
}

/// Writes a command's output to stdout. A reader that stops early
/// (`learngraph check --json | head`) ends the output quietly: `print!`
/// would panic on the closed pipe.
pub fn write_stdout(text: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to stdout"))
        }
        _ => Ok(()),
    }
}

/// How a command ended when it did not fail outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// More rows were rejected than validation.max_error_rate allows.
    TooManyRejects,
    /// The database's counts differ from the file's.
    VerifyFailed,
    /// The user may not write to the database (`ping`).
    WriteRefused,
    /// The latest run of load did not finish (`history --fail-if-last-failed`).
    LastRunUnfinished,
}

/// Database flags shared by the commands that connect.
#[derive(Debug, Default, clap::Args)]
pub struct DatabaseArgs {
    /// Overrides neo4j.uri and NEO4J_URI (bolt://, bolt+s://, neo4j://, neo4j+s://).
    #[arg(long)]
    pub uri: Option<String>,
    /// Overrides neo4j.user and NEO4J_USERNAME.
    #[arg(long)]
    pub user: Option<String>,
    /// Overrides neo4j.database and NEO4J_DATABASE.
    #[arg(long)]
    pub database: Option<String>,
    /// Read the password from this file (its first line); overrides
    /// neo4j.password and NEO4J_PASSWORD.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Overrides neo4j.batch_size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Overrides etl.num_workers.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Overrides neo4j.max_connection_pool_size.
    #[arg(long)]
    pub pool_size: Option<usize>,
    /// Overrides etl.checkpoint_interval.
    #[arg(long)]
    pub checkpoint_interval: Option<u64>,
    /// Ask for the password on the terminal (it is not echoed).
    #[arg(long)]
    pub password_prompt: bool,
    /// Overrides neo4j.max_retry_seconds.
    #[arg(long)]
    pub max_retry_seconds: Option<u64>,
    /// Overrides neo4j.query_timeout_seconds.
    #[arg(long)]
    pub query_timeout_seconds: Option<u64>,
    /// Overrides neo4j.connect_timeout_seconds.
    #[arg(long)]
    pub connect_timeout_seconds: Option<u64>,
    /// Overrides neo4j.trusted_ca: a PEM file of CA certificates to trust
    /// for bolt+s:// and neo4j+s://.
    #[arg(long)]
    pub trusted_ca: Option<PathBuf>,
}

/// A password typed at a prompt when `asked`. A prompt that cannot be
/// shown (no terminal: a scheduler's job) is an error naming the other
/// ways in, never an empty password.
fn prompted(asked: bool, prompt: &str, what: &str, instead: &str) -> anyhow::Result<Option<String>> {
    if !asked {
        return Ok(None);
    }
    rpassword::prompt_password(prompt)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("cannot read {what} from the terminal ({e}); use {instead}"))
}

impl DatabaseArgs {
    /// Adds these flags to `flags`; asks for the password if told to.
    pub fn overrides(&self, flags: FlagOverrides) -> anyhow::Result<FlagOverrides> {
        let password = prompted(
            self.password_prompt,
            "Neo4j password: ",
            "the password",
            "NEO4J_PASSWORD or --password-file",
        )?;
        Ok(FlagOverrides {
            password,
            uri: self.uri.clone(),
            user: self.user.clone(),
            database: self.database.clone(),
            password_file: self.password_file.clone(),
            batch_size: self.batch_size,
            num_workers: self.workers,
            max_connection_pool_size: self.pool_size,
            checkpoint_interval: self.checkpoint_interval,
            max_retry_seconds: self.max_retry_seconds,
            query_timeout_seconds: self.query_timeout_seconds,
            connect_timeout_seconds: self.connect_timeout_seconds,
            trusted_ca: self.trusted_ca.clone(),
            ..flags
        })
    }
}

/// Configuration flags shared by the commands that read an export.
#[derive(Debug, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see learngraph.example.toml).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Overrides etl.chunk_size.
    #[arg(long)]
    pub chunk_size: Option<u64>,
    /// Overrides etl.transform_threads (0: one per core).
    #[arg(long)]
    pub transform_threads: Option<usize>,
    /// Overrides etl.snapshot_date (YYYY-MM-DD).
    #[arg(long)]
    pub snapshot_date: Option<String>,
    /// Overrides etl.rejects_path.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Overrides validation.max_error_rate.
    #[arg(long)]
    pub max_error_rate: Option<f64>,
    /// Read the export's MySQL table instead of a CSV file:
    /// mysql://USER@HOST:PORT/DATABASE?table=TABLE[&ssl-mode=required|verify_ca&ssl-ca=FILE].
    /// Overrides source.uri. The password comes from MYSQL_PASSWORD,
    /// --source-password-file or --source-password-prompt.
    #[arg(long)]
    pub source: Option<String>,
    /// Read the MySQL password from this file (its first line).
    #[arg(long)]
    pub source_password_file: Option<PathBuf>,
    /// Ask for the MySQL password on the terminal (it is not echoed).
    #[arg(long)]
    pub source_password_prompt: bool,
}

impl ConfigArgs {
    /// The flags as overrides of the file and environment; asks for the
    /// MySQL password if told to. A prompt that cannot be shown (no
    /// terminal: a scheduler's job) is an error, never an empty password.
    pub fn overrides(&self) -> anyhow::Result<FlagOverrides> {
        let source_password = prompted(
            self.source_password_prompt,
            "MySQL password: ",
            "the MySQL password",
            "MYSQL_PASSWORD or --source-password-file",
        )?;
        Ok(FlagOverrides {
            source: self.source.clone(),
            source_password_file: self.source_password_file.clone(),
            source_password,
            chunk_size: self.chunk_size,
            transform_threads: self.transform_threads,
            snapshot_date: self.snapshot_date.clone(),
            rejects_path: self.rejects.clone(),
            max_error_rate: self.max_error_rate,
            ..FlagOverrides::default()
        })
    }

    /// Loads file, environment and flags into one validated configuration.
    pub fn load(&self) -> anyhow::Result<Config> {
        self.load_with(self.overrides()?)
    }

    /// [`load`](Self::load) for a command that connects: with the database
    /// flags too.
    pub fn load_with_database(&self, database: &DatabaseArgs) -> anyhow::Result<Config> {
        self.load_with(database.overrides(self.overrides()?)?)
    }

    pub fn load_with(&self, flags: FlagOverrides) -> anyhow::Result<Config> {
        let raw = match &self.config {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        Ok(Config::build(raw, &EnvOverrides::from_process_env(), &flags)?)
    }
}
