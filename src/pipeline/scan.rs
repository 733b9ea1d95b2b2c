//! The parallel, ordered scan of a file: one thread splits the file into
//! chunks of whole records, `threads` workers process chunks at once, and
//! the caller consumes the results in file order.
//!
//! Channels are bounded, so memory stays at a few chunks per thread
//! whatever the file size.
//!
//! Every chunk's bytes are hashed on the worker threads (xxh3, far faster
//! than parsing), so a scan also yields a fingerprint of the whole byte
//! stream: two passes over a file can tell whether they read the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::source::reader::{Chunk, ChunkReader, SourceError, check_header};

/// The fingerprint of the bytes a scan read: one hash per chunk, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamFingerprint {
    pub chunks: Vec<u64>,
}

impl StreamFingerprint {
    /// One value for the whole stream (for a checkpoint).
    pub fn whole(&self) -> String {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for digest in &self.chunks {
            hasher.update(&digest.to_le_bytes());
        }
        format!("{}:{:032x}", self.chunks.len(), hasher.digest128())
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
        let splitter = scope.spawn(move || -> Result<(), SourceError> {
            while let Some(chunk) = reader.next_chunk()? {
                if chunk_tx.send(chunk).is_err() {
                    // The consumer stopped; nothing more to read.
                    break;
                }
            }
            Ok(())
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
            (None, Ok(())) => Ok(fingerprint),
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
