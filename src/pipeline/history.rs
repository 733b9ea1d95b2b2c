//! `history`: what the graph records of its own history, newest first:
//! every snapshot loaded (its Snapshot record and the state transitions its
//! load made) and every run of `load` (its LoadRun record: when it started
//! and ended, whether it finished, what it read), for an operator or a
//! monitor that must know without reading logs whether the last run worked.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Config;
use crate::pipeline::load::LoadError;
use crate::pipeline::outputs::terminal_safe;
use crate::pipeline::text::grouped;
use crate::sink::neo4j::Neo4jSink;
use crate::sink::neo4j::bolt::Row;
use crate::sink::neo4j::cypher::{LOAD_RUN_HISTORY, SNAPSHOT_HISTORY, STATE_TRANSITIONS};

/// One snapshot the graph holds, as its Snapshot record says.
#[derive(Debug, Serialize)]
pub struct SnapshotEntry {
    pub date: NaiveDate,
    /// Learners in the export: new, changed, unchanged and kept (row rejected).
    pub learners_present: u64,
    pub learners_new: u64,
    pub learners_changed: u64,
    pub learners_unchanged: u64,
    pub learners_missing: u64,
    pub learners_kept_row_rejected: u64,
    pub rows_loaded: u64,
    pub file: Option<String>,
    /// Complete loads of this date: more than one when a corrected export
    /// of the same date was loaded again (the counts are the graph's after
    /// the last).
    pub loads: u64,
    /// `before -> after` of each state opened on this date, and how many.
    pub learning_transitions: BTreeMap<String, u64>,
    pub professional_transitions: BTreeMap<String, u64>,
}

/// How a run ended, as far as the graph knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// It recorded its end.
    Finished,
    /// It never finished, and a later run resumed it.
    StoppedAndResumed,
    /// It recorded why it stopped (an error, a lost lock) and nothing
    /// resumed it yet.
    Stopped,
    /// It never recorded its end: it stopped (killed, an error, the server
    /// gone) or is still running.
    Unfinished,
}

impl RunOutcome {
    fn text(self) -> &'static str {
        match self {
            RunOutcome::Finished => "finished",
            RunOutcome::StoppedAndResumed => "stopped, resumed",
            RunOutcome::Stopped => "STOPPED",
            RunOutcome::Unfinished => "UNFINISHED",
        }
    }
}

/// One run of `load`, as its LoadRun record says.
#[derive(Debug, Serialize)]
pub struct RunEntry {
    pub id: String,
    pub outcome: RunOutcome,
    pub file: Option<String>,
    pub snapshot_date: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    /// RFC 3339, UTC; absent on records of versions that kept only the day.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub rows_read: Option<u64>,
    pub rows_loaded: Option<u64>,
    pub learners_new: Option<u64>,
    pub learners_changed: Option<u64>,
    pub learners_missing: Option<u64>,
    /// The id of the interrupted run this one resumed.
    pub resumes: Option<String>,
    /// Set on a `--max-rows` trial.
    pub trial_max_rows: Option<u64>,
    /// Why it stopped, when it recorded that (an error, a lost lock).
    pub stopped_because: Option<String>,
    /// The build that ran (`learngraph --version`); absent on records of
    /// versions before it was recorded.
    pub learngraph_version: Option<String>,
    #[serde(skip)]
    started_millis: Option<i64>,
}

/// The graph's own history, newest first.
#[derive(Debug, Serialize)]
pub struct History {
    pub snapshots: Vec<SnapshotEntry>,
    pub runs: Vec<RunEntry>,
    /// Whether the newest run finished; `None` when no run is recorded.
    pub last_run_finished: Option<bool>,
}

fn count(row: &Row, column: &str) -> u64 {
    row.int(column).unwrap_or(0).max(0) as u64
}

fn optional(row: &Row, column: &str) -> Option<u64> {
    row.int(column).map(|n| n.max(0) as u64)
}

fn timestamp(millis: Option<i64>) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(millis?)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Reads the history from the graph.
pub async fn history(config: &Config) -> Result<History, LoadError> {
    let sink = Neo4jSink::connect(config).await?;
    let mut transitions: BTreeMap<(NaiveDate, bool), BTreeMap<String, u64>> = BTreeMap::new();
    for row in sink.read(STATE_TRANSITIONS, Vec::new()).await? {
        let (Some(date), Some(kind)) = (row.date("date"), row.str("kind")) else {
            continue;
        };
        let name = format!(
            "{} -> {}",
            row.str("before").unwrap_or_default(),
            row.str("after").unwrap_or_default()
        );
        *transitions
            .entry((date, kind == "HAS_LEARNING_STATE"))
            .or_default()
            .entry(name)
            .or_default() += count(&row, "n");
    }
    let mut snapshots: Vec<SnapshotEntry> = sink
        .read(SNAPSHOT_HISTORY, Vec::new())
        .await?
        .iter()
        .filter_map(|row| {
            let date = row.date("date")?;
            let (new, changed, unchanged, kept) = (
                count(row, "new"),
                count(row, "changed"),
                count(row, "unchanged"),
                count(row, "kept"),
            );
            Some(SnapshotEntry {
                date,
                learners_present: new + changed + unchanged + kept,
                learners_new: new,
                learners_changed: changed,
                learners_unchanged: unchanged,
                learners_missing: count(row, "missing"),
                learners_kept_row_rejected: kept,
                rows_loaded: count(row, "rows"),
                file: row.str("file"),
                loads: optional(row, "loads").unwrap_or(1),
                learning_transitions: transitions.remove(&(date, true)).unwrap_or_default(),
                professional_transitions: transitions.remove(&(date, false)).unwrap_or_default(),
            })
        })
        .collect();
    snapshots.sort_by_key(|s| std::cmp::Reverse(s.date));
    let mut runs: Vec<RunEntry> = sink
        .read(LOAD_RUN_HISTORY, Vec::new())
        .await?
        .iter()
        .filter_map(|row| {
            let stopped_because = row.str("stoppedBecause");
            let outcome = match (row.bool("complete"), row.date("resumedOn"), &stopped_because) {
                (Some(true), _, _) => RunOutcome::Finished,
                (_, Some(_), _) => RunOutcome::StoppedAndResumed,
                (_, None, Some(_)) => RunOutcome::Stopped,
                _ => RunOutcome::Unfinished,
            };
            Some(RunEntry {
                id: row.str("id")?,
                outcome,
                file: row.str("file"),
                snapshot_date: row.date("snapshot"),
                started_on: row.date("startedOn"),
                started_at: timestamp(row.int("startedMillis")),
                ended_at: timestamp(row.int("endedMillis")),
                rows_read: optional(row, "rowsRead"),
                rows_loaded: optional(row, "rowsLoaded"),
                learners_new: optional(row, "new"),
                learners_changed: optional(row, "changed"),
                learners_missing: optional(row, "missing"),
                resumes: row.str("resumes"),
                trial_max_rows: optional(row, "trial"),
                stopped_because,
                learngraph_version: row.str("version"),
                started_millis: row.int("startedMillis"),
            })
        })
        .collect();
    // Newest first, by the server's clock where the record has it (every
    // run stamps its start with it), else by day.
    runs.sort_by_key(|run| {
        std::cmp::Reverse(run.started_millis.or_else(|| {
            run.started_on
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        }))
    });
    // The last run failed when the newest one did not finish, or when a
    // run that did not finish (it lost its lock to a trial, say) is not yet
    // made good by a complete load (its resume, or a full load) started
    // after it: a trial finishing after it makes nothing good.
    let made_good = |stopped: &RunEntry| {
        runs.iter().any(|run| {
            run.outcome == RunOutcome::Finished
                && run.trial_max_rows.is_none()
                && run.started_millis > stopped.started_millis
        })
    };
    let last_run_finished = runs.first().map(|newest| {
        newest.outcome == RunOutcome::Finished
            && runs
                .iter()
                .filter(|run| matches!(run.outcome, RunOutcome::Stopped | RunOutcome::Unfinished))
                .all(made_good)
    });
    Ok(History {
        snapshots,
        runs,
        last_run_finished,
    })
}

impl History {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Snapshots in the graph ({}), newest first:",
            self.snapshots.len()
        );
        if !self.snapshots.is_empty() {
            let _ = writeln!(
                out,
                "  {:<10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "date", "present", "new", "changed", "missing", "kept"
            );
        }
        for s in &self.snapshots {
            let _ = writeln!(
                out,
                "  {:<10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                s.date.to_string(),
                grouped(s.learners_present),
                grouped(s.learners_new),
                grouped(s.learners_changed),
                grouped(s.learners_missing),
                grouped(s.learners_kept_row_rejected)
            );
            if s.loads > 1 {
                let _ = writeln!(
                    out,
                    "      reloaded: {} complete loads of this date; the counts are the graph's after the last",
                    s.loads
                );
            }
            for (kind, transitions) in [
                ("learning state", &s.learning_transitions),
                ("professional status", &s.professional_transitions),
            ] {
                for (transition, n) in transitions {
                    let _ = writeln!(out, "      {kind:<20} {transition:<36} {:>10}", grouped(*n));
                }
            }
        }
        let _ = writeln!(out, "Runs of load ({}), newest first:", self.runs.len());
        for run in &self.runs {
            let started = run
                .started_at
                .clone()
                .or_else(|| run.started_on.map(|d| d.to_string()))
                .unwrap_or_else(|| "?".into());
            let mut notes = Vec::new();
            if let Some(rows) = run.trial_max_rows {
                notes.push(format!("trial of {} rows", grouped(rows)));
            }
            if let Some(resumed) = &run.resumes {
                notes.push(format!("resumes {resumed}"));
            }
            if let Some(reason) = &run.stopped_because {
                notes.push(format!("stopped because {}", terminal_safe(reason)));
            }
            if let Some(version) = &run.learngraph_version {
                notes.push(format!("learngraph {version}"));
            }
            let _ = writeln!(
                out,
                "  {:<20} {:<16} snapshot {:<10} rows read {:>10}  ended {}  {}{}",
                started,
                run.outcome.text(),
                run.snapshot_date.map_or("-".into(), |d| d.to_string()),
                run.rows_read.map_or("-".into(), |n| grouped(n).to_string()),
                run.ended_at.as_deref().unwrap_or("-"),
                terminal_safe(run.file.as_deref().unwrap_or("")),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                }
            );
        }
        let _ = writeln!(
            out,
            "{}",
            match self.last_run_finished {
                None => "No run of load is recorded.",
                Some(true) => "The last run finished.",
                Some(false) =>
                    "The last run DID NOT FINISH: it stopped (see its log), or it is still running; \
                     `load --resume FILE` continues it, unless it stopped because its input changed \
                     (exit 22): then load the file again, without --resume.",
            }
        );
        out
    }
}
