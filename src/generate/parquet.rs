//! The generated export as Parquet, as a data lake that took the CSV export
//! as it is keeps it: every column as text (an empty field an empty
//! string), snappy-compressed, in row groups of [`ROWS_PER_GROUP`] rows.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::GenerateError;
use crate::source::columns::COLUMNS;

/// Rows per row group: several groups in a sample, as in a lake's files.
pub const ROWS_PER_GROUP: usize = 50_000;

/// Rows handed to the writer at a time.
const BATCH_ROWS: usize = 8_192;

/// Writes the rows of the CSV file `csv` (the export's header and clean
/// rows) as the Parquet file `parquet`; returns its size in bytes.
pub fn csv_to_parquet(csv: &Path, parquet: &Path) -> Result<u64, GenerateError> {
    let failed = |path: &Path, detail: String| GenerateError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(detail),
    };
    let schema = Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|name| Field::new(*name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
        .build();
    let file = File::create(parquet).map_err(|e| failed(parquet, e.to_string()))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
        .map_err(|e| failed(parquet, e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new()
        .from_path(csv)
        .map_err(|e| failed(csv, e.to_string()))?;
    let mut builders: Vec<StringBuilder> = COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let mut record = csv::StringRecord::new();
    let mut pending = 0usize;
    let flush = |builders: &mut Vec<StringBuilder>, writer: &mut ArrowWriter<File>| {
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef)
            .collect();
        let batch =
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| failed(parquet, e.to_string()))?;
        writer.write(&batch).map_err(|e| failed(parquet, e.to_string()))
    };
    while reader
        .read_record(&mut record)
        .map_err(|e| failed(csv, e.to_string()))?
    {
        for (builder, value) in builders.iter_mut().zip(record.iter()) {
            builder.append_value(value);
        }
        pending += 1;
        if pending == BATCH_ROWS {
            flush(&mut builders, &mut writer)?;
            pending = 0;
        }
    }
    if pending > 0 {
        flush(&mut builders, &mut writer)?;
    }
    writer.close().map_err(|e| failed(parquet, e.to_string()))?;
    std::fs::metadata(parquet)
        .map(|m| m.len())
        .map_err(|e| failed(parquet, e.to_string()))
}
