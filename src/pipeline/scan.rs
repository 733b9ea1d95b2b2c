//! The parallel, ordered scan of a file: one thread splits the file into
//! chunks of whole records (or reads a Parquet file's batches), `threads`
//! workers process chunks at once, and the caller consumes the results in
//! file order.
//!
//! Channels are bounded, so memory stays at a few chunks per thread
//! whatever the file size.
//!
//! A scan returns the fingerprint of the bytes it read, and each worker's
//! final state; given an earlier scan's fingerprint, it stops at the first
//! block that differs (see [`InputChunks::open`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::source::chunks::InputChunks;
use crate::source::reader::{Chunk, ReadLimits, SourceError, StreamFingerprint};

/// Splits `path`, runs `work` on every chunk on `threads` threads, and hands
/// each result to `consume` in file order. Stops early, with the error,
/// when `consume` fails, or when the bytes differ from `expected`.
///
/// Each thread keeps a state `S` across the chunks it works on; a thread
/// takes its chunks in file order. A complete scan returns every thread's
/// final state.
pub fn scan<S, T, E>(
    path: &Path,
    threads: usize,
    records_per_chunk: u64,
    limits: ReadLimits,
    expected: Option<&StreamFingerprint>,
    work: impl Fn(&mut S, Chunk) -> T + Sync,
    mut consume: impl FnMut(T) -> Result<(), E>,
) -> Result<(StreamFingerprint, Vec<S>), ScanError<E>>
where
    S: Default + Send,
    T: Send,
{
    let mut reader =
        InputChunks::open(path, records_per_chunk, limits, expected).map_err(ScanError::Source)?;

    let threads = threads.max(1);
    let (chunk_tx, chunk_rx) = flume::bounded::<Chunk>(threads * 2);
    let (result_tx, result_rx) = flume::bounded::<(u64, T)>(threads * 2);
    std::thread::scope(|scope| {
        let splitter = scope.spawn(move || -> Result<StreamFingerprint, SourceError> {
            while let Some(chunk) = reader.next_chunk()? {
                if chunk_tx.send(chunk).is_err() {
                    // The consumer stopped; nothing more to read.
                    break;
                }
            }
            Ok(reader.fingerprint())
        });
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let chunk_rx = chunk_rx.clone();
                let result_tx = result_tx.clone();
                let work = &work;
                scope.spawn(move || {
                    let mut state = S::default();
                    for chunk in chunk_rx {
                        let index = chunk.index;
                        if result_tx.send((index, work(&mut state, chunk))).is_err() {
                            break;
                        }
                    }
                    state
                })
            })
            .collect();
        drop(chunk_rx);
        drop(result_tx);

        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        let mut failure = None;
        'receive: for (index, result) in result_rx.iter() {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                next += 1;
                if let Err(e) = consume(result) {
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
        let states: Result<Vec<S>, _> = workers.into_iter().map(|w| w.join()).collect();
        match (failure, split, states) {
            (Some(e), _, _) => Err(e),
            (None, Err(e), _) => Err(ScanError::Source(e)),
            (None, Ok(_), Err(_)) => Err(ScanError::Source(SourceError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other("a transform thread stopped unexpectedly"),
            })),
            (None, Ok(fingerprint), Ok(states)) => Ok((fingerprint, states)),
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
