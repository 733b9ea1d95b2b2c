//! Labels, keys and relationship types: the names analysts query, in one
//! place. Change them only with a migration note in the README.

/// Node labels with their key property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    Learner,
    Country,
    City,
    Skill,
    Program,
    Company,
    Institution,
    LearningState,
    ProfessionalStatus,
}

impl Label {
    pub const ALL: [Label; 9] = [
        Label::Learner,
        Label::Country,
        Label::City,
        Label::Skill,
        Label::Program,
        Label::Company,
        Label::Institution,
        Label::LearningState,
        Label::ProfessionalStatus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Label::Learner => "Learner",
            Label::Country => "Country",
            Label::City => "City",
            Label::Skill => "Skill",
            Label::Program => "Program",
            Label::Company => "Company",
            Label::Institution => "Institution",
            Label::LearningState => "LearningState",
            Label::ProfessionalStatus => "ProfessionalStatus",
        }
    }

    /// The property with the unique constraint.
    pub fn key(self) -> &'static str {
        match self {
            Label::Learner => "hashedEmail",
            Label::Country => "code",
            Label::LearningState => "state",
            Label::ProfessionalStatus => "status",
            _ => "id",
        }
    }
}

/// Relationship types with their end labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelType {
    HasSkill,
    EnrolledIn,
    WorksFor,
    RunsVenture,
    StudiedAt,
    HasLearningState,
    HasProfessionalStatus,
    InCountry,
    ResidesIn,
    FromCountry,
}

impl RelType {
    pub const ALL: [RelType; 10] = [
        RelType::HasSkill,
        RelType::EnrolledIn,
        RelType::WorksFor,
        RelType::RunsVenture,
        RelType::StudiedAt,
        RelType::HasLearningState,
        RelType::HasProfessionalStatus,
        RelType::InCountry,
        RelType::ResidesIn,
        RelType::FromCountry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RelType::HasSkill => "HAS_SKILL",
            RelType::EnrolledIn => "ENROLLED_IN",
            RelType::WorksFor => "WORKS_FOR",
            RelType::RunsVenture => "RUNS_VENTURE",
            RelType::StudiedAt => "STUDIED_AT",
            RelType::HasLearningState => "HAS_LEARNING_STATE",
            RelType::HasProfessionalStatus => "HAS_PROFESSIONAL_STATUS",
            RelType::InCountry => "IN_COUNTRY",
            RelType::ResidesIn => "RESIDES_IN",
            RelType::FromCountry => "FROM_COUNTRY",
        }
    }

    /// The type a graph calls `name`, as `type(r)` returns it.
    pub fn from_name(name: &str) -> Option<RelType> {
        RelType::ALL.into_iter().find(|rel| rel.name() == name)
    }

    /// A state relationship: its history is kept across snapshots.
    pub fn is_state(self) -> bool {
        matches!(self, RelType::HasLearningState | RelType::HasProfessionalStatus)
    }

    /// (start label, end label).
    pub fn ends(self) -> (Label, Label) {
        match self {
            RelType::HasSkill => (Label::Learner, Label::Skill),
            RelType::EnrolledIn => (Label::Learner, Label::Program),
            RelType::WorksFor | RelType::RunsVenture => (Label::Learner, Label::Company),
            RelType::StudiedAt => (Label::Learner, Label::Institution),
            RelType::HasLearningState => (Label::Learner, Label::LearningState),
            RelType::HasProfessionalStatus => (Label::Learner, Label::ProfessionalStatus),
            RelType::InCountry => (Label::City, Label::Country),
            RelType::ResidesIn => (Label::Learner, Label::City),
            RelType::FromCountry => (Label::Learner, Label::Country),
        }
    }
}

/// The learning states, one node each.
pub const LEARNING_STATES: [&str; 4] = ["Active", "Graduate", "Dropped Out", "Inactive"];
/// The professional statuses, one node each.
pub const PROFESSIONAL_STATUSES: [&str; 5] = [
    "Unemployed",
    "Wage Employed",
    "Freelancer",
    "Entrepreneur",
    "Multiple",
];

/// Range indexes besides the unique constraints: (label, property).
pub const RANGE_INDEXES: [(Label, &str); 12] = [
    (Label::Learner, "sandId"),
    (Label::Learner, "firstSnapshot"),
    (Label::Learner, "changedBySnapshot"),
    (Label::Learner, "missingSince"),
    (Label::Learner, "countryOfResidenceCode"),
    (Label::Learner, "cityOfResidenceId"),
    (Label::Learner, "currentLearningState"),
    (Label::Learner, "currentProfessionalStatus"),
    (Label::City, "countryCode"),
    (Label::Program, "name"),
    (Label::Company, "name"),
    (Label::Skill, "name"),
];
