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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::source::columns::col;
    use crate::source::parquet::open_parquet;
    use crate::source::reader::ChunkReader;
    use crate::transform::TransformOptions;
    use crate::transform::quality::Finding;
    use crate::transform::tests::row;

    /// The file's lines as the `csv` crate writes them: the header, then
    /// each row (a row with fewer fields than the header is written as it is).
    fn csv_lines(rows: &[Vec<&str>]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for record in std::iter::once(COLUMNS.to_vec()).chain(rows.iter().cloned()) {
            let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            writer.write_record(&record).expect("in memory");
            lines.push(writer.into_inner().expect("in memory"));
        }
        lines
    }

    fn write(path: &Path, lines: &[Vec<u8>], cut: usize) {
        let mut content = lines.concat();
        content.truncate(content.len() - cut);
        std::fs::write(path, content).expect("writes");
    }

    fn csv_chunk(path: &Path) -> Chunk {
        let mut reader = ChunkReader::open(path, 100).expect("opens");
        reader.header().expect("a header");
        reader.next_chunk().expect("reads").expect("a chunk")
    }

    fn transform(chunk: Chunk) -> TransformedChunk {
        let transformer = Transformer::new(TransformOptions::default());
        transform_chunk(chunk, &transformer, &mut EntityCollector::default())
    }

    /// Four rows: a learner, a row without a key, a row with a broken JSON
    /// cell, another learner.
    fn four_rows() -> Vec<Vec<&'static str>> {
        let mut rows = vec![row(&[]).to_vec(); 4];
        rows[1][col::HASHED_EMAIL] = "n/a";
        rows[2][col::HASHED_EMAIL] = "bad1";
        rows[2][col::EDUCATION_DETAILS] = "[{";
        rows[3][col::HASHED_EMAIL] = "def456";
        rows[3][col::BIO] = "two\nlines";
        rows
    }

    /// A row's line, its result's reason code, and the key a rejected row names.
    type Outcome<'c> = (u64, Result<(), &'static str>, Option<&'c str>);

    fn outcomes<R>(chunk: &TransformedChunk<R>) -> Vec<Outcome<'_>> {
        chunk
            .rows
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.result.as_ref().map(|_| ()).map_err(Reject::code),
                    r.rejected_key.as_deref(),
                )
            })
            .collect()
    }

    #[test]
    fn a_csv_chunk_gives_every_row_in_order_with_its_line_bytes_and_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("four.csv");
        let lines = csv_lines(&four_rows());
        write(&path, &lines, 0);
        let chunk = transform(csv_chunk(&path));

        assert_eq!(
            outcomes(&chunk),
            [
                (2, Ok(()), None),
                (3, Err("missing_key"), None),
                (4, Err("invalid_json"), Some("bad1")),
                (5, Ok(()), None),
            ],
            "the last row spans lines 5 and 6"
        );
        for (row, line) in chunk.rows.iter().zip(&lines[1..]) {
            assert_eq!(&chunk.bytes[row.raw.clone()], &line[..], "line {}", row.line);
        }
        let keys: Vec<&str> = chunk
            .rows
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(keys, ["abc123", "def456"]);
        assert_eq!(chunk.findings.get(Finding::NulBytesRemoved), 2, "one per learner");
        assert_eq!(chunk.entities.companies["andela"], "Andela");
    }

    #[test]
    fn the_files_last_row_cut_short_is_truncated_and_a_whole_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cut.csv");
        let whole = row(&[]).to_vec();
        let last = |chunk: &TransformedChunk| {
            let result = &chunk.rows.last().expect("rows").result;
            result.as_ref().map(|_| ()).map_err(Clone::clone)
        };

        // Without its final line end, a whole row is read whole.
        write(&path, &csv_lines(std::slice::from_ref(&whole)), 1);
        assert_eq!(last(&transform(csv_chunk(&path))), Ok(()));

        // A row with too few fields and no line end was cut.
        write(&path, &csv_lines(&[whole.clone(), vec!["k1", "a", "b"]]), 1);
        assert_eq!(
            last(&transform(csv_chunk(&path))),
            Err(Reject::Truncated {
                found: 3,
                expected: 58,
                inside_quotes: false
            })
        );
        // With its line end, it is a row of the wrong length.
        write(&path, &csv_lines(&[whole.clone(), vec!["k1", "a", "b"]]), 0);
        assert_eq!(
            last(&transform(csv_chunk(&path))).map_err(|r| r.code()),
            Err("wrong_column_count")
        );
        // Too many fields and no line end: not cut, too long.
        let mut long = whole.clone();
        long.push("extra");
        write(&path, &csv_lines(&[whole.clone(), long]), 1);
        assert_eq!(
            last(&transform(csv_chunk(&path))).map_err(|r| r.code()),
            Err("wrong_column_count")
        );

        // The file ends inside a quoted field.
        let mut content = csv_lines(&[whole]).concat();
        content.extend_from_slice(b"k2,\"an open quote");
        std::fs::write(&path, content).expect("writes");
        match last(&transform(csv_chunk(&path))) {
            Err(Reject::Truncated {
                found,
                expected: 58,
                inside_quotes: true,
            }) => assert!(found < 58, "{found}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_parquet_chunk_gives_the_same_rows_and_a_rejected_row_its_csv_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (csv_path, parquet_path) = (dir.path().join("four.csv"), dir.path().join("four.parquet"));
        let lines = csv_lines(&four_rows());
        write(&csv_path, &lines, 0);
        crate::generate::parquet::csv_to_parquet(&csv_path, &parquet_path).expect("converts");
        let mut reader = open_parquet(&parquet_path, 1 << 20, None, 100).expect("opens");
        let chunk = reader.next_chunk().expect("reads").expect("a chunk");
        let transformer = Transformer::new(TransformOptions::default());
        let chunk = transform_chunk_into(chunk, &transformer, &mut EntityCollector::default(), |record| {
            record.key
        });

        let csv = transform(csv_chunk(&csv_path));
        let unnumbered = |rows: Vec<Outcome<'_>>| -> Vec<(Result<(), &'static str>, Option<String>)> {
            rows.into_iter()
                .map(|(_, result, key)| (result, key.map(str::to_string)))
                .collect()
        };
        assert_eq!(unnumbered(outcomes(&chunk)), unnumbered(outcomes(&csv)));
        let lines_read: Vec<u64> = chunk.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines_read, [2, 3, 4, 5], "a Parquet row is one line");
        let kept: Vec<&str> = chunk
            .rows
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .map(String::as_str)
            .collect();
        assert_eq!(kept, ["abc123", "def456"], "what `keep` made of each record");
        for (row, line) in chunk.rows.iter().zip(&lines[1..]) {
            match row.result {
                Ok(_) => assert_eq!(row.raw, 0..0),
                Err(_) => assert_eq!(&chunk.bytes[row.raw.clone()], &line[..], "line {}", row.line),
            }
        }
        assert_eq!(chunk.findings.counts(), csv.findings.counts());
    }
}
