//! The file every pass reads: the CSV export given as FILE, or the MySQL
//! table of `source.uri` read once into its spool file (see
//! [`crate::source::mysql`]). A resume reuses the spool as it is, so the
//! checkpoint's record numbers keep pointing at the same rows.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pipeline::checkpoint::checkpoint_path;
use crate::source::growing::{self, Written};
use crate::source::mysql::{MysqlError, open_table, partial_path};

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

/// The CSV file to read. With a table source, the table is read now
/// (once) unless `reuse_spool` and a complete spool from an earlier run
/// exists. The table is read on a thread of its own into the spool while
/// the caller goes on: the first pass follows the spool as it grows (see
/// [`crate::source::growing`]), so the analysis runs alongside the read.
pub fn input_file(input: Option<&Path>, config: &Config, reuse_spool: bool) -> Result<PathBuf, InputError> {
    let source = match (input, &config.source) {
        (Some(_), Some(_)) => return Err(InputError::Both),
        (None, None) => return Err(InputError::None),
        (Some(path), None) => return Ok(path.to_path_buf()),
        (None, Some(source)) => source,
    };
    let path = source.spool_path.clone();
    if reuse_spool && path.is_file() {
        tracing::info!(
            spool = %path.display(),
            "Resuming from the spool of the table read earlier; the table is not read again"
        );
        return Ok(path);
    }
    if reuse_spool {
        // A checkpoint without its spool cannot be resumed: the rows it
        // counted are gone. Start over (rows already in the graph are not
        // written twice).
        let stale = checkpoint_path(&path);
        if stale.is_file() {
            tracing::warn!(checkpoint = %stale.display(), "The spool of the interrupted load is gone: reading the table again and starting over");
            let _ = std::fs::remove_file(&stale);
        }
    }
    let table = open_table(&source.table, source.password.expose())?;
    let partial = partial_path(&path);
    let file = std::fs::File::create(&partial).map_err(|e| MysqlError::Spool {
        path: partial.clone(),
        source: e,
    })?;
    tracing::info!(source = %source.table, spool = %path.display(), "Reading the table once into its spool");
    let growing = growing::register(&path, &partial);
    let spool_path = path.clone();
    std::thread::Builder::new()
        .name("learngraph-spool".to_string())
        .spawn(move || {
            let progress = |rows: u64| {
                if rows % 200_000 == 0 {
                    tracing::info!(rows, "Reading the table");
                }
            };
            match table.spool_into(file, &spool_path, progress) {
                Ok(spooled) => {
                    tracing::info!(
                        rows = spooled.rows,
                        megabytes = spooled.bytes / 1_000_000,
                        seconds = spooled.seconds,
                        "Table read into the spool"
                    );
                    growing::finish(&spool_path, &growing, Written::Complete);
                }
                Err(error) => growing::finish(&spool_path, &growing, Written::Failed(error.to_string())),
            }
        })
        .map_err(|e| MysqlError::Spool {
            path: path.clone(),
            source: e,
        })?;
    Ok(path)
}
