//! The parallel, ordered scan of a file: one thread splits the file into
//! chunks of whole records, `threads` workers process chunks at once, and
//! the caller consumes the results in file order.
//!
//! Channels are bounded, so memory stays at a few chunks per thread
//! whatever the file size.
//!
//! A scan also fingerprints the bytes it read (xxh3, far faster than
//! parsing): the splitter hashes the whole stream in order, whatever the
//! chunk size, and the workers hash each chunk, so that a second pass can
//! tell, chunk by chunk, whether it reads the bytes the first one read.

use std::collections::BTreeMap;
use std::path::Path;

use crate::source::reader::{Chunk, ChunkReader, SourceError, check_header};

/// The fingerprint of the bytes a scan read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamFingerprint {
    /// One hash per chunk, in file order (for a second pass of the same
    /// configuration).
    pub chunks: Vec<u64>,
    /// Bytes read, header included.
    pub bytes: u64,
    /// The hash of every byte read, in order: the same for the same file
    /// whatever the chunk size (for a checkpoint).
    pub digest: u128,
}

impl StreamFingerprint {
    /// The whole stream's fingerprint as text.
    pub fn whole(&self) -> String {
        format!("{}:{:032x}", self.bytes, self.digest)
    }
}

/// Splits `path`, runs `work` on every chunk on `threads` threads, and hands
/// each result with its chunk's hash to `consume` in file order. Stops
/// early, with the error, when `consume` fails.
pub fn scan<T, E>(
    path: &Path,
    threads: usize,
    records_per_chunk: u64,
    work: impl Fn(Chunk) -> T + Sync,
    mut consume: impl FnMut(T, u64) -> Result<(), E>,
) -> Result<StreamFingerprint, ScanError<E>>
where
    T: Send,
{
    let mut reader = ChunkReader::open(path, records_per_chunk).map_err(ScanError::Source)?;
    let header = reader.header().map_err(ScanError::Source)?;
    check_header(path, &header).map_err(ScanError::Source)?;

    let threads = threads.max(1);
    let (chunk_tx, chunk_rx) = crossbeam_channel::bounded::<Chunk>(threads * 2);
    let (result_tx, result_rx) = crossbeam_channel::bounded::<(u64, u64, T)>(threads * 2);
    std::thread::scope(|scope| {
        let splitter = scope.spawn(move || -> Result<(u64, u128), SourceError> {
            let mut hasher = xxhash_rust::xxh3::Xxh3::new();
            let mut bytes = header.as_byte_record().as_slice().len() as u64;
            for field in header.iter() {
                hasher.update(field.as_bytes());
                hasher.update(b",");
            }
            while let Some(chunk) = reader.next_chunk()? {
                hasher.update(&chunk.bytes);
                bytes += chunk.bytes.len() as u64;
                if chunk_tx.send(chunk).is_err() {
                    // The consumer stopped; nothing more to read.
                    break;
                }
            }
            Ok((bytes, hasher.digest128()))
        });
        for _ in 0..threads {
            let chunk_rx = chunk_rx.clone();
            let result_tx = result_tx.clone();
            let work = &work;
            scope.spawn(move || {
                for chunk in chunk_rx {
                    let index = chunk.index;
                    let digest = xxhash_rust::xxh3::xxh3_64(&chunk.bytes);
                    if result_tx.send((index, digest, work(chunk))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(chunk_rx);
        drop(result_tx);

        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        let mut failure = None;
        let mut fingerprint = StreamFingerprint::default();
        'receive: for (index, digest, result) in result_rx.iter() {
            waiting.insert(index, (digest, result));
            while let Some((digest, result)) = waiting.remove(&next) {
                next += 1;
                fingerprint.chunks.push(digest);
                if let Err(e) = consume(result, digest) {
                    failure = Some(ScanError::Consume(e));
                    break 'receive;
                }
            }
        }
        // Closing the results channel makes the workers stop, which closes
        // the chunk channel and stops the splitter.
        drop(result_rx);
        drop(waiting);
        let split = match splitter.join() {
            Ok(result) => result,
            Err(_) => Err(SourceError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other("the reading thread stopped unexpectedly"),
            }),
        };
        match (failure, split) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(ScanError::Source(e)),
            (None, Ok((bytes, digest))) => Ok(StreamFingerprint {
                bytes,
                digest,
                ..fingerprint
            }),
        }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError<E> {
    #[error(transparent)]
    Source(SourceError),
    #[error(transparent)]
    Consume(E),
}
