//! Every Cypher statement the loader sends. Labels, types and property names
//! come from the graph model; data values are always `$parameters`.
//!
//! This is also the dialect's one place: where the local test server
//! (ArcadeDB) and Neo4j would need different text, the difference lives
//! here. None is needed today: both accept everything below.

use crate::graph::counts::GraphOptions;
use crate::graph::model::{Label, RANGE_INDEXES, RelType};

/// `CREATE CONSTRAINT ... IF NOT EXISTS` for a label's key.
pub fn unique_constraint(label: Label) -> String {
    format!(
        "CREATE CONSTRAINT learngraph_{}_{} IF NOT EXISTS FOR (n:{}) REQUIRE n.{} IS UNIQUE",
        label.name().to_lowercase(),
        label.key().to_lowercase(),
        label.name(),
        label.key()
    )
}

/// `CREATE INDEX ... IF NOT EXISTS` for every range index of the model.
pub fn range_indexes() -> Vec<String> {
    RANGE_INDEXES
        .iter()
        .map(|(label, property)| {
            format!(
                "CREATE INDEX learngraph_{}_{} IF NOT EXISTS FOR (n:{}) ON (n.{})",
                label.name().to_lowercase(),
                property.to_lowercase(),
                label.name(),
                property
            )
        })
        .collect()
}

/// Idempotent upsert of shared nodes: rows are `{key, props}`.
pub fn merge_nodes(label: Label) -> String {
    format!(
        "UNWIND $rows AS r MERGE (n:{} {{{}: r.key}}) SET n += r.props",
        label.name(),
        label.key()
    )
}

/// City -> Country, rows `{key: city id, country: code}`.
pub const MERGE_IN_COUNTRY: &str = "UNWIND $rows AS r MATCH (c:City {id: r.key}) MATCH (k:Country {code: r.country}) MERGE (c)-[:IN_COUNTRY]->(k)";

/// Which of `$keys` already have a Learner node.
pub const EXISTING_LEARNERS: &str =
    "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k}) RETURN l.hashedEmail AS k";

/// One relationship kind created from a list on the learner row.
fn rel_subquery(list: &str, rel: RelType, with_props: bool) -> String {
    let (_, end) = rel.ends();
    let target = if list == "skills" || list == "city" || list == "origin" {
        "x"
    } else {
        "x.t"
    };
    let set = if with_props { " SET e = x.p" } else { "" };
    let props = if rel == RelType::HasSkill {
        " {source: 'profile'}"
    } else {
        ""
    };
    format!(
        "CALL {{ WITH l, r UNWIND r.{list} AS x MATCH (t:{} {{{}: {target}}}) CREATE (l)-[e:{}{props}]->(t){set} }}",
        end.name(),
        end.key(),
        rel.name()
    )
}

/// Phase 2: each row creates a Learner and all its relationships, so that
/// the new node is never looked up again.
pub fn create_learners(options: GraphOptions) -> String {
    let mut parts = vec![
        "UNWIND $rows AS r CREATE (l:Learner) SET l = r.props WITH l, r".to_string(),
        rel_subquery("skills", RelType::HasSkill, false),
        rel_subquery("enrolled", RelType::EnrolledIn, true),
        rel_subquery("works", RelType::WorksFor, true),
        rel_subquery("ventures", RelType::RunsVenture, true),
        rel_subquery("studies", RelType::StudiedAt, true),
        rel_subquery("learning", RelType::HasLearningState, true),
        rel_subquery("professional", RelType::HasProfessionalStatus, true),
    ];
    if options.resides_in {
        parts.push(rel_subquery("city", RelType::ResidesIn, false));
    }
    if options.from_country {
        parts.push(rel_subquery("origin", RelType::FromCountry, false));
    }
    parts.join(" ")
}

/// Deletes up to `$limit` nodes of a label (or of any label) with their
/// relationships; returns how many.
pub fn delete_batch(label: Option<Label>) -> String {
    let pattern = label
        .map(|l| format!("(n:{})", l.name()))
        .unwrap_or_else(|| "(n)".to_string());
    format!("MATCH {pattern} WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS n")
}

pub fn count_nodes(label: Label) -> String {
    format!("MATCH (n:{}) RETURN count(n) AS n", label.name())
}

pub fn count_relationships(rel: RelType) -> String {
    let (start, end) = rel.ends();
    format!(
        "MATCH (:{})-[r:{}]->(:{}) RETURN count(r) AS n",
        start.name(),
        rel.name(),
        end.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_model_and_take_values_as_parameters() {
        let create = create_learners(GraphOptions::default());
        assert!(create.contains("MATCH (t:Skill {id: x}) CREATE (l)-[e:HAS_SKILL {source: 'profile'}]->(t)"));
        assert!(create.contains("MATCH (t:Program {id: x.t}) CREATE (l)-[e:ENROLLED_IN]->(t) SET e = x.p"));
        assert!(create.contains("MATCH (t:LearningState {state: x.t})"));
        assert!(!create.contains("RESIDES_IN"));
        assert!(
            create_learners(GraphOptions {
                resides_in: true,
                from_country: true
            })
            .contains("FROM_COUNTRY")
        );
        assert_eq!(
            unique_constraint(Label::Learner),
            "CREATE CONSTRAINT learngraph_learner_hashedemail IF NOT EXISTS FOR (n:Learner) REQUIRE n.hashedEmail IS UNIQUE"
        );
        assert_eq!(
            merge_nodes(Label::Country),
            "UNWIND $rows AS r MERGE (n:Country {code: r.key}) SET n += r.props"
        );
        assert_eq!(range_indexes().len(), 9);
    }
}
