//! The typed columns of every file `neo4j-admin database import` reads: one
//! node file per label and one relationship file per type, each with its
//! header (`:ID(Space)`, `:START_ID(Space)`, `:END_ID(Space)`, `:TYPE`,
//! `name:type`). The property lists follow `docs/graph.md`.

use crate::graph::model::{Label, RelType};
pub use crate::graph::properties::{Kind, node_properties, relationship_properties};

/// The importer's type suffix of a column of this kind.
pub fn header_suffix(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "",
        Kind::Long => ":long",
        Kind::Double => ":double",
        Kind::Boolean => ":boolean",
        Kind::Date => ":date",
    }
}

/// The file name of a label's or type's file (before `.csv` / `.csv.gz`).
pub fn node_file(label: Label) -> String {
    snake(label.name())
}

pub fn relationship_file(rel: RelType) -> String {
    rel.name().to_lowercase()
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The header of a label's node file.
pub fn node_header(label: Label) -> Vec<String> {
    let mut header = vec![format!("{}:ID({})", label.key(), label.name())];
    header.extend(
        node_properties(label)
            .iter()
            .map(|(name, kind)| format!("{name}{}", header_suffix(*kind))),
    );
    header
}

/// The header of a relationship type's file.
pub fn relationship_header(rel: RelType) -> Vec<String> {
    let (start, end) = rel.ends();
    let mut header = vec![
        format!(":START_ID({})", start.name()),
        format!(":END_ID({})", end.name()),
        ":TYPE".into(),
    ];
    header.extend(
        relationship_properties(rel)
            .iter()
            .map(|(name, kind)| format!("{name}{}", header_suffix(*kind))),
    );
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_importer_format() {
        assert_eq!(
            node_header(Label::Country),
            ["code:ID(Country)", "name", "latitude:double", "longitude:double"]
        );
        assert_eq!(node_header(Label::LearningState), ["state:ID(LearningState)"]);
        assert_eq!(
            relationship_header(RelType::HasSkill),
            [":START_ID(Learner)", ":END_ID(Skill)", ":TYPE", "source"]
        );
        assert_eq!(
            relationship_header(RelType::InCountry),
            [":START_ID(City)", ":END_ID(Country)", ":TYPE"]
        );
        assert_eq!(node_file(Label::ProfessionalStatus), "professional_status");
        assert_eq!(relationship_file(RelType::HasLearningState), "has_learning_state");
    }
}
