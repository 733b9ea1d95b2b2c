//! Checkpoints of a load: what phase 2 has committed, written atomically
//! (temporary file, fsync, rename) every `etl.checkpoint_interval` rows, so
//! that `load --resume` continues where a crash or a lost database stopped
//! it. A checkpoint names its input and the settings that shape the graph;
//! one from another file or configuration is refused.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The checkpoint file, versioned so that a later format can read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "version")]
pub enum Checkpoint {
    #[serde(rename = "1")]
    V1(CheckpointV1),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointV1 {
    pub input: PathBuf,
    /// Size and content hash of the input's first and last MiB.
    pub input_fingerprint: String,
    /// Hash of the settings that decide what is written, and where.
    pub config_fingerprint: String,
    /// Those settings themselves (no secret among them), so that a refused
    /// resume names the one that differs; absent in earlier versions'
    /// checkpoints.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Fingerprint of every byte the analysis pass read (see
    /// [`StreamFingerprint`](crate::pipeline::scan::StreamFingerprint)).
    #[serde(default)]
    pub stream_fingerprint: String,
    /// The id of the load's `LoadRun` record in the graph: a resume goes on
    /// only in the graph that holds it.
    #[serde(default)]
    pub load_id: String,
    /// Phase 1 (shared entities) is done.
    pub entities_done: bool,
    /// Every row up to this record number (1-based) is committed.
    pub committed_records: u64,
    /// The whole load finished.
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read the checkpoint {path}: {message}; delete it to load from the start")]
    Read { path: PathBuf, message: String },
    #[error("cannot write the checkpoint {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("there is no checkpoint at {path}: run `learngraph load` without --resume to start")]
    Missing { path: PathBuf },
    #[error("the checkpoint {path} records a finished load: there is nothing to resume")]
    Finished { path: PathBuf },
    #[error(
        "the checkpoint {path} records {committed} committed rows of a load into a graph that no longer holds it \
         ({uri}, database {database}: it was cleared, or this is another database); resuming would leave those rows \
         out. Load from the start without --resume (delete the checkpoint), or point at the graph of the \
         interrupted load"
    )]
    OtherGraph {
        path: PathBuf,
        uri: String,
        database: String,
        committed: u64,
    },
    #[error(
        "the checkpoint {path} belongs to {what}; refusing to resume. Load from the start without --resume, or use the \
         file and configuration of the interrupted load"
    )]
    Mismatch { path: PathBuf, what: String },
}

/// Where a load's checkpoint lives: `<input>.checkpoint.json`.
pub fn checkpoint_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_os_string();
    name.push(".checkpoint.json");
    name.into()
}

/// Size plus a hash of the first and last MiB: cheap, and changes when the
/// file is replaced by another export.
pub fn input_fingerprint(input: &Path) -> std::io::Result<String> {
    const PART: u64 = 1 << 20;
    let mut file = std::fs::File::open(input)?;
    let size = file.metadata()?.len();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = Vec::new();
    (&mut file).take(PART).read_to_end(&mut buffer)?;
    hasher.update(&buffer);
    if size > PART {
        file.seek(SeekFrom::Start(size.saturating_sub(PART).max(PART)))?;
        buffer.clear();
        file.take(PART).read_to_end(&mut buffer)?;
        hasher.update(&buffer);
    }
    Ok(format!("{size}:{:032x}", hasher.digest128()))
}

/// The settings that decide what a load writes and where.
pub fn config_fingerprint(config: &Config) -> String {
    let parts: BTreeMap<&str, String> = resume_settings(config)
        .into_iter()
        .map(|(key, value)| (fingerprint_name(key), value))
        .collect();
    let text = format!("{parts:?}");
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// The settings a resume must share with the interrupted load, by the
/// name an operator sets them under; none holds a secret (URIs hold none
/// once the configuration has split their credentials off).
pub fn resume_settings(config: &Config) -> BTreeMap<&'static str, String> {
    let mut settings = BTreeMap::new();
    settings.insert("neo4j.uri", config.neo4j.uri.clone());
    settings.insert("neo4j.database", config.neo4j.database.clone());
    settings.insert("etl.snapshot_date", format!("{:?}", config.etl.snapshot_date));
    settings.insert("graph", format!("{:?}", config.graph));
    // Only when set, so that checkpoints of earlier versions still match.
    if let Some(rows) = config.etl.max_rows {
        settings.insert("--max-rows", rows.to_string());
    }
    if let Some(source) = &config.source {
        let table = &source.table;
        settings.insert(
            "source.uri",
            format!(
                "mysql://{}:{}/{}?table={}",
                table.host, table.port, table.database, table.table
            ),
        );
    }
    settings
}

/// The names the fingerprint has always hashed the settings under, so that
/// earlier versions' checkpoints still match.
fn fingerprint_name(key: &str) -> &'static str {
    match key {
        "neo4j.uri" => "uri",
        "neo4j.database" => "database",
        "etl.snapshot_date" => "snapshot_date",
        "graph" => "graph",
        "--max-rows" => "max_rows",
        _ => "source",
    }
}

/// What differs between the interrupted load's settings and this run's,
/// as `key: "then" then, "now" now`; `None` for a checkpoint that did not
/// keep them.
fn differing_settings(
    then: &BTreeMap<String, String>,
    now: &BTreeMap<&'static str, String>,
) -> Option<String> {
    if then.is_empty() {
        return None;
    }
    let keys: std::collections::BTreeSet<&str> = then
        .keys()
        .map(String::as_str)
        .chain(now.keys().copied())
        .collect();
    let shown = |value: Option<&String>| {
        value.map_or("(not set)".to_string(), |v| {
            format!("{:?}", crate::text::terminal_safe(v))
        })
    };
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|key| then.get(*key) != now.get(key))
        .map(|key| {
            format!(
                "{key} was {} and is now {}",
                shown(then.get(key)),
                shown(now.get(key))
            )
        })
        .collect();
    (!differing.is_empty()).then(|| differing.join("; "))
}

impl CheckpointV1 {
    pub fn new(input: &Path, config: &Config) -> std::io::Result<Self> {
        Ok(CheckpointV1 {
            input: input.to_path_buf(),
            input_fingerprint: input_fingerprint(input)?,
            config_fingerprint: config_fingerprint(config),
            settings: resume_settings(config)
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
            stream_fingerprint: String::new(),
            load_id: new_load_id(),
            entities_done: false,
            committed_records: 0,
            complete: false,
        })
    }
}

/// A fresh, unique load id: time and process, hashed with random bits.
pub fn new_load_id() -> String {
    use rand::RngCore;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut seed = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut seed);
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&nanos.to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&seed);
    format!("{:032x}", hasher.digest128())
}

/// A resume goes on only over the same bytes the interrupted load read.
pub fn check_same_stream(
    path: &Path,
    checkpoint: &CheckpointV1,
    fingerprint: &str,
) -> Result<(), CheckpointError> {
    if !checkpoint.stream_fingerprint.is_empty() && checkpoint.stream_fingerprint != fingerprint {
        return Err(CheckpointError::Mismatch {
            path: path.to_path_buf(),
            what: format!(
                "another version of the input ({} was edited since the interrupted load)",
                checkpoint.input.display()
            ),
        });
    }
    Ok(())
}

/// Reads the checkpoint for a resume and checks it belongs to this input
/// and configuration.
pub fn read_for_resume(path: &Path, input: &Path, config: &Config) -> Result<CheckpointV1, CheckpointError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CheckpointError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(CheckpointError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    let Checkpoint::V1(checkpoint) = serde_json::from_str(&text).map_err(|e| CheckpointError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // A finished load's checkpoint is spent: whatever the input is now, a
    // resume has nothing of it to continue.
    if checkpoint.complete {
        return Err(CheckpointError::Finished {
            path: path.to_path_buf(),
        });
    }
    let fingerprint = input_fingerprint(input).map_err(|e| CheckpointError::Read {
        path: input.to_path_buf(),
        message: e.to_string(),
    })?;
    if checkpoint.input_fingerprint != fingerprint {
        let what = if checkpoint.input == input {
            format!(
                "another version of the input ({} was edited since the interrupted load)",
                input.display()
            )
        } else {
            format!("another input file ({})", checkpoint.input.display())
        };
        return Err(CheckpointError::Mismatch {
            path: path.to_path_buf(),
            what,
        });
    }
    if checkpoint.config_fingerprint != config_fingerprint(config) {
        let what = match differing_settings(&checkpoint.settings, &resume_settings(config)) {
            Some(differing) => format!("another configuration: {differing}"),
            None => {
                "another configuration (the database, the source, the snapshot date or the graph options \
                     differ)"
                    .to_string()
            }
        };
        return Err(CheckpointError::Mismatch {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(checkpoint)
}

/// Whether `path` holds the checkpoint of an interrupted load (one a
/// resume continues): it exists, reads, and its load did not finish.
pub fn is_interrupted(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<Checkpoint>(&text).ok())
        .is_some_and(|Checkpoint::V1(checkpoint)| !checkpoint.complete)
}

/// Writes a checkpoint atomically: a reader sees the old one or the new one,
/// never a torn file.
pub fn write(path: &Path, checkpoint: &CheckpointV1) -> Result<(), CheckpointError> {
    let fail = |e: &dyn std::fmt::Display| CheckpointError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let text = serde_json::to_vec_pretty(&Checkpoint::V1(checkpoint.clone())).map_err(|e| fail(&e))?;
    crate::pipeline::outputs::write_atomically(path, &text).map_err(|e| fail(&e))
}

/// Tracks which phase 2 batches have committed and reports the record up to
/// which everything has: batches commit out of order on several writers.
#[derive(Debug, Default)]
pub struct CommitTracker {
    /// Batch index -> its last record number, for batches committed ahead
    /// of an earlier one still running.
    ahead: BTreeMap<u64, u64>,
    next_batch: u64,
    committed_records: u64,
}

impl CommitTracker {
    pub fn starting_at(committed_records: u64) -> Self {
        CommitTracker {
            committed_records,
            ..CommitTracker::default()
        }
    }

    /// The record number up to which every row is committed.
    pub fn committed_records(&self) -> u64 {
        self.committed_records
    }

    /// Notes that batch `index` (ending at record `last_record`) committed;
    /// returns the record number up to which every row is committed.
    pub fn committed(&mut self, index: u64, last_record: u64) -> u64 {
        self.ahead.insert(index, last_record);
        while let Some(last) = self.ahead.remove(&self.next_batch) {
            self.committed_records = self.committed_records.max(last);
            self.next_batch += 1;
        }
        self.committed_records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvOverrides, FlagOverrides, RawConfig};

    fn config(toml: &str) -> Config {
        Config::build(
            RawConfig::from_toml(toml).expect("toml"),
            &EnvOverrides::default(),
            &FlagOverrides::default(),
        )
        .expect("valid")
    }

    #[test]
    fn the_committed_prefix_waits_for_the_slowest_batch() {
        let mut tracker = CommitTracker::starting_at(0);
        assert_eq!(tracker.committed(1, 200), 0, "batch 0 is still running");
        assert_eq!(tracker.committed(2, 300), 0);
        assert_eq!(tracker.committed(0, 100), 300);
        assert_eq!(tracker.committed(3, 400), 400);
    }

    #[test]
    fn a_checkpoint_round_trips_and_refuses_another_file_or_configuration() {
        let dir = tempfile::tempdir().expect("dir");
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "a,b\n1,2\n").expect("write");
        let path = checkpoint_path(&input);
        let base = config("");
        let mut checkpoint = CheckpointV1::new(&input, &base).expect("new");
        checkpoint.committed_records = 42;
        write(&path, &checkpoint).expect("write");
        assert_eq!(read_for_resume(&path, &input, &base).expect("read"), checkpoint);

        let other = config("[graph]\nresides_in = true");
        assert!(matches!(
            read_for_resume(&path, &input, &other),
            Err(CheckpointError::Mismatch { .. })
        ));
        // The refusal names the one setting that differs, then and now.
        let other = config("[neo4j]\ndatabase = \"elsewhere\"");
        let err = read_for_resume(&path, &input, &other).expect_err("another database");
        let text = err.to_string();
        assert!(
            text.contains("neo4j.database was \"neo4j\" and is now \"elsewhere\""),
            "{text}"
        );
        assert!(!text.contains("neo4j.uri"), "only what differs: {text}");
        std::fs::write(&input, "a,b\n1,3\n").expect("change the input");
        let err = read_for_resume(&path, &input, &base).expect_err("an edited file");
        assert!(err.to_string().contains("was edited"), "{err}");
        let moved = dir.path().join("other.csv");
        std::fs::write(&moved, "a,b\n9,9\n").expect("write");
        let err = read_for_resume(&path, &moved, &base).expect_err("another file");
        assert!(err.to_string().contains("another input file"), "{err}");
        assert!(matches!(
            read_for_resume(&dir.path().join("none.json"), &input, &base),
            Err(CheckpointError::Missing { .. })
        ));
    }

    #[test]
    fn a_checkpoint_of_an_earlier_version_still_reads() {
        let text = r#"{"version":"1","input":"in.csv","input_fingerprint":"8:00","config_fingerprint":"ab",
            "entities_done":true,"committed_records":7,"complete":false}"#;
        let Checkpoint::V1(old) = serde_json::from_str(text).expect("reads");
        assert_eq!(old.committed_records, 7);
        assert!(old.load_id.is_empty() && old.stream_fingerprint.is_empty());
        assert_ne!(new_load_id(), new_load_id());
    }
}
