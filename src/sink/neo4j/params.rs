//! Graph records as Bolt parameters. Every data value reaches the database
//! this way, never as Cypher text.

use neo4rs::{BoltBoolean, BoltDate, BoltFloat, BoltInteger, BoltList, BoltMap, BoltString, BoltType};

use crate::graph::records::{LearnerRecord, Props, Rel, Value};

pub fn value(value: &Value) -> BoltType {
    match value {
        Value::Str(s) => BoltType::String(BoltString::new(s)),
        Value::Int(n) => BoltType::Integer(BoltInteger::new(*n)),
        Value::Float(n) => BoltType::Float(BoltFloat::new(*n)),
        Value::Bool(b) => BoltType::Boolean(BoltBoolean::new(*b)),
        Value::Date(d) => BoltType::Date(BoltDate::from(*d)),
    }
}

pub fn props(props: &Props) -> BoltMap {
    let mut map = BoltMap::with_capacity(props.0.len() + 1);
    for (key, v) in &props.0 {
        map.put(BoltString::new(key), value(v));
    }
    map
}

pub fn string(s: &str) -> BoltType {
    BoltType::String(BoltString::new(s))
}

pub fn list(items: Vec<BoltType>) -> BoltType {
    BoltType::List(BoltList { value: items })
}

/// A relationship as `{t: target key, p: properties}`.
fn rel(rel: &Rel) -> BoltType {
    let mut map = BoltMap::with_capacity(2);
    map.put(BoltString::new("t"), string(&rel.target));
    map.put(BoltString::new("p"), BoltType::Map(props(&rel.props)));
    BoltType::Map(map)
}

fn rels(items: &[Rel]) -> BoltType {
    list(items.iter().map(rel).collect())
}

/// One learner row of the phase-2 statement: the node's properties (with its
/// key) and every relationship, by kind.
pub fn learner(record: &LearnerRecord) -> BoltType {
    let mut node = props(&record.props);
    node.put(BoltString::new("hashedEmail"), string(&record.key));
    let mut row = BoltMap::with_capacity(10);
    row.put(BoltString::new("key"), string(&record.key));
    row.put(BoltString::new("props"), BoltType::Map(node));
    row.put(
        BoltString::new("skills"),
        list(record.skills.iter().map(|s| string(s)).collect()),
    );
    row.put(BoltString::new("enrolled"), rels(&record.enrollments));
    row.put(BoltString::new("works"), rels(&record.works_for));
    row.put(BoltString::new("ventures"), rels(&record.runs_venture));
    row.put(BoltString::new("studies"), rels(&record.studied_at));
    row.put(BoltString::new("learning"), rels(&record.learning_states));
    row.put(BoltString::new("professional"), rels(&record.professional_states));
    row.put(
        BoltString::new("city"),
        list(record.city_id.iter().map(|c| string(c)).collect()),
    );
    row.put(
        BoltString::new("origin"),
        list(record.origin_code.iter().map(|c| string(c)).collect()),
    );
    BoltType::Map(row)
}

/// A shared-entity row: `{key, props}`.
pub fn entity(key: &str, node_props: BoltMap) -> BoltType {
    let mut row = BoltMap::with_capacity(2);
    row.put(BoltString::new("key"), string(key));
    row.put(BoltString::new("props"), BoltType::Map(node_props));
    BoltType::Map(row)
}
