//! The properties of every label and relationship type of
//! `docs/graph.md`, with their value kinds: one table that both
//! sinks write from (the Cypher statements name them; the import files
//! type their columns with them).

use crate::graph::model::{Label, RelType};

/// The kind of a property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Long,
    Double,
    Boolean,
    Date,
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
            ("sourceHash", Long),
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
        // Set on the current state a later snapshot opened.
        ("openedBySnapshot", Boolean),
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
