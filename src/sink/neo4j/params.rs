//! Graph records as Bolt parameters. Every data value reaches the database
//! this way, never as Cypher text.

use std::collections::HashMap;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::bolt::Param;
use super::cypher::BATCH_RELATIONSHIPS;
use crate::graph::model::RelType;
use crate::graph::questions::Arg;
use crate::graph::records::{LearnerRecord, Props, Value};

/// A parameter map: `{name: value}`.
pub type Map = HashMap<String, Param>;

pub fn value(value: &Value) -> Param {
    match value {
        Value::Str(s) => Param::String(s.clone()),
        Value::Int(n) => Param::Integer(*n),
        Value::Float(n) => Param::Float(*n),
        Value::Bool(b) => Param::Boolean(*b),
        Value::Date(d) => date(*d),
    }
}

pub fn props(props: &Props) -> Map {
    let mut map = Map::with_capacity(props.0.len() + 1);
    for (key, v) in &props.0 {
        map.insert(key.to_string(), value(v));
    }
    map
}

/// A question's argument.
pub fn arg(arg: &Arg) -> Param {
    match arg {
        Arg::Null => Param::Null,
        Arg::Integer(n) => Param::Integer(*n),
        Arg::Float(n) => Param::Float(*n),
        Arg::String(s) => Param::String(s.clone()),
        Arg::Date(d) => date(*d),
        Arg::Boolean(b) => Param::Boolean(*b),
    }
}

/// A JSON value an analyst's tool passed as a statement's parameter:
/// numbers as integers where they are whole, objects as maps.
pub fn json(value: &serde_json::Value) -> Param {
    match value {
        serde_json::Value::Null => Param::Null,
        serde_json::Value::Bool(b) => Param::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(n) => Param::Integer(n),
            None => Param::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Param::String(s.clone()),
        serde_json::Value::Array(items) => Param::List(items.iter().map(json).collect()),
        serde_json::Value::Object(map) => Param::Map(map.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
    }
}

pub fn date(d: NaiveDate) -> Param {
    Param::Date(d)
}

pub fn string(s: &str) -> Param {
    Param::String(s.to_string())
}

pub fn int(n: i64) -> Param {
    Param::Integer(n)
}

pub fn list(items: Vec<Param>) -> Param {
    Param::List(items)
}

/// A map of `pairs`.
pub fn map<const N: usize>(pairs: [(&str, Param); N]) -> Param {
    Param::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// One relationship kind of a phase-2 batch: the distinct target keys, and
/// each relationship as `{l: learner index, t: target index[, p: props]}`.
#[derive(Default)]
struct BatchRelationships<'a> {
    targets: FxHashMap<&'a str, i64>,
    keys: Vec<Param>,
    rels: Vec<Param>,
}

impl<'a> BatchRelationships<'a> {
    fn add(&mut self, learner: usize, target: &'a str, props: Option<&Props>) {
        let next = self.targets.len() as i64;
        let index = *self.targets.entry(target).or_insert_with(|| {
            self.keys.push(string(target));
            next
        });
        let mut map = Map::with_capacity(3);
        map.insert("l".to_string(), int(learner as i64));
        map.insert("t".to_string(), int(index));
        if let Some(props) = props {
            map.insert("p".to_string(), Param::Map(self::props(props)));
        }
        self.rels.push(Param::Map(map));
    }
}

/// The parameters of the phase-2 statement for a batch of learners:
/// `learners` (node properties with the key) and, per relationship kind of
/// `cypher::BATCH_RELATIONSHIPS`, `<kind>Keys` and `<kind>`.
pub fn learner_batch(records: &[&LearnerRecord]) -> Vec<(String, Param)> {
    let mut kinds: Vec<BatchRelationships> = BATCH_RELATIONSHIPS.iter().map(|_| Default::default()).collect();
    let mut learners = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let mut node = props(&record.props);
        node.insert("hashedEmail".to_string(), string(&record.key));
        learners.push(Param::Map(node));
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
pub fn for_each_target<'a>(
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
pub fn entity(key: &str, node_props: Map) -> Param {
    map([("key", string(key)), ("props", Param::Map(node_props))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::Rel;

    fn param<'a>(params: &'a [(String, Param)], name: &str) -> &'a [Param] {
        match &params
            .iter()
            .find(|(n, _)| n == name)
            .expect("parameter present")
            .1
        {
            Param::List(list) => list,
            other => panic!("{name} is not a list: {other:?}"),
        }
    }

    fn int(map: &Param, key: &str) -> i64 {
        let Param::Map(map) = map else { panic!("not a map") };
        match map.get(key) {
            Some(Param::Integer(n)) => *n,
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
                Param::String(s) => s.as_str(),
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
