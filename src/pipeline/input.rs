//! The file every pass reads: the export given as FILE (CSV, or Parquet,
//! which every pass reads in place, see [`crate::source::chunks`]), or the
//! MySQL table of `source.uri` read once into its spool file (see
//! [`crate::source::mysql`]). A resume reuses the spool as it is, so the
//! checkpoint's record numbers keep pointing at the same rows, but only
//! the spool of an interrupted load: after a finished load (its checkpoint
//! says complete), or without a checkpoint, the spool is spent and a
//! resume reads the table afresh. A fresh read first removes the old
//! spool, so a read that fails partway leaves none to be mistaken for it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::pipeline::checkpoint::{self, checkpoint_path};
use crate::source::growing::{self, Written};
use crate::source::mysql::{Deadlines, MysqlError, TableReader, open_table, partial_path};
use crate::source::parquet::{self, ParquetError, open_parquet};
use crate::source::reader::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("give either an input FILE or a --source table (source.uri), not both")]
    Both,
    #[error(
        "no input: give the CSV export as FILE, or its MySQL table with --source mysql://USER@HOST:PORT/DATABASE?table=TABLE"
    )]
    None,
    #[error(transparent)]
    Mysql(#[from] MysqlError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error("cannot write the spool file {path}: {source}")]
    Spool { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// How a command reads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passes {
    /// Once (`check`, `verify`, `export`): a table's rows are read as they
    /// arrive, through a pipe, and never written to disk.
    One,
    /// More than once (`load`): a table is spooled into a file every pass
    /// reads; `resume` reuses the spool of an interrupted load.
    Spooled { resume: bool },
}

/// What a table read wrote.
struct Spooled {
    rows: u64,
    bytes: u64,
}

/// The file to read. A Parquet file is checked now (its footer, columns,
/// types and row groups), so that a file no pass could read is refused
/// before anything starts. With a table source, the table is read now, on
/// a thread of its own, while the caller goes on: into a pipe for one
/// pass, or into the spool file (unless a resume finds a complete one),
/// which the first pass follows as it grows (see
/// [`crate::source::growing`]), so the analysis runs alongside the read.
pub fn input_file(input: Option<&Path>, config: &Config, passes: Passes) -> Result<PathBuf, InputError> {
    given_input(input, config)?;
    let source = match (input, &config.source) {
        (Some(_), Some(_)) | (None, None) => unreachable!("given_input refuses both and neither"),
        (Some(path), None) if parquet::is_parquet(path) => {
            open_parquet(path, config.etl.max_record_bytes, None, 1)?;
            return Ok(path.to_path_buf());
        }
        (Some(path), None) => {
            refuse_parquet_without_magic(path)?;
            return Ok(path.to_path_buf());
        }
        (None, Some(source)) => source,
    };
    let path = source.spool_path.clone();
    let resume = passes == Passes::Spooled { resume: true };
    if resume && reuse_spool(&path) {
        return Ok(path);
    }
    // The limit of a trial load (--max-rows) is the table read's too.
    let limit = match passes {
        Passes::Spooled { .. } => config.etl.max_rows,
        Passes::One => None,
    };
    let deadlines = Deadlines {
        connect: Duration::from_secs(source.connect_timeout_seconds),
        read: Duration::from_secs(source.read_timeout_seconds),
    };
    let table = open_table(&source.table, source.password.expose(), deadlines, limit)?;
    let described = source.table.to_string();
    match passes {
        Passes::One => stream(table, &path, &described)?,
        Passes::Spooled { .. } => spool_in_background(table, &path, &described)?,
    }
    Ok(path)
}

/// Whether one input is given, a FILE or a table (a usage error if none or
/// both): said before anything else, the configuration included.
/// A FILE that cannot be opened is said here too, before any connection.
pub fn given_input(input: Option<&Path>, config: &Config) -> Result<(), InputError> {
    match (input, &config.source) {
        (Some(_), Some(_)) => Err(InputError::Both),
        (None, None) => Err(InputError::None),
        (Some(path), None) => Ok(openable(path)?),
        (None, Some(_)) => Ok(()),
    }
}

fn openable(path: &Path) -> Result<(), SourceError> {
    let open = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open)?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(open(std::io::Error::other("it is a folder, not a file")));
    }
    Ok(())
}

/// A file named `.parquet` that does not begin with the magic is a damaged
/// Parquet file, not a CSV file to read.
fn refuse_parquet_without_magic(path: &Path) -> Result<(), InputError> {
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("parq"));
    if named && path.is_file() {
        return Err(ParquetError::Unreadable {
            path: path.to_path_buf(),
            detail: "it does not begin with PAR1, the mark of every Parquet file".to_string(),
        }
        .into());
    }
    Ok(())
}

/// Whether a resume reads the spool of the interrupted load as it is.
fn reuse_spool(path: &Path) -> bool {
    let checkpoint = checkpoint_path(path);
    match (checkpoint::is_interrupted(&checkpoint), path.is_file()) {
        (true, true) => {
            tracing::info!(
                spool = %path.display(),
                "Resuming the interrupted load from the spool of the table it read; the table is not read again"
            );
            true
        }
        // A checkpoint without its spool cannot be resumed: the rows it
        // counted are gone. Start over (rows already in the graph are not
        // written twice).
        (true, false) => {
            tracing::warn!(checkpoint = %checkpoint.display(), "The spool of the interrupted load is gone: reading the table again and starting over");
            let _ = std::fs::remove_file(&checkpoint);
            false
        }
        (false, _) => {
            tracing::info!(
                spool = %path.display(),
                "No interrupted load to resume (the last one finished, or none ran): reading the table afresh"
            );
            false
        }
    }
}

/// Writes the source's rows into a pipe the one reader of `path` takes.
fn stream(table: TableReader, path: &Path, described: &str) -> Result<(), InputError> {
    tracing::info!(source = %described, "Reading the source as it streams in");
    let spool_error = |source| InputError::Spool {
        path: path.to_path_buf(),
        source,
    };
    let (growing, pipe) = growing::register_stream(path).map_err(spool_error)?;
    let path = path.to_path_buf();
    thread(move || {
        let started = Instant::now();
        // The state is set before the pipe closes, a failed read's too: its
        // reader tells a whole stream from a cut one, and a cut one's
        // reason, by it.
        let mut pipe = pipe;
        match table.write_csv(&mut pipe, &path, progress) {
            Ok((_, rows)) => {
                tracing::info!(rows, seconds = started.elapsed().as_secs_f64(), "Source read");
                growing::finish(&path, &growing, Written::Complete);
            }
            Err(error) => growing::finish(&path, &growing, Written::Failed(error.to_string())),
        }
        drop(pipe);
    })
    .map_err(spool_error)
}

/// Writes the source's rows into the spool at `path`, which readers follow
/// as it grows.
fn spool_in_background(table: TableReader, path: &Path, described: &str) -> Result<(), InputError> {
    let spool_error = |path: &Path, source| InputError::Spool {
        path: path.to_path_buf(),
        source,
    };
    // The old spool is spent: were this read to fail, no later run may
    // take it for today's source.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(spool_error(path, e)),
        _ => {}
    }
    let partial = partial_path(path);
    let file = std::fs::File::create(&partial).map_err(|e| spool_error(&partial, e))?;
    tracing::info!(source = %described, spool = %path.display(), "Reading the source once into its spool");
    let growing = growing::register(path, &partial);
    let path = path.to_path_buf();
    thread(move || {
        let started = Instant::now();
        match spool(table, file, &path) {
            Ok(spooled) => {
                tracing::info!(
                    rows = spooled.rows,
                    megabytes = spooled.bytes / 1_000_000,
                    seconds = started.elapsed().as_secs_f64(),
                    "Source read into the spool"
                );
                growing::finish(&path, &growing, Written::Complete);
            }
            Err(error) => growing::finish(&path, &growing, Written::Failed(error.to_string())),
        }
    })
    .map_err(|e| spool_error(&partial, e))
}

fn progress(rows: u64) {
    if rows.is_multiple_of(200_000) {
        tracing::info!(rows, "Reading the source");
    }
}

fn thread(read: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("learngraph-source".to_string())
        .spawn(read)
        .map(drop)
}

/// Writes the source into `file` (at [`partial_path`]`(path)`), syncs it
/// and renames it to `path`: a spool that exists is whole.
fn spool(table: TableReader, file: std::fs::File, path: &Path) -> Result<Spooled, InputError> {
    let spool_error = |source: std::io::Error| InputError::Spool {
        path: path.to_path_buf(),
        source,
    };
    let (file, rows) = table.write_csv(file, path, progress)?;
    file.sync_all().map_err(spool_error)?;
    let bytes = file.metadata().map_err(spool_error)?.len();
    drop(file);
    std::fs::rename(partial_path(path), path).map_err(spool_error)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(Spooled { rows, bytes })
}
