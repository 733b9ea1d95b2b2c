//! What a later snapshot changes: the graph's view of a batch's learners
//! (fingerprint, current states, replaceable relationships) compared with
//! the snapshot's rows, and the update statement's parameters built from
//! the difference, so that only what changed is written.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::bolt::{Bolt, BoltError, Param, Statement};
use super::{cypher, params};
use crate::graph::counts::GraphOptions;
use crate::graph::model::RelType;
use crate::graph::properties::relationship_properties;
use crate::graph::records::{LearnerRecord, Props, Value};

/// A learner as the graph holds it, for comparison with a new snapshot.
pub(super) struct Existing {
    hash: Option<i64>,
    learning: Option<String>,
    professional: Option<String>,
    missing: bool,
    /// The snapshot that first wrote it.
    first_snapshot: Option<NaiveDate>,
}

impl Existing {
    /// The graph holds this learner as `record` has it.
    pub(super) fn same_as(&self, record: &LearnerRecord) -> bool {
        !self.missing && self.hash.is_some() && self.hash == record.source_hash()
    }
}

/// The batch's learners the graph already holds, by key.
pub(super) async fn read_existing(
    bolt: &Bolt,
    records: &[(&LearnerRecord, u64)],
) -> Result<HashMap<String, Existing>, BoltError> {
    let keys = params::list(records.iter().map(|(r, _)| params::string(&r.key)).collect());
    let rows = bolt
        .read(Statement::new("phase 2 existing learners", cypher::EXISTING_LEARNERS).param("keys", keys))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some((
                row.str("k")?,
                Existing {
                    hash: row.int("h"),
                    learning: row.str("learning"),
                    professional: row.str("professional"),
                    missing: row.bool("missing").unwrap_or(false),
                    first_snapshot: row.date("first"),
                },
            ))
        })
        .collect())
}

/// A current state this snapshot's own date opened: a correction of that
/// date retracts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct OpenedOnDate {
    /// A later snapshot's load opened it (it is a transition).
    pub opened_by_snapshot: bool,
    /// The state before it, which a correction back to it makes current
    /// again.
    pub prior: Option<String>,
}

/// Per learner key, its learning state and professional status opened on
/// the load's date, where they were.
pub(super) type OpenedOn = HashMap<String, (Option<OpenedOnDate>, Option<OpenedOnDate>)>;

/// The current states of the given (changed) learners that the load's
/// date opened: only a reload of the same date finds any.
pub(super) async fn read_opened_on(
    bolt: &Bolt,
    keys: &[&str],
    date: NaiveDate,
) -> Result<OpenedOn, BoltError> {
    let mut opened = OpenedOn::new();
    if keys.is_empty() {
        return Ok(opened);
    }
    let list = params::list(keys.iter().map(|k| params::string(k)).collect());
    for (statement, learning) in [
        (cypher::STATES_OPENED_ON, true),
        (cypher::STATUSES_OPENED_ON, false),
    ] {
        let query = Statement::new("phase 2 states opened on the date", statement)
            .param("keys", list.clone())
            .param("date", params::date(date));
        for row in bolt.read(query).await? {
            let Some(key) = row.str("k") else { continue };
            let head = OpenedOnDate {
                opened_by_snapshot: row.bool("opened").unwrap_or(false),
                prior: row.str("prior"),
            };
            let entry = opened.entry(key).or_default();
            if learning {
                entry.0 = Some(head);
            } else {
                entry.1 = Some(head);
            }
        }
    }
    Ok(opened)
}

/// A changed learner's relationships of the kinds a snapshot replaces, as
/// the graph holds them: per type, (target key, properties), sorted.
pub(super) type Held = HashMap<RelType, Vec<(String, Vec<(String, Value)>)>>;

/// The replaceable relationships of the given learners, by learner key. A
/// learner with none is absent.
pub(super) async fn read_replaceable(
    bolt: &Bolt,
    options: GraphOptions,
    keys: impl Iterator<Item = &str>,
) -> Result<HashMap<String, Held>, BoltError> {
    let keys = params::list(keys.map(params::string).collect());
    let statement = Statement::new(
        "phase 2 relationships of changed learners",
        &cypher::replaceable_relationships(options),
    )
    .param("keys", keys);
    let mut held: HashMap<String, Held> = HashMap::new();
    for row in bolt.read(statement).await? {
        let (Some(key), Some(name), Some(target)) = (row.str("k"), row.str("type"), row.str("target")) else {
            continue;
        };
        let Some(rel) = RelType::from_name(&name) else {
            continue;
        };
        let props = row
            .map("props")
            .unwrap_or_default()
            .into_iter()
            .filter(|(name, _)| written_property(rel, name))
            .collect();
        held.entry(key)
            .or_default()
            .entry(rel)
            .or_default()
            .push((target, props));
    }
    for rels in held.values_mut().flat_map(|kinds| kinds.values_mut()) {
        sort_relationships(rels);
    }
    Ok(held)
}

/// Whether phase 2 writes this property on relationships of type `rel`
/// (skills carry a constant `source`, which a comparison leaves out).
fn written_property(rel: RelType, name: &str) -> bool {
    rel != RelType::HasSkill && relationship_properties(rel).iter().any(|(n, _)| *n == name)
}

/// A record's relationships of type `rel` in the form of [`Held`].
fn snapshot_relationships(record: &LearnerRecord, rel: RelType) -> Vec<(String, Vec<(String, Value)>)> {
    let mut rels = Vec::new();
    params::for_each_target(record, rel, |target, props| {
        let mut props: Vec<(String, Value)> = props
            .map(|p| p.0.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|(name, _)| written_property(rel, name))
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        props.sort_by(|a, b| a.0.cmp(&b.0));
        rels.push((target.to_string(), props));
    });
    sort_relationships(&mut rels);
    rels
}

/// The order [`Held`] keeps a kind's relationships in, so that the graph's
/// and a snapshot's compare equal whatever order they came in: by target,
/// then by properties.
fn sort_relationships(rels: &mut [(String, Vec<(String, Value)>)]) {
    rels.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| format!("{:?}", a.1).cmp(&format!("{:?}", b.1)))
    });
}

/// Leaves a record without its relationships of type `rel`.
fn drop_relationships(record: &mut LearnerRecord, rel: RelType) {
    match rel {
        RelType::HasSkill => record.skills.clear(),
        RelType::EnrolledIn => record.enrollments.clear(),
        RelType::WorksFor => record.works_for.clear(),
        RelType::RunsVenture => record.runs_venture.clear(),
        RelType::StudiedAt => record.studied_at.clear(),
        RelType::ResidesIn => record.city_id = None,
        RelType::FromCountry => record.origin_code = None,
        RelType::HasLearningState => record.learning_states.clear(),
        RelType::HasProfessionalStatus => record.professional_states.clear(),
        RelType::InCountry => {}
    }
}

/// The changed learners of a batch, as the update statement takes them.
pub(super) struct SnapshotChanges {
    options: GraphOptions,
    /// The new rows, holding only the relationships written: the states
    /// opened and the kinds that changed.
    pub(super) records: Vec<LearnerRecord>,
    /// Per replaceable kind (by its parameter name), the learners (by
    /// index) whose relationships of that kind are replaced.
    pub(super) replace: Vec<(&'static str, Vec<Param>)>,
    pub(super) close_learning: Vec<Param>,
    pub(super) close_professional: Vec<Param>,
    /// States the load's own date opened, retracted by a correction:
    /// `{l, d, reopen}` (reopen: the state before is current again).
    pub(super) retract_learning: Vec<Param>,
    pub(super) retract_professional: Vec<Param>,
    /// Learners (by index) first written by this date's own earlier load:
    /// their state histories are rewritten whole from the corrected row.
    pub(super) restate: Vec<Param>,
    pub(super) relationships: u64,
    pub(super) transitions: Vec<(&'static str, String)>,
}

impl SnapshotChanges {
    pub(super) fn new(options: GraphOptions) -> Self {
        SnapshotChanges {
            options,
            records: Vec::new(),
            replace: cypher::replaced_relationships(options)
                .map(|(list, _, _)| (list, Vec::new()))
                .collect(),
            close_learning: Vec::new(),
            close_professional: Vec::new(),
            retract_learning: Vec::new(),
            retract_professional: Vec::new(),
            restate: Vec::new(),
            relationships: 0,
            transitions: Vec::new(),
        }
    }

    /// Adds a changed learner: `held` is what the graph holds of its
    /// replaceable relationships (`None`: none at all), `opened_on` its
    /// current states the load's date opened (a correction of that date).
    pub(super) fn add(
        &mut self,
        record: &LearnerRecord,
        before: &Existing,
        held: Option<&Held>,
        opened_on: Option<&(Option<OpenedOnDate>, Option<OpenedOnDate>)>,
        load_date: NaiveDate,
    ) {
        let index = self.records.len() as i64;
        let mut changed = LearnerRecord {
            learning_states: Vec::new(),
            professional_states: Vec::new(),
            ..record.clone()
        };
        for ((_, rel, _), (_, learners)) in
            cypher::replaced_relationships(self.options).zip(&mut self.replace)
        {
            let in_graph = held
                .and_then(|kinds| kinds.get(&rel))
                .map_or(&[][..], Vec::as_slice);
            if snapshot_relationships(record, rel) == in_graph {
                drop_relationships(&mut changed, rel);
            } else {
                learners.push(params::int(index));
            }
        }
        if before.first_snapshot == Some(load_date) {
            // First written by this date: no transition, the row's history.
            self.restate.push(params::int(index));
            changed.learning_states = record.learning_states.clone();
            changed.professional_states = record.professional_states.clone();
            self.count(changed);
            return;
        }
        let (learning_head, professional_head) = opened_on.cloned().unwrap_or_default();
        for (kind, property, old, head, opened, close, retract) in [
            (
                "learning",
                "currentLearningState",
                &before.learning,
                learning_head,
                &mut changed.learning_states,
                &mut self.close_learning,
                &mut self.retract_learning,
            ),
            (
                "professional",
                "currentProfessionalStatus",
                &before.professional,
                professional_head,
                &mut changed.professional_states,
                &mut self.close_professional,
                &mut self.retract_professional,
            ),
        ] {
            let Some(new) = record.text(property) else {
                continue;
            };
            if old.as_deref() == Some(new) {
                continue;
            }
            // The state before the one that changes, and whether the new
            // one opens as a later snapshot's transition.
            let (from, by_snapshot) = match head {
                Some(head) => {
                    let reopen = head.prior.as_deref() == Some(new);
                    retract.push(params::map([
                        ("l", params::int(index)),
                        ("d", params::date(load_date)),
                        ("reopen", Param::Boolean(reopen)),
                    ]));
                    if reopen {
                        continue;
                    }
                    (
                        head.prior.filter(|_| head.opened_by_snapshot),
                        head.opened_by_snapshot,
                    )
                }
                None => {
                    if old.is_some() {
                        close.push(params::map([
                            ("l", params::int(index)),
                            ("d", params::date(load_date)),
                        ]));
                    }
                    (old.clone(), true)
                }
            };
            let mut props = Props::default();
            // Every change carries the load's one date, never a row's own.
            props.date("validFrom", Some(load_date));
            props.bool("isCurrent", Some(true));
            props.bool("dateUnknown", Some(false));
            if by_snapshot {
                props.bool("openedBySnapshot", Some(true));
            }
            opened.push(crate::graph::records::Rel {
                target: new.to_string(),
                props,
            });
            if let Some(from) = from {
                self.transitions.push((kind, format!("{from} -> {new}")));
            }
        }
        self.count(changed);
    }

    /// Takes in a changed learner's record, as it will be written.
    fn count(&mut self, changed: LearnerRecord) {
        let mut tally = crate::graph::counts::RelTally::default();
        tally.add(&changed);
        self.relationships += tally.relationships(self.options);
        self.records.push(changed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_learner_rewrites_only_the_relationship_kinds_that_differ() {
        use crate::graph::records::Rel;
        let mut enrollment = Props::default();
        enrollment.str("enrollmentStatus", Some("Graduated".into()));
        enrollment.date("startDate", NaiveDate::from_ymd_opt(2024, 1, 8));
        let record = LearnerRecord {
            key: "k1".into(),
            skills: vec!["python".into(), "sql".into()],
            enrollments: vec![Rel {
                target: "SE-C1".into(),
                props: enrollment.clone(),
            }],
            city_id: Some("ke_nairobi".into()),
            ..LearnerRecord::default()
        };
        let options = GraphOptions {
            resides_in: true,
            from_country: false,
        };
        let mut held = Held::new();
        // The same skills (their constant `source` is not compared):
        // unchanged.
        assert!(!written_property(RelType::HasSkill, "source"));
        held.insert(
            RelType::HasSkill,
            vec![("python".into(), Vec::new()), ("sql".into(), Vec::new())],
        );
        // The enrollment was still active: changed.
        let mut active: Vec<(String, Value)> =
            snapshot_relationships(&record, RelType::EnrolledIn)[0].1.clone();
        active[0].1 = Value::Str("Active".into());
        held.insert(RelType::EnrolledIn, vec![("SE-C1".into(), active)]);
        // No RESIDES_IN in the graph yet: changed.
        let before = Existing {
            hash: Some(1),
            learning: None,
            professional: None,
            missing: false,
            first_snapshot: None,
        };
        let date = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let mut changes = SnapshotChanges::new(options);
        changes.add(&record, &before, Some(&held), None, date);
        let replaced: Vec<(&str, usize)> = changes.replace.iter().map(|(list, l)| (*list, l.len())).collect();
        assert_eq!(
            replaced,
            [
                ("skills", 0),
                ("enrolled", 1),
                ("works", 0),
                ("ventures", 0),
                ("studies", 0),
                ("city", 1)
            ]
        );
        let written = &changes.records[0];
        assert!(
            written.skills.is_empty(),
            "unchanged skills are not written again"
        );
        assert_eq!(written.enrollments, record.enrollments);
        assert_eq!(written.city_id, record.city_id);
        // A learner the graph holds no relationship of: every kind it has
        // is written.
        let mut changes = SnapshotChanges::new(options);
        changes.add(&record, &before, None, None, date);
        assert_eq!(changes.replace[0].1.len(), 1);
        assert_eq!(changes.records[0].skills, record.skills);
    }
}
