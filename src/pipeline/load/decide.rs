//! What a load will do, and whether it may: the checkpoint it resumes, the
//! analysis of the file, and every refusal (a checkpoint of another graph,
//! a file still being written, too many rejects, a snapshot from the future
//! or older than the graph's, too many learners marked missing, a lock
//! taken over), all decided before the first write. `--dry-run` stops here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;

use super::summary::PhaseSummary;
use super::{LoadError, LoadOptions};
use crate::config::Config;
use crate::graph::counts::GraphOptions;
use crate::graph::model::RelType;
use crate::pipeline::analyze::{Analysis, Depth, analyze, key_fingerprint};
use crate::pipeline::checkpoint::{self, CheckpointError, CheckpointV1};
use crate::pipeline::progress::PhaseProgress;
use crate::sink::neo4j::lock::HeldLock;
use crate::sink::neo4j::{Neo4jSink, SinkError};
use crate::source::growing::{self, Written};
use crate::source::reader::SourceError;
use crate::transform::today;

/// A load up to its first write: the file analysed, the graph asked, and
/// every refusal decided.
pub(super) struct Prepared {
    pub started: Instant,
    pub checkpoint_file: PathBuf,
    pub resumed: Option<CheckpointV1>,
    pub sink: Neo4jSink,
    pub phases: Vec<PhaseSummary>,
    pub analysis: Analysis,
    pub snapshot_date: Option<NaiveDate>,
    /// The graph may hold some of the file's learners already.
    pub check_existing: bool,
    pub missing: MissingPlan,
    /// The graph options this load changes (`--apply-graph-options`).
    pub options_change: Option<OptionsChange>,
}

/// Graph options (`graph.*`) that differ from those the graph is written
/// with: the relationship types a load turns on, and those it turns off.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OptionsChange {
    pub turned_on: Vec<RelType>,
    pub turned_off: Vec<RelType>,
}

impl OptionsChange {
    /// What differs between the graph's options and the configured ones.
    pub fn between(graph: GraphOptions, configured: GraphOptions) -> Option<Self> {
        let mut change = OptionsChange::default();
        for (rel, was, is) in [
            (RelType::ResidesIn, graph.resides_in, configured.resides_in),
            (RelType::FromCountry, graph.from_country, configured.from_country),
        ] {
            match (was, is) {
                (false, true) => change.turned_on.push(rel),
                (true, false) => change.turned_off.push(rel),
                _ => {}
            }
        }
        (change != OptionsChange::default()).then_some(change)
    }

    /// As the configuration says it: `graph.resides_in = true (the graph has false)`.
    pub fn describe(&self) -> String {
        let key = |rel: RelType| match rel {
            RelType::ResidesIn => "graph.resides_in",
            _ => "graph.from_country",
        };
        self.turned_on
            .iter()
            .map(|rel| format!("{} = true (the graph is written with false)", key(*rel)))
            .chain(
                self.turned_off
                    .iter()
                    .map(|rel| format!("{} = false (the graph is written with true)", key(*rel))),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Refuses a load whose graph options differ from the graph's unless told
/// to apply them: a load would otherwise write them for its changed
/// learners only, and leave a graph that is half one and half the other.
async fn graph_options_change(
    sink: &Neo4jSink,
    config: &Config,
    options: LoadOptions,
) -> Result<Option<OptionsChange>, LoadError> {
    let in_force = sink.graph_options_in_force().await?;
    let Some(change) = OptionsChange::between(in_force, config.graph) else {
        return Ok(None);
    };
    if !options.apply_graph_options {
        return Err(LoadError::GraphOptionsChanged {
            changes: change.describe(),
        });
    }
    tracing::warn!(
        changes = %change.describe(),
        "Applying the changed graph options to the whole graph: every learner of the file is written again"
    );
    Ok(Some(change))
}

pub(super) async fn prepare(
    input: &Path,
    config: &Config,
    options: LoadOptions,
    depth: Depth,
    sink: Neo4jSink,
) -> Result<Prepared, LoadError> {
    let started = Instant::now();
    let checkpoint_file = checkpoint::checkpoint_path(input);
    let mut resumed = open_checkpoint(&checkpoint_file, input, config, options.resume)?;
    if let Some(checkpoint) = &mut resumed {
        check_same_graph(&sink, checkpoint, &checkpoint_file, config).await?;
    }
    let mut phases = Vec::new();
    let analysis = analyze_for_load(input, config, depth, &mut phases).await?;
    wait_until_written(input).await?;
    if let Some(checkpoint) = &resumed {
        checkpoint::check_same_stream(&checkpoint_file, checkpoint, &analysis.fingerprint.whole())?;
    }
    if let Some(date) = analysis.future_snapshot() {
        return Err(LoadError::FutureSnapshot {
            date,
            today: today(),
            configured: false,
        });
    }
    refuse_too_many_rejects(&analysis, config)?;
    let snapshot_date = snapshot_date(&analysis, config, &sink).await?;
    let check_existing = resumed.is_some() || sink.has_learners().await?;
    let options_change = if check_existing {
        graph_options_change(&sink, config, options).await?
    } else {
        None
    };
    let mut missing = if check_existing {
        plan_missing(&sink, &analysis, config, options).await?
    } else {
        MissingPlan::default()
    };
    if options_change.is_some() {
        // Every learner is written again, whatever its fingerprint.
        missing.known.clear();
    }
    Ok(Prepared {
        started,
        checkpoint_file,
        resumed,
        sink,
        phases,
        analysis,
        snapshot_date,
        check_existing,
        missing,
        options_change,
    })
}

/// The checkpoint of the load being resumed, or `None` for a fresh load.
/// `--resume` without a checkpoint starts from the beginning, and says so.
fn open_checkpoint(
    path: &Path,
    input: &Path,
    config: &Config,
    resume: bool,
) -> Result<Option<CheckpointV1>, LoadError> {
    if !resume {
        return Ok(None);
    }
    match checkpoint::read_for_resume(path, input, config) {
        Ok(checkpoint) => {
            tracing::info!(
                checkpoint = %path.display(),
                committed_records = checkpoint.committed_records,
                entities_done = checkpoint.entities_done,
                "Resuming"
            );
            Ok(Some(checkpoint))
        }
        Err(CheckpointError::Finished { .. }) => {
            tracing::warn!(
                checkpoint = %path.display(),
                "The checkpoint records a finished load: nothing to resume, so this is a new load of the input as it \
                 is now (rows already in the graph as they are are not written again)"
            );
            Ok(None)
        }
        Err(CheckpointError::Missing { .. }) => {
            tracing::warn!(
                checkpoint = %path.display(),
                "No checkpoint to resume from: starting from the beginning (rows already in the graph are not written twice)"
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A resume continues the load its checkpoint records only on the graph
/// that load wrote to: after a `clear`, or against another database, the
/// rows up to the checkpoint would be silently absent.
async fn check_same_graph(
    sink: &Neo4jSink,
    checkpoint: &mut CheckpointV1,
    path: &Path,
    config: &Config,
) -> Result<(), LoadError> {
    if checkpoint.load_id.is_empty() {
        // Written by a version that did not record loads in the graph: the
        // graph cannot be checked; from here on the load is recorded.
        tracing::warn!(
            checkpoint = %path.display(),
            "The checkpoint holds no load id (an earlier version wrote it): resuming without checking that the graph is the one it was written against"
        );
        checkpoint.load_id = checkpoint::new_load_id();
        return Ok(());
    }
    if !sink.has_load_run(&checkpoint.load_id).await? {
        return Err(CheckpointError::OtherGraph {
            path: path.to_path_buf(),
            uri: config.neo4j.uri.clone(),
            database: config.neo4j.database.clone(),
            committed: checkpoint.committed_records,
        }
        .into());
    }
    Ok(())
}

/// Waits until a table's spool is written whole: a trial's analysis stops
/// after its first rows, and the checkpoint fingerprints the spool only
/// once it is in place (never an older one at the same path).
async fn wait_until_written(input: &Path) -> Result<(), LoadError> {
    let path = input.to_path_buf();
    let state = tokio::task::spawn_blocking(move || growing::wait(&path))
        .await
        .expect("waiting does not panic");
    match state {
        Written::Failed(message) => Err(SourceError::TableRead {
            path: input.to_path_buf(),
            message,
        }
        .into()),
        _ => Ok(()),
    }
}

/// The analysis pass, on a blocking thread, with its progress.
async fn analyze_for_load(
    input: &Path,
    config: &Config,
    depth: Depth,
    phases: &mut Vec<PhaseSummary>,
) -> Result<Analysis, LoadError> {
    let progress = Arc::new(PhaseProgress::new("analyze", "rows", None));
    let analysis = {
        let (input, config, progress) = (input.to_path_buf(), config.clone(), progress.clone());
        tokio::task::spawn_blocking(move || {
            let mut last = 0;
            analyze(&input, &config, depth, |rows| {
                progress.add(rows - last);
                last = rows;
            })
        })
        .await
        .expect("the analysis thread does not panic")?
    };
    phases.push(PhaseSummary {
        name: "analysis (read+check)",
        seconds: Arc::into_inner(progress)
            .map(PhaseProgress::finish)
            .unwrap_or(analysis.seconds),
        items: analysis.rows_read,
    });
    Ok(analysis)
}

fn refuse_too_many_rejects(analysis: &Analysis, config: &Config) -> Result<(), LoadError> {
    if analysis.rejected_share() > config.validation.max_error_rate {
        return Err(LoadError::TooManyRejects {
            rejected: analysis.rows_rejected(),
            read: analysis.rows_read,
            share: analysis.rejected_share() * 100.0,
            max: config.validation.max_error_rate * 100.0,
            rejects: analysis.rejects_file.clone(),
        });
    }
    Ok(())
}

/// The snapshot date of this load: configured, else the one most rows
/// carry. A date in the future is a broken export; one older than the
/// graph's latest would close current states with an earlier date than the
/// ones that opened them.
async fn snapshot_date(
    analysis: &Analysis,
    config: &Config,
    sink: &Neo4jSink,
) -> Result<Option<NaiveDate>, LoadError> {
    let date = config.etl.snapshot_date.or(analysis.dominant_snapshot());
    let off = analysis.rows_off_snapshot();
    if let Some(most) = analysis.dominant_snapshot().filter(|_| off > 0) {
        tracing::warn!(
            rows = off,
            dates = analysis.snapshot_dates.len(),
            most_common = %most,
            "Rows carry another snapshot_id than most of the file ({most}); the load is dated {}",
            match config.etl.snapshot_date {
                Some(given) => format!("{given}, as --snapshot-date says"),
                None => "by the most common one".to_string(),
            }
        );
    }
    let Some(date) = date else { return Ok(None) };
    let today = today();
    if date > today {
        return Err(LoadError::FutureSnapshot {
            date,
            today,
            configured: config.etl.snapshot_date.is_some(),
        });
    }
    if let Some(graph) = sink.latest_snapshot().await?
        && date < graph
    {
        return Err(LoadError::OlderSnapshot { file: date, graph });
    }
    if let Some(later) = sink.later_snapshot_run(date).await? {
        return Err(LoadError::LaterSnapshotStarted {
            file: date,
            later: later.date,
            kind: later.kind(),
            from: later
                .file
                .as_deref()
                .map(|f| format!(", from {}", crate::text::terminal_safe(f)))
                .unwrap_or_default(),
            run: later.id,
        });
    }
    Ok(Some(date))
}

/// The learners a later snapshot marks missing: in the graph (and not
/// already marked), named by no row of the file. A learner whose row was
/// rejected is still in the file: it is kept as it is and counted apart.
#[derive(Debug, Default)]
pub(super) struct MissingPlan {
    pub missing: Vec<String>,
    pub kept_row_rejected: u64,
    /// The fingerprints (`sourceHash`) of the present learners the file
    /// holds too, by key fingerprint: phase 2 skips a row whose learner's
    /// fingerprint is unchanged without asking the database.
    pub known: rustc_hash::FxHashMap<u128, i64>,
    /// Present learners the file holds too.
    pub present_in_file: u64,
}

async fn plan_missing(
    sink: &Neo4jSink,
    analysis: &Analysis,
    config: &Config,
    options: LoadOptions,
) -> Result<MissingPlan, LoadError> {
    let mut plan = MissingPlan::default();
    let present = sink
        .for_each_present_learner(|key, hash| {
            let fingerprint = key_fingerprint(&key);
            if analysis.learner_keys.contains_fingerprint(fingerprint) {
                plan.present_in_file += 1;
                if let Some(hash) = hash {
                    plan.known.insert(fingerprint, hash);
                }
                return;
            }
            if analysis.rejected_keys.contains(&fingerprint) {
                plan.kept_row_rejected += 1;
            } else {
                plan.missing.push(key);
            }
        })
        .await?;
    if let Some(rows) = config.etl.max_rows {
        tracing::warn!(
            rows,
            "A trial load reads only the first rows: no learner is marked missing"
        );
        plan.missing.clear();
    }
    if plan.kept_row_rejected > 0 {
        tracing::warn!(
            learners = plan.kept_row_rejected,
            rejects = %analysis.rejects_file.display(),
            "Learners whose row was rejected are kept as the graph has them, not marked missing"
        );
    }
    let share = plan.missing.len() as f64 / present.max(1) as f64;
    if share > config.etl.max_missing_share && !options.allow_missing {
        return Err(LoadError::TooManyMissing {
            missing: plan.missing.len() as u64,
            present,
            share: share * 100.0,
            max: config.etl.max_missing_share * 100.0,
        });
    }
    Ok(plan)
}

/// Taken over while this run analysed (its heartbeat seemed old to
/// another): the other run writes, this one must not.
pub(super) async fn refuse_if_lock_lost(sink: &Neo4jSink, lock: &HeldLock) -> Result<(), LoadError> {
    if !lock.lost() {
        return Ok(());
    }
    let refusal = match sink.lock_holder().await? {
        Some(holder) => holder.refusal(),
        None => SinkError::Locked {
            holder: "a run that took this run's lock over (and has finished since)".to_string(),
            since: "this run's analysis".to_string(),
            silent_seconds: 0,
            stale_seconds: 0,
        },
    };
    Err(refusal.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(resides_in: bool, from_country: bool) -> GraphOptions {
        GraphOptions {
            resides_in,
            from_country,
        }
    }

    #[test]
    fn a_change_of_graph_options_names_each_key_as_the_configuration_says_it() {
        assert_eq!(
            OptionsChange::between(options(true, false), options(true, false)),
            None
        );
        let change = OptionsChange::between(options(true, false), options(false, true)).expect("a change");
        assert_eq!(change.turned_on, [RelType::FromCountry]);
        assert_eq!(change.turned_off, [RelType::ResidesIn]);
        assert_eq!(
            change.describe(),
            "graph.from_country = true (the graph is written with false), \
             graph.resides_in = false (the graph is written with true)"
        );
    }
}
