//! The file every pass reads: the CSV export given as FILE, or the MySQL
//! table of `source.uri` read once into its spool file (see
//! [`crate::source::mysql`]). A resume reuses the spool as it is, so the
//! checkpoint's record numbers keep pointing at the same rows.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::source::mysql::{MysqlError, spool};

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
/// exists.
pub fn input_file(input: Option<&Path>, config: &Config, reuse_spool: bool) -> Result<PathBuf, InputError> {
    let source = match (input, &config.source) {
        (Some(_), Some(_)) => return Err(InputError::Both),
        (None, None) => return Err(InputError::None),
        (Some(path), None) => return Ok(path.to_path_buf()),
        (None, Some(source)) => source,
    };
    if reuse_spool && source.spool_path.is_file() {
        tracing::info!(
            spool = %source.spool_path.display(),
            "Resuming from the spool of the table read earlier; the table is not read again"
        );
        return Ok(source.spool_path.clone());
    }
    tracing::info!(source = %source.table, spool = %source.spool_path.display(), "Reading the table once into its spool");
    let spooled = spool(
        &source.table,
        source.password.expose(),
        &source.spool_path,
        |rows| {
            if rows % 100_000 == 0 {
                tracing::info!(rows, "Reading the table");
            }
        },
    )?;
    tracing::info!(
        rows = spooled.rows,
        megabytes = spooled.bytes / 1_000_000,
        seconds = spooled.seconds,
        "Table read into the spool"
    );
    Ok(spooled.path)
}
