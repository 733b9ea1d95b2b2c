//! Graph records as Bolt parameters. Every data value reaches the database
//! this way, never as Cypher text.

use neo4rs::{BoltBoolean, BoltDate, BoltFloat, BoltInteger, BoltList, BoltMap, BoltString, BoltType};

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::cypher::BATCH_RELATIONSHIPS;
use crate::graph::model::RelType;
use crate::graph::records::{LearnerRecord, Props, Value};

pub fn value(value: &Value) -> BoltType {
    match value {
        Value::Str(s) => BoltType::String(BoltString::new(s)),
        Value::Int(n) => BoltType::Integer(BoltInteger::new(*n)),
        Value::Float(n) => BoltType::Float(BoltFloat::new(*n)),
        Value::Bool(b) => BoltType::Boolean(BoltBoolean::new(*b)),
        Value::Date(d) => date(*d),
    }
}

pub fn props(props: &Props) -> BoltMap {
    let mut map = BoltMap::with_capacity(props.0.len() + 1);
    for (key, v) in &props.0 {
        map.put(BoltString::new(key), value(v));
    }
    map
}

pub fn date(d: NaiveDate) -> BoltType {
    BoltType::Date(BoltDate::from(d))
}

pub fn string(s: &str) -> BoltType {
    BoltType::String(BoltString::new(s))
}

pub fn list(items: Vec<BoltType>) -> BoltType {
    BoltType::List(BoltList { value: items })
}

/// One relationship kind of a phase-2 batch: the distinct target keys, and
/// each relationship as `{l: learner index, t: target index[, p: props]}`.
#[derive(Default)]
struct BatchRelationships<'a> {
    targets: FxHashMap<&'a str, i64>,
    keys: Vec<BoltType>,
    rels: Vec<BoltType>,
}

impl<'a> BatchRelationships<'a> {
    fn add(&mut self, learner: usize, target: &'a str, props: Option<&Props>) {
        let next = self.targets.len() as i64;
        let index = *self.targets.entry(target).or_insert_with(|| {
            self.keys.push(string(target));
            next
        });
        let mut map = BoltMap::with_capacity(3);
        map.put(
            BoltString::new("l"),
            BoltType::Integer(BoltInteger::new(learner as i64)),
        );
        map.put(BoltString::new("t"), BoltType::Integer(BoltInteger::new(index)));
        if let Some(props) = props {
            map.put(BoltString::new("p"), BoltType::Map(self::props(props)));
        }
        self.rels.push(BoltType::Map(map));
    }
}

/// The parameters of the phase-2 statement for a batch of learners:
/// `learners` (node properties with the key) and, per relationship kind of
/// `cypher::BATCH_RELATIONSHIPS`, `<kind>Keys` and `<kind>`.
pub fn learner_batch(records: &[&LearnerRecord]) -> Vec<(String, BoltType)> {
    let mut kinds: Vec<BatchRelationships> = BATCH_RELATIONSHIPS.iter().map(|_| Default::default()).collect();
    let mut learners = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let mut node = props(&record.props);
        node.put(BoltString::new("hashedEmail"), string(&record.key));
        learners.push(BoltType::Map(node));
        for ((_, rel, _), kind) in BATCH_RELATIONSHIPS.iter().zip(kinds.iter_mut()) {
            for_each_target(record, *rel, |target, props| kind.add(i, target, props));
        }
    }
    let mut params = vec![("learners".to_string(), list(learners))];
    for ((name, _, _), kind) in BATCH_RELATIONSHIPS.iter().zip(kinds) {
        params.push((format!("{name}Keys"), list(kind.keys)));
        params.push((name.to_string(), list(kind.rels)));
    }
    params
}

/// Calls `f` with the target key and properties of each relationship of
/// type `rel` the record brings.
fn for_each_target<'a>(
    record: &'a LearnerRecord,
    rel: RelType,
    mut f: impl FnMut(&'a str, Option<&'a Props>),
) {
    let with_props = match rel {
        RelType::HasSkill => return record.skills.iter().for_each(|s| f(s, None)),
        RelType::ResidesIn => return record.city_id.iter().for_each(|c| f(c, None)),
        RelType::FromCountry => return record.origin_code.iter().for_each(|c| f(c, None)),
        RelType::InCountry => return,
        RelType::EnrolledIn => &record.enrollments,
        RelType::WorksFor => &record.works_for,
        RelType::RunsVenture => &record.runs_venture,
        RelType::StudiedAt => &record.studied_at,
        RelType::HasLearningState => &record.learning_states,
        RelType::HasProfessionalStatus => &record.professional_states,
    };
    for rel in with_props {
        f(&rel.target, Some(&rel.props));
    }
}

/// A shared-entity row: `{key, props}`.
pub fn entity(key: &str, node_props: BoltMap) -> BoltType {
    let mut row = BoltMap::with_capacity(2);
    row.put(BoltString::new("key"), string(key));
    row.put(BoltString::new("props"), BoltType::Map(node_props));
    BoltType::Map(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::Rel;

    fn param<'a>(params: &'a [(String, BoltType)], name: &str) -> &'a [BoltType] {
        match &params
            .iter()
            .find(|(n, _)| n == name)
            .expect("parameter present")
            .1
        {
            BoltType::List(list) => &list.value,
            other => panic!("{name} is not a list: {other:?}"),
        }
    }

    fn int(map: &BoltType, key: &str) -> i64 {
        let BoltType::Map(map) = map else {
            panic!("not a map")
        };
        match map.value.get(key) {
            Some(BoltType::Integer(n)) => n.value,
            other => panic!("{key}: {other:?}"),
        }
    }

    fn learner(key: &str, skills: &[&str], program: &str) -> LearnerRecord {
        LearnerRecord {
            key: key.to_string(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            enrollments: vec![Rel {
                target: program.to_string(),
                props: Props::default(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_batch_names_each_target_once_and_points_every_relationship_at_it() {
        let a = learner("a", &["python", "sql"], "P1");
        let b = learner("b", &["sql"], "P1");
        let c = learner("c", &["excel", "python"], "P2");
        let params = learner_batch(&[&a, &b, &c]);

        assert_eq!(param(&params, "learners").len(), 3);
        let skill_keys: Vec<&str> = param(&params, "skillsKeys")
            .iter()
            .map(|k| match k {
                BoltType::String(s) => s.value.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(skill_keys, ["python", "sql", "excel"]);
        let pairs: Vec<(i64, i64)> = param(&params, "skills")
            .iter()
            .map(|r| (int(r, "l"), int(r, "t")))
            .collect();
        assert_eq!(pairs, [(0, 0), (0, 1), (1, 1), (2, 2), (2, 0)]);
        assert_eq!(param(&params, "enrolledKeys").len(), 2);
        let programs: Vec<(i64, i64)> = param(&params, "enrolled")
            .iter()
            .map(|r| (int(r, "l"), int(r, "t")))
            .collect();
        assert_eq!(programs, [(0, 0), (1, 0), (2, 1)]);
        assert!(param(&params, "works").is_empty());
        assert!(param(&params, "worksKeys").is_empty());
    }
}
