//! The local half of "one load at a time": an exclusive lock on a file
//! beside the input (`<input>.lock`; for a table, beside its spool), held
//! while a load runs, so that two loads on one machine never share a
//! checkpoint or truncate each other's spool, even before either reaches
//! the database. The operating system releases it when the process ends,
//! however it ends, so a killed load leaves nothing to break. The graph's
//! own lock ([`crate::sink::neo4j::lock`]) covers runs on other machines.

use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another learngraph load on this machine is using {input} ({holder}); nothing was written. Wait for it to \
         finish: two loads of one input would share its checkpoint and spool"
    )]
    Held { input: PathBuf, holder: String },
    #[error("cannot lock {path}: {source}; check that the folder is writable")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The lock file of a load of `input` (a file, or a table's spool).
pub fn lock_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_os_string();
    name.push(".lock");
    name.into()
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct LocalLock {
    _file: std::fs::File,
}

/// Takes the lock of `input` for `command`, or says who holds it. The lock
/// file names its holder for that message; it is left in place afterwards
/// (removing it would race with a run about to lock it).
pub fn lock_input(input: &Path, command: &str) -> Result<LocalLock, LockError> {
    let path = lock_path(input);
    let io = |source: std::io::Error| LockError::Io {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(LockError::Held {
                input: input.to_path_buf(),
                // Written by another process: shown escaped.
                holder: crate::text::terminal_safe(holder.trim()).into_owned(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    let since = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC");
    file.set_len(0).map_err(io)?;
    writeln!(file, "pid {} ({command}), since {since}", std::process::id()).map_err(io)?;
    Ok(LocalLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_of_one_input_is_refused_and_free_again_once_released() {
        let dir = tempfile::tempdir().expect("dir");
        let input = dir.path().join("data.csv");
        let held = lock_input(&input, "load data.csv").expect("the first takes it");
        let error = lock_input(&input, "load data.csv").expect_err("the second is refused");
        assert!(
            error.to_string().contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(held);
        lock_input(&input, "load data.csv").expect("free once released");
    }
}
