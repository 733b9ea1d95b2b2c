//! The rejects file: every row that is not loaded, with its record number,
//! line, reason code, an explanation and its raw bytes exactly as in the
//! input, so it can be fixed and loaded again.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::transform::Reject;

#[derive(Debug, thiserror::Error)]
#[error("cannot write the rejects file {path}: {message}; check that its folder exists and is writable")]
pub struct RejectsError {
    pub path: PathBuf,
    pub message: String,
}

pub struct RejectsWriter {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

/// The rejects file's columns.
pub const REJECTS_HEADER: [&str; 5] = ["record", "line", "reason", "detail", "raw"];

impl RejectsWriter {
    pub fn create(path: &Path) -> Result<Self, RejectsError> {
        let fail = |e: &dyn std::fmt::Display| RejectsError {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let file = File::create(path).map_err(|e| fail(&e))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(REJECTS_HEADER).map_err(|e| fail(&e))?;
        Ok(RejectsWriter {
            path: path.to_path_buf(),
            writer,
        })
    }

    pub fn write(&mut self, record: u64, line: u64, reject: &Reject, raw: &[u8]) -> Result<(), RejectsError> {
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let record = record.to_string();
        let line = line.to_string();
        let detail = reject.to_string();
        self.writer
            .write_record([
                record.as_bytes(),
                line.as_bytes(),
                reject.code().as_bytes(),
                detail.as_bytes(),
                raw,
            ])
            .map_err(|e| RejectsError {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    pub fn finish(mut self) -> Result<(), RejectsError> {
        self.writer.flush().map_err(|e| RejectsError {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }
}
