//! What `verify`, `clear` and `ping` ask of the graph: counts, the
//! relationships of each learner, the key constraints, whether the server
//! accepts writes, and deletion in batches.

use super::bolt::{Param, Statement};
use super::{Neo4jSink, SinkError, cypher, failure, params};
use crate::graph::model::{Label, RelType};

/// Whether the user may write (`ping`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteAccess {
    Granted,
    /// Refused, with the server's reason.
    Refused(String),
}

/// Server codes that mean "you may not write here": missing privileges, a
/// read-only member of a cluster, a read-only access mode.
pub(super) fn is_write_refusal(code: Option<&str>) -> bool {
    code.is_some_and(|code| {
        code.starts_with("Neo.ClientError.Security.")
            || code == "Neo.ClientError.Cluster.NotALeader"
            || code == "Neo.ClientError.Statement.AccessMode"
    })
}

impl Neo4jSink {
    /// Relationships of the learners `keys`, per type, as a count table
    /// keyed like [`counts`](Self::counts) or, with `latest_view`, like
    /// [`latest_snapshot_counts`](Self::latest_snapshot_counts).
    pub async fn learner_relationship_counts(
        &self,
        keys: &[String],
        latest_view: bool,
    ) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        use crate::graph::counts::{CURRENT_LEARNING_STATE, CURRENT_PROFESSIONAL_STATUS};
        let mut counts = crate::graph::counts::GraphCounts::default();
        let rows = self
            .read(
                cypher::LEARNER_RELATIONSHIPS,
                vec![
                    (
                        "keys",
                        params::list(keys.iter().map(|k| params::string(k)).collect()),
                    ),
                    ("current", Param::Boolean(latest_view)),
                ],
            )
            .await?;
        for row in rows {
            let (Some(name), Some(n)) = (row.str("t"), row.int("n")) else {
                continue;
            };
            let Some(rel) = RelType::from_name(&name) else {
                continue;
            };
            let key = match rel {
                RelType::HasLearningState if latest_view => CURRENT_LEARNING_STATE,
                RelType::HasProfessionalStatus if latest_view => CURRENT_PROFESSIONAL_STATUS,
                other => other.name(),
            };
            *counts.relationships.entry(key).or_default() += n.max(0) as u64;
        }
        Ok(counts)
    }

    /// Learners marked missing from the latest snapshot.
    pub async fn learners_marked_missing(&self) -> Result<u64, SinkError> {
        self.count(cypher::COUNT_MISSING_LEARNERS).await
    }

    /// Whether this user may write to the database: one write in a
    /// transaction that is rolled back, so nothing stays. A refusal (a
    /// read-only user, a read replica) is an answer; other errors are errors.
    pub async fn write_access(&self) -> Result<WriteAccess, SinkError> {
        let bolt = self.bolt().await;
        match bolt
            .write_rolled_back(Statement::new("checking write access", cypher::WRITE_PROBE))
            .await
        {
            Ok(()) => Ok(WriteAccess::Granted),
            Err(e) if is_write_refusal(e.server_code()) => Ok(WriteAccess::Refused(failure::describe(&e))),
            Err(source) => Err(SinkError::Query {
                what: "checking write access".to_string(),
                source,
            }),
        }
    }

    /// The unique constraints present, as (label, property).
    pub async fn key_constraints(&self) -> Result<Vec<(String, String)>, SinkError> {
        let rows = self.read(cypher::KEY_CONSTRAINTS, Vec::new()).await?;
        Ok(rows
            .iter()
            .filter_map(|row| Some((row.str("label")?, row.str("property")?)))
            .collect())
    }

    /// Deletes nodes (and their relationships) of the given labels, or of
    /// every label: first the relationships, `10 x batch` per transaction,
    /// then the nodes, `batch` per transaction, so that a large graph does
    /// not exhaust the server's memory; a transaction the server still
    /// refuses for its memory is tried again at half the size. Returns
    /// nodes deleted.
    pub async fn delete_nodes(
        &self,
        labels: Option<&[Label]>,
        batch: usize,
        deleted_so_far: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, SinkError> {
        let targets: Vec<Option<Label>> = match labels {
            Some(labels) => labels.iter().map(|l| Some(*l)).collect(),
            None => vec![None],
        };
        let mut deleted = 0;
        for target in targets {
            self.delete_all(
                &cypher::delete_relationships_batch(target),
                batch * 10,
                deleted_so_far,
            )
            .await?;
            deleted += self
                .delete_all(&cypher::delete_batch(target), batch, deleted_so_far)
                .await?;
        }
        Ok(deleted)
    }

    /// Runs a deleting `statement` with `$limit` until it deletes nothing;
    /// halves the limit when the server refuses a transaction for memory.
    /// Each transaction's count goes to `deleted_so_far` as it commits.
    async fn delete_all(
        &self,
        statement: &str,
        batch: usize,
        deleted_so_far: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, SinkError> {
        let mut limit = batch.max(1);
        let mut deleted = 0;
        loop {
            let rows = match self
                .write_returning(statement, vec![("limit", params::int(limit as i64))])
                .await
            {
                Err(error) if error.is_memory_limit() && limit > 1 => {
                    limit /= 2;
                    tracing::warn!(
                        limit,
                        "Deleting in smaller transactions: the server refused one for its memory"
                    );
                    continue;
                }
                other => other?,
            };
            let n = rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64;
            deleted += n;
            deleted_so_far(n);
            if n == 0 {
                return Ok(deleted);
            }
        }
    }

    /// The graph options the graph is written with: those the latest
    /// complete load recorded, or, for a graph loaded before loads recorded
    /// them, whether it holds any relationship of each optional type.
    pub async fn graph_options_in_force(&self) -> Result<crate::graph::counts::GraphOptions, SinkError> {
        let rows = self.read(cypher::GRAPH_OPTIONS_IN_FORCE, Vec::new()).await?;
        if let Some(row) = rows.first() {
            return Ok(crate::graph::counts::GraphOptions {
                resides_in: row.bool("residesIn").unwrap_or(false),
                from_country: row.bool("fromCountry").unwrap_or(false),
            });
        }
        let holds = |rel: RelType| async move {
            Ok::<_, SinkError>(
                !self
                    .read(&cypher::any_relationship(rel), Vec::new())
                    .await?
                    .is_empty(),
            )
        };
        Ok(crate::graph::counts::GraphOptions {
            resides_in: holds(RelType::ResidesIn).await?,
            from_country: holds(RelType::FromCountry).await?,
        })
    }

    /// Deletes every relationship of the type, `batch` per transaction (a
    /// graph option turned off, applied); returns how many.
    pub async fn delete_relationships_of_type(
        &self,
        rel: RelType,
        batch: usize,
        deleted_so_far: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, SinkError> {
        self.delete_all(&cypher::delete_relationships_of_type(rel), batch, deleted_so_far)
            .await
    }

    /// Nodes per label and relationships per type in the database.
    pub async fn counts(&self) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        let mut counts = crate::graph::counts::GraphCounts::default();
        for label in Label::ALL {
            counts
                .nodes
                .insert(label.name(), self.count(&cypher::count_nodes(label)).await?);
        }
        for rel in RelType::ALL {
            let optional_off = (rel == RelType::ResidesIn && !self.options.resides_in)
                || (rel == RelType::FromCountry && !self.options.from_country);
            if !optional_off {
                counts
                    .relationships
                    .insert(rel.name(), self.count(&cypher::count_relationships(rel)).await?);
            }
        }
        Ok(counts)
    }

    /// The latest snapshot's view, keyed as
    /// [`expected_latest_snapshot`](crate::graph::counts::expected_latest_snapshot).
    pub async fn latest_snapshot_counts(&self) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        use crate::graph::counts::{CURRENT_LEARNING_STATE, CURRENT_PROFESSIONAL_STATUS};
        let mut counts = self.counts().await?;
        counts.nodes.insert(
            Label::Learner.name(),
            self.count(cypher::COUNT_PRESENT_LEARNERS).await?,
        );
        for rel in RelType::ALL {
            if !counts.relationships.contains_key(rel.name()) || rel.ends().0 != Label::Learner {
                continue;
            }
            let n = self.count(&cypher::count_latest_relationships(rel)).await?;
            match rel {
                RelType::HasLearningState => {
                    counts.relationships.remove(rel.name());
                    counts.relationships.insert(CURRENT_LEARNING_STATE, n);
                }
                RelType::HasProfessionalStatus => {
                    counts.relationships.remove(rel.name());
                    counts.relationships.insert(CURRENT_PROFESSIONAL_STATUS, n);
                }
                _ => {
                    counts.relationships.insert(rel.name(), n);
                }
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn refusals_to_write_are_told_from_other_errors() {
        for code in [
            "Neo.ClientError.Security.Forbidden",
            "Neo.ClientError.Security.AuthorizationExpired",
            "Neo.ClientError.Cluster.NotALeader",
            "Neo.ClientError.Statement.AccessMode",
        ] {
            assert!(is_write_refusal(Some(code)), "{code}");
        }
        for code in [
            Some("Neo.TransientError.Transaction.DeadlockDetected"),
            Some("Neo.ClientError.Statement.SyntaxError"),
            None,
        ] {
            assert!(!is_write_refusal(code), "{code:?}");
        }
    }
}
