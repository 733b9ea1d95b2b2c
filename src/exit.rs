//! Exit codes: one per kind of failure an operator must tell apart, so that
//! scripts can react (retry later, fix the password, fix the file).

use crate::config::ConfigError;
use crate::generate::GenerateError;
use crate::graph::questions::QuestionError;
use crate::pipeline::analyze::AnalyzeError;
use crate::pipeline::ask::AskError;
use crate::pipeline::input::InputError;
use crate::pipeline::load::LoadError;
use crate::pipeline::lock::LockError;
use crate::pipeline::outputs::OutputError;
use crate::pipeline::report::CheckReportError;
use crate::sink::neo4j::SinkError;
use crate::source::mysql::MysqlError;
use crate::source::parquet::ParquetError;
use crate::source::reader::SourceError;

pub const SUCCESS: u8 = 0;
/// Any other error.
pub const ERROR: u8 = 1;
/// Command-line usage (clap's own code).
pub const USAGE: u8 = 2;
/// More rows rejected than validation.max_error_rate allows.
pub const TOO_MANY_REJECTS: u8 = 3;
/// `verify` found counts that differ.
pub const VERIFY_FAILED: u8 = 4;
/// The configuration is invalid (the message names the key).
pub const CONFIG_INVALID: u8 = 10;
/// The input file is missing or unreadable.
pub const INPUT_UNREADABLE: u8 = 11;
/// The input file is empty.
pub const INPUT_EMPTY: u8 = 12;
/// The header lacks a required column.
pub const HEADER_INVALID: u8 = 13;
/// The database cannot be reached.
pub const DATABASE_UNREACHABLE: u8 = 14;
/// The database refused the user or password.
pub const AUTHENTICATION_FAILED: u8 = 15;
/// The database name is unknown on the server.
pub const DATABASE_UNKNOWN: u8 = 16;
/// The connection was lost during a load, past the retry bound: resume.
pub const CONNECTION_LOST: u8 = 17;
/// A checkpoint belongs to another file or configuration.
pub const CHECKPOINT_MISMATCH: u8 = 18;
/// The file is an older snapshot than the latest one the graph holds.
pub const OLDER_SNAPSHOT: u8 = 19;
/// A later snapshot would mark more learners missing than
/// etl.max_missing_share allows (nothing written; --allow-missing).
pub const TOO_MANY_MISSING: u8 = 20;
/// The snapshot date is in the future.
pub const FUTURE_SNAPSHOT: u8 = 21;
/// The input changed between the analysis pass and the writing pass.
pub const INPUT_CHANGED: u8 = 22;
/// An output path would overwrite the input, or an export folder holds
/// files that are not an earlier export.
pub const OUTPUT_OVER_INPUT: u8 = 23;

/// The MySQL source server cannot be reached.
pub const SOURCE_UNREACHABLE: u8 = 24;
/// The MySQL source server refused the user.
pub const SOURCE_AUTHENTICATION_FAILED: u8 = 25;
/// The MySQL source database does not exist (or the user may not see it).
pub const SOURCE_DATABASE_UNKNOWN: u8 = 26;
/// The MySQL source table does not exist.
pub const SOURCE_TABLE_UNKNOWN: u8 = 27;
/// The database refuses writes from this user (`ping`).
pub const WRITE_REFUSED: u8 = 28;
/// Another learngraph run holds the load lock (of the graph, or of the
/// local input's checkpoint and spool): nothing was written.
pub const LOCKED: u8 = 29;
/// `history --fail-if-last-failed`: the latest run of load did not finish.
pub const LAST_RUN_UNFINISHED: u8 = 30;
/// The load lost the graph's load lock while it ran (another run took it
/// over or broke it): it stopped before its next write; resume once the
/// other run is done.
pub const LOCK_LOST: u8 = 31;
/// The configured graph options (`graph.*`) differ from those the graph is
/// written with, and the load was not told to apply them: nothing written.
pub const GRAPH_OPTIONS_CHANGED: u8 = 32;

/// Every exit code with its meaning in a few words, for the manual page
/// (the README's table says the same at length).
pub const MEANINGS: [(u8, &str); 28] = [
    (SUCCESS, "success"),
    (ERROR, "any other error"),
    (
        USAGE,
        "command-line usage: an unknown flag, question or parameter; clear without --yes; generate flags that cannot be met",
    ),
    (
        TOO_MANY_REJECTS,
        "more rows rejected than validation.max_error_rate allows (a load then writes nothing)",
    ),
    (VERIFY_FAILED, "verify found a count that differs"),
    (
        CONFIG_INVALID,
        "configuration invalid (the message names the key and the allowed values)",
    ),
    (INPUT_UNREADABLE, "input missing or unreadable"),
    (INPUT_EMPTY, "input empty: no bytes, or a header and no data rows"),
    (
        HEADER_INVALID,
        "no header row, or the header lacks a required column",
    ),
    (DATABASE_UNREACHABLE, "database unreachable"),
    (AUTHENTICATION_FAILED, "authentication failed"),
    (DATABASE_UNKNOWN, "database name unknown"),
    (
        CONNECTION_LOST,
        "the load stopped (database gone past the retry bound, or Ctrl-C): run load --resume",
    ),
    (
        CHECKPOINT_MISMATCH,
        "the checkpoint belongs to another file or configuration",
    ),
    (
        OLDER_SNAPSHOT,
        "the file is an older snapshot than the latest the graph holds",
    ),
    (
        TOO_MANY_MISSING,
        "the snapshot would mark more than etl.max_missing_share of the learners missing",
    ),
    (FUTURE_SNAPSHOT, "the snapshot date is in the future"),
    (INPUT_CHANGED, "the input changed while it was being loaded"),
    (
        OUTPUT_OVER_INPUT,
        "an output path is the input, or an export folder holds other files",
    ),
    (SOURCE_UNREACHABLE, "the MySQL source server cannot be reached"),
    (
        SOURCE_AUTHENTICATION_FAILED,
        "the MySQL source server refused the user",
    ),
    (
        SOURCE_DATABASE_UNKNOWN,
        "the MySQL source database does not exist (or the user may not see it)",
    ),
    (SOURCE_TABLE_UNKNOWN, "the MySQL source table does not exist"),
    (WRITE_REFUSED, "ping: the database refuses writes from this user"),
    (
        LOCKED,
        "another learngraph run holds the load lock: nothing written",
    ),
    (
        LAST_RUN_UNFINISHED,
        "history --fail-if-last-failed: the latest load did not finish",
    ),
    (
        LOCK_LOST,
        "the load lost the graph's load lock while it ran: resume once the other run is done",
    ),
    (
        GRAPH_OPTIONS_CHANGED,
        "the graph options (graph.*) differ from the graph's: load with --apply-graph-options, or set them back",
    ),
];

fn mysql_code(e: &MysqlError) -> u8 {
    match e {
        MysqlError::BadUri(..) => CONFIG_INVALID,
        MysqlError::Unreachable { .. } => SOURCE_UNREACHABLE,
        MysqlError::Authentication { .. } => SOURCE_AUTHENTICATION_FAILED,
        MysqlError::UnknownDatabase { .. } => SOURCE_DATABASE_UNKNOWN,
        MysqlError::UnknownTable { .. } => SOURCE_TABLE_UNKNOWN,
        MysqlError::MissingColumn { .. } => HEADER_INVALID,
        MysqlError::Read { .. } => SOURCE_UNREACHABLE,
        MysqlError::Spool { .. } => ERROR,
    }
}

fn parquet_code(e: &ParquetError) -> u8 {
    match e {
        ParquetError::MissingColumn { .. } | ParquetError::ColumnType { .. } => HEADER_INVALID,
        ParquetError::Open { .. }
        | ParquetError::Unreadable { .. }
        | ParquetError::RowGroupTooLarge { .. }
        | ParquetError::RowTooLarge { .. }
        | ParquetError::Read { .. } => INPUT_UNREADABLE,
    }
}

fn source_code(e: &SourceError) -> u8 {
    match e {
        SourceError::Open { .. } | SourceError::Read { .. } | SourceError::RecordTooLarge { .. } => {
            INPUT_UNREADABLE
        }
        SourceError::TableRead { .. } => SOURCE_UNREACHABLE,
        SourceError::Parquet(e) => parquet_code(e),
        SourceError::Empty { .. } | SourceError::NoRows { .. } => INPUT_EMPTY,
        SourceError::Changed { .. } => INPUT_CHANGED,
        SourceError::MissingColumns { .. } | SourceError::BadHeader { .. } | SourceError::NoHeader { .. } => {
            HEADER_INVALID
        }
    }
}

fn sink_code(e: &SinkError) -> u8 {
    match e {
        SinkError::Unreachable { .. } => DATABASE_UNREACHABLE,
        SinkError::Authentication { .. } => AUTHENTICATION_FAILED,
        SinkError::UnknownDatabase { .. } => DATABASE_UNKNOWN,
        SinkError::Locked { .. } => LOCKED,
        SinkError::LockLost { .. } => LOCK_LOST,
        e if e.is_connection_loss() => CONNECTION_LOST,
        SinkError::Query { .. } => ERROR,
    }
}

fn analyze_code(e: &AnalyzeError) -> u8 {
    match e {
        AnalyzeError::Source(e) => source_code(e),
        AnalyzeError::OutputPath(e) => output_code(e),
        _ => ERROR,
    }
}

fn output_code(e: &OutputError) -> u8 {
    match e {
        OutputError::IsInput { .. } | OutputError::HoldsInput { .. } | OutputError::NotAnExport { .. } => {
            OUTPUT_OVER_INPUT
        }
        OutputError::Io { .. } => ERROR,
    }
}

/// A command line that asks for what cannot be done (`clear` without
/// `--yes`): a usage error, exit 2, as clap's own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error that stopped a command.
pub fn code_for(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<LoadError>() {
            return match e {
                LoadError::Sink(e) => sink_code(e),
                LoadError::Analyze(e) => analyze_code(e),
                LoadError::Source(e) => source_code(e),
                LoadError::TooManyRejects { .. } => TOO_MANY_REJECTS,
                LoadError::Checkpoint(_) => CHECKPOINT_MISMATCH,
                LoadError::Interrupted { .. } => CONNECTION_LOST,
                LoadError::OlderSnapshot { .. } | LoadError::LaterSnapshotStarted { .. } => OLDER_SNAPSHOT,
                LoadError::TooManyMissing { .. } => TOO_MANY_MISSING,
                LoadError::GraphOptionsChanged { .. } => GRAPH_OPTIONS_CHANGED,
                LoadError::FutureSnapshot { .. } => FUTURE_SNAPSHOT,
                LoadError::InputChanged { .. } => INPUT_CHANGED,
            };
        }
        if let Some(e) = cause.downcast_ref::<AnalyzeError>() {
            return analyze_code(e);
        }
        if let Some(e) = cause.downcast_ref::<SourceError>() {
            return source_code(e);
        }
        if let Some(e) = cause.downcast_ref::<SinkError>() {
            return sink_code(e);
        }
        if let Some(e) = cause.downcast_ref::<InputError>() {
            return match e {
                InputError::Mysql(e) => mysql_code(e),
                InputError::Parquet(e) => parquet_code(e),
                InputError::Spool { .. } => ERROR,
                InputError::Source(e) => source_code(e),
                InputError::Both | InputError::None => USAGE,
            };
        }
        if cause.downcast_ref::<CheckReportError>().is_some() {
            return INPUT_UNREADABLE;
        }
        if let Some(e) = cause.downcast_ref::<MysqlError>() {
            return mysql_code(e);
        }
        if cause.downcast_ref::<QuestionError>().is_some() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<AskError>() {
            return match e {
                AskError::Question(_) => USAGE,
                AskError::Sink(e) => sink_code(e),
            };
        }
        if let Some(e) = cause.downcast_ref::<LockError>() {
            return match e {
                LockError::Held { .. } => LOCKED,
                LockError::Io { .. } => ERROR,
            };
        }
        if let Some(e) = cause.downcast_ref::<OutputError>() {
            return output_code(e);
        }
        if let Some(e) = cause.downcast_ref::<GenerateError>() {
            return match e {
                GenerateError::Write { .. } => ERROR,
                _ => USAGE,
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if cause.downcast_ref::<ConfigError>().is_some() {
            return CONFIG_INVALID;
        }
    }
    ERROR
}
