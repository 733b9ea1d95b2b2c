//! Files this process is still writing for itself: a MySQL table's spool
//! while the table is being read. A [`ChunkReader`](super::reader::ChunkReader)
//! opened on such a file reads the part written so far and waits at its end
//! for more, until the writer says the file is complete: so the analysis
//! runs alongside the table read instead of after it.
//!
//! The writer registers the file's final path with the path it writes
//! (`.partial`, renamed into place when complete); a reader of the final
//! path opens the one being written. Nothing outside this process is
//! followed this way: a file another program is writing reads as it is.
//!
//! A stream is the same without a file: the bytes go through a pipe to the
//! one reader of the path, for a command that reads its input once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How a file being written ended, when it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    InProgress,
    Complete,
    Failed(String),
}

/// One file being written.
#[derive(Debug)]
pub struct Growing {
    pub form: Form,
    state: Mutex<Written>,
}

/// Where the bytes being written go.
#[derive(Debug)]
pub enum Form {
    /// A file, at this path until it is complete (then renamed to the final one).
    File(PathBuf),
    /// A pipe, read once: its reading end until the reader takes it.
    Stream(Mutex<Option<std::io::PipeReader>>),
}

impl Growing {
    pub fn state(&self) -> Written {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn is_stream(&self) -> bool {
        matches!(self.form, Form::Stream(_))
    }
}

type Registry = Mutex<Vec<(PathBuf, Arc<Growing>)>>;

fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Registers `path` as being written at `writing`, until [`finish`].
pub fn register(path: &Path, writing: &Path) -> Arc<Growing> {
    add(
        path,
        Growing {
            form: Form::File(writing.to_path_buf()),
            state: Mutex::new(Written::InProgress),
        },
    )
}

/// Registers `path` as a stream: its one reader gets the bytes written to
/// the returned pipe. The writer sets the state with [`finish`] before it
/// drops the pipe, so that the reader can tell a whole stream from a cut one.
pub fn register_stream(path: &Path) -> std::io::Result<(Arc<Growing>, std::io::PipeWriter)> {
    let (reader, writer) = std::io::pipe()?;
    let growing = add(
        path,
        Growing {
            form: Form::Stream(Mutex::new(Some(reader))),
            state: Mutex::new(Written::InProgress),
        },
    );
    Ok((growing, writer))
}

fn add(path: &Path, growing: Growing) -> Arc<Growing> {
    let growing = Arc::new(growing);
    let mut files = registry().lock().unwrap_or_else(|p| p.into_inner());
    files.retain(|(p, _)| p != path);
    files.push((path.to_path_buf(), growing.clone()));
    growing
}

/// The file being written for `path`, if any.
pub fn lookup(path: &Path) -> Option<Arc<Growing>> {
    let files = registry().lock().unwrap_or_else(|p| p.into_inner());
    files.iter().find(|(p, _)| p == path).map(|(_, g)| g.clone())
}

/// Says how the writing of `path` ended; readers see it at the file's end.
/// A stream stays registered: its reader may not have opened it yet; so
/// does a failed file, so that a later reader or [`wait`] learns of the
/// failure instead of finding no file being written.
pub fn finish(path: &Path, growing: &Growing, how: Written) {
    let complete = how == Written::Complete;
    *growing.state.lock().unwrap_or_else(|p| p.into_inner()) = how;
    if !growing.is_stream() && complete {
        let mut files = registry().lock().unwrap_or_else(|p| p.into_inner());
        files.retain(|(p, _)| p != path);
    }
}

/// Waits until the file written for `path` (if any) is complete, and says
/// how its writing ended: a reader that stopped early (a trial's first
/// rows) must not take the file at `path` for whole before then.
pub fn wait(path: &Path) -> Written {
    let Some(growing) = lookup(path) else {
        return Written::Complete;
    };
    loop {
        match growing.state() {
            Written::InProgress if !growing.is_stream() => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            state => return state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::reader::ChunkReader;
    use std::io::Write;

    /// Every chunk of a reader, and its fingerprint at the end.
    fn read_all(path: &Path) -> (Vec<Vec<u8>>, String) {
        let mut reader = ChunkReader::open(path, 7).expect("opens");
        reader.header().expect("a header");
        let mut chunks = Vec::new();
        while let Some(chunk) = reader.next_chunk().expect("reads") {
            chunks.push(chunk.bytes);
        }
        (chunks, reader.fingerprint().whole())
    }

    #[test]
    fn a_file_read_while_it_is_written_reads_as_the_whole_file_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let whole = dir.path().join("whole.csv");
        let mut text = String::from("a,b\n");
        for i in 0..60_000 {
            text.push_str(&format!("{i},\"quoted, with a\nline break {i}\"\n"));
        }
        std::fs::write(&whole, &text).expect("write");

        let path = dir.path().join("growing.csv");
        let writing = dir.path().join("growing.csv.partial");
        let mut file = std::fs::File::create(&writing).expect("create");
        let growing = register(&path, &writing);
        let bytes = text.into_bytes();
        let writer = {
            let (path, writing, growing) = (path.clone(), writing.clone(), growing.clone());
            std::thread::spawn(move || {
                // Uneven pieces, with pauses: the reader catches up often.
                for piece in bytes.chunks(300_007) {
                    file.write_all(piece).expect("write");
                    file.flush().expect("flush");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                std::fs::rename(&writing, &path).expect("rename");
                finish(&path, &growing, Written::Complete);
            })
        };
        let followed = read_all(&path);
        writer.join().expect("the writer ends");
        assert!(lookup(&path).is_none(), "finished files leave the registry");
        assert_eq!(followed, read_all(&whole), "chunks and fingerprint differ");
        assert_eq!(read_all(&path), read_all(&whole));
    }

    #[test]
    fn a_failed_writer_is_an_error_for_its_reader() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("failed.csv");
        let writing = dir.path().join("failed.csv.partial");
        std::fs::write(&writing, "a,b\n1,2\n").expect("write");
        let growing = register(&path, &writing);
        let mut reader = ChunkReader::open(&path, 7).expect("opens the file being written");
        finish(&path, &growing, Written::Failed("the server went away".into()));
        let error = reader
            .header()
            .and_then(|_| reader.next_chunk())
            .expect_err("a failed writer is an error");
        assert!(error.to_string().contains("the server went away"), "{error}");
        // The failure stays known: a later reader, or a run waiting for
        // the file to be whole, learns of it.
        assert_eq!(wait(&path), Written::Failed("the server went away".into()));
        let mut later = ChunkReader::open(&path, 7).expect("opens");
        let error = later
            .header()
            .and_then(|_| later.next_chunk())
            .expect_err("a failed writer is an error for a later reader too");
        assert!(error.to_string().contains("the server went away"), "{error}");
    }

    fn sample_text() -> String {
        let mut text = String::from("a,b\n");
        for i in 0..60_000 {
            text.push_str(&format!("{i},\"quoted, with a\nline break {i}\"\n"));
        }
        text
    }

    #[test]
    fn a_stream_reads_as_the_whole_file_does_and_only_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let whole = dir.path().join("whole.csv");
        let text = sample_text();
        std::fs::write(&whole, &text).expect("write");
        let path = dir.path().join("streamed.csv");
        let (growing, mut pipe) = register_stream(&path).expect("a pipe");
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                for piece in text.as_bytes().chunks(300_007) {
                    pipe.write_all(piece).expect("write");
                }
                finish(&path, &growing, Written::Complete);
                drop(pipe);
            })
        };
        let streamed = read_all(&path);
        writer.join().expect("the writer ends");
        assert_eq!(streamed, read_all(&whole), "chunks and fingerprint differ");
        assert!(!path.exists(), "a stream writes no file");
        let again = ChunkReader::open(&path, 7).err().expect("a stream is read once");
        assert!(again.to_string().contains("streamed once"), "{again}");
    }

    #[test]
    fn a_stream_whose_writer_stops_without_a_last_word_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cut.csv");
        let (_growing, mut pipe) = register_stream(&path).expect("a pipe");
        let mut reader = ChunkReader::open(&path, 7).expect("opens the stream");
        pipe.write_all(b"a,b\n1,2\n3,4\n").expect("write");
        drop(pipe);
        let error = reader
            .header()
            .and_then(|_| reader.next_chunk())
            .expect_err("a cut stream is an error");
        assert!(
            error.to_string().contains("stopped before the last row"),
            "{error}"
        );
    }
}
