//! The graph's own records: a `LoadRun` per run of a load and a
//! `Snapshot` per complete snapshot, and the reads `history`, a resume and
//! the snapshot-date check make of them.

use chrono::NaiveDate;

use super::bolt::{Param, Statement};
use super::{Neo4jSink, SinkError, cypher, params};
use crate::graph::records::Props;

/// A run of a later snapshot than the one about to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaterRun {
    pub id: String,
    pub date: NaiveDate,
    pub complete: bool,
    pub trial_max_rows: Option<i64>,
    pub file: Option<String>,
}

impl LaterRun {
    /// What it was, for a message: `a trial of 50 rows`, `a run that did
    /// not finish`.
    pub fn kind(&self) -> String {
        match (self.trial_max_rows, self.complete) {
            (Some(rows), _) => format!("a --max-rows trial of {rows} rows"),
            (None, true) => "a complete run".to_string(),
            (None, false) => "a run that did not finish (killed, stopped, or still running)".to_string(),
        }
    }
}

/// Which end of a run a record stamps with the server's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStamp {
    Start,
    End,
    Neither,
}

fn load_run_statement(id: &str, props: &Props, stamp: RunStamp) -> Statement {
    Statement::new("recording the load", cypher::RECORD_LOAD_RUN)
        .param("id", params::string(id))
        .param("props", Param::Map(params::props(props)))
        .param("stampStart", Param::Boolean(stamp == RunStamp::Start))
        .param("stampEnd", Param::Boolean(stamp == RunStamp::End))
}

impl Neo4jSink {
    /// What the load of the snapshot of `date` did to learners, counted
    /// from the marks it left in the graph: (created, changed or brought
    /// back, marked missing).
    pub async fn snapshot_learners(&self, date: NaiveDate) -> Result<(u64, u64, u64), SinkError> {
        let mut counts = [0u64; 3];
        for (count, statement) in counts.iter_mut().zip([
            cypher::SNAPSHOT_LEARNERS_NEW,
            cypher::SNAPSHOT_LEARNERS_CHANGED,
            cypher::SNAPSHOT_LEARNERS_MISSING,
        ]) {
            let rows = self.read(statement, vec![("date", params::date(date))]).await?;
            *count = rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64;
        }
        Ok((counts[0], counts[1], counts[2]))
    }

    /// How many complete loads of the snapshot of `date` the graph records.
    pub async fn complete_loads(&self, date: NaiveDate) -> Result<u64, SinkError> {
        let rows = self
            .read(
                cypher::COMPLETE_LOADS_OF_SNAPSHOT,
                vec![("date", params::date(date))],
            )
            .await?;
        Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64)
    }

    /// Records a loaded snapshot: its date and what the load did.
    pub async fn record_snapshot(&self, date: NaiveDate, props: &Props) -> Result<(), SinkError> {
        let props = Param::Map(params::props(props));
        self.retrying("recording the snapshot", |bolt| {
            let q = Statement::new("recording the snapshot", cypher::RECORD_SNAPSHOT)
                .param("date", params::date(date))
                .param("props", props.clone());
            async move { bolt.write(vec![q]).await }
        })
        .await
    }

    /// Records a load (or what it did, at its end) under its id, stamping
    /// its start or its end as `stamp` says.
    pub async fn record_load_run(&self, id: &str, props: &Props, stamp: RunStamp) -> Result<(), SinkError> {
        self.retrying("recording the load", |bolt| {
            let q = load_run_statement(id, props, stamp);
            async move { bolt.write(vec![q]).await }
        })
        .await
    }

    /// Records why the run `id` stopped, once, whatever the load lock says:
    /// a run that lost its lock still tells `history` why it stopped. A
    /// server that does not take it within `deadline` leaves the run
    /// unfinished in the record, which is what it is.
    pub async fn record_stopped_run(&self, id: &str, reason: &str, deadline: std::time::Duration) {
        let mut props = Props::default();
        props.str("stoppedBecause", Some(reason.to_string()));
        let q = load_run_statement(id, &props, RunStamp::End);
        let bolt = self.bolt().await;
        match tokio::time::timeout(deadline, bolt.write_unguarded(vec![q])).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %super::failure::describe(&error), "Could not record why the load stopped")
            }
            Err(_) => {
                tracing::warn!("Could not record why the load stopped: the server did not answer in time")
            }
        }
    }

    /// Whether the graph holds the record of the load `id`.
    pub async fn has_load_run(&self, id: &str) -> Result<bool, SinkError> {
        let rows = self
            .read(cypher::LOAD_RUN_EXISTS, vec![("id", params::string(id))])
            .await?;
        Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0) > 0)
    }

    /// Deletes the snapshot and load records; returns how many snapshots.
    pub async fn delete_snapshots(&self) -> Result<u64, SinkError> {
        let n = self.snapshots().await?;
        self.retrying("deleting snapshot records", |bolt| async move {
            bolt.write(vec![
                Statement::new("deleting snapshot records", cypher::DELETE_SNAPSHOTS),
                Statement::new("deleting load records", cypher::DELETE_LOAD_RUNS),
            ])
            .await
        })
        .await?;
        Ok(n)
    }

    /// The date of the latest snapshot the graph records.
    pub async fn latest_snapshot(&self) -> Result<Option<NaiveDate>, SinkError> {
        let rows = self.read(cypher::LATEST_SNAPSHOT, Vec::new()).await?;
        Ok(rows.first().and_then(|r| r.date("d")))
    }

    /// The latest run of a snapshot after `date`, if any run of one
    /// started: whether it finished or not, it wrote learners dated by it.
    pub async fn later_snapshot_run(&self, date: NaiveDate) -> Result<Option<LaterRun>, SinkError> {
        let rows = self
            .read(cypher::LATER_SNAPSHOT_RUN, vec![("date", params::date(date))])
            .await?;
        Ok(rows.first().and_then(|row| {
            Some(LaterRun {
                id: row.str("id")?,
                date: row.date("date")?,
                complete: row.bool("complete").unwrap_or(false),
                trial_max_rows: row.int("trial"),
                file: row.str("file"),
            })
        }))
    }

    /// How many snapshots the graph records.
    pub async fn snapshots(&self) -> Result<u64, SinkError> {
        self.count(cypher::SNAPSHOTS).await
    }
}
