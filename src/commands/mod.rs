//! One module per subcommand, each with its arguments and a `run`, plus the
//! configuration flags they share.

pub mod ask;
pub mod check;
pub mod clear;
pub mod export;
pub mod generate;
pub mod history;
pub mod load;
pub mod man;
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

/// How a command speaks on stderr: the log format, whether `-v` asked
/// for every detail and whether `-q` asked for none. Read once from the
/// flags in `main` and passed down.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub log_format: LogFormat,
    pub verbose: bool,
    pub quiet: bool,
}

/// The settings a command uses, as key prefixes of
/// [`Config::settings`]: a command shows these and no others.
pub type Keys = &'static [&'static str];

/// Reading an export: the source, the transform and the graph's options.
pub const READING: Keys = &[
    "source.",
    "etl.chunk_size",
    "etl.transform_threads",
    "etl.max_record_bytes",
    "etl.snapshot_date",
    "validation.",
    "graph.",
];
/// Reaching the database.
pub const CONNECTING: Keys = &[
    "neo4j.uri",
    "neo4j.user",
    "neo4j.password",
    "neo4j.database",
    "neo4j.max_retry_seconds",
    "neo4j.query_timeout_seconds",
    "neo4j.connect_timeout_seconds",
    "neo4j.trusted_ca",
];
/// Writing a load: batches, writers, checkpoints, the missing bound and a
/// trial's limit.
pub const WRITING: Keys = &[
    "neo4j.max_connection_pool_size",
    "neo4j.batch_size",
    "etl.num_workers",
    "etl.checkpoint_interval",
    "etl.max_missing_share",
    "--max-rows",
];
/// `clear`: it connects and deletes in batches.
pub const CLEARING: Keys = &["neo4j.batch_size"];

/// How much of the configuration a command shows at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Every key of these groups: the command decides what a run writes
    /// (`load`, `export`, `clear`, `check`).
    Settings(&'static [Keys]),
    /// One line saying where it connects (`ask`, `report`, `verify`,
    /// `ping`, `history`, `mcp`); the keys of these groups with `-v`.
    Connection(&'static [Keys]),
}

/// The settings of `groups`, in [`Config::settings`]'s order.
fn settings_of(config: &Config, groups: &[Keys]) -> Vec<(&'static str, String)> {
    config
        .settings()
        .into_iter()
        .filter(|(key, _)| {
            groups
                .iter()
                .flat_map(|g| g.iter())
                .any(|prefix| key.starts_with(prefix))
        })
        .collect()
}

/// Shows the configuration in force, password redacted, once, at the start
/// of a command: only the keys it uses, as a block of `key = value` lines
/// for a reader (or the one line of [`Shown::Connection`]), or with
/// `--log-format json` one log event whose `configuration` field holds them
/// as a JSON object, so that stderr stays one JSON object per line. With
/// text logs, a command whose report goes to stdout as JSON (`json_report`)
/// leaves it out; `-q`, or a log level above info (`RUST_LOG=warn`), hides
/// it everywhere.
pub fn announce(config: &Config, console: Console, json_report: bool, shown: Shown) {
    if console.quiet || !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let groups = match shown {
        Shown::Settings(groups) | Shown::Connection(groups) => groups,
    };
    match console.log_format {
        LogFormat::Text if json_report => {}
        LogFormat::Text if matches!(shown, Shown::Connection(_)) && !console.verbose => eprintln!(
            "Connecting to {} (database {}, user {})\n",
            config.neo4j.uri, config.neo4j.database, config.neo4j.user
        ),
        LogFormat::Text => {
            let lines: Vec<String> = settings_of(config, groups)
                .into_iter()
                .map(|(key, value)| format!("{key} = {value}"))
                .collect();
            eprintln!("Configuration:\n{}\n", lines.join("\n"));
        }
        LogFormat::Json => {
            let settings: serde_json::Map<String, serde_json::Value> = settings_of(config, groups)
                .into_iter()
                .map(|(key, value)| (key.to_string(), serde_json::Value::String(value)))
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

/// Connection flags shared by the commands that connect.
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
    /// Ask for the password on the terminal (it is not echoed).
    #[arg(long)]
    pub password_prompt: bool,
    /// Overrides neo4j.max_retry_seconds: how long transient errors are
    /// retried from the first failure, the waits included.
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
            max_retry_seconds: self.max_retry_seconds,
            query_timeout_seconds: self.query_timeout_seconds,
            connect_timeout_seconds: self.connect_timeout_seconds,
            trusted_ca: self.trusted_ca.clone(),
            ..flags
        })
    }
}

/// Write flags of `load`: how many rows a transaction writes, on how many
/// writers, and how often the checkpoint is saved.
#[derive(Debug, Default, clap::Args)]
pub struct WriteArgs {
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
}

impl WriteArgs {
    pub fn overrides(&self, flags: FlagOverrides) -> anyhow::Result<FlagOverrides> {
        Ok(FlagOverrides {
            batch_size: self.batch_size,
            num_workers: self.workers,
            max_connection_pool_size: self.pool_size,
            checkpoint_interval: self.checkpoint_interval,
            ..flags
        })
    }
}

/// The configuration file, which every command reads.
#[derive(Debug, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see learngraph.example.toml).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
}

/// Flags of the commands that read an export (`check`, `load`, `verify`,
/// `export`).
#[derive(Debug, Default, clap::Args)]
pub struct SourceArgs {
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

impl SourceArgs {
    /// The flags as overrides of the file and environment; asks for the
    /// MySQL password if told to. A prompt that cannot be shown (no
    /// terminal: a scheduler's job) is an error, never an empty password.
    pub fn overrides(&self, flags: FlagOverrides) -> anyhow::Result<FlagOverrides> {
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
            ..flags
        })
    }
}

impl ConfigArgs {
    /// [`load_with`](Self::load_with) for a command that only connects.
    pub fn load_connecting(&self, database: &DatabaseArgs) -> anyhow::Result<Config> {
        self.load_with(database.overrides(FlagOverrides::default())?)
    }

    /// Loads file, environment and flags into one validated configuration.
    pub fn load_with(&self, flags: FlagOverrides) -> anyhow::Result<Config> {
        let raw = match &self.config {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        Ok(Config::build(raw, &EnvOverrides::from_process_env(), &flags)?)
    }
}
