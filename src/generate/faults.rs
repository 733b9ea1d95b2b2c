//! Malformed rows that `generate --dirty` injects, and the sidecar file that
//! lists each one, so tests can check that the loader reports every fault.

use super::fields::{RowFields, mix};
use super::vocab;
use crate::source::columns::col;

/// One kind of damage done to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The learning_details cell is cut short, so it is no longer JSON.
    BrokenJson,
    /// The row lacks its last column.
    MissingColumn,
    /// The row has one column too many.
    ExtraColumn,
    /// The learner key is empty.
    EmptyKey,
    /// The bio holds bytes that are not UTF-8.
    InvalidUtf8,
    /// The bio holds a NUL byte.
    NulByte,
    /// The country of residence is no country.
    UnknownCountry,
    /// The row's snapshot_id is after today (one row of each later dirty
    /// snapshot; planted by the snapshot plan, not by [`Fault::apply`]).
    FutureSnapshotId,
}

/// What the loader must do with a faulty row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The row goes to the rejects file.
    Rejected,
    /// The row loads, cleaned, and the quality report counts the fix.
    Cleaned,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::BrokenJson,
        Fault::MissingColumn,
        Fault::ExtraColumn,
        Fault::EmptyKey,
        Fault::InvalidUtf8,
        Fault::NulByte,
        Fault::UnknownCountry,
    ];

    /// The name written to the sidecar file: the damage done, in `check`'s
    /// words where it has one for it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::BrokenJson => "invalid_json",
            Fault::MissingColumn => "too_few_columns",
            Fault::ExtraColumn => "too_many_columns",
            Fault::EmptyKey => "missing_key",
            Fault::InvalidUtf8 => "invalid_utf8",
            Fault::NulByte => "nul_byte",
            Fault::UnknownCountry => "unknown_country",
            Fault::FutureSnapshotId => "future_snapshot_id",
        }
    }

    /// What `check` and `load` call the row: the reason in the rejects file
    /// for a rejected row, the finding that counts the fix for a cleaned one.
    pub fn reported_as(self) -> &'static str {
        match self {
            Fault::BrokenJson => "invalid_json",
            Fault::MissingColumn | Fault::ExtraColumn => "wrong_column_count",
            Fault::EmptyKey => "missing_key",
            Fault::InvalidUtf8 => "invalid_utf8",
            Fault::NulByte => "nul_bytes_removed",
            Fault::UnknownCountry => "unknown_country",
            Fault::FutureSnapshotId => "future_snapshot_id",
        }
    }

    pub fn expected(self) -> Expected {
        match self {
            Fault::NulByte | Fault::UnknownCountry => Expected::Cleaned,
            _ => Expected::Rejected,
        }
    }

    /// Damages `row` in place; `h` chooses among variants of the damage.
    pub fn apply(self, row: &mut RowFields, h: u64) {
        let fields = &mut row.fields;
        match self {
            Fault::BrokenJson => {
                let cell = &mut fields[col::LEARNING_DETAILS];
                let keep = cell.len().saturating_sub(3 + (h % 20) as usize);
                cell.truncate(keep);
            }
            Fault::MissingColumn => {
                fields.pop();
            }
            Fault::ExtraColumn => fields.push(b"unexpected".to_vec()),
            Fault::EmptyKey => fields[col::HASHED_EMAIL].clear(),
            Fault::InvalidUtf8 => {
                let bio = &mut fields[col::BIO];
                bio.extend_from_slice(b" caf\xe9 \xff\xfe");
            }
            Fault::NulByte => {
                let bio = &mut fields[col::BIO];
                let at = (mix(h, 9) as usize) % (bio.len() + 1);
                bio.insert(at, 0);
            }
            Fault::UnknownCountry => {
                let name = vocab::UNKNOWN_COUNTRIES[(h % vocab::UNKNOWN_COUNTRIES.len() as u64) as usize];
                fields[col::COUNTRY_OF_RESIDENCE] = name.as_bytes().to_vec();
            }
            // The snapshot plan writes the date itself.
            Fault::FutureSnapshotId => {}
        }
    }

    /// Undoes the column-count damage so that the reused field buffer has
    /// 58 fields again for the next row.
    pub fn restore_shape(row: &mut RowFields) {
        row.fields.resize(58, Vec::new());
    }
}

/// One line of the sidecar file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultRecord {
    /// Physical line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// 1-based data record number.
    pub record: u64,
    pub fault: String,
    /// `rejected` or `cleaned`.
    pub expected: String,
    /// The rejects file's reason, or the finding of `check` that counts it.
    pub reported_as: String,
}

impl FaultRecord {
    pub fn new(line: u64, record: u64, fault: Fault) -> Self {
        FaultRecord {
            line,
            record,
            fault: fault.name().to_string(),
            expected: match fault.expected() {
                Expected::Rejected => "rejected",
                Expected::Cleaned => "cleaned",
            }
            .to_string(),
            reported_as: fault.reported_as().to_string(),
        }
    }
}

/// The sidecar path for a generated file: `<out>.faults.csv`.
pub fn sidecar_path(out: &std::path::Path) -> std::path::PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(".faults.csv");
    name.into()
}
