//! The file every pass reads: the CSV export given as FILE, or the MySQL
//! table of `source.uri` read once into its spool file (see
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

/// The CSV file to read. With a table source, the table is read now, on a
/// thread of its own, while the caller goes on: into a pipe for one pass,
/// or into the spool file (unless a resume finds a complete one), which the
/// first pass follows as it grows (see [`crate::source::growing`]), so the
/// analysis runs alongside the read.
pub fn input_file(input: Option<&Path>, config: &Config, passes: Passes) -> Result<PathBuf, InputError> {
    let source = match (input, &config.source) {
        (Some(_), Some(_)) => return Err(InputError::Both),
        (None, None) => return Err(InputError::None),
        (Some(path), None) => return Ok(path.to_path_buf()),
        (None, Some(source)) => source,
    };
    let path = source.spool_path.clone();
    let resume = passes == Passes::Spooled { resume: true };
    let checkpoint = checkpoint_path(&path);
    if resume {
        match (checkpoint::is_interrupted(&checkpoint), path.is_file()) {
            (true, true) => {
                tracing::info!(
                    spool = %path.display(),
                    "Resuming the interrupted load from the spool of the table it read; the table is not read again"
                );
                return Ok(path);
            }
            // A checkpoint without its spool cannot be resumed: the rows
            // it counted are gone. Start over (rows already in the graph
            // are not written twice).
            (true, false) => {
                tracing::warn!(checkpoint = %checkpoint.display(), "The spool of the interrupted load is gone: reading the table again and starting over");
                let _ = std::fs::remove_file(&checkpoint);
            }
            (false, _) => tracing::info!(
                spool = %path.display(),
                "No interrupted load to resume (the last one finished, or none ran): reading the table afresh"
            ),
        }
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
    let spool_error = |source: std::io::Error| MysqlError::Spool {
        path: path.clone(),
        source,
    };
    let read = match passes {
        Passes::One => {
            tracing::info!(source = %source.table, "Reading the table as it streams in");
            let (growing, pipe) = growing::register_stream(&path).map_err(spool_error)?;
            let path = path.clone();
            thread(move || {
                let started = Instant::now();
                // The state is set before the pipe closes, a failed read's
                // too: its reader tells a whole stream from a cut one, and
                // a cut one's reason, by it.
                let mut pipe = pipe;
                match table.write_csv(&mut pipe, &path, progress) {
                    Ok((_, rows)) => {
                        tracing::info!(rows, seconds = started.elapsed().as_secs_f64(), "Table read");
                        growing::finish(&path, &growing, Written::Complete);
                    }
                    Err(error) => growing::finish(&path, &growing, Written::Failed(error.to_string())),
                }
                drop(pipe);
            })
        }
        Passes::Spooled { .. } => {
            // The old spool is spent: were this read to fail, no later
            // run may take it for today's table.
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(spool_error(e).into()),
                _ => {}
            }
            let partial = partial_path(&path);
            let file = std::fs::File::create(&partial).map_err(|e| MysqlError::Spool {
                path: partial.clone(),
                source: e,
            })?;
            tracing::info!(source = %source.table, spool = %path.display(), "Reading the table once into its spool");
            let growing = growing::register(&path, &partial);
            let path = path.clone();
            thread(move || {
                let started = Instant::now();
                match spool(table, file, &path) {
                    Ok(spooled) => {
                        tracing::info!(
                            rows = spooled.rows,
                            megabytes = spooled.bytes / 1_000_000,
                            seconds = started.elapsed().as_secs_f64(),
                            "Table read into the spool"
                        );
                        growing::finish(&path, &growing, Written::Complete);
                    }
                    Err(error) => growing::finish(&path, &growing, Written::Failed(error.to_string())),
                }
            })
        }
    };
    read.map_err(spool_error)?;
    Ok(path)
}

fn progress(rows: u64) {
    if rows.is_multiple_of(200_000) {
        tracing::info!(rows, "Reading the table");
    }
}

fn thread(read: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("learngraph-table".to_string())
        .spawn(read)
        .map(drop)
}

/// Writes the table into `file` (at [`partial_path`]`(path)`), syncs it and
/// renames it to `path`: a spool that exists is whole.
fn spool(table: TableReader, file: std::fs::File, path: &Path) -> Result<Spooled, MysqlError> {
    let spool_error = |source: std::io::Error| MysqlError::Spool {
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
