//! The input's chunks, whatever its form: a CSV file (or a table's spool)
//! split into runs of whole records by the [`ChunkReader`], or a Parquet
//! file's batches of records already split into fields.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::parquet::{self, ParquetReader, open_parquet};
use super::reader::{Chunk, ChunkReader, ReadLimits, SourceError, StreamFingerprint, check_header};

pub enum InputChunks {
    Csv(ChunkReader),
    Parquet(ParquetChunks),
}

impl InputChunks {
    /// Opens `path`, a Parquet file by its magic, else a CSV file whose
    /// header it checks. With `expected`, the read stops with
    /// [`SourceError::Changed`] where the bytes differ from an earlier
    /// read's.
    pub fn open(
        path: &Path,
        records_per_chunk: u64,
        limits: ReadLimits,
        expected: Option<&StreamFingerprint>,
    ) -> Result<Self, SourceError> {
        if parquet::is_parquet(path) {
            return ParquetChunks::open(path, records_per_chunk, limits, expected).map(InputChunks::Parquet);
        }
        let mut reader = ChunkReader::open(path, records_per_chunk)?.with_limits(limits);
        if let Some(expected) = expected {
            reader = reader.expecting(expected.clone());
        }
        let header = reader.header()?;
        check_header(path, &header)?;
        Ok(InputChunks::Csv(reader))
    }

    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, SourceError> {
        match self {
            InputChunks::Csv(reader) => reader.next_chunk(),
            InputChunks::Parquet(file) => file.next_chunk(),
        }
    }

    /// The fingerprint of the bytes read: a Parquet file's whole.
    pub fn fingerprint(&self) -> StreamFingerprint {
        match self {
            InputChunks::Csv(reader) => reader.fingerprint(),
            InputChunks::Parquet(file) => file.fingerprint.clone(),
        }
    }
}

/// A Parquet file's rows, and the fingerprint of its bytes, taken before
/// the first row is read: the rows are read in the file's own order of
/// pages, not from its start to its end, so the whole file is hashed
/// first and its size and time checked again at the end.
pub struct ParquetChunks {
    path: PathBuf,
    reader: ParquetReader,
    fingerprint: StreamFingerprint,
    stamp: Option<(u64, SystemTime)>,
}

impl ParquetChunks {
    fn open(
        path: &Path,
        records_per_chunk: u64,
        limits: ReadLimits,
        expected: Option<&StreamFingerprint>,
    ) -> Result<Self, SourceError> {
        let stamp = stamp(path);
        let fingerprint = StreamFingerprint::of_file(path, expected)?;
        let reader = open_parquet(path, limits.record_bytes, limits.records, records_per_chunk)?;
        Ok(ParquetChunks {
            path: path.to_path_buf(),
            reader,
            fingerprint,
            stamp,
        })
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, SourceError> {
        match self.reader.next_chunk()? {
            Some(chunk) => Ok(Some(chunk)),
            None => {
                // Written over while it was read: its bytes say whether
                // the rows read were the ones hashed.
                if stamp(&self.path) != self.stamp {
                    StreamFingerprint::of_file(&self.path, Some(&self.fingerprint))?;
                }
                Ok(None)
            }
        }
    }
}

/// A file's size and time of last change.
fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ::parquet::arrow::ArrowWriter;
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;
    use crate::source::columns::COLUMNS;
    use crate::source::reader::{DEFAULT_MAX_RECORD_BYTES, for_each_record};

    /// A Parquet file of the contract's columns, every one text, whose row
    /// `r` holds `cell(r, column)`.
    fn write_parquet(path: &Path, rows: usize, cell: impl Fn(usize, usize) -> Option<String>) {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let columns: Vec<ArrayRef> = (0..COLUMNS.len())
            .map(|column| {
                Arc::new(StringArray::from_iter((0..rows).map(|row| cell(row, column)))) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("a batch");
        let file = std::fs::File::create(path).expect("creates");
        let mut writer = ArrowWriter::try_new(file, schema, None).expect("a writer");
        writer.write(&batch).expect("writes");
        writer.close().expect("closes");
    }

    fn limits() -> ReadLimits {
        ReadLimits {
            records: None,
            record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    /// A record's line and fields.
    type Lined = (u64, Vec<Vec<u8>>);

    /// Every record of every chunk, with the line it is on.
    fn read_all(chunks: &mut InputChunks) -> Result<Vec<Lined>, SourceError> {
        let mut records = Vec::new();
        while let Some(chunk) = chunks.next_chunk()? {
            for_each_record(&chunk, |record, raw| {
                records.push((raw.line, record.iter().map(<[u8]>::to_vec).collect()));
            });
        }
        Ok(records)
    }

    #[test]
    fn a_parquet_files_rows_are_records_of_its_text_in_batches_of_the_chunk_size() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("rows.parquet");
        let odd = "a \"quoted\", line\nbreak and a NUL \0 =1+1".to_string();
        write_parquet(&path, 5, |row, column| match (row, column) {
            (1, 3) => None,
            (2, 4) => Some(odd.clone()),
            _ => Some(format!("r{row}c{column}")),
        });
        let mut chunks = InputChunks::open(&path, 2, limits(), None).expect("opens");
        let mut sizes = Vec::new();
        let mut records = Vec::new();
        while let Some(chunk) = chunks.next_chunk().expect("reads") {
            assert!(chunk.bytes.is_empty(), "no CSV is written");
            sizes.push(chunk.records);
            for_each_record(&chunk, |record, raw| {
                records.push((raw.line, record.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()));
            });
        }
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(
            records.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [2, 3, 4, 5, 6]
        );
        assert_eq!(records[0].1.len(), 58);
        assert_eq!(records[0].1[57], b"r0c57");
        assert_eq!(records[1].1[3], b"", "null is the empty field");
        assert_eq!(records[2].1[4], odd.as_bytes());
        assert_eq!(records[4].1[0], b"r4c0");
    }

    #[test]
    fn a_trial_reads_only_its_first_rows_and_a_long_row_is_refused_with_its_number() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("rows.parquet");
        write_parquet(&path, 6, |row, column| {
            Some(if (row, column) == (4, 9) {
                "x".repeat(1_500)
            } else {
                format!("{row}")
            })
        });
        let trial = ReadLimits {
            records: Some(3),
            ..limits()
        };
        let mut chunks = InputChunks::open(&path, 1_000, trial, None).expect("opens");
        assert_eq!(read_all(&mut chunks).expect("reads").len(), 3);
        let short = ReadLimits {
            record_bytes: 1_000,
            ..limits()
        };
        let mut chunks = InputChunks::open(&path, 1_000, short, None).expect("opens");
        let error = read_all(&mut chunks).expect_err("the long row is refused");
        assert!(
            matches!(
                error,
                SourceError::Parquet(super::parquet::ParquetError::RowTooLarge { row: 5, .. })
            ),
            "{error}"
        );
    }

    #[test]
    fn another_file_at_the_path_stops_the_read_where_its_bytes_differ() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("rows.parquet");
        write_parquet(&path, 3, |row, _| Some(format!("first {row}")));
        let mut first = InputChunks::open(&path, 1_000, limits(), None).expect("opens");
        read_all(&mut first).expect("reads");
        let earlier = first.fingerprint();
        assert_eq!(earlier, StreamFingerprint::of_file(&path, None).expect("hashes"));

        // The same bytes read again pass; another file is refused before a row.
        let mut again = InputChunks::open(&path, 1_000, limits(), Some(&earlier)).expect("opens");
        assert_eq!(read_all(&mut again).expect("reads").len(), 3);
        write_parquet(&path, 3, |row, _| Some(format!("other {row}")));
        let refused = InputChunks::open(&path, 1_000, limits(), Some(&earlier)).err();
        assert!(
            matches!(refused, Some(SourceError::Changed { offset: 0, .. })),
            "{refused:?}"
        );

        // Written over while it is read: the end of the read says so.
        let mut reading = InputChunks::open(&path, 1, limits(), None).expect("opens");
        reading.next_chunk().expect("reads").expect("a chunk");
        write_parquet(&path, 3, |row, _| Some(format!("third {row:>40}")));
        let error = read_all(&mut reading).err();
        assert!(
            matches!(
                error,
                Some(SourceError::Changed { .. }) | Some(SourceError::Parquet(_))
            ),
            "{error:?}"
        );
    }
}
