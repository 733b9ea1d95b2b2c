//! The writes before and after phase 2: phase 0's schema, phase 1's shared
//! entities, and the learners a later snapshot marks missing.

use std::path::Path;

use chrono::NaiveDate;

use super::LoadError;
use super::summary::PhaseSummary;
use crate::config::Config;
use crate::pipeline::analyze::Analysis;
use crate::pipeline::checkpoint::{self, CheckpointV1};
use crate::pipeline::progress::PhaseProgress;
use crate::sink::neo4j::{EntitiesWritten, Neo4jSink};

/// Phase 0: constraints and indexes (idempotent).
pub(super) async fn create_schema(sink: &Neo4jSink) -> Result<PhaseSummary, LoadError> {
    let progress = PhaseProgress::new("schema", "statements", None);
    let statements = sink.create_schema().await? as u64;
    progress.add(statements);
    Ok(PhaseSummary {
        name: "phase 0 schema",
        seconds: progress.finish(),
        items: statements,
    })
}

/// Phase 1, unless the interrupted load this run resumes did it; the
/// checkpoint records it done.
pub(super) async fn write_entities_once(
    sink: &Neo4jSink,
    analysis: &Analysis,
    config: &Config,
    checkpoint: &mut CheckpointV1,
    checkpoint_file: &Path,
    phases: &mut Vec<PhaseSummary>,
) -> Result<EntitiesWritten, LoadError> {
    if checkpoint.entities_done {
        tracing::info!("Phase 1 was done by the interrupted load; skipping it");
        return Ok(EntitiesWritten::default());
    }
    let merged = write_entities(sink, analysis, config, phases).await?;
    checkpoint.entities_done = true;
    checkpoint::write(checkpoint_file, checkpoint)?;
    Ok(merged)
}

/// Phase 1: the shared entities.
async fn write_entities(
    sink: &Neo4jSink,
    analysis: &Analysis,
    config: &Config,
    phases: &mut Vec<PhaseSummary>,
) -> Result<EntitiesWritten, LoadError> {
    let entity_count: u64 = analysis
        .counts
        .nodes
        .iter()
        .filter(|(l, _)| **l != "Learner")
        .map(|(_, n)| n)
        .sum();
    tracing::info!(nodes = entity_count, "Phase 1: writing the shared entities");
    let progress = PhaseProgress::new("entities", "nodes", Some(entity_count));
    let merged = sink
        .write_entities(
            &analysis.entities,
            config.neo4j.batch_size,
            config.etl.num_workers,
            // A trial's few rows name nodes by their own spelling counts:
            // it adds the nodes the graph lacks and renames none.
            config.etl.max_rows.is_some(),
            &|nodes| progress.add(nodes),
        )
        .await?;
    tracing::info!(
        written = merged.written,
        unchanged = merged.unchanged,
        "Phase 1: shared nodes written (new or changed); the unchanged ones were already in the graph"
    );
    phases.push(PhaseSummary {
        name: "phase 1 shared nodes",
        seconds: progress.finish(),
        items: merged.written,
    });
    Ok(merged)
}

/// A later snapshot: learners the graph holds that this file lacks are
/// marked, never deleted. A first load has nothing to mark.
pub(super) async fn mark_missing(
    sink: &Neo4jSink,
    missing: &[String],
    load_date: NaiveDate,
    config: &Config,
) -> Result<PhaseSummary, LoadError> {
    let progress = PhaseProgress::new("missing learners", "learners", None);
    sink.mark_missing(missing, load_date, config.neo4j.batch_size)
        .await?;
    progress.add(missing.len() as u64);
    Ok(PhaseSummary {
        name: "missing learners",
        seconds: progress.finish(),
        items: missing.len() as u64,
    })
}

/// A graph option turned off, applied: its relationships deleted, in
/// batches at the server's pace.
pub(super) async fn delete_turned_off(
    sink: &Neo4jSink,
    turned_off: &[crate::graph::model::RelType],
    config: &Config,
) -> Result<PhaseSummary, LoadError> {
    let progress = PhaseProgress::new("relationships of options turned off", "relationships", None);
    let mut deleted = 0;
    for rel in turned_off {
        deleted += sink
            .delete_relationships_of_type(*rel, config.neo4j.batch_size * 10, &|n| progress.add(n))
            .await?;
    }
    Ok(PhaseSummary {
        name: "relationships of options turned off",
        seconds: progress.finish(),
        items: deleted,
    })
}
