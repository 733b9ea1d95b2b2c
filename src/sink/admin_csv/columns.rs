//! The typed columns of every file `neo4j-admin database import` reads: one
//! node file per label and one relationship file per type, each with its
//! header (`:ID(Space)`, `:START_ID(Space)`, `:END_ID(Space)`, `:TYPE`,
//! `name:type`). The property lists follow `shared/spec/graph.md`.

use crate::graph::model::{Label, RelType};

/// The importer's property types we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Long,
    Double,
    Boolean,
    Date,
}

impl Kind {
    pub fn header_suffix(self) -> &'static str {
        match self {
            Kind::Str => "",
            Kind::Long => ":long",
            Kind::Double => ":double",
            Kind::Boolean => ":boolean",
            Kind::Date => ":date",
        }
    }
}

use Kind::*;

/// Properties of each label besides its key.
pub fn node_properties(label: Label) -> &'static [(&'static str, Kind)] {
    match label {
        Label::Learner => &[
            ("sandId", Str),
            ("fullName", Str),
            ("profilePhotoUrl", Str),
            ("bio", Str),
            ("gender", Str),
            ("educationLevel", Str),
            ("educationField", Str),
            ("countryOfResidenceCode", Str),
            ("countryOfOriginCode", Str),
            ("cityOfResidenceId", Str),
            ("currentLearningState", Str),
            ("currentProfessionalStatus", Str),
            ("isPlaced", Boolean),
            ("isFeatured", Boolean),
            ("isRural", Boolean),
            ("livingLocation", Str),
            ("hasDisability", Boolean),
            ("typeOfDisability", Str),
            ("isLowIncomeHousehold", Boolean),
            ("snapshotId", Long),
        ],
        Label::Country => &[("name", Str), ("latitude", Double), ("longitude", Double)],
        Label::City => &[
            ("name", Str),
            ("countryCode", Str),
            ("latitude", Double),
            ("longitude", Double),
        ],
        Label::Program => &[("name", Str), ("cohortCode", Str)],
        Label::Skill | Label::Company | Label::Institution => &[("name", Str)],
        Label::LearningState | Label::ProfessionalStatus => &[],
    }
}

/// Properties of each relationship type.
pub fn relationship_properties(rel: RelType) -> &'static [(&'static str, Kind)] {
    const STATE: &[(&str, Kind)] = &[
        ("validFrom", Date),
        ("validTo", Date),
        ("isCurrent", Boolean),
        ("dateUnknown", Boolean),
    ];
    match rel {
        RelType::HasSkill => &[("source", Str)],
        RelType::EnrolledIn => &[
            ("cohortCode", Str),
            ("enrollmentStatus", Str),
            ("startDate", Date),
            ("endDate", Date),
            ("graduationDate", Date),
            ("lmsOverallScore", Double),
            ("completionRate", Double),
            ("assignments", Long),
            ("assignmentsSubmitted", Long),
            ("assignmentsPassed", Long),
            ("assignmentCompletionRate", Double),
            ("milestones", Long),
            ("milestonesSubmitted", Long),
            ("milestonesPassed", Long),
            ("milestoneCompletionRate", Double),
            ("tests", Long),
            ("testsSubmitted", Long),
            ("testsPassed", Long),
            ("testCompletionRate", Double),
            ("isCompleted", Boolean),
            ("isDropped", Boolean),
            ("durationDays", Long),
        ],
        RelType::WorksFor => &[
            ("position", Str),
            ("startDate", Date),
            ("endDate", Date),
            ("isCurrent", Boolean),
            ("employmentType", Str),
            ("salaryRange", Str),
            ("source", Str),
            ("durationMonths", Long),
        ],
        RelType::RunsVenture => &[
            ("startDate", Date),
            ("jobsCreated", Long),
            ("capitalSecured", Double),
            ("femaleOpportunities", Long),
        ],
        RelType::StudiedAt => &[
            ("fieldOfStudy", Str),
            ("levelOfStudy", Str),
            ("startDate", Date),
            ("endDate", Date),
            ("graduated", Boolean),
        ],
        RelType::HasLearningState | RelType::HasProfessionalStatus => STATE,
        RelType::InCountry | RelType::ResidesIn | RelType::FromCountry => &[],
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
            .map(|(name, kind)| format!("{name}{}", kind.header_suffix())),
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
            .map(|(name, kind)| format!("{name}{}", kind.header_suffix())),
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
