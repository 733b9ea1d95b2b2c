//! One chunk of the file, transformed: every record decoded and turned
//! into its learner record or its reject, in file order, with the findings
//! and shared entities the chunk's rows produced. Every pass (check, load,
//! export) transforms chunks this way on its transform threads.

use std::ops::Range;

use crate::graph::records::{Entities, EntityCollector, LearnerRecord};
use crate::source::columns::COLUMNS;
use crate::source::parquet::DecodedRows;
use crate::source::reader::{Chunk, Tail, for_each_record};
use crate::transform::quality::Findings;
use crate::transform::{Fields, Reject, Transformer, decode, key_hint};

/// The result of one row, in file order: the record it writes (or what a
/// pass keeps of it), or why it is rejected.
pub struct RowResult<R = LearnerRecord> {
    /// Physical line the row starts on.
    pub line: u64,
    /// The row's bytes within its chunk.
    pub raw: Range<usize>,
    pub result: Result<R, Reject>,
    /// For a rejected row, the learner key it names, if one can be read.
    pub rejected_key: Option<String>,
}

/// A transformed chunk: its bytes (for rejects), its rows in order, and the
/// findings and entities its rows produced.
pub struct TransformedChunk<R = LearnerRecord> {
    pub bytes: Vec<u8>,
    pub rows: Vec<RowResult<R>>,
    pub findings: Findings,
    pub entities: Entities,
}

/// Decodes and transforms every record of a chunk; `entities` is the
/// transform thread's collector, which keeps what its earlier chunks met.
pub fn transform_chunk(
    chunk: Chunk,
    transformer: &Transformer,
    entities: &mut EntityCollector,
) -> TransformedChunk {
    transform_chunk_into(chunk, transformer, entities, |record| record)
}

/// [`transform_chunk`], keeping of each accepted record what `keep` makes
/// of it the moment it is built: a pass that needs only a summary frees
/// each record while its memory is still in the processor's cache.
pub fn transform_chunk_into<R>(
    chunk: Chunk,
    transformer: &Transformer,
    entities: &mut EntityCollector,
    keep: impl FnMut(LearnerRecord) -> R,
) -> TransformedChunk<R> {
    let mut findings = Findings::default();
    entities.begin_chunk(chunk.index);
    let (bytes, rows) = match &chunk.decoded {
        Some(decoded) => transform_decoded(&chunk, decoded, transformer, &mut findings, entities, keep),
        None => {
            let rows = transform_records(&chunk, transformer, &mut findings, entities, keep);
            (chunk.bytes, rows)
        }
    };
    TransformedChunk {
        bytes,
        rows,
        findings,
        entities: entities.take(),
    }
}

/// The rows of a chunk of the CSV file, parsed here.
fn transform_records<R>(
    chunk: &Chunk,
    transformer: &Transformer,
    findings: &mut Findings,
    entities: &mut EntityCollector,
    mut keep: impl FnMut(LearnerRecord) -> R,
) -> Vec<RowResult<R>> {
    let mut rows = Vec::with_capacity(chunk.records);
    let mut last_fields = 0;
    for_each_record(chunk, |record, raw| {
        let result = decode(record)
            .and_then(|fields| transformer.transform(&fields, findings, entities))
            .map(&mut keep);
        let rejected_key = result.is_err().then(|| key_hint(record)).flatten();
        last_fields = record.len();
        rows.push(RowResult {
            line: raw.line,
            raw: raw.start..raw.start + raw.raw.len(),
            result,
            rejected_key,
        });
    });
    if let Some(last) = rows.last_mut() {
        mark_truncated(last, chunk.tail, last_fields);
    }
    rows
}

/// The rows of a chunk already split into fields (a Parquet file's),
/// read in place; a rejected row's CSV line is written into the returned
/// bytes, for the rejects file, which the rows' `raw` ranges point into.
fn transform_decoded<R>(
    chunk: &Chunk,
    decoded: &DecodedRows,
    transformer: &Transformer,
    findings: &mut Findings,
    entities: &mut EntityCollector,
    mut keep: impl FnMut(LearnerRecord) -> R,
) -> (Vec<u8>, Vec<RowResult<R>>) {
    let mut rows = Vec::with_capacity(decoded.len());
    let mut rejected_lines = Vec::new();
    let mut owned = vec![String::new(); COLUMNS.len()];
    let mut record = csv::ByteRecord::new();
    for (line, row) in (chunk.first_line..).zip(0..decoded.len()) {
        let result = match decoded.fields(row, &mut owned) {
            Some(values) => transformer.transform(&Fields::from_text(values), findings, entities),
            // A value that is not UTF-8 is rejected as in the CSV file.
            None => {
                decoded.record(row, &mut record);
                decode(&record).and_then(|fields| transformer.transform(&fields, findings, entities))
            }
        }
        .map(&mut keep);
        let (raw, rejected_key) = match &result {
            Ok(_) => (0..0, None),
            Err(_) => {
                decoded.record(row, &mut record);
                (csv_line(&record, &mut rejected_lines), key_hint(&record))
            }
        };
        rows.push(RowResult {
            line,
            raw,
            result,
            rejected_key,
        });
    }
    (rejected_lines, rows)
}

/// Appends `record` to `out` as a line of the CSV export; its range in `out`.
fn csv_line(record: &csv::ByteRecord, out: &mut Vec<u8>) -> Range<usize> {
    let start = out.len();
    let mut writer = csv::Writer::from_writer(&mut *out);
    // Writing into memory fails only when memory does.
    let _ = writer.write_byte_record(record);
    let _ = writer.flush();
    drop(writer);
    start..out.len()
}

/// The file's last record is cut short when the file ends inside a quoted
/// field, or ends without a line end after a row with too few fields.
fn mark_truncated<R>(last: &mut RowResult<R>, tail: Tail, fields: usize) {
    let expected = crate::source::columns::COLUMNS.len();
    let cut = match tail {
        Tail::Terminated => false,
        Tail::InsideQuotes => true,
        Tail::Unterminated => fields < expected,
    };
    if cut {
        last.result = Err(Reject::Truncated {
            found: fields,
            expected,
            inside_quotes: tail == Tail::InsideQuotes,
        });
    }
}
