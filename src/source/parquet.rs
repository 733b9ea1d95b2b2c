//! The export as a Parquet file, as data lakes keep it (recognised by its
//! `PAR1` magic, not by its name).
//!
//! The file is read batch by batch, only the contract's 58 columns
//! (projection), and every row becomes a record of the CSV file's text,
//! split into its fields: the transform threads take these chunks as they
//! take a CSV file's (see [`crate::pipeline::scan`]), with no CSV written
//! or parsed between, and the rejects file gets a rejected row as the CSV
//! line it would be (its `record` is its row number).
//!
//! Values become the CSV file's text: strings as they are (dictionary
//! encoded or not), integers and decimals in their decimal form, booleans
//! as `1`/`0` (the contract's flags), dates as `yyyy-mm-dd`, timestamps as
//! `yyyy-mm-dd hh:mm:ss`, null as an empty field (the CSV file's missing
//! value), and nested columns (a list of structs, as a lake stores the JSON
//! cells) as the JSON text of the same entries.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::columns::COLUMNS;
use super::reader::Chunk;

/// The first and last four bytes of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// The most rows decoded at a time (`etl.chunk_size` is the batch size up
/// to it): a batch's memory is a few megabytes of the export's rows,
/// whatever the row group's size.
const BATCH_ROWS: u64 = 4_096;

#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error("cannot open {path}: {source}; check the path")]
    Open { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not a Parquet file learngraph can read: {detail}. It may be cut short (copied before it was \
         written whole) or damaged; write it again"
    )]
    Unreadable { path: PathBuf, detail: String },
    #[error(
        "{path} lacks the column {column:?} of the export contract; the file must hold all 58 columns of docs/input.md \
         (by name, in any order)"
    )]
    MissingColumn { path: PathBuf, column: String },
    #[error(
        "{path}: the column {column:?} is of type {found}, which is not a form of the export's values (text, numbers, \
         booleans, dates, or for the JSON cells a list of structs); write it as text"
    )]
    ColumnType {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error(
        "{path}: row group {group} holds {bytes} bytes of the contract's columns in {rows} rows, more than \
         etl.max_record_bytes ({limit} bytes) a row: its values are not the export's. Write the file again; raise \
         etl.max_record_bytes only if its rows really are that long"
    )]
    RowGroupTooLarge {
        path: PathBuf,
        group: usize,
        bytes: i64,
        rows: i64,
        limit: usize,
    },
    #[error(
        "{path}: reading the rows after row {rows} failed: {detail}; the file is damaged, write it again"
    )]
    Read {
        path: PathBuf,
        rows: u64,
        detail: String,
    },
    #[error(
        "{path}: row {row} is longer than etl.max_record_bytes ({limit} bytes) in the export's text: its values are \
         not the export's. Write the file again; raise etl.max_record_bytes only for a real row that long"
    )]
    RowTooLarge { path: PathBuf, row: u64, limit: usize },
}

/// Whether `path` is a Parquet file: it starts with the magic. A file too
/// short to hold it is not one.
pub fn is_parquet(path: &Path) -> bool {
    let mut start = [0u8; 4];
    File::open(path)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| &start == MAGIC)
}

/// The rows a Parquet file holds, by its footer; `None` for any other file.
pub fn row_count(path: &Path) -> Option<u64> {
    if !is_parquet(path) {
        return None;
    }
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).ok()?).ok()?;
    u64::try_from(builder.metadata().file_metadata().num_rows()).ok()
}

/// A Parquet export opened and checked against the contract, ready to be
/// read once.
pub struct ParquetReader {
    path: PathBuf,
    batches: ParquetRecordBatchReader,
    /// For each contract column, its position in the projected batches.
    positions: Vec<usize>,
    /// The longest row (`etl.max_record_bytes`), in the CSV file's text.
    max_record_bytes: usize,
    rows: u64,
    chunks: u64,
}

/// Opens `path`, checks that it holds every contract column in a type
/// learngraph reads and that no row group's rows are longer than
/// `max_record_bytes` on average, and plans a read of only those columns
/// (and, with `limit`, only that many rows). Nothing is decoded yet.
///
/// Memory stays at a batch of rows and a page per column whatever the row
/// groups' size: the reader reads pages as it decodes them. A single row
/// longer than `max_record_bytes` is refused when it is read, as in a CSV
/// file.
pub fn open_parquet(
    path: &Path,
    max_record_bytes: usize,
    limit: Option<u64>,
    batch_rows: u64,
) -> Result<ParquetReader, ParquetError> {
    let unreadable = |error: parquet::errors::ParquetError| ParquetError::Unreadable {
        path: path.to_path_buf(),
        detail: error.to_string(),
    };
    let file = File::open(path).map_err(|source| ParquetError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
    let schema = builder.schema().clone();
    let mut roots = Vec::with_capacity(COLUMNS.len());
    for column in COLUMNS {
        let (index, field) = schema
            .column_with_name(column)
            .ok_or_else(|| ParquetError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
            })?;
        if !readable(field.data_type()) {
            return Err(ParquetError::ColumnType {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: field.data_type().to_string(),
            });
        }
        roots.push(index);
    }
    let metadata = builder.metadata().clone();
    let leaves_of = leaf_ranges(builder.parquet_schema());
    for (group, row_group) in metadata.row_groups().iter().enumerate() {
        let bytes: i64 = roots
            .iter()
            .flat_map(|root| leaves_of[*root].clone())
            .map(|leaf| row_group.column(leaf).uncompressed_size())
            .sum();
        let rows = row_group.num_rows();
        if bytes > (max_record_bytes as i64).saturating_mul(rows.max(1)) {
            return Err(ParquetError::RowGroupTooLarge {
                path: path.to_path_buf(),
                group,
                bytes,
                rows,
                limit: max_record_bytes,
            });
        }
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let mut builder = builder
        .with_projection(mask)
        .with_batch_size(batch_rows.clamp(1, BATCH_ROWS) as usize);
    if let Some(limit) = limit {
        builder = builder.with_limit(limit as usize);
    }
    let batches = builder.build().map_err(unreadable)?;
    // Projected columns keep the file's order.
    let mut in_file_order = roots.clone();
    in_file_order.sort_unstable();
    let positions = roots
        .iter()
        .map(|root| in_file_order.binary_search(root).unwrap_or_default())
        .collect();
    Ok(ParquetReader {
        path: path.to_path_buf(),
        batches,
        positions,
        max_record_bytes,
        rows: 0,
        chunks: 0,
    })
}

/// For each root column of the file, the range of its leaf columns (a
/// nested column has several), which the row groups' metadata counts.
fn leaf_ranges(schema: &parquet::schema::types::SchemaDescriptor) -> Vec<std::ops::Range<usize>> {
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for leaf in 0..schema.num_columns() {
        let root = schema.get_column_root_idx(leaf);
        if ranges.len() <= root {
            ranges.resize(root + 1, leaf..leaf);
        }
        ranges[root].end = leaf + 1;
    }
    ranges
}

/// Whether values of this type have a text form in the export.
fn readable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => readable(values),
        DataType::List(item) | DataType::LargeList(item) => readable(item.data_type()),
        DataType::Struct(fields) => fields.iter().all(|f| readable(f.data_type())),
        other => scalar(other),
    }
}

fn scalar(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
    )
}

impl ParquetReader {
    /// The next batch of rows as a chunk of records already split into
    /// fields: the batch's columns in contract order, which the transform
    /// threads read in place (see [`DecodedRows`]), with no CSV written or
    /// parsed between. A row's line is the one it would have in the CSV
    /// export of the same rows (the header being line 1). `None` at the end.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ParquetError> {
        let Some(batch) = self.batches.next() else {
            return Ok(None);
        };
        let batch = batch.map_err(|e| self.read_error(e.to_string()))?;
        let columns = plain_columns(&batch, &self.positions).map_err(|detail| self.read_error(detail))?;
        let rows = DecodedRows {
            columns,
            rows: batch.num_rows(),
        };
        // Only a batch holding more than the bound can hold a row longer.
        if rows.data_bytes() > self.max_record_bytes
            && let Some(row) = (0..rows.rows).find(|&row| rows.row_bytes(row) > self.max_record_bytes)
        {
            return Err(ParquetError::RowTooLarge {
                path: self.path.clone(),
                row: self.rows + row as u64 + 1,
                limit: self.max_record_bytes,
            });
        }
        let chunk = Chunk::decoded(self.chunks, self.rows + 2, rows);
        self.chunks += 1;
        self.rows += batch.num_rows() as u64;
        Ok(Some(chunk))
    }

    fn read_error(&self, detail: String) -> ParquetError {
        ParquetError::Read {
            path: self.path.clone(),
            rows: self.rows,
            detail,
        }
    }
}

/// A batch of a Parquet file's rows: its columns in contract order. A
/// transform thread reads each row's text in place (see
/// [`DecodedRows::fields`]); a record of the CSV file's form is built only
/// for a row that needs one (a rejected row's line, a value not UTF-8).
#[derive(Debug)]
pub struct DecodedRows {
    columns: Vec<ArrayRef>,
    rows: usize,
}

impl DecodedRows {
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The row's fields as text, borrowed from the batch where it holds
    /// text, else written into `owned` (one string per column); `None`
    /// when a value is not UTF-8 (read it with [`DecodedRows::record`]).
    pub fn fields<'a>(&'a self, row: usize, owned: &'a mut [String]) -> Option<[&'a str; COLUMNS.len()]> {
        let mut scratch = Vec::new();
        for (column, text) in self.columns.iter().zip(owned.iter_mut()) {
            if borrowed_str(column.as_ref(), row).is_none() && !column.is_null(row) {
                scratch.clear();
                write_value(column.as_ref(), row, &mut scratch);
                text.clear();
                text.push_str(std::str::from_utf8(&scratch).ok()?);
            }
        }
        let owned: &'a [String] = owned;
        let mut values = [""; COLUMNS.len()];
        for ((value, column), text) in values.iter_mut().zip(&self.columns).zip(owned) {
            *value = match borrowed_str(column.as_ref(), row) {
                Some(borrowed) => borrowed,
                None if column.is_null(row) => "",
                None => text,
            };
        }
        Some(values)
    }

    /// The row as a record of the CSV file's form, into `record`.
    pub fn record(&self, row: usize, record: &mut csv::ByteRecord) {
        record.clear();
        let mut field = Vec::new();
        for column in &self.columns {
            match borrowed_text(column.as_ref(), row) {
                Some(text) => record.push_field(text),
                None => {
                    field.clear();
                    write_value(column.as_ref(), row, &mut field);
                    record.push_field(&field);
                }
            }
        }
    }

    /// The bytes of the batch's values: no row is longer.
    fn data_bytes(&self) -> usize {
        self.columns.iter().map(|c| c.get_array_memory_size()).sum()
    }

    /// The length of a row in the CSV file's text.
    fn row_bytes(&self, row: usize) -> usize {
        let mut record = csv::ByteRecord::new();
        self.record(row, &mut record);
        record.as_slice().len()
    }
}

/// A text value as the batch holds it; `None` for null, another type, or
/// bytes that are not UTF-8.
fn borrowed_str(array: &dyn Array, row: usize) -> Option<&str> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        _ => borrowed_text(array, row).and_then(|bytes| std::str::from_utf8(bytes).ok()),
    }
}

/// The bytes of a text value as the batch holds them; `None` for another
/// type (or null, which is the empty field either way).
fn borrowed_text(array: &dyn Array, row: usize) -> Option<&[u8]> {
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).as_bytes(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).as_bytes(),
        DataType::Utf8View => array.as_string_view().value(row).as_bytes(),
        DataType::Binary => array.as_binary::<i32>().value(row),
        DataType::LargeBinary => array.as_binary::<i64>().value(row),
        DataType::BinaryView => array.as_binary_view().value(row),
        _ => return None,
    })
}

/// The batch's columns in contract order, dictionary columns decoded once
/// for the whole batch.
fn plain_columns(batch: &RecordBatch, positions: &[usize]) -> Result<Vec<ArrayRef>, String> {
    positions
        .iter()
        .map(|&position| {
            let column = batch.column(position);
            match column.as_any_dictionary_opt() {
                Some(dictionary) => {
                    arrow_select::take::take(dictionary.values().as_ref(), dictionary.keys(), None)
                        .map_err(|e| e.to_string())
                }
                None => Ok(Arc::clone(column)),
            }
        })
        .collect()
}

/// Appends the CSV file's text of `array[row]` to `out`; nothing for null.
fn write_value(array: &dyn Array, row: usize, out: &mut Vec<u8>) {
    use std::io::Write as _;
    if array.is_null(row) {
        return;
    }
    match array.data_type() {
        DataType::Utf8 => out.extend_from_slice(array.as_string::<i32>().value(row).as_bytes()),
        DataType::LargeUtf8 => out.extend_from_slice(array.as_string::<i64>().value(row).as_bytes()),
        DataType::Utf8View => out.extend_from_slice(array.as_string_view().value(row).as_bytes()),
        DataType::Binary => out.extend_from_slice(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => out.extend_from_slice(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => out.extend_from_slice(array.as_binary_view().value(row)),
        DataType::Boolean => out.push(if array.as_boolean().value(row) { b'1' } else { b'0' }),
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) => {
            let _ = serde_json::to_writer(&mut *out, &json_value(array, row));
        }
        DataType::Null => {}
        _ => {
            let _ = write!(out, "{}", ScalarText(array, row));
        }
    }
}

/// A number, date or timestamp in the CSV file's form.
struct ScalarText<'a>(&'a dyn Array, usize);

impl std::fmt::Display for ScalarText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (array, row) = (self.0, self.1);
        match array.data_type() {
            DataType::Int8 => write!(f, "{}", array.as_primitive::<Int8Type>().value(row)),
            DataType::Int16 => write!(f, "{}", array.as_primitive::<Int16Type>().value(row)),
            DataType::Int32 => write!(f, "{}", array.as_primitive::<Int32Type>().value(row)),
            DataType::Int64 => write!(f, "{}", array.as_primitive::<Int64Type>().value(row)),
            DataType::UInt8 => write!(f, "{}", array.as_primitive::<UInt8Type>().value(row)),
            DataType::UInt16 => write!(f, "{}", array.as_primitive::<UInt16Type>().value(row)),
            DataType::UInt32 => write!(f, "{}", array.as_primitive::<UInt32Type>().value(row)),
            DataType::UInt64 => write!(f, "{}", array.as_primitive::<UInt64Type>().value(row)),
            DataType::Float16 => write!(f, "{}", array.as_primitive::<Float16Type>().value(row)),
            DataType::Float32 => write!(f, "{}", array.as_primitive::<Float32Type>().value(row)),
            DataType::Float64 => write!(f, "{}", array.as_primitive::<Float64Type>().value(row)),
            DataType::Decimal128(_, _) => write!(
                f,
                "{}",
                array.as_primitive::<Decimal128Type>().value_as_string(row)
            ),
            DataType::Date32 => match date_from_days(array.as_primitive::<Date32Type>().value(row) as i64) {
                Some(date) => write!(f, "{}", date.format("%Y-%m-%d")),
                None => Ok(()),
            },
            DataType::Date64 => match timestamp(array.as_primitive::<Date64Type>().value(row), 1_000) {
                Some(moment) => write!(f, "{}", moment.format("%Y-%m-%d")),
                None => Ok(()),
            },
            DataType::Timestamp(unit, _) => {
                let (value, per_second) = match unit {
                    TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().value(row), 1),
                    TimeUnit::Millisecond => {
                        (array.as_primitive::<TimestampMillisecondType>().value(row), 1_000)
                    }
                    TimeUnit::Microsecond => (
                        array.as_primitive::<TimestampMicrosecondType>().value(row),
                        1_000_000,
                    ),
                    TimeUnit::Nanosecond => (
                        array.as_primitive::<TimestampNanosecondType>().value(row),
                        1_000_000_000,
                    ),
                };
                match timestamp(value, per_second) {
                    Some(moment) => write!(f, "{}", moment.format("%Y-%m-%d %H:%M:%S")),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

fn date_from_days(days: i64) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

fn timestamp(value: i64, per_second: i64) -> Option<chrono::NaiveDateTime> {
    let seconds = value.div_euclid(per_second);
    let nanos = (value.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
    chrono::DateTime::from_timestamp(seconds, nanos).map(|moment| moment.naive_utc())
}

/// A nested value as the JSON the CSV file's cells hold: a struct as an
/// object, a list as an array, dates and timestamps as their text, null as
/// null.
fn json_value(array: &dyn Array, row: usize) -> serde_json::Value {
    use serde_json::Value;
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::List(_) => list_json(array.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list_json(array.as_list::<i64>().value(row).as_ref()),
        DataType::Struct(fields) => {
            let values = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(values.columns())
                    .map(|(field, column)| (field.name().clone(), json_value(column.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            match dictionary_key(dictionary.keys(), row) {
                Some(key) => json_value(dictionary.values().as_ref(), key),
                None => Value::Null,
            }
        }
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        integer if integer.is_integer() => ScalarText(array, row)
            .to_string()
            .parse::<serde_json::Number>()
            .map_or(Value::Null, Value::Number),
        float if float.is_floating() => match ScalarText(array, row).to_string().parse::<f64>() {
            Ok(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            Err(_) => Value::Null,
        },
        _ => {
            let mut text = Vec::new();
            write_value(array, row, &mut text);
            Value::String(String::from_utf8_lossy(&text).into_owned())
        }
    }
}

/// The key of one entry of a dictionary (reading one, where
/// `normalized_keys` would convert them all for every entry).
fn dictionary_key(keys: &dyn Array, row: usize) -> Option<usize> {
    let key = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(row) as i64,
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(row) as i64,
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(row) as i64,
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(row),
        DataType::UInt8 => keys.as_primitive::<UInt8Type>().value(row) as i64,
        DataType::UInt16 => keys.as_primitive::<UInt16Type>().value(row) as i64,
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(row) as i64,
        DataType::UInt64 => i64::try_from(keys.as_primitive::<UInt64Type>().value(row)).ok()?,
        _ => return None,
    };
    usize::try_from(key).ok()
}

fn list_json(items: &dyn Array) -> serde_json::Value {
    serde_json::Value::Array((0..items.len()).map(|item| json_value(items, item)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder, StructBuilder};
    use arrow_array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
        TimestampMillisecondArray,
    };
    use arrow_schema::Field;

    fn text(array: &dyn Array, row: usize) -> String {
        let mut out = Vec::new();
        write_value(array, row, &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn scalars_take_the_csv_files_form() {
        assert_eq!(text(&Date32Array::from(vec![0, 20454]), 1), "2026-01-01");
        assert_eq!(text(&Date32Array::from(vec![0]), 0), "1970-01-01");
        assert_eq!(
            text(&TimestampMillisecondArray::from(vec![1_700_000_000_123]), 0),
            "2023-11-14 22:13:20"
        );
        assert_eq!(text(&BooleanArray::from(vec![true, false]), 0), "1");
        assert_eq!(text(&BooleanArray::from(vec![true, false]), 1), "0");
        let decimal = Decimal128Array::from(vec![12345])
            .with_precision_and_scale(10, 2)
            .expect("a decimal type");
        assert_eq!(text(&decimal, 0), "123.45");
        assert_eq!(text(&Float64Array::from(vec![6.5, -99.0]), 0), "6.5");
        assert_eq!(text(&Int64Array::from(vec![-99]), 0), "-99");
        assert_eq!(text(&StringArray::from(vec![Some("n/a"), None]), 0), "n/a");
        assert_eq!(text(&StringArray::from(vec![Some("n/a"), None]), 1), "");
    }

    #[test]
    fn a_list_of_structs_is_the_json_of_its_entries() {
        let fields = vec![
            Field::new("program_name", DataType::Utf8, true),
            Field::new("program_start_date", DataType::Date32, true),
        ];
        let mut list = ListBuilder::new(StructBuilder::from_fields(fields, 2));
        let entry = list.values();
        entry
            .field_builder::<StringBuilder>(0)
            .expect("a string field")
            .append_value("Software \"Engineering\"");
        entry
            .field_builder::<arrow_array::builder::Date32Builder>(1)
            .expect("a date field")
            .append_value(1);
        entry.append(true);
        list.append(true);
        list.append(true);
        list.append_null();
        let array = list.finish();
        assert_eq!(
            text(&array, 0),
            r#"[{"program_name":"Software \"Engineering\"","program_start_date":"1970-01-02"}]"#
        );
        assert_eq!(text(&array, 1), "[]");
        assert_eq!(text(&array, 2), "");
    }

    #[test]
    fn only_a_file_that_begins_with_the_magic_is_parquet() {
        let dir = tempfile::tempdir().expect("a folder");
        for (name, bytes, parquet) in [
            ("empty", &b""[..], false),
            ("short", b"PA", false),
            ("csv", b"hashed_email,sand_id\n", false),
            ("magic", b"PAR1....", true),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("writes");
            assert_eq!(is_parquet(&path), parquet, "{name}");
        }
        assert!(!is_parquet(&dir.path().join("missing")));
    }
}
