//! The node and relationship counts a load must produce, derived from the
//! file. `check` prints them and `verify` compares the database with them:
//! both call [`expected_counts`], so they cannot drift apart.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{LEARNING_STATES, Label, PROFESSIONAL_STATUSES, RelType};
use super::records::{Entities, LearnerRecord};

/// Which optional relationships a load writes (graph.md: off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GraphOptions {
    pub resides_in: bool,
    pub from_country: bool,
}

/// Relationships counted from accepted learner records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RelTally {
    pub learners: u64,
    pub has_skill: u64,
    pub enrolled_in: u64,
    pub works_for: u64,
    pub runs_venture: u64,
    pub studied_at: u64,
    pub has_learning_state: u64,
    pub has_professional_status: u64,
    pub resides_in: u64,
    pub from_country: u64,
    /// Learners with a learning state / a professional status: after later
    /// snapshots, each holds exactly one current relationship of the kind.
    pub learners_with_learning_state: u64,
    pub learners_with_professional_status: u64,
}

impl RelTally {
    pub fn add(&mut self, record: &LearnerRecord) {
        self.learners += 1;
        self.has_skill += record.skills.len() as u64;
        self.enrolled_in += record.enrollments.len() as u64;
        self.works_for += record.works_for.len() as u64;
        self.runs_venture += record.runs_venture.len() as u64;
        self.studied_at += record.studied_at.len() as u64;
        self.has_learning_state += record.learning_states.len() as u64;
        self.has_professional_status += record.professional_states.len() as u64;
        self.resides_in += u64::from(record.city_id.is_some());
        self.from_country += u64::from(record.origin_code.is_some());
        self.learners_with_learning_state += u64::from(!record.learning_states.is_empty());
        self.learners_with_professional_status += u64::from(!record.professional_states.is_empty());
    }

    /// The relationships a load with `options` writes of those counted:
    /// the optional ones only when they are on.
    pub fn relationships(&self, options: GraphOptions) -> u64 {
        let optional = |on: bool, n: u64| if on { n } else { 0 };
        self.has_skill
            + self.enrolled_in
            + self.works_for
            + self.runs_venture
            + self.studied_at
            + self.has_learning_state
            + self.has_professional_status
            + optional(options.resides_in, self.resides_in)
            + optional(options.from_country, self.from_country)
    }

    pub fn merge(&mut self, other: &RelTally) {
        self.learners += other.learners;
        self.has_skill += other.has_skill;
        self.enrolled_in += other.enrolled_in;
        self.works_for += other.works_for;
        self.runs_venture += other.runs_venture;
        self.studied_at += other.studied_at;
        self.has_learning_state += other.has_learning_state;
        self.has_professional_status += other.has_professional_status;
        self.resides_in += other.resides_in;
        self.from_country += other.from_country;
        self.learners_with_learning_state += other.learners_with_learning_state;
        self.learners_with_professional_status += other.learners_with_professional_status;
    }
}

/// Nodes per label and relationships per type, by their graph names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GraphCounts {
    pub nodes: BTreeMap<&'static str, u64>,
    pub relationships: BTreeMap<&'static str, u64>,
}

/// The graph a load of the file must produce.
pub fn expected_counts(entities: &Entities, tally: &RelTally, options: GraphOptions) -> GraphCounts {
    let mut counts = GraphCounts::default();
    for label in Label::ALL {
        let n = match label {
            Label::Learner => tally.learners,
            Label::Country => entities.countries.len() as u64,
            Label::City => entities.cities.len() as u64,
            Label::Skill => entities.skills.len() as u64,
            Label::Program => entities.programs.len() as u64,
            Label::Company => entities.companies.len() as u64,
            Label::Institution => entities.institutions.len() as u64,
            Label::LearningState => LEARNING_STATES.len() as u64,
            Label::ProfessionalStatus => PROFESSIONAL_STATUSES.len() as u64,
        };
        counts.nodes.insert(label.name(), n);
    }
    for rel in RelType::ALL {
        let n = match rel {
            RelType::HasSkill => tally.has_skill,
            RelType::EnrolledIn => tally.enrolled_in,
            RelType::WorksFor => tally.works_for,
            RelType::RunsVenture => tally.runs_venture,
            RelType::StudiedAt => tally.studied_at,
            RelType::HasLearningState => tally.has_learning_state,
            RelType::HasProfessionalStatus => tally.has_professional_status,
            RelType::InCountry => entities.cities.len() as u64,
            RelType::ResidesIn if options.resides_in => tally.resides_in,
            RelType::FromCountry if options.from_country => tally.from_country,
            RelType::ResidesIn | RelType::FromCountry => continue,
        };
        counts.relationships.insert(rel.name(), n);
    }
    counts
}

/// What the latest snapshot of a graph that holds several must show, from
/// the latest file: its learners (those not marked missing), their
/// relationships of each profile type, one current state relationship of
/// each kind per learner that has one, and at least the file's shared nodes
/// (earlier snapshots' stay). Keys are the names [`expected_counts`] uses,
/// state types suffixed ` (current)`.
pub fn expected_latest_snapshot(tally: &RelTally, full: &GraphCounts) -> GraphCounts {
    let mut counts = full.clone();
    for rel in [RelType::HasLearningState, RelType::HasProfessionalStatus] {
        counts.relationships.remove(rel.name());
    }
    counts
        .relationships
        .insert(CURRENT_LEARNING_STATE, tally.learners_with_learning_state);
    counts.relationships.insert(
        CURRENT_PROFESSIONAL_STATUS,
        tally.learners_with_professional_status,
    );
    counts
}

pub const CURRENT_LEARNING_STATE: &str = "HAS_LEARNING_STATE (current)";
pub const CURRENT_PROFESSIONAL_STATUS: &str = "HAS_PROFESSIONAL_STATUS (current)";
