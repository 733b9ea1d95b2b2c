//! Where a run writes, checked before anything is opened for writing: no
//! output may be the input, and no output folder may hold it (an export
//! folder is replaced whole when it is done).
//!
//! An export is written into a temporary folder beside its destination and
//! renamed into place only when every file is complete, so a failed export
//! never leaves a half-written folder with a valid-looking `import.sh`.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "the output {output} is the input file {input}; writing it would destroy the input. Choose another path \
         (for the rejects file: --rejects or etl.rejects_path)"
    )]
    IsInput { output: PathBuf, input: PathBuf },
    #[error(
        "the output folder {output} holds the input file {input}; an export replaces its folder whole. Choose a \
         folder that does not hold the input (for example --out {output}/import)"
    )]
    HoldsInput { output: PathBuf, input: PathBuf },
    #[error(
        "the output folder {output} exists and holds files that are not an earlier export; choose a new or empty \
         folder, or delete it"
    )]
    NotAnExport { output: PathBuf },
    #[error("cannot {action} {path}: {message}; check that the folder is writable and has space")]
    Io {
        action: &'static str,
        path: PathBuf,
        message: String,
    },
}

/// The path as the file system resolves it; for a path that does not exist
/// yet, its resolved folder joined with its name.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(path) = path.canonicalize() {
        return path;
    }
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => resolved(parent).join(name),
        None => std::env::current_dir().map(|d| d.join(&name)).unwrap_or(name),
    }
}

/// Refuses an output file that is the input.
pub fn refuse_file_over_input(output: &Path, input: &Path) -> Result<(), OutputError> {
    if resolved(output) == resolved(input) {
        return Err(OutputError::IsInput {
            output: output.to_path_buf(),
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// Refuses an output folder that is, or holds, the input.
pub fn refuse_folder_over_input(output: &Path, input: &Path) -> Result<(), OutputError> {
    let (folder, input_path) = (resolved(output), resolved(input));
    if input_path == folder {
        return Err(OutputError::IsInput {
            output: output.to_path_buf(),
            input: input.to_path_buf(),
        });
    }
    if input_path.starts_with(&folder) {
        return Err(OutputError::HoldsInput {
            output: output.to_path_buf(),
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// An output folder written under a temporary name and renamed into place
/// by [`StagedFolder::commit`]; dropped without a commit, it is removed.
pub struct StagedFolder {
    /// Where the files go while they are written.
    pub staging: PathBuf,
    destination: PathBuf,
    committed: bool,
}

/// The file an export folder always holds; a non-empty folder without it is
/// not replaced.
const EXPORT_MARKER: &str = "import.sh";

impl StagedFolder {
    /// Checks the destination and creates the staging folder beside it.
    pub fn create(destination: &Path) -> Result<Self, OutputError> {
        if destination.is_dir() {
            let mut entries = std::fs::read_dir(destination).map_err(|e| io("read", destination, e))?;
            if entries.next().is_some() && !destination.join(EXPORT_MARKER).is_file() {
                return Err(OutputError::NotAnExport {
                    output: destination.to_path_buf(),
                });
            }
        }
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".to_string());
        let parent = resolved(destination)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&parent).map_err(|e| io("create", &parent, e))?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| io("create", &staging, e))?;
        Ok(StagedFolder {
            staging,
            destination: destination.to_path_buf(),
            committed: false,
        })
    }

    /// Moves the complete folder into place, replacing an earlier export.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        if self.destination.exists() {
            let mut old = self.staging.clone().into_os_string();
            old.push(".old");
            let old = PathBuf::from(old);
            std::fs::rename(&self.destination, &old).map_err(|e| io("move aside", &self.destination, e))?;
            std::fs::rename(&self.staging, &self.destination).map_err(|e| io("rename", &self.staging, e))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.staging, &self.destination).map_err(|e| io("rename", &self.staging, e))?;
        }
        self.committed = true;
        Ok(self.destination.clone())
    }
}

impl Drop for StagedFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

fn io(action: &'static str, path: &Path, e: std::io::Error) -> OutputError {
    OutputError::Io {
        action,
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file of a
/// unique name beside it (two processes never share one), synced, then
/// renamed over `path`. A full disk, a kill or a crash leaves the previous
/// file as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The file keeps the mode a plain write gives it (the previous file's,
    // or the usual 0644), not the temporary file's private 0600.
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    };
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(permissions)
        .tempfile_in(folder)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    if let Ok(folder) = std::fs::File::open(folder) {
        let _ = folder.sync_all();
    }
    Ok(())
}

pub use crate::text::terminal_safe;

/// A text cell as a spreadsheet may open it: one that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would run as a formula, so it
/// is prefixed with a single quote, as OWASP recommends for CSV injection.
/// Only text goes through here; numbers are written as they are.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{text}")),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_escaped_and_plain_text_is_left_alone() {
        assert_eq!(terminal_safe("Kenya"), "Kenya");
        assert_eq!(terminal_safe("Côte d'Ivoire"), "Côte d'Ivoire");
        let osc = "\u{1b}]8;;http://evil\u{7}click\u{1b}]8;;\u{7}";
        let shown = terminal_safe(osc);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(shown, "\\u{1b}]8;;http://evil\\u{7}click\\u{1b}]8;;\\u{7}");
        assert_eq!(terminal_safe("a\nb\u{9b}c"), "a\\nb\\u{9b}c");
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_quoted_and_other_text_is_not() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        for plain in ["Python", "", "a=b", "'already"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("report.html");
        std::fs::write(&path, "old").expect("writes");
        write_atomically(&path, b"new page").expect("writes");
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), "new page");
        let fresh = dir.path().join("fresh.html");
        write_atomically(&fresh, b"page").expect("writes");
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).expect("exists").permissions())
        };
        let plain = dir.path().join("plain.html");
        std::fs::write(&plain, b"page").expect("writes");
        assert_eq!(
            mode(&fresh) & 0o777,
            mode(&plain) & 0o644,
            "a new page is as readable as a plain write makes it (not private to its owner)"
        );
        std::fs::remove_file(&plain).expect("removes");
        std::fs::remove_file(&fresh).expect("removes");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("lists").collect();
        assert_eq!(left.len(), 1, "only the page remains");
        // A folder that cannot be written keeps the old file.
        let missing = dir.path().join("no-such-folder").join("report.html");
        assert!(write_atomically(&missing, b"x").is_err());
    }

    #[test]
    fn an_output_that_is_or_holds_the_input_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let input = dir.path().join("data.csv");
        std::fs::write(&input, "x").expect("write");
        let same = dir.path().join(".").join("data.csv");
        assert!(matches!(
            refuse_file_over_input(&same, &input),
            Err(OutputError::IsInput { .. })
        ));
        assert!(refuse_file_over_input(&dir.path().join("new.csv"), &input).is_ok());
        assert!(matches!(
            refuse_folder_over_input(dir.path(), &input),
            Err(OutputError::HoldsInput { .. })
        ));
        assert!(refuse_folder_over_input(&dir.path().join("out"), &input).is_ok());
    }

    #[test]
    fn a_staged_folder_appears_only_when_committed() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("out");
        let staged = StagedFolder::create(&out).expect("staged");
        std::fs::write(staged.staging.join(EXPORT_MARKER), "#!/bin/sh").expect("write");
        drop(staged);
        assert!(!out.exists(), "an uncommitted folder never appears");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            0,
            "nothing is left behind"
        );

        let staged = StagedFolder::create(&out).expect("staged");
        std::fs::write(staged.staging.join(EXPORT_MARKER), "first").expect("write");
        staged.commit().expect("commit");
        let staged = StagedFolder::create(&out).expect("an earlier export is replaced");
        std::fs::write(staged.staging.join(EXPORT_MARKER), "second").expect("write");
        staged.commit().expect("commit");
        assert_eq!(
            std::fs::read_to_string(out.join(EXPORT_MARKER)).expect("read"),
            "second"
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);

        let other = dir.path().join("other");
        std::fs::create_dir(&other).expect("dir");
        std::fs::write(other.join("notes.txt"), "mine").expect("write");
        assert!(matches!(
            StagedFolder::create(&other),
            Err(OutputError::NotAnExport { .. })
        ));
    }
}
