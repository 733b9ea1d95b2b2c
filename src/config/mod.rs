//! The one configuration of a run: read from a TOML file, then the
//! environment, then command-line flags; validated once; passed down by
//! reference. No other module reads a file or the environment for settings.
//!
//! Printing a [`Config`] (Display or serde) never shows the password.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::graph::counts::GraphOptions;
use crate::source::mysql::{TableSource, parse_uri};
use crate::source::uri;

/// The file as written by users; every field optional so that the file can
/// set only what differs from the defaults. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub neo4j: RawNeo4j,
    #[serde(default)]
    pub etl: RawEtl,
    #[serde(default)]
    pub validation: RawValidation,
    #[serde(default)]
    pub graph: RawGraph,
    #[serde(default)]
    pub source: RawSource,
}

/// Where the rows come from when not from a CSV file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// `mysql://USER@HOST:PORT/DATABASE?table=TABLE`.
    pub uri: Option<String>,
    /// A file holding the MySQL password (its first line).
    pub password_file: Option<PathBuf>,
    /// Where the table is spooled; by default `HOST_PORT.DATABASE.TABLE.spool.csv`
    /// in the current folder.
    pub spool_path: Option<PathBuf>,
    /// The deadline of connecting to the MySQL server (TCP, TLS, its
    /// handshake and login), as `neo4j.connect_timeout_seconds`.
    pub connect_timeout_seconds: Option<u64>,
    /// The longest the server may stay silent while the table is read or
    /// a statement sent, as `neo4j.query_timeout_seconds`: a stalled
    /// server or a half-open connection fails instead of hanging the run.
    pub read_timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeo4j {
    /// `bolt://`, `bolt+s://`, `neo4j://` or `neo4j+s://` address.
    pub uri: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    pub database: Option<String>,
    /// Connections in the pool; at least `etl.num_workers`.
    pub max_connection_pool_size: Option<usize>,
    /// Rows per `UNWIND` batch.
    pub batch_size: Option<usize>,
    /// How long to keep retrying transient errors (a lost connection, a
    /// deadlock) before stopping with a message on how to resume.
    pub max_retry_seconds: Option<u64>,
    /// The deadline of each database call; past it the call counts as a
    /// lost connection and is retried.
    pub query_timeout_seconds: Option<u64>,
    /// The deadline of connecting: TCP, TLS and the Bolt handshake. A
    /// server that accepts and never answers fails this soon, not after
    /// the query deadline.
    pub connect_timeout_seconds: Option<u64>,
    /// A PEM file of CA certificates to trust (a private CA) for
    /// `bolt+s://` and `neo4j+s://`.
    pub trusted_ca: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEtl {
    /// Concurrent writers in phase 2.
    pub num_workers: Option<usize>,
    /// Rows the reader hands to a transform thread at a time.
    pub chunk_size: Option<u64>,
    /// Rows between checkpoints in phase 2.
    pub checkpoint_interval: Option<u64>,
    /// Threads that parse and transform (0: one per core).
    pub transform_threads: Option<usize>,
    /// The snapshot date (YYYY-MM-DD); by default read from snapshot_id.
    pub snapshot_date: Option<String>,
    /// Where rejected rows go; by default `<input>.rejects.csv`.
    pub rejects_path: Option<PathBuf>,
    /// Largest share (0 to 1) of the graph's present learners a later
    /// snapshot may mark missing without `--allow-missing`.
    pub max_missing_share: Option<f64>,
    /// The longest record, in bytes: a longer one (a quote that never
    /// closes, a file without line breaks) stops the read.
    pub max_record_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidation {
    /// Largest share of rejected rows (0 to 1) for a run to succeed.
    pub max_error_rate: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGraph {
    /// Write Learner -> City RESIDES_IN relationships.
    pub resides_in: Option<bool>,
    /// Write Learner -> Country FROM_COUNTRY relationships.
    pub from_country: Option<bool>,
}

/// Values from the environment, read by the binary's edge and passed in.
#[derive(Debug, Default, Clone)]
pub struct EnvOverrides {
    pub uri: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
    pub mysql_password: Option<String>,
}

impl EnvOverrides {
    /// Reads `NEO4J_URI`, `NEO4J_USERNAME`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`.
    pub fn from_process_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        EnvOverrides {
            uri: var("NEO4J_URI"),
            user: var("NEO4J_USERNAME"),
            password: var("NEO4J_PASSWORD"),
            database: var("NEO4J_DATABASE"),
            mysql_password: var("MYSQL_PASSWORD"),
        }
    }
}

/// Values from command-line flags; they win over file and environment.
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    pub uri: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub password_file: Option<PathBuf>,
    /// A password typed at a prompt (never given as a flag's value, which
    /// other users could see in the process list).
    pub password: Option<String>,
    pub batch_size: Option<usize>,
    pub num_workers: Option<usize>,
    pub max_connection_pool_size: Option<usize>,
    pub max_retry_seconds: Option<u64>,
    pub query_timeout_seconds: Option<u64>,
    pub connect_timeout_seconds: Option<u64>,
    pub trusted_ca: Option<PathBuf>,
    pub chunk_size: Option<u64>,
    pub checkpoint_interval: Option<u64>,
    pub transform_threads: Option<usize>,
    pub snapshot_date: Option<String>,
    pub rejects_path: Option<PathBuf>,
    pub max_error_rate: Option<f64>,
    /// `load --max-rows N`: a trial load of the first N rows.
    pub max_rows: Option<u64>,
    /// `--source mysql://...`.
    pub source: Option<String>,
    pub source_password_file: Option<PathBuf>,
    /// Typed at a prompt.
    pub source_password: Option<String>,
}

/// A password that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    /// The password itself, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "(none)" } else { "***" })
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "(none)" } else { "***" })
    }
}

/// Database connection and write settings.
#[derive(Clone, Debug, Serialize)]
pub struct Neo4jConfig {
    pub uri: String,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub max_connection_pool_size: usize,
    /// The pool size was not configured: it follows the writers.
    #[serde(skip)]
    pub pool_follows_workers: bool,
    pub batch_size: usize,
    /// Where `batch_size` comes from (as the writers').
    #[serde(skip)]
    pub batch_origin: SettingOrigin,
    pub max_retry_seconds: u64,
    pub query_timeout_seconds: u64,
    pub connect_timeout_seconds: u64,
    pub trusted_ca: Option<PathBuf>,
}

/// Pipeline settings.
#[derive(Clone, Debug, Serialize)]
pub struct EtlConfig {
    pub num_workers: usize,
    /// Where `num_workers` comes from: the configuration, or the default
    /// for the server the run talks to.
    #[serde(skip)]
    pub workers_origin: SettingOrigin,
    pub chunk_size: u64,
    pub checkpoint_interval: u64,
    /// Resolved: never 0.
    pub transform_threads: usize,
    pub snapshot_date: Option<NaiveDate>,
    pub rejects_path: Option<PathBuf>,
    pub max_missing_share: f64,
    /// A trial load reads only the first this many rows (`load --max-rows`).
    pub max_rows: Option<u64>,
    pub max_record_bytes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ValidationConfig {
    pub max_error_rate: f64,
}

/// A MySQL table to read instead of a CSV file.
#[derive(Clone, Debug, Serialize)]
pub struct SourceConfig {
    pub table: TableSource,
    pub password: Secret,
    pub spool_path: PathBuf,
    pub connect_timeout_seconds: u64,
    pub read_timeout_seconds: u64,
}

/// The validated configuration every stage receives.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub source: Option<SourceConfig>,
    pub neo4j: Neo4jConfig,
    pub etl: EtlConfig,
    pub validation: ValidationConfig,
    pub graph: GraphOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("configuration key {key} is invalid: {message} (allowed: {allowed})")]
    Invalid {
        key: &'static str,
        message: String,
        allowed: &'static str,
    },
    #[error("cannot read the password file {path}: {source}")]
    PasswordFile { path: PathBuf, source: std::io::Error },
}

pub fn default_uri() -> String {
    "bolt://127.0.0.1:7687".to_string()
}
pub fn default_user() -> String {
    "neo4j".to_string()
}
pub fn default_database() -> String {
    "neo4j".to_string()
}
/// Learners per batch on a server other than Neo4j (ArcadeDB: the whole
/// file loaded fastest with 5,000).
pub const DEFAULT_BATCH_SIZE: usize = 5_000;
/// Learners per batch on Neo4j (the sweep on Neo4j: 2,000 with two
/// writers was the fastest pair).
pub const NEO4J_DEFAULT_BATCH_SIZE: usize = 2_000;
/// One writer for a server other than Neo4j: on ArcadeDB two or more
/// writers lose more to write conflicts on the shared nodes than they gain
/// (BENCHMARKS.md, "load").
pub const DEFAULT_NUM_WORKERS: usize = 1;
/// Writers on Neo4j, whose locks let concurrent batches pass each other
/// (BENCHMARKS.md, "load on Neo4j": the sweep chose it).
pub const NEO4J_DEFAULT_NUM_WORKERS: usize = 2;

/// Where a setting whose default depends on the server comes from
/// (`etl.num_workers`, `neo4j.batch_size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SettingOrigin {
    /// A file, the environment or a flag set it.
    Configured,
    /// Not set: the default, until the server is known.
    #[default]
    Default,
    /// Not set: the default for the server the run talks to.
    ServerDefault,
}

/// Whether a server's agent string names Neo4j itself. Servers that speak
/// Bolt for compatibility also begin with `Neo4j/` and say so:
/// `Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)`, `Neo4j/v5.11.0 compatible
/// graph database server - Memgraph`.
pub fn is_neo4j(agent: &str) -> bool {
    agent.starts_with("Neo4j/") && !agent.contains("compatible")
}

impl SettingOrigin {
    /// The value as the configuration block shows it, with where it comes
    /// from when that is the default.
    fn shown(self, value: usize, on_neo4j: usize) -> String {
        match self {
            SettingOrigin::Configured => value.to_string(),
            SettingOrigin::Default => format!("{value} (default; {on_neo4j} on Neo4j)"),
            SettingOrigin::ServerDefault => format!("{value} (the default for this server)"),
        }
    }
}
pub const DEFAULT_CHUNK_SIZE: u64 = 1_000;
pub const DEFAULT_CHECKPOINT_INTERVAL: u64 = 50_000;
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.05;
pub const DEFAULT_MAX_RETRY_SECONDS: u64 = 120;
/// The longest `neo4j.max_retry_seconds` accepted.
pub const MAX_RETRY_SECONDS_BOUND: u64 = 3_600;
/// The deadline of one database call (a batch, a count), generous enough
/// for the slowest verify count on a full graph.
pub const DEFAULT_QUERY_TIMEOUT_SECONDS: u64 = 300;
/// As the official drivers: a connection attempt gives up after 30 s.
pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: u64 = 30;
pub const DEFAULT_MAX_MISSING_SHARE: f64 = 0.10;

impl RawConfig {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| describe_toml_error(text, &e))
    }
}

/// The spool of a table, by default: named by its server, database and
/// table, so that a resume never reads another server's rows
/// (`HOST_PORT.DATABASE.TABLE.spool.csv` in the current folder).
fn default_spool_path(table: &crate::source::mysql::TableSource) -> PathBuf {
    let safe = |text: &str| {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    PathBuf::from(format!(
        "{}_{}.{}.{}.spool.csv",
        safe(&table.host),
        table.port,
        safe(&table.database),
        safe(&table.table)
    ))
}

/// A TOML error as a message that names the line and the key and never
/// shows a value: the parser's own text quotes the offending line, which
/// may hold a password (a bare word, a missing quote, a number).
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let key = line
        .and_then(|n| text.lines().nth(n - 1))
        .and_then(|line| line.split_once('=').map(|(key, _)| key).or(Some(line)))
        .map(str::trim)
        .filter(|key| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
        });
    let message = error.message().trim();
    // "unknown field `x`, expected one of ..." names keys only; any other
    // message may quote a value between backticks.
    let message = if message.starts_with("unknown field") {
        message.to_string()
    } else {
        let mut shown = String::new();
        for (i, part) in message.split('`').enumerate() {
            shown.push_str(if i % 2 == 0 { part } else { "(value not shown)" });
        }
        shown
    };
    let message = message.replace('\n', " ");
    match (line, key) {
        (Some(line), Some(key)) => format!("line {line}, key {key}: {message}"),
        (Some(line), None) => format!("line {line}: {message}"),
        _ => message,
    }
}

/// Splits the user-info off a URI: the URI without it, and the user and
/// password it named (percent-decoded). See [`crate::source::uri`] for
/// where user-info ends.
pub fn split_credentials(uri: &str) -> (String, Option<String>, Option<String>) {
    let (rest, user, password) = uri::split_userinfo(uri);
    let user = user.filter(|u| !u.is_empty()).map(uri::percent_decode);
    (rest, user, password.map(uri::percent_decode))
}

/// `seconds` if it is 1 to `max`, else the error naming `key`.
fn seconds_within(
    key: &'static str,
    seconds: u64,
    max: u64,
    allowed: &'static str,
) -> Result<u64, ConfigError> {
    if (1..=max).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(invalid(key, format!("{seconds}"), allowed))
    }
}

fn invalid(key: &'static str, message: impl Into<String>, allowed: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
        allowed,
    }
}

/// Where a password may come from, for one server.
struct PasswordSources {
    /// Typed at a prompt.
    typed: Option<String>,
    /// `--password-file` (or `--source-password-file`).
    flag_file: Option<PathBuf>,
    env: Option<String>,
    /// `password_file` in the TOML file.
    config_file: Option<PathBuf>,
}

/// The password by the documented precedence, file < environment < flags,
/// each of them a typed password or a password file; `fallback` (the TOML
/// file's `password`, the URI's) only when none of them is set.
fn password_by_precedence(
    sources: PasswordSources,
    fallback: impl FnOnce() -> Option<String>,
) -> Result<String, ConfigError> {
    let read_file = |path: PathBuf| {
        std::fs::read_to_string(&path)
            .map(|text| text.lines().next().unwrap_or("").to_string())
            .map_err(|source| ConfigError::PasswordFile { path, source })
    };
    if let Some(typed) = sources.typed {
        return Ok(typed);
    }
    if let Some(path) = sources.flag_file {
        return read_file(path);
    }
    if let Some(from_env) = sources.env {
        return Ok(from_env);
    }
    if let Some(path) = sources.config_file {
        return read_file(path);
    }
    Ok(fallback().unwrap_or_default())
}

/// Where and as whom to connect to the graph database.
struct Neo4jConnection {
    uri: String,
    user: String,
    password: Secret,
    database: String,
    trusted_ca: Option<PathBuf>,
}

/// The URI schemes the driver speaks.
const SCHEMES: [&str; 6] = [
    "bolt://",
    "bolt+s://",
    "bolt+ssc://",
    "neo4j://",
    "neo4j+s://",
    "neo4j+ssc://",
];

impl Neo4jConnection {
    fn build(raw: &RawNeo4j, env: &EnvOverrides, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        // Credentials written into the URI (`bolt://user:secret@host`) are
        // taken off it at once, so that the URI can be printed anywhere;
        // they count only where nothing else sets the user or password.
        let (uri, uri_user, uri_password) = split_credentials(
            &flags
                .uri
                .clone()
                .or(env.uri.clone())
                .or(raw.uri.clone())
                .unwrap_or_else(default_uri),
        );
        let password = password_by_precedence(
            PasswordSources {
                typed: flags.password.clone(),
                flag_file: flags.password_file.clone(),
                env: env.password.clone(),
                config_file: raw.password_file.clone(),
            },
            || raw.password.clone().or(uri_password),
        )?;
        if !SCHEMES.iter().any(|s| uri.starts_with(s)) {
            return Err(invalid(
                "neo4j.uri",
                format!("{:?} has no supported scheme", uri::redact(&uri)),
                "bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc://",
            ));
        }
        let trusted_ca = flags.trusted_ca.clone().or(raw.trusted_ca.clone());
        if let Some(ca) = &trusted_ca {
            check_trusted_ca(ca, &uri)?;
        }
        Ok(Neo4jConnection {
            user: flags
                .user
                .clone()
                .or(env.user.clone())
                .or(raw.user.clone())
                .or(uri_user)
                .unwrap_or_else(default_user),
            database: flags
                .database
                .clone()
                .or(env.database.clone())
                .or(raw.database.clone())
                .unwrap_or_else(default_database),
            uri,
            password: Secret::new(password),
            trusted_ca,
        })
    }
}

/// A private CA is trusted only by a URI that verifies certificates, and
/// must be a file.
fn check_trusted_ca(ca: &Path, uri: &str) -> Result<(), ConfigError> {
    if !(uri.starts_with("bolt+s://") || uri.starts_with("neo4j+s://")) {
        return Err(invalid(
            "neo4j.trusted_ca",
            format!(
                "{} is set but neo4j.uri {uri:?} does not verify certificates",
                ca.display()
            ),
            "a CA file with a bolt+s:// or neo4j+s:// URI",
        ));
    }
    if !ca.is_file() {
        return Err(invalid(
            "neo4j.trusted_ca",
            format!("{} is not a readable file", ca.display()),
            "a PEM file of CA certificates",
        ));
    }
    Ok(())
}

/// The `[neo4j]` section: the connection, its deadlines, the pool (at
/// least one connection per writer) and the batch size.
fn neo4j_config(
    connection: Neo4jConnection,
    raw: RawNeo4j,
    flags: &FlagOverrides,
    num_workers: usize,
) -> Result<Neo4jConfig, ConfigError> {
    let query_timeout_seconds = seconds_within(
        "neo4j.query_timeout_seconds",
        flags
            .query_timeout_seconds
            .or(raw.query_timeout_seconds)
            .unwrap_or(DEFAULT_QUERY_TIMEOUT_SECONDS),
        86_400,
        "1 to 86400",
    )?;
    let connect_timeout_seconds = seconds_within(
        "neo4j.connect_timeout_seconds",
        flags
            .connect_timeout_seconds
            .or(raw.connect_timeout_seconds)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECONDS),
        3_600,
        "1 to 3600",
    )?;
    // A run waits out an outage this long while it holds the load lock; the
    // lock's takeover age grows with it (sink::neo4j::lock::LeaseTerms), so
    // it is bounded to keep a dead run's lock from blocking for a day.
    let max_retry_seconds = flags
        .max_retry_seconds
        .or(raw.max_retry_seconds)
        .unwrap_or(DEFAULT_MAX_RETRY_SECONDS);
    if max_retry_seconds > MAX_RETRY_SECONDS_BOUND {
        return Err(invalid(
            "neo4j.max_retry_seconds",
            format!("{max_retry_seconds}"),
            "0 to 3600 (a run holding the load lock waits no longer than this for the database; its lock is taken \
             over only after this and neo4j.query_timeout_seconds have passed without a heartbeat)",
        ));
    }
    let configured_pool = flags.max_connection_pool_size.or(raw.max_connection_pool_size);
    let pool = configured_pool.unwrap_or(num_workers + 1);
    if pool < num_workers || pool > 256 {
        return Err(invalid(
            "neo4j.max_connection_pool_size",
            format!("{pool} with etl.num_workers = {num_workers}"),
            "at least etl.num_workers, at most 256",
        ));
    }
    let configured_batch = flags.batch_size.or(raw.batch_size);
    let batch_size = configured_batch.unwrap_or(DEFAULT_BATCH_SIZE);
    if !(1..=100_000).contains(&batch_size) {
        return Err(invalid(
            "neo4j.batch_size",
            format!("{batch_size}"),
            "1 to 100000",
        ));
    }
    let Neo4jConnection {
        uri,
        user,
        password,
        database,
        trusted_ca,
    } = connection;
    Ok(Neo4jConfig {
        uri,
        user,
        password,
        database,
        max_connection_pool_size: pool,
        pool_follows_workers: configured_pool.is_none(),
        batch_size,
        batch_origin: match configured_batch {
            Some(_) => SettingOrigin::Configured,
            None => SettingOrigin::Default,
        },
        max_retry_seconds,
        query_timeout_seconds,
        connect_timeout_seconds,
        trusted_ca,
    })
}

/// The `[etl]` section and `--max-rows`.
fn etl_config(
    raw: RawEtl,
    flags: &FlagOverrides,
    num_workers: usize,
    workers_origin: SettingOrigin,
) -> Result<EtlConfig, ConfigError> {
    let chunk_size = flags.chunk_size.or(raw.chunk_size).unwrap_or(DEFAULT_CHUNK_SIZE);
    if !(1..=1_000_000).contains(&chunk_size) {
        return Err(invalid("etl.chunk_size", format!("{chunk_size}"), "1 to 1000000"));
    }
    let checkpoint_interval = flags
        .checkpoint_interval
        .or(raw.checkpoint_interval)
        .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL);
    if checkpoint_interval == 0 {
        return Err(invalid("etl.checkpoint_interval", "0", "1 or more rows"));
    }
    let threads = flags.transform_threads.or(raw.transform_threads).unwrap_or(0);
    let transform_threads = if threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        threads
    };
    if transform_threads > 256 {
        return Err(invalid(
            "etl.transform_threads",
            format!("{threads}"),
            "0 (one per core) to 256",
        ));
    }
    let snapshot_date = match flags.snapshot_date.clone().or(raw.snapshot_date) {
        Some(text) => Some(NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|e| {
            invalid(
                "etl.snapshot_date",
                format!("{text:?}: {e}"),
                "a date as YYYY-MM-DD",
            )
        })?),
        None => None,
    };
    if let Some(date) = snapshot_date {
        let today = chrono::Utc::now().date_naive();
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
        if date < earliest || date > today {
            return Err(invalid(
                "etl.snapshot_date",
                format!(
                    "{date} is {}",
                    if date > today {
                        "after today"
                    } else {
                        "before 1900"
                    }
                ),
                "a date from 1900-01-01 to today (an export's date: a typo such as 0205 for 2025 is refused)",
            ));
        }
    }
    if flags.max_rows == Some(0) {
        return Err(invalid("--max-rows", "0".to_string(), "1 or more"));
    }
    let max_record_bytes = raw
        .max_record_bytes
        .unwrap_or(crate::source::reader::DEFAULT_MAX_RECORD_BYTES);
    if !(1 << 10..=1 << 30).contains(&max_record_bytes) {
        return Err(invalid(
            "etl.max_record_bytes",
            format!("{max_record_bytes}"),
            "1024 to 1073741824 (1 KiB to 1 GiB)",
        ));
    }
    let max_missing_share = raw.max_missing_share.unwrap_or(DEFAULT_MAX_MISSING_SHARE);
    if !(0.0..=1.0).contains(&max_missing_share) {
        return Err(invalid(
            "etl.max_missing_share",
            format!("{max_missing_share}"),
            "0.0 to 1.0",
        ));
    }
    Ok(EtlConfig {
        num_workers,
        workers_origin,
        chunk_size,
        checkpoint_interval,
        transform_threads,
        snapshot_date,
        rejects_path: flags.rejects_path.clone().or(raw.rejects_path),
        max_missing_share,
        max_rows: flags.max_rows,
        max_record_bytes,
    })
}

/// The `[validation]` section.
fn validation_config(raw: RawValidation, flags: &FlagOverrides) -> Result<ValidationConfig, ConfigError> {
    let max_error_rate = flags
        .max_error_rate
        .or(raw.max_error_rate)
        .unwrap_or(DEFAULT_MAX_ERROR_RATE);
    if !(0.0..=1.0).contains(&max_error_rate) {
        return Err(invalid(
            "validation.max_error_rate",
            format!("{max_error_rate}"),
            "0.0 to 1.0",
        ));
    }
    Ok(ValidationConfig { max_error_rate })
}

/// The `[source]` section, for a MySQL table at `uri`.
fn source_config(
    uri: &str,
    raw: RawSource,
    env: &EnvOverrides,
    flags: &FlagOverrides,
) -> Result<SourceConfig, ConfigError> {
    let table = parse_uri(uri).map_err(|e| {
        invalid(
            "source.uri",
            e.to_string(),
            "mysql://USER@HOST:PORT/DATABASE?table=TABLE",
        )
    })?;
    let password = password_by_precedence(
        PasswordSources {
            typed: flags.source_password.clone(),
            flag_file: flags.source_password_file.clone(),
            env: env.mysql_password.clone(),
            config_file: raw.password_file,
        },
        || None,
    )?;
    let spool_path = raw.spool_path.unwrap_or_else(|| default_spool_path(&table));
    Ok(SourceConfig {
        table,
        password: Secret::new(password),
        spool_path,
        connect_timeout_seconds: seconds_within(
            "source.connect_timeout_seconds",
            raw.connect_timeout_seconds
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECONDS),
            86_400,
            "1 to 86400",
        )?,
        read_timeout_seconds: seconds_within(
            "source.read_timeout_seconds",
            raw.read_timeout_seconds.unwrap_or(DEFAULT_QUERY_TIMEOUT_SECONDS),
            86_400,
            "1 to 86400",
        )?,
    })
}

impl Config {
    /// The configuration for a run against the server whose agent string is
    /// `agent` (`Neo4j/5.26.30`, `ArcadeDB/...`): the writers and the batch
    /// size not set by the user become the defaults measured for that
    /// server, and a pool not set follows the writers. Everything set by
    /// the user stays as it is.
    pub fn for_server(&self, agent: &str) -> Config {
        let mut config = self.clone();
        let neo4j = is_neo4j(agent);
        if config.neo4j.batch_origin != SettingOrigin::Configured {
            config.neo4j.batch_size = if neo4j {
                NEO4J_DEFAULT_BATCH_SIZE
            } else {
                DEFAULT_BATCH_SIZE
            };
            config.neo4j.batch_origin = SettingOrigin::ServerDefault;
        }
        if config.etl.workers_origin != SettingOrigin::Configured {
            let workers = if neo4j {
                NEO4J_DEFAULT_NUM_WORKERS
            } else {
                DEFAULT_NUM_WORKERS
            };
            // A pool the user set bounds the writers, as it does when they are set.
            config.etl.num_workers = if config.neo4j.pool_follows_workers {
                workers
            } else {
                workers.min(config.neo4j.max_connection_pool_size)
            };
            config.etl.workers_origin = SettingOrigin::ServerDefault;
            if config.neo4j.pool_follows_workers {
                config.neo4j.max_connection_pool_size = config.etl.num_workers + 1;
            }
        }
        config
    }
}

impl Config {
    /// Layers file, environment and flags, then validates the result, one
    /// section at a time. The layering is written here rather than by a
    /// layering crate: of the four environment variables none follows a
    /// key-path naming rule, and a password comes from a value or a file
    /// at every layer with the URI's user-info as the last fallback, which
    /// per-key merging cannot express (see docs/architecture.md).
    pub fn build(raw: RawConfig, env: &EnvOverrides, flags: &FlagOverrides) -> Result<Config, ConfigError> {
        let RawConfig {
            neo4j,
            etl,
            validation,
            graph,
            source,
        } = raw;
        let neo4j_connection = Neo4jConnection::build(&neo4j, env, flags)?;
        let configured_workers = flags.num_workers.or(etl.num_workers);
        let workers_origin = match configured_workers {
            Some(_) => SettingOrigin::Configured,
            None => SettingOrigin::Default,
        };
        let num_workers = configured_workers.unwrap_or(DEFAULT_NUM_WORKERS);
        if !(1..=64).contains(&num_workers) {
            return Err(invalid("etl.num_workers", format!("{num_workers}"), "1 to 64"));
        }
        let neo4j = neo4j_config(neo4j_connection, neo4j, flags, num_workers)?;
        let etl = etl_config(etl, flags, num_workers, workers_origin)?;
        let validation = validation_config(validation, flags)?;
        let source = match flags.source.clone().or(source.uri.clone()) {
            None => None,
            Some(uri) => Some(source_config(&uri, source, env, flags)?),
        };
        Ok(Config {
            source,
            neo4j,
            etl,
            validation,
            graph: GraphOptions {
                resides_in: graph.resides_in.unwrap_or(false),
                from_country: graph.from_country.unwrap_or(false),
            },
        })
    }

    /// The rejects file for an input.
    pub fn rejects_path(&self, input: &Path) -> PathBuf {
        self.etl.rejects_path.clone().unwrap_or_else(|| {
            let mut name = input.as_os_str().to_os_string();
            name.push(".rejects.csv");
            name.into()
        })
    }
}

impl Config {
    /// Every setting in force as `(key, value)`, password redacted, in the
    /// order a reader looks for them. A trial's row limit is a flag of
    /// `load` only, never a key of the file: it is shown as `--max-rows`.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let n = &self.neo4j;
        let e = &self.etl;
        let mut settings = Vec::new();
        if let Some(source) = &self.source {
            settings.push(("source.uri", source.table.to_string()));
            settings.push(("source.password", format!("{:?}", source.password)));
            settings.push(("source.spool_path", source.spool_path.display().to_string()));
            settings.push((
                "source.connect_timeout_seconds",
                source.connect_timeout_seconds.to_string(),
            ));
            settings.push((
                "source.read_timeout_seconds",
                source.read_timeout_seconds.to_string(),
            ));
        }
        settings.push(("neo4j.uri", n.uri.clone()));
        settings.push(("neo4j.user", n.user.clone()));
        settings.push(("neo4j.password", format!("{:?}", n.password)));
        settings.push(("neo4j.database", n.database.clone()));
        settings.push((
            "neo4j.max_connection_pool_size",
            n.max_connection_pool_size.to_string(),
        ));
        settings.push((
            "neo4j.batch_size",
            n.batch_origin.shown(n.batch_size, NEO4J_DEFAULT_BATCH_SIZE),
        ));
        settings.push(("neo4j.max_retry_seconds", n.max_retry_seconds.to_string()));
        settings.push(("neo4j.query_timeout_seconds", n.query_timeout_seconds.to_string()));
        settings.push((
            "neo4j.connect_timeout_seconds",
            n.connect_timeout_seconds.to_string(),
        ));
        if let Some(ca) = &n.trusted_ca {
            settings.push(("neo4j.trusted_ca", ca.display().to_string()));
        }
        settings.push((
            "etl.num_workers",
            e.workers_origin.shown(e.num_workers, NEO4J_DEFAULT_NUM_WORKERS),
        ));
        settings.push(("etl.chunk_size", e.chunk_size.to_string()));
        settings.push(("etl.checkpoint_interval", e.checkpoint_interval.to_string()));
        settings.push(("etl.transform_threads", e.transform_threads.to_string()));
        settings.push(("etl.max_missing_share", e.max_missing_share.to_string()));
        settings.push(("etl.max_record_bytes", e.max_record_bytes.to_string()));
        if let Some(rows) = e.max_rows {
            settings.push((
                "--max-rows",
                format!("{rows} (a trial load of the file's first rows)"),
            ));
        }
        settings.push((
            "etl.snapshot_date",
            e.snapshot_date
                .map_or("(from snapshot_id)".to_string(), |d| d.to_string()),
        ));
        settings.push((
            "validation.max_error_rate",
            self.validation.max_error_rate.to_string(),
        ));
        settings.push(("graph.resides_in", self.graph.resides_in.to_string()));
        settings.push(("graph.from_country", self.graph.from_country.to_string()));
        settings
    }
}

impl fmt::Display for Config {
    /// One line per key, password redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .settings()
            .into_iter()
            .map(|(key, value)| format!("{key} = {value}"))
            .collect();
        f.write_str(&lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_sets_the_deadline() {
        let raw =
            RawConfig::from_toml(include_str!("../../learngraph.example.toml")).expect("the example parses");
        let config = Config::build(raw, &EnvOverrides::default(), &FlagOverrides::default())
            .expect("the example is valid");
        assert_eq!(config.neo4j.query_timeout_seconds, 300);
        assert_eq!(config.neo4j.trusted_ca, None);
    }

    #[test]
    fn a_trusted_ca_needs_a_verifying_uri_and_a_file() {
        let ca = tempfile::NamedTempFile::new().expect("temp file");
        let flags = FlagOverrides {
            uri: Some("bolt://host:7687".into()),
            trusted_ca: Some(ca.path().to_path_buf()),
            ..Default::default()
        };
        let err =
            Config::build(RawConfig::default(), &EnvOverrides::default(), &flags).expect_err("plain bolt");
        assert!(err.to_string().contains("neo4j.trusted_ca"), "{err}");
        let flags = FlagOverrides {
            uri: Some("neo4j+s://host:7687".into()),
            ..flags
        };
        let config =
            Config::build(RawConfig::default(), &EnvOverrides::default(), &flags).expect("+s with a CA file");
        assert_eq!(config.neo4j.trusted_ca.as_deref(), Some(ca.path()));
        let flags = FlagOverrides {
            trusted_ca: Some("/nonexistent/ca.pem".into()),
            ..flags
        };
        assert!(Config::build(RawConfig::default(), &EnvOverrides::default(), &flags).is_err());
    }

    fn build(toml: &str, env: EnvOverrides, flags: FlagOverrides) -> Result<Config, ConfigError> {
        Config::build(RawConfig::from_toml(toml).expect("valid toml"), &env, &flags)
    }

    proptest::proptest! {
        /// A password of any printable characters, written plainly or
        /// percent-encoded, in a Neo4j URI (environment or flag) or a MySQL
        /// source URI: the configuration block, its JSON and every error
        /// leave it out.
        #[test]
        fn no_password_of_any_shape_is_printed(
            password in "[ -~]{4,24}",
            encode in proptest::bool::ANY,
        ) {
            let secret = format!("Zq{password}qZ");
            let written = if encode {
                secret.bytes().map(|b| format!("%{b:02X}")).collect()
            } else {
                secret.clone()
            };
            let leaks = |text: &str| text.contains(&secret) || text.contains(&written);
            for uri in [
                format!("bolt://neo4j:{written}@db.example.com:7687"),
                format!("neo4j+s://neo4j:{written}@db.example.com"),
                format!("neo4j:{written}@db.example.com"),
                format!("ftp://neo4j:{written}@db.example.com"),
            ] {
                for (env, flags) in [
                    (EnvOverrides { uri: Some(uri.clone()), ..EnvOverrides::default() }, FlagOverrides::default()),
                    (EnvOverrides::default(), FlagOverrides { uri: Some(uri.clone()), ..FlagOverrides::default() }),
                ] {
                    let shown = match build("", env, flags) {
                        Ok(config) => format!("{config}\n{}", serde_json::to_string(&config).expect("json")),
                        Err(error) => error.to_string(),
                    };
                    proptest::prop_assert!(!leaks(&shown), "{uri} shows as {shown}");
                }
            }
            let source = format!("mysql://reader:{written}@db.example.com:3306/warehouse?table=t");
            let flags = FlagOverrides { source: Some(source.clone()), ..FlagOverrides::default() };
            let error = build("", EnvOverrides::default(), flags).expect_err("a password in the URI is refused");
            proptest::prop_assert!(!leaks(&error.to_string()), "{source} shows as {error}");
        }
    }

    #[test]
    fn file_then_environment_then_flags() {
        let toml = r#"
            [neo4j]
            uri = "bolt://file:7687"
            user = "file-user"
            password = "file-secret"
            batch_size = 1234
            [etl]
            num_workers = 3
        "#;
        let config = build(toml, EnvOverrides::default(), FlagOverrides::default()).expect("valid");
        assert_eq!(config.neo4j.uri, "bolt://file:7687");
        assert_eq!(config.neo4j.batch_size, 1234);
        assert_eq!(config.etl.num_workers, 3);
        assert_eq!(
            config.neo4j.max_connection_pool_size, 4,
            "pool defaults to workers + 1"
        );

        let env = EnvOverrides {
            uri: Some("neo4j+s://env.example:7687".into()),
            password: Some("env-secret".into()),
            ..EnvOverrides::default()
        };
        let config = build(toml, env.clone(), FlagOverrides::default()).expect("valid");
        assert_eq!(config.neo4j.uri, "neo4j+s://env.example:7687");
        assert_eq!(config.neo4j.password.expose(), "env-secret");

        let flags = FlagOverrides {
            uri: Some("bolt://flag:1".into()),
            batch_size: Some(99),
            ..FlagOverrides::default()
        };
        let config = build(toml, env, flags).expect("valid");
        assert_eq!(config.neo4j.uri, "bolt://flag:1");
        assert_eq!(config.neo4j.batch_size, 99);
    }

    #[test]
    fn a_retry_bound_longer_than_an_hour_is_refused_naming_the_key() {
        for (toml, ok) in [
            ("[neo4j]\nmax_retry_seconds = 0", true),
            ("[neo4j]\nmax_retry_seconds = 3600", true),
            ("[neo4j]\nmax_retry_seconds = 3601", false),
            ("[neo4j]\nmax_retry_seconds = 18446744073709551615", false),
        ] {
            let built = build(toml, EnvOverrides::default(), FlagOverrides::default());
            match built {
                Ok(config) => assert!(ok, "{toml} accepted as {}", config.neo4j.max_retry_seconds),
                Err(error) => {
                    assert!(!ok, "{toml}: {error}");
                    assert!(error.to_string().contains("neo4j.max_retry_seconds"), "{error}");
                }
            }
        }
    }

    #[test]
    fn a_toml_error_names_the_line_and_the_key_and_never_a_value() {
        for (toml, key) in [
            ("[neo4j]\npassword = hunter2-secret\n", "password"),
            ("[neo4j]\npassword = \"hunter2-secret\n", "password"),
            ("[neo4j]\npassword = 4242424242\n", "password"),
            ("[neo4j]\npassword = 'hunter2-secret\nuser = \"x\"\n", "password"),
            ("[neo4j]\npasword = \"hunter2-secret\"\n", "pasword"),
        ] {
            let error = RawConfig::from_toml(toml).expect_err("invalid");
            assert!(
                error.contains("line 2") && error.contains(key),
                "{toml:?}: {error}"
            );
            for secret in ["hunter2", "4242424242"] {
                assert!(!error.contains(secret), "{toml:?}: {error}");
            }
        }
    }

    #[test]
    fn a_snapshot_date_before_1900_or_after_today_is_refused() {
        for (date, ok) in [
            ("0205-12-31", false),
            ("1899-12-31", false),
            ("2999-01-01", false),
            ("2025-12-31", true),
        ] {
            let built = build(
                &format!("[etl]\nsnapshot_date = \"{date}\""),
                EnvOverrides::default(),
                FlagOverrides::default(),
            );
            assert_eq!(
                built.is_ok(),
                ok,
                "{date}: {:?}",
                built.err().map(|e| e.to_string())
            );
        }
    }

    #[test]
    fn printing_never_shows_the_password() {
        let config = build(
            "[neo4j]\npassword = \"hunter2-secret\"",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect("valid");
        let text = format!(
            "{config}\n{config:?}\n{}",
            serde_json::to_string(&config).expect("json")
        );
        assert!(!text.contains("hunter2-secret"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key_and_the_allowed_values() {
        let err = RawConfig::from_toml("[neo4j]\nbatchsize = 5").expect_err("unknown key");
        assert!(err.contains("batchsize"), "{err}");
        let err = build(
            "[neo4j]\nbatch_size = 0",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect_err("invalid");
        assert!(
            err.to_string().contains("neo4j.batch_size") && err.to_string().contains("1 to 100000"),
            "{err}"
        );
        let err = build(
            "[neo4j]\nuri = \"http://x\"",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("neo4j.uri"), "{err}");
        let err = build(
            "[etl]\nnum_workers = 4\n[neo4j]\nmax_connection_pool_size = 2",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect_err("pool smaller than workers");
        assert!(err.to_string().contains("max_connection_pool_size"), "{err}");
        let err = build(
            "[validation]\nmax_error_rate = 5",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("0.0 to 1.0"), "{err}");
    }

    #[test]
    fn a_password_file_in_the_toml_yields_to_the_environment_and_to_flags() {
        let dir = tempfile::tempdir().expect("dir");
        let (in_toml, on_flag) = (dir.path().join("toml.txt"), dir.path().join("flag.txt"));
        std::fs::write(&in_toml, "from-toml-file\n").expect("write");
        std::fs::write(&on_flag, "from-flag-file\n").expect("write");
        let toml = format!("[neo4j]\npassword_file = {:?}", in_toml.display().to_string());
        let env = EnvOverrides {
            password: Some("from-env".into()),
            ..EnvOverrides::default()
        };
        let password = |env: EnvOverrides, flags: FlagOverrides| {
            build(&toml, env, flags)
                .expect("valid")
                .neo4j
                .password
                .expose()
                .to_string()
        };
        assert_eq!(
            password(EnvOverrides::default(), FlagOverrides::default()),
            "from-toml-file"
        );
        assert_eq!(password(env.clone(), FlagOverrides::default()), "from-env");
        let flags = FlagOverrides {
            password_file: Some(on_flag),
            ..FlagOverrides::default()
        };
        assert_eq!(password(env, flags), "from-flag-file");
    }

    #[test]
    fn credentials_in_the_uri_are_used_and_never_printed() {
        let env = EnvOverrides {
            uri: Some("neo4j+s://alice:s%40cret-pw@db.example.com:7687/x".into()),
            ..EnvOverrides::default()
        };
        let config = build("", env, FlagOverrides::default()).expect("valid");
        assert_eq!(config.neo4j.uri, "neo4j+s://db.example.com:7687/x");
        assert_eq!(config.neo4j.user, "alice");
        assert_eq!(config.neo4j.password.expose(), "s@cret-pw");
        let printed = format!("{config}\n{}", serde_json::to_string(&config).expect("json"));
        assert!(
            !printed.contains("cret-pw") && !printed.contains("alice:"),
            "{printed}"
        );

        let (uri, user, password) = split_credentials("bolt://host:7687");
        assert_eq!((uri.as_str(), user, password), ("bolt://host:7687", None, None));
        let explicit = build(
            "[neo4j]\nuser = \"bob\"\npassword = \"pw-from-file\"\nuri = \"bolt://eve:other@h\"",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect("valid");
        assert_eq!(
            explicit.neo4j.user, "bob",
            "the URI's user counts only where nothing else sets one"
        );
        assert_eq!(explicit.neo4j.password.expose(), "pw-from-file");
        assert_eq!(explicit.neo4j.uri, "bolt://h");
    }

    #[test]
    fn writers_and_batches_not_configured_follow_the_server_and_configured_ones_stay() {
        let shows = |config: &Config, line: &str| config.to_string().contains(line);
        let defaults = build("", EnvOverrides::default(), FlagOverrides::default()).expect("valid");
        assert_eq!(defaults.etl.num_workers, 1);
        assert!(shows(&defaults, "etl.num_workers = 1 (default; 2 on Neo4j)"));
        assert!(shows(
            &defaults,
            "neo4j.batch_size = 5000 (default; 2000 on Neo4j)"
        ));
        let neo4j = defaults.for_server("Neo4j/5.26.30");
        assert_eq!(
            (neo4j.etl.num_workers, neo4j.neo4j.max_connection_pool_size),
            (2, 3)
        );
        assert_eq!(neo4j.neo4j.batch_size, 2_000);
        assert!(shows(&neo4j, "etl.num_workers = 2 (the default for this server)"));
        assert!(shows(
            &neo4j,
            "neo4j.batch_size = 2000 (the default for this server)"
        ));
        assert!(is_neo4j("Neo4j/2026.08.1"));
        assert!(!is_neo4j(
            "Neo4j/v5.11.0 compatible graph database server - Memgraph"
        ));
        let other = defaults.for_server("Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)");
        assert_eq!(
            (other.etl.num_workers, other.neo4j.max_connection_pool_size),
            (1, 2)
        );
        assert_eq!(other.neo4j.batch_size, 5_000);

        let set = build(
            "[etl]\nnum_workers = 3\n[neo4j]\nbatch_size = 700",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect("valid");
        let neo4j = set.for_server("Neo4j/5.26.30");
        assert_eq!(
            (neo4j.etl.num_workers, neo4j.neo4j.max_connection_pool_size),
            (3, 4)
        );
        assert_eq!(neo4j.neo4j.batch_size, 700);

        // A pool set to one connection bounds the server's default writers.
        let pool = build(
            "[neo4j]\nmax_connection_pool_size = 1",
            EnvOverrides::default(),
            FlagOverrides::default(),
        )
        .expect("valid");
        let neo4j = pool.for_server("Neo4j/5.26.30");
        assert_eq!(
            (neo4j.etl.num_workers, neo4j.neo4j.max_connection_pool_size),
            (1, 1)
        );
    }
}
