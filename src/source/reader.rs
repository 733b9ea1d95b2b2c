//! The streaming reader: splits the export into chunks of whole records so
//! that several threads can parse and transform it at once.
//!
//! A newline ends a record exactly when it lies outside quotes, and in RFC
//! 4180 CSV a byte is inside quotes exactly when an odd number of `"` come
//! before it in the record (doubled quotes count twice). So one pass that
//! counts quotes finds every record boundary without parsing fields. Each
//! chunk carries the line number it starts on, so errors name real lines.
//!
//! The reader also fingerprints every byte it reads, in 1 MiB blocks (xxh3,
//! far faster than parsing): the same file gives the same fingerprint
//! whatever the chunk size, and a second pass given the first one's
//! fingerprint stops at the first block that differs, before any record of
//! it is handed out.
//!
//! Lines end with LF or CRLF, or with a lone CR in files from old
//! spreadsheet exports: the first line ending outside quotes decides which
//! byte ends a line for the whole file. A quoted field keeps whatever
//! breaks it holds.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::growing::{self, Form, Growing, Written};
use super::parquet::DecodedRows;

/// A run of whole records from the file.
#[derive(Debug)]
pub struct Chunk {
    /// 0-based position of the chunk in the file.
    pub index: u64,
    /// The physical line (1-based) the chunk's first record starts on.
    pub first_line: u64,
    /// How many records the chunk holds (as found by the splitter; a
    /// record cut at the end of a runaway quote may add one).
    pub records: usize,
    pub bytes: Vec<u8>,
    /// The byte that ends a line in this file (`\n`, or `\r` in a CR-only file).
    pub line_end: u8,
    /// The file ends inside this chunk's last record: inside a quoted
    /// field, or with no line ending after a record (a cut file, or one
    /// whose last line simply lacks its newline).
    pub tail: Tail,
    /// The records already split into fields, by a source that is not
    /// CSV (a Parquet file); `bytes` is then empty, and a rejected
    /// record's CSV line is written only for the rejects file.
    pub decoded: Option<DecodedRows>,
}

impl Chunk {
    /// A chunk of records already split into fields, one per line from
    /// `first_line` on.
    pub fn decoded(index: u64, first_line: u64, records: DecodedRows) -> Chunk {
        Chunk {
            index,
            first_line,
            records: records.len(),
            bytes: Vec::new(),
            line_end: b'\n',
            tail: Tail::Terminated,
            decoded: Some(records),
        }
    }
}

/// How the file's last record ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tail {
    /// Not the file's last chunk, or its last record ends with a line end.
    #[default]
    Terminated,
    /// The file ends without a final line end, outside quotes.
    Unterminated,
    /// The file ends inside a quoted field: the record was cut.
    InsideQuotes,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open the input {path}: {source}; check the path and its permissions")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot read the input {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The table read that writes this input failed (only table reads
    /// are followed as they are written).
    #[error("cannot read the input {path}: {message}")]
    TableRead { path: PathBuf, message: String },
    #[error("the input {path} is empty: it has no header row")]
    Empty { path: PathBuf },
    #[error(
        "the input {path} has a header but no data rows; nothing was written. Check that the export finished, or \
         point at the right file"
    )]
    NoRows { path: PathBuf },
    #[error(
        "the first line of {path} is not a header row (it starts with {first:?}); the export must start with the \
         header of the 58 columns of the input contract. Export it again with its header"
    )]
    NoHeader { path: PathBuf, first: String },
    #[error(
        "the input {path} changed while it was being read (its bytes differ from the earlier pass from byte {offset} \
         on)"
    )]
    Changed { path: PathBuf, offset: u64 },
    #[error(
        "a record of {path} begins at line {line} and is longer than etl.max_record_bytes ({limit} bytes): a quote \
         that never closes, or a file without line breaks. Export the file again; raise etl.max_record_bytes only \
         for a real row that long"
    )]
    RecordTooLarge { path: PathBuf, line: u64, limit: usize },
    #[error("the header of {path} cannot be read: {message}")]
    BadHeader { path: PathBuf, message: String },
    #[error(transparent)]
    Parquet(#[from] super::parquet::ParquetError),
    #[error("the header of {path} lacks the column{} {}; the export must hold all 58 columns of the input contract", if missing.len() == 1 { "" } else { "s" }, missing.join(", "))]
    MissingColumns { path: PathBuf, missing: Vec<String> },
}

/// A chunk is cut at its last record boundary once it holds this many
/// bytes, whatever `etl.chunk_size` asks.
pub const MAX_CHUNK_BYTES: usize = 64 << 20;
/// The longest record read by default (`etl.max_record_bytes`): real rows
/// are a few KiB; a record longer than this is a quote that never closes
/// or a file without line breaks, and stops the read.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 << 20;

/// How much of the input a reader hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// Only the first this many records after the header (a trial load).
    pub records: Option<u64>,
    /// The longest record: past it the read stops with
    /// [`SourceError::RecordTooLarge`].
    pub record_bytes: usize,
}

/// Bytes read from the file at a time.
const READ_BYTES: usize = 1 << 20;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes handed out by the splitter, with where they start.
struct Taken {
    first_line: u64,
    records: usize,
    bytes: Vec<u8>,
    tail: Tail,
}

/// The fingerprint of the bytes a reader read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamFingerprint {
    /// One hash per block of [`READ_BYTES`], in file order.
    pub blocks: Vec<u64>,
    /// Bytes read.
    pub bytes: u64,
    /// The hash of the block hashes, in order: of every byte, since the
    /// blocks do not depend on the chunk size.
    pub digest: u128,
}

impl StreamFingerprint {
    /// The whole stream's fingerprint as text.
    pub fn whole(&self) -> String {
        format!("{}:{:032x}", self.bytes, self.digest)
    }

    /// With its digest: the hash of the block hashes, each byte having been
    /// hashed once, into its block's hash.
    fn sealed(self) -> Self {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for block in &self.blocks {
            hasher.update(&block.to_le_bytes());
        }
        hasher.update(&self.bytes.to_le_bytes());
        StreamFingerprint {
            digest: hasher.digest128(),
            ..self
        }
    }

    /// The fingerprint of the whole file at `path`, read in the blocks a
    /// [`ChunkReader`] reads, for a source whose rows are read otherwise
    /// (a Parquet file): with `expected`, [`SourceError::Changed`] at the
    /// first block that differs.
    pub fn of_file(path: &Path, expected: Option<&StreamFingerprint>) -> Result<Self, SourceError> {
        let mut file = open_file(path, path)?;
        let read_error = |source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut fingerprint = StreamFingerprint::default();
        let mut block = Vec::with_capacity(READ_BYTES);
        loop {
            block.clear();
            let n = (&mut file)
                .take(READ_BYTES as u64)
                .read_to_end(&mut block)
                .map_err(read_error)?;
            // At the end (no block) the earlier read must have ended too.
            let digest = (n > 0).then(|| xxhash_rust::xxh3::xxh3_64(&block));
            if let Some(expected) = expected
                && expected.blocks.get(fingerprint.blocks.len()).copied() != digest
            {
                return Err(SourceError::Changed {
                    path: path.to_path_buf(),
                    offset: fingerprint.bytes,
                });
            }
            let Some(digest) = digest else { break };
            fingerprint.blocks.push(digest);
            fingerprint.bytes += n as u64;
        }
        Ok(fingerprint.sealed())
    }
}

/// Splits a file into chunks of whole records; the first record (the header)
/// is returned apart by [`ChunkReader::header`].
/// Where a reader's bytes come from: a file, or the pipe of a stream. A
/// trait object rather than an enum of the two: through it the standard
/// library reads straight into the buffer's spare capacity, where a
/// wrapper that only implements `read` made it zero every block first.
type Input = Box<dyn Read + Send>;

pub struct ChunkReader {
    path: PathBuf,
    file: Input,
    /// Records per chunk.
    records_per_chunk: u64,
    /// Bytes read but not yet handed out; they start at a record boundary.
    pending: Vec<u8>,
    /// How far `pending` has been scanned for boundaries.
    scanned: usize,
    /// Quote parity at `scanned` (a record boundary is always outside quotes).
    in_quotes: bool,
    /// Newlines and record boundaries in `pending[..scanned]`.
    lines_scanned: u64,
    records_scanned: u64,
    /// Where the chunk ends once enough records were found: (end, newlines).
    cut: Option<(usize, u64)>,
    /// The last record boundary seen, for the size cut: (end, newlines).
    last_boundary: Option<(usize, u64)>,
    /// The size cut (tests lower it).
    max_chunk_bytes: usize,
    /// The longest record (`etl.max_record_bytes`).
    max_record_bytes: usize,
    /// The byte that ends a line, once the first line end is seen.
    line_end: Option<u8>,
    /// How far the search for the first line end got, and the quote parity
    /// there: the search goes on from it, never from the start again.
    line_end_search: (usize, bool),
    next_line: u64,
    next_index: u64,
    eof: bool,
    started: bool,
    fingerprint: StreamFingerprint,
    /// The fingerprint an earlier pass took: blocks must match it.
    expected: Option<StreamFingerprint>,
    /// Set when this process is still writing the file: its end is not the
    /// end until the writer says so.
    growing: Option<Arc<Growing>>,
    /// Records still to hand out when only the first ones are read (a
    /// trial load); `None` reads to the end.
    records_left: Option<u64>,
}

/// Opens `opened`: the file `path` names, or the one this process is still
/// writing for it. Errors name `path`.
fn open_file(opened: &Path, path: &Path) -> Result<File, SourceError> {
    let file = File::open(opened).map_err(|source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(SourceError::Open {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a folder, not a file"),
        });
    }
    Ok(file)
}

impl ChunkReader {
    pub fn open(path: &Path, records_per_chunk: u64) -> Result<Self, SourceError> {
        let growing = growing::lookup(path);
        let file = match growing.as_ref().map(|g| &g.form) {
            Some(Form::Stream(pipe)) => match pipe.lock().unwrap_or_else(|p| p.into_inner()).take() {
                Some(pipe) => Box::new(pipe) as Input,
                None => {
                    return Err(SourceError::Open {
                        path: path.to_path_buf(),
                        source: std::io::Error::other(
                            "the table's rows were streamed once already; a second pass reads a spool",
                        ),
                    });
                }
            },
            Some(Form::File(writing)) => Box::new(open_file(writing, path)?),
            None => Box::new(open_file(path, path)?),
        };
        Ok(ChunkReader {
            path: path.to_path_buf(),
            file,
            records_per_chunk: records_per_chunk.max(1),
            pending: Vec::with_capacity(2 * READ_BYTES),
            scanned: 0,
            in_quotes: false,
            lines_scanned: 0,
            records_scanned: 0,
            cut: None,
            last_boundary: None,
            max_chunk_bytes: MAX_CHUNK_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            line_end: None,
            line_end_search: (0, false),
            next_line: 1,
            next_index: 0,
            eof: false,
            started: false,
            fingerprint: StreamFingerprint::default(),
            expected: None,
            growing,
            records_left: None,
        })
    }

    /// Makes the reader stop with [`SourceError::Changed`] at the first block
    /// whose bytes differ from those an earlier pass read.
    pub fn expecting(mut self, earlier: StreamFingerprint) -> Self {
        self.expected = Some(earlier);
        self
    }

    /// The fingerprint of the bytes read so far (all of them once the last
    /// chunk was handed out).
    pub fn fingerprint(&self) -> StreamFingerprint {
        self.fingerprint.clone().sealed()
    }

    /// Hashes a block just read and checks it against the earlier pass.
    fn record_block(&mut self, from: usize) -> Result<(), SourceError> {
        let block = &self.pending[from..];
        let offset = self.fingerprint.bytes;
        let changed = || SourceError::Changed {
            path: self.path.clone(),
            offset,
        };
        if block.is_empty() {
            // The end: an earlier pass that read more saw another file.
            return match &self.expected {
                Some(expected) if expected.blocks.len() != self.fingerprint.blocks.len() => Err(changed()),
                _ => Ok(()),
            };
        }
        let digest = xxhash_rust::xxh3::xxh3_64(block);
        if let Some(expected) = &self.expected
            && expected.blocks.get(self.fingerprint.blocks.len()) != Some(&digest)
        {
            return Err(changed());
        }
        self.fingerprint.blocks.push(digest);
        self.fingerprint.bytes += block.len() as u64;
        Ok(())
    }

    /// Lowers the size cut (for tests of files smaller than the real one).
    pub fn with_max_chunk_bytes(mut self, bytes: usize) -> Self {
        self.max_chunk_bytes = bytes.max(1);
        self
    }

    /// Decides the line end from the first CR or LF outside quotes: a CR not
    /// followed by LF makes a CR-only file. Undecided until such a byte, and
    /// the one after a CR, have been read.
    fn detect_line_end(&mut self) {
        // Not before a BOM is dropped: positions would shift under it.
        if self.line_end.is_some() || !self.started {
            return;
        }
        let (from, mut in_quotes) = self.line_end_search;
        for (i, &byte) in self.pending.iter().enumerate().skip(from) {
            match byte {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => {
                    self.line_end = Some(b'\n');
                    return;
                }
                b'\r' if !in_quotes => match self.pending.get(i + 1) {
                    Some(b'\n') => {
                        self.line_end = Some(b'\n');
                        return;
                    }
                    Some(_) => {
                        self.line_end = Some(b'\r');
                        return;
                    }
                    None if self.eof => {
                        self.line_end = Some(b'\r');
                        return;
                    }
                    None => {
                        self.line_end_search = (i, in_quotes);
                        return;
                    }
                },
                _ => {}
            }
        }
        self.line_end_search = (self.pending.len(), in_quotes);
        if self.eof {
            self.line_end = Some(b'\n');
        }
    }

    /// The byte that ends a line (LF until the file says otherwise).
    pub fn line_end(&self) -> u8 {
        self.line_end.unwrap_or(b'\n')
    }

    fn fill(&mut self) -> Result<(), SourceError> {
        // `read_to_end` on a bounded reader fills spare capacity without
        // zeroing it first.
        let from = self.pending.len();
        let n = self.read_block()?;
        if n == 0 {
            self.eof = true;
        }
        self.record_block(from)?;
        if !self.started && (self.pending.len() >= BOM.len() || self.eof) {
            self.started = true;
            if self.pending.starts_with(BOM) {
                self.pending.drain(..BOM.len());
            }
        }
        Ok(())
    }

    /// Reads one block: `READ_BYTES`, or less only at the end of the file.
    /// At the end of a file this process is still writing, waits for more
    /// bytes or for the writer's last word, so that blocks (and with them
    /// the stream fingerprint) are the same as when the file is read whole.
    fn read_block(&mut self) -> Result<usize, SourceError> {
        let mut total = 0;
        loop {
            let n = (&mut self.file)
                .take((READ_BYTES - total) as u64)
                .read_to_end(&mut self.pending)
                .map_err(|source| SourceError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            total += n;
            let Some(growing) = &self.growing else {
                return Ok(total);
            };
            if total == READ_BYTES {
                return Ok(total);
            }
            if n > 0 {
                continue;
            }
            match growing.state() {
                // A pipe at its end has no writer left: one that stops
                // without a last word was cut short.
                Written::InProgress if growing.is_stream() => {
                    return Err(SourceError::Read {
                        path: self.path.clone(),
                        source: std::io::Error::other("the table's reader stopped before the last row"),
                    });
                }
                Written::InProgress => std::thread::sleep(std::time::Duration::from_millis(2)),
                // Written in full: what is left was written before this
                // was said, so one more read sees all of it.
                Written::Complete => {
                    self.growing = None;
                }
                Written::Failed(message) => {
                    return Err(SourceError::TableRead {
                        path: self.path.clone(),
                        message,
                    });
                }
            }
        }
    }

    /// Scans unscanned bytes until the chunk's last record boundary is found.
    ///
    /// Newlines are sparse and quotes dense (JSON cells), so the scan jumps
    /// from newline to newline and counts the quotes between in bulk: a
    /// newline ends a record when the quotes before it are even.
    fn scan(&mut self, target_records: u64) {
        self.detect_line_end();
        let Some(line_end) = self.line_end else {
            return;
        };
        let from = self.scanned;
        let bytes = &self.pending[from..];
        self.scanned = self.pending.len();
        let mut segment_start = 0;
        for offset in memchr::memchr_iter(line_end, bytes) {
            let quotes = bytecount::count(&bytes[segment_start..offset], b'"');
            self.in_quotes ^= quotes % 2 == 1;
            segment_start = offset + 1;
            self.lines_scanned += 1;
            let end = from + offset + 1;
            if !self.in_quotes {
                self.records_scanned += 1;
                self.last_boundary = Some((end, self.lines_scanned));
                if self.records_scanned >= target_records {
                    self.cut = Some((end, self.lines_scanned));
                    self.scanned = end;
                    return;
                }
            }
        }
        let quotes = bytecount::count(&bytes[segment_start..], b'"');
        self.in_quotes ^= quotes % 2 == 1;
    }

    /// Hands out `pending[..end]`, which holds `lines` newlines, and starts
    /// scanning afresh at the record boundary that follows.
    fn take(&mut self, end: usize, lines: u64) -> Taken {
        let records = self.records_scanned as usize;
        // Copy the chunk out and keep `pending`'s capacity: regrowing a
        // fresh buffer for every chunk made the kernel zero new pages for a
        // fifth of the run (see BENCHMARKS.md).
        let bytes = self.pending[..end].to_vec();
        self.pending.drain(..end);
        self.scanned = 0;
        self.in_quotes = false;
        self.lines_scanned = 0;
        self.records_scanned = 0;
        self.cut = None;
        self.last_boundary = None;
        let first_line = self.next_line;
        self.next_line += lines;
        Taken {
            first_line,
            records: records.max(1),
            bytes,
            tail: Tail::Terminated,
        }
    }

    /// The next `target_records` records (fewer at the end of the file), or
    /// `None` at the end.
    fn next_records(&mut self, target_records: u64) -> Result<Option<Taken>, SourceError> {
        loop {
            // The bytes left over from the last chunk first: reading a block
            // before looking at them made `pending` grow by a block per
            // chunk whenever a chunk is smaller than a block (then the whole
            // file was held, and shifted, at `--chunk-size 100`).
            self.scan(target_records);
            if let Some((end, lines)) = self.cut {
                return Ok(Some(self.take(end, lines)));
            }
            if self.eof {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                // Scanned to the end: the parity tells whether the file
                // stops inside a quoted field.
                let tail = if self.in_quotes {
                    Tail::InsideQuotes
                } else if self.pending.last() != Some(&self.line_end()) {
                    Tail::Unterminated
                } else {
                    Tail::Terminated
                };
                let (end, lines) = (self.pending.len(), self.lines_scanned);
                let mut taken = self.take(end, lines);
                taken.tail = tail;
                return Ok(Some(taken));
            }
            if self.pending.len() > self.max_chunk_bytes
                && let Some((end, lines)) = self.last_boundary
            {
                // Cut at the last record boundary, never inside a quoted
                // field.
                return Ok(Some(self.take(end, lines)));
            }
            // The record still open after the last boundary is longer than
            // the bound: stop here, having held no more than the bound past
            // the records before it.
            let (open_from, lines_before) = self.last_boundary.unwrap_or((0, 0));
            if self.pending.len() - open_from > self.max_record_bytes {
                return Err(SourceError::RecordTooLarge {
                    path: self.path.clone(),
                    line: self.next_line + lines_before,
                    limit: self.max_record_bytes,
                });
            }
            self.fill()?;
        }
    }

    /// Reads the header record. Call once, before any chunk.
    pub fn header(&mut self) -> Result<csv::StringRecord, SourceError> {
        let path = self.path.clone();
        let bad = |message: String| SourceError::BadHeader {
            path: path.clone(),
            message,
        };
        let Some(Taken { bytes, .. }) = self.next_records(1)? else {
            return Err(SourceError::Empty {
                path: self.path.clone(),
            });
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[..]);
        let mut header = csv::ByteRecord::new();
        match rdr.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => {
                return Err(SourceError::Empty {
                    path: self.path.clone(),
                });
            }
            Err(e) => return Err(bad(e.to_string())),
        }
        csv::StringRecord::from_byte_record(header).map_err(|e| bad(format!("not UTF-8: {e}")))
    }

    /// Reads only the first `limits.records` records after the header
    /// (all when `None`): chunks are cut so that the last one ends at that
    /// record. A record longer than `limits.record_bytes` stops the read.
    pub fn with_limits(mut self, limits: ReadLimits) -> Self {
        self.records_left = limits.records;
        self.max_record_bytes = limits.record_bytes.max(1);
        self
    }

    /// The next chunk, or `None` at the end of the file (or of the records
    /// a limit lets through).
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, SourceError> {
        let target = match self.records_left {
            Some(0) => return Ok(None),
            Some(left) => left.min(self.records_per_chunk),
            None => self.records_per_chunk,
        };
        let line_end = self.line_end();
        Ok(self.next_records(target)?.map(|taken| {
            if let Some(left) = &mut self.records_left {
                *left = left.saturating_sub(taken.records as u64);
            }
            let index = self.next_index;
            self.next_index += 1;
            Chunk {
                index,
                first_line: taken.first_line,
                records: taken.records,
                bytes: taken.bytes,
                line_end,
                tail: taken.tail,
                decoded: None,
            }
        }))
    }
}

/// Checks that the header holds the 58 columns of the input contract, in
/// order; names the missing ones otherwise.
pub fn check_header(path: &Path, header: &csv::StringRecord) -> Result<(), SourceError> {
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    if !names
        .iter()
        .any(|name| crate::source::columns::COLUMNS.contains(name))
    {
        let first: String = names.first().copied().unwrap_or("").chars().take(40).collect();
        return Err(SourceError::NoHeader {
            path: path.to_path_buf(),
            first,
        });
    }
    let missing: Vec<String> = crate::source::columns::COLUMNS
        .iter()
        .filter(|c| !names.contains(c))
        .map(|c| c.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(SourceError::MissingColumns {
            path: path.to_path_buf(),
            missing,
        });
    }
    if names != crate::source::columns::COLUMNS {
        return Err(SourceError::BadHeader {
            path: path.to_path_buf(),
            message: "the columns are not in the order of the input contract".to_string(),
        });
    }
    Ok(())
}

/// One record of a chunk with its position.
pub struct RawRecord<'c> {
    /// Physical line the record starts on.
    pub line: u64,
    /// The record's bytes as they are in the file (for the rejects file).
    pub raw: &'c [u8],
    /// Where `raw` starts in the chunk.
    pub start: usize,
}

/// Parses the records of one chunk, reusing one record buffer; calls `each`
/// with the parsed record and its position. A chunk of records already
/// split has no raw bytes to give: `raw` is empty.
pub fn for_each_record(chunk: &Chunk, mut each: impl FnMut(&csv::ByteRecord, RawRecord<'_>)) {
    if let Some(rows) = &chunk.decoded {
        let mut record = csv::ByteRecord::new();
        for (line, row) in (chunk.first_line..).zip(0..rows.len()) {
            rows.record(row, &mut record);
            each(
                &record,
                RawRecord {
                    line,
                    raw: &[],
                    start: 0,
                },
            );
        }
        return;
    }
    // The csv parser drops a UTF-8 BOM at the start of its input, which is
    // right for a file but wrong for a chunk that starts with a field
    // holding U+FEFF. A leading newline (a blank line, skipped) keeps the
    // BOM; positions below are shifted back by its one byte.
    let input = std::io::Read::chain(&b"\n"[..], &chunk.bytes[..]);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let position = |rdr: &csv::Reader<_>| {
        (rdr.position().byte() as usize)
            .saturating_sub(1)
            .min(chunk.bytes.len())
    };
    let mut record = csv::ByteRecord::new();
    // Lines are counted here rather than taken from the csv parser, which
    // does not count every CRLF ending.
    let mut line = chunk.first_line;
    let mut counted_to = 0usize;
    loop {
        let mut start = position(&rdr);
        // The parser may stop between the CR and LF of a line ending.
        while start < chunk.bytes.len() && matches!(chunk.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytecount::count(&chunk.bytes[counted_to..start], chunk.line_end) as u64;
        counted_to = start;
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            // With `flexible` and byte records the csv parser reports no
            // errors; stop at the end either way.
            Ok(false) | Err(_) => break,
        }
        let end = position(&rdr);
        let start = start.min(end);
        let raw = &chunk.bytes[start..end];
        // A blank line is no record at all; a line of `""` is a record
        // (of one empty field), to be rejected for its field count rather
        // than lost.
        if record.len() == 1 && record[0].is_empty() && raw.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            continue;
        }
        each(&record, RawRecord { line, raw, start });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Records with the line each starts on.
    type Lines = Vec<(u64, Vec<Vec<u8>>)>;

    #[test]
    fn chunks_smaller_than_a_block_keep_the_buffer_at_about_a_block() {
        let mut content = b"a,b\n".to_vec();
        let rows = 3 * READ_BYTES / 100;
        for row in 0..rows {
            content.extend_from_slice(format!("{row:0>48},{row:0>49}\n").as_bytes());
        }
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&content).expect("write");
        let mut reader = ChunkReader::open(file.path(), 10).expect("opens");
        reader.header().expect("header");
        let mut records = 0;
        while let Some(chunk) = reader.next_chunk().expect("reads") {
            records += chunk.records;
            assert!(
                reader.pending.len() <= READ_BYTES + chunk.bytes.len(),
                "{} bytes held after chunk {}",
                reader.pending.len(),
                chunk.index
            );
        }
        assert_eq!(records, rows);
    }

    /// Reads `content` to its end or its first error, with a record bound
    /// of `bound` bytes; returns the error and the most bytes held.
    fn read_bounded(content: &[u8], bound: usize) -> (Option<SourceError>, usize) {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(content).expect("write");
        let mut reader = ChunkReader::open(file.path(), 100)
            .expect("opens")
            .with_limits(ReadLimits {
                records: None,
                record_bytes: bound,
            });
        let mut held = 0;
        let result = reader.header().and_then(|_| {
            loop {
                held = held.max(reader.pending.capacity());
                match reader.next_chunk() {
                    Ok(Some(_)) => {}
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        });
        held = held.max(reader.pending.capacity());
        (result.err(), held)
    }

    #[test]
    fn a_record_longer_than_the_bound_stops_the_read_at_its_line_holding_no_more_than_the_bound() {
        let bound = 256 << 10;
        let rows = b"a,b\n1,2\n3,4\n".to_vec();
        // A quote that never closes, on line 4, with line breaks after it.
        let mut quote = rows.clone();
        quote.extend_from_slice(b"5,\"never closed\n");
        for _ in 0..40_000 {
            quote.extend_from_slice(b"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy,z\n");
        }
        // A file without line breaks after the header, and one without any.
        let mut unbroken = rows.clone();
        unbroken.extend(std::iter::repeat_n(b'x', 4 << 20));
        let nothing: Vec<u8> = std::iter::repeat_n(b'x', 4 << 20).collect();
        for (content, line) in [(&quote, 4), (&unbroken, 4), (&nothing, 1)] {
            let (error, held) = read_bounded(content, bound);
            match error {
                Some(SourceError::RecordTooLarge { line: at, limit, .. }) => {
                    assert_eq!((at, limit), (line, bound));
                }
                other => panic!("expected RecordTooLarge at line {line}, got {other:?}"),
            }
            assert!(held <= 2 * (bound + 2 * READ_BYTES), "held {held} bytes");
        }
        // Records within the bound read as ever.
        let (error, _) = read_bounded(&rows, bound);
        assert!(error.is_none(), "{error:?}");
    }

    fn chunks_of(content: &[u8]) -> (csv::StringRecord, Lines) {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(content).expect("write");
        let mut reader = ChunkReader::open(file.path(), 100).expect("opens");
        let header = reader.header().expect("header");
        let mut records = Vec::new();
        while let Some(chunk) = reader.next_chunk().expect("reads") {
            for_each_record(&chunk, |record, raw| {
                records.push((raw.line, record.iter().map(<[u8]>::to_vec).collect()));
            });
        }
        (header, records)
    }

    #[test]
    fn quoted_line_breaks_commas_and_doubled_quotes_stay_in_their_field() {
        let (header, records) = chunks_of(b"a,b\n1,\"x\ny, \"\"q\"\"\"\n2,plain\r\n3,\"\"\n");
        assert_eq!(header.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], (2, vec![b"1".to_vec(), b"x\ny, \"q\"".to_vec()]));
        assert_eq!(records[1], (4, vec![b"2".to_vec(), b"plain".to_vec()]));
        assert_eq!(records[2], (5, vec![b"3".to_vec(), b"".to_vec()]));
    }

    #[test]
    fn a_blank_line_is_no_record_but_a_line_of_two_quotes_is_one() {
        let (_, records) = chunks_of(b"a,b\n1,2\n\n\"\"\r\n\n3,4\n");
        assert_eq!(
            records,
            vec![
                (2, vec![b"1".to_vec(), b"2".to_vec()]),
                (4, vec![b"".to_vec()]),
                (6, vec![b"3".to_vec(), b"4".to_vec()]),
            ]
        );
    }

    #[test]
    fn a_bom_and_a_missing_final_newline_are_fine() {
        let (header, records) = chunks_of(b"\xEF\xBB\xBFa,b\n1,2");
        assert_eq!(header.get(0), Some("a"));
        assert_eq!(records, vec![(2, vec![b"1".to_vec(), b"2".to_vec()])]);
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_pass_through_to_the_transform() {
        let (_, records) = chunks_of(b"a,b\n1,x\0y\n2,\xff\xfe\n");
        assert_eq!(records[0].1[1], b"x\0y".to_vec());
        assert_eq!(records[1].1[1], b"\xff\xfe".to_vec());
    }

    #[test]
    fn line_numbers_hold_across_many_chunks() {
        let mut content = b"a,b\n".to_vec();
        let bio = "word ".repeat(400);
        for i in 0..6_000 {
            content.extend_from_slice(format!("{i},\"{bio}\nsecond line\"\n").as_bytes());
        }
        assert!(content.len() > 3 * READ_BYTES);
        let (_, records) = chunks_of(&content);
        assert_eq!(records.len(), 6_000);
        for (i, (line, fields)) in records.iter().enumerate() {
            assert_eq!(*line, 2 + 2 * i as u64);
            assert_eq!(fields[0], i.to_string().into_bytes());
        }
    }

    #[test]
    fn the_fingerprint_ignores_the_chunk_size_and_a_second_pass_stops_at_a_changed_block() {
        let mut content = b"a,b\n".to_vec();
        for i in 0..100_000 {
            content.extend_from_slice(format!("{i},\"some longer text {i}\"\n").as_bytes());
        }
        assert!(content.len() > 2 * READ_BYTES);
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&content).expect("write");
        let read_all = |reader: &mut ChunkReader| -> Result<u64, SourceError> {
            reader.header()?;
            let mut chunks = 0;
            while reader.next_chunk()?.is_some() {
                chunks += 1;
            }
            Ok(chunks)
        };
        let mut small = ChunkReader::open(file.path(), 10).expect("opens");
        let mut large = ChunkReader::open(file.path(), 10_000).expect("opens");
        read_all(&mut small).expect("reads");
        read_all(&mut large).expect("reads");
        let first = small.fingerprint();
        assert_eq!(first, large.fingerprint());
        assert_eq!(first.bytes, content.len() as u64);

        let mut again = ChunkReader::open(file.path(), 100)
            .expect("opens")
            .expecting(first.clone());
        read_all(&mut again).expect("the same bytes pass");

        // One byte of the second block changed: the chunks of the first
        // block are handed out, then the reader stops.
        let mut edited = content.clone();
        let at = READ_BYTES + 100;
        edited[at] = if edited[at] == b'7' { b'8' } else { b'7' };
        std::fs::write(file.path(), &edited).expect("rewrite");
        let mut changed = ChunkReader::open(file.path(), 100)
            .expect("opens")
            .expecting(first);
        let err = read_all(&mut changed).expect_err("a changed block");
        assert!(
            matches!(err, SourceError::Changed { offset, .. } if offset == READ_BYTES as u64),
            "{err}"
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let mut reader = ChunkReader::open(file.path(), 100).expect("opens");
        assert!(matches!(reader.header(), Err(SourceError::Empty { .. })));
    }
}
