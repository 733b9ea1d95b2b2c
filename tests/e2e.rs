//! End-to-end: the real binary against the real local database (started by
//! scripts/test). Load, verify, read back, load again, bad input, settings.
// The database lock serializes whole tests, each on its own runtime, so
// holding it across awaits blocks nothing that it should not.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use learngraph::graph::records::{LearnerRecord, Value};
use neo4rs::{BoltType, Graph, query};
use serde_json::Value as Json;

fn clear(dir: &Path) {
    common::run_db_ok(dir, &["clear", "--all", "--yes"]);
}

fn same_value(expected: &Value, actual: &BoltType) -> bool {
    match (expected, actual) {
        (Value::Str(e), BoltType::String(a)) => e == &a.value,
        (Value::Int(e), BoltType::Integer(a)) => *e == a.value,
        (Value::Float(e), BoltType::Float(a)) => (*e - a.value).abs() < 1e-9,
        (Value::Bool(e), BoltType::Boolean(a)) => *e == a.value,
        (Value::Date(e), BoltType::Date(a)) => {
            let date: Result<chrono::NaiveDate, _> = a.try_into();
            date.map(|d| d == *e).unwrap_or(false)
        }
        _ => false,
    }
}

/// Reads learners back and compares every property and relationship with
/// the records the crate's own transform made of the same rows: proof that
/// the writing loses, doubles and alters nothing (whether the transform
/// derives the right values is the reference model's to say, in
/// tests/sequence.rs and below). `loaded_on` is the snapshot date of the
/// load that created them: the bookkeeping mark `firstSnapshot` must hold
/// it (docs/graph.md).
async fn assert_written_as_transformed(
    graph: &Graph,
    sample: &[LearnerRecord],
    loaded_on: chrono::NaiveDate,
) {
    for record in sample {
        let mut stream = graph
            .execute(query("MATCH (l:Learner {hashedEmail: $k}) RETURN l").param("k", record.key.clone()))
            .await
            .expect("query runs");
        let row = stream.next().await.expect("reads").expect("the learner exists");
        let node: neo4rs::Node = row.get("l").expect("a node");
        let keys: Vec<&str> = node.keys();
        let mut expected: HashMap<&str, &Value> = record.props.0.iter().map(|(k, v)| (*k, v)).collect();
        let key_value = Value::Str(record.key.clone());
        expected.insert("hashedEmail", &key_value);
        let first_snapshot = Value::Date(loaded_on);
        expected.insert("firstSnapshot", &first_snapshot);
        assert_eq!(
            keys.len(),
            expected.len(),
            "{}: properties {keys:?}, expected {:?}",
            record.key,
            expected.keys()
        );
        for (name, value) in &expected {
            let actual: BoltType = node
                .get(name)
                .unwrap_or_else(|_| panic!("{}: no property {name}", record.key));
            assert!(
                same_value(value, &actual),
                "{}: {name} is {actual:?}, expected {value:?}",
                record.key
            );
        }
        // Every relationship with properties, each matched to one in the
        // database with the same target and exactly the same properties.
        let kinds = [
            ("ENROLLED_IN", "id", &record.enrollments),
            ("WORKS_FOR", "id", &record.works_for),
            ("RUNS_VENTURE", "id", &record.runs_venture),
            ("STUDIED_AT", "id", &record.studied_at),
            ("HAS_LEARNING_STATE", "state", &record.learning_states),
            ("HAS_PROFESSIONAL_STATUS", "status", &record.professional_states),
        ];
        for (rel_type, target_key, expected) in kinds {
            let statement = format!(
                "MATCH (l:Learner {{hashedEmail: $k}})-[e:{rel_type}]->(t) RETURN e, t.{target_key} AS target"
            );
            let mut stream = graph
                .execute(query(&statement).param("k", record.key.clone()))
                .await
                .expect("query runs");
            let mut actual: Vec<(String, neo4rs::Relation)> = Vec::new();
            while let Some(row) = stream.next().await.expect("reads") {
                actual.push((
                    row.get("target").expect("target"),
                    row.get("e").expect("relationship"),
                ));
            }
            assert_eq!(actual.len(), expected.len(), "{}: {rel_type} count", record.key);
            for rel in expected.iter() {
                let found =
                    actual.iter().position(|(target, e)| {
                        *target == rel.target
                            && e.keys().len() == rel.props.0.len()
                            && rel.props.0.iter().all(|(name, value)| {
                                e.get::<BoltType>(name).is_ok_and(|a| same_value(value, &a))
                            })
                    });
                let index = found.unwrap_or_else(|| {
                    panic!(
                        "{}: no {rel_type} to {} with properties {:?}; the database has {:?}",
                        record.key, rel.target, rel.props, actual
                    )
                });
                actual.swap_remove(index);
            }
        }
        let mut stream = graph
            .execute(
                query("MATCH (l:Learner {hashedEmail: $k})-[:HAS_SKILL]->(s:Skill) RETURN count(s) AS n")
                    .param("k", record.key.clone()),
            )
            .await
            .expect("query runs");
        let n: i64 = stream
            .next()
            .await
            .expect("reads")
            .expect("a row")
            .get("n")
            .expect("n");
        assert_eq!(n as usize, record.skills.len());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn load_verify_write_what_the_transform_made_and_load_again() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    clear(dir.path());
    let input = common::generate(dir.path(), "sample.csv", 20_000, 7, 0.0);

    let first = common::json(&common::run_db_ok(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(first["learners_written"], first["rows_accepted"]);
    assert_eq!(first["learners_unchanged"], 0);
    assert_eq!(first["learners_updated"], 0);
    // The writers, not configured, are the default measured for the server
    // (README, "Configuration"): two on Neo4j, one on ArcadeDB; the pool
    // follows them.
    let writers = if common::on_neo4j() { 2 } else { 1 };
    assert_eq!(first["writer_tasks"], writers, "{first}");
    assert_eq!(first["configuration"]["etl"]["num_workers"], writers);
    assert_eq!(
        first["configuration"]["neo4j"]["max_connection_pool_size"],
        writers + 1
    );
    let configuration = first["configuration"].to_string();
    assert!(
        !configuration.contains(&common::test_db().password),
        "the summary never holds the password"
    );

    let verify = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(verify["differences"], Json::Array(Vec::new()), "{verify}");
    assert_eq!(verify["actual"]["nodes"]["Learner"], first["rows_accepted"]);
    assert_verify_expects_what_the_model_does(&input, &verify);

    let graph = common::test_graph().await;
    // The summary's figures are what the graph holds, read by a second
    // driver: the learners, and every relationship a learner starts (the
    // optional RESIDES_IN and FROM_COUNTRY are off, and never counted).
    assert_eq!(
        first["learners_written"].as_i64(),
        Some(common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await)
    );
    assert_eq!(
        first["relationships_written"].as_i64(),
        Some(common::count(&graph, "MATCH (:Learner)-[r]->() RETURN count(r) AS n").await),
        "{first}"
    );
    assert_eq!(
        common::count(
            &graph,
            "MATCH ()-[r:RESIDES_IN|FROM_COUNTRY]->() RETURN count(r) AS n"
        )
        .await,
        0
    );
    let mut stream = graph
        .execute(query("SHOW CONSTRAINTS"))
        .await
        .expect("SHOW CONSTRAINTS runs");
    let mut names = Vec::new();
    while let Some(row) = stream.next().await.expect("reads") {
        if let Ok(name) = row.get::<String>("name") {
            names.push(name);
        }
    }
    for expected in [
        "learngraph_learner_hashedemail",
        "learngraph_company_id",
        "learngraph_country_code",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "constraint {expected} in {names:?}"
        );
    }

    let all = common::records(&input);
    let sample: Vec<LearnerRecord> = all.iter().step_by(997).cloned().collect();
    assert!(sample.len() >= 20);
    assert!(
        sample.iter().any(|r| r.props.get("sandId").is_none()),
        "the sample has missing values"
    );
    let loaded_on = first["snapshot_date"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .expect("the summary names the snapshot date");
    assert_written_as_transformed(&graph, &sample, loaded_on).await;

    let second = common::json(&common::run_db_ok(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(second["learners_written"], 0, "a second load writes no learner");
    assert_eq!(second["learners_unchanged"], first["rows_accepted"]);
    assert_eq!(second["learners_updated"], 0);
    assert_eq!(second["learners_marked_missing"], 0);
    let again = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(
        again["actual"], verify["actual"],
        "a second load changes no count"
    );
}

/// `verify` derives its expected counts with the crate's own analysis;
/// here they are held against the reference model's reading of the same
/// file (tests/common/model.rs), so that a rule both got wrong the same
/// way in the loader and in `verify` cannot pass unseen.
fn assert_verify_expects_what_the_model_does(input: &Path, verify: &Json) {
    let snapshot = common::model::read(input, learngraph::transform::today());
    assert_eq!(
        verify["expected"]["nodes"]["Learner"],
        snapshot.rows.len() as u64,
        "learners: the model accepts {} of {} rows",
        snapshot.rows.len(),
        snapshot.rows_read
    );
    let mut model = common::model::Model::default();
    model.apply(&snapshot);
    let learners = model.learners.values();
    let sum =
        |f: &dyn Fn(&common::model::Learner) -> usize| -> u64 { learners.clone().map(|l| f(l) as u64).sum() };
    let nodes = [
        ("Country", model.countries.len() as u64),
        ("City", model.cities.len() as u64),
        ("Skill", model.skills.len() as u64),
        ("Program", model.programs.len() as u64),
        ("Company", model.companies.len() as u64),
        ("Institution", model.institutions.len() as u64),
    ];
    let relationships = [
        ("HAS_SKILL", sum(&|l| l.facts.skills.len())),
        ("ENROLLED_IN", sum(&|l| l.facts.enrollments.len())),
        ("WORKS_FOR", sum(&|l| l.facts.works_for.len())),
        ("RUNS_VENTURE", sum(&|l| l.facts.ventures.len())),
        ("STUDIED_AT", sum(&|l| l.facts.studies.len())),
        ("HAS_LEARNING_STATE", sum(&|l| l.learning_history.len())),
        ("HAS_PROFESSIONAL_STATUS", sum(&|l| l.professional_history.len())),
        ("IN_COUNTRY", model.cities.len() as u64),
    ];
    for (label, n) in nodes {
        assert_eq!(verify["expected"]["nodes"][label], n, "{label} nodes: {verify}");
    }
    for (kind, n) in relationships {
        assert!(n > 0, "the file has {kind}");
        assert_eq!(verify["expected"]["relationships"][kind], n, "{kind}: {verify}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dirty_input_loads_what_is_good_and_verifies() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    clear(dir.path());
    let input = common::generate(dir.path(), "dirty.csv", 5_000, 8, 0.02);
    let summary = common::json(&common::run_db_ok(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--json"],
    ));
    let rejected = summary["rows_rejected"].as_u64().expect("n");
    assert!(rejected > 40, "{rejected} rejected");
    assert_eq!(
        summary["rows_accepted"].as_u64().expect("n") + rejected,
        5_000,
        "every row is loaded or rejected"
    );
    let verify = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(verify["differences"], Json::Array(Vec::new()), "{verify}");
    assert_verify_expects_what_the_model_does(&input, &verify);

    // A rejected share above the threshold writes nothing and exits 3.
    clear(dir.path());
    let output = common::run_db(
        dir.path(),
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--max-error-rate",
            "0.001",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_error_rate"));
    let verify = common::json(&common::run_db(
        dir.path(),
        &["verify", input.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(verify["actual"]["nodes"]["Learner"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_size_and_workers_from_the_file_are_the_ones_in_force() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    clear(dir.path());
    let input = common::generate(dir.path(), "cfg.csv", 6_000, 5, 0.0);
    std::fs::write(
        dir.path().join("learngraph.toml"),
        "[neo4j]\nbatch_size = 700\nmax_connection_pool_size = 4\n[etl]\nnum_workers = 3\n",
    )
    .expect("write config");
    let output = common::run_db_ok(
        dir.path(),
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--json",
            "-c",
            "learngraph.toml",
        ],
    );
    let summary = common::json(&output);
    assert_eq!(summary["configuration"]["neo4j"]["batch_size"], 700);
    assert_eq!(summary["configuration"]["etl"]["num_workers"], 3);
    assert_eq!(
        summary["largest_batch"], 700,
        "batches hold neo4j.batch_size rows"
    );
    assert_eq!(summary["batches"], 6_000u64.div_ceil(700), "{summary}");
    assert_eq!(summary["writer_tasks"], 3);
    let peak = summary["peak_concurrent_batches"].as_u64().expect("n");
    assert!((2..=3).contains(&peak), "writers ran {peak} batches at once");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("neo4j.batch_size = 700") && stderr.contains("etl.num_workers = 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("neo4j.password = ***"),
        "the printed configuration redacts the password"
    );
    assert!(!stderr.contains(&common::test_db().password));
}

#[test]
fn a_wrong_password_a_missing_server_and_an_unknown_database_give_clear_errors() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "x.csv", 10, 1, 0.0);
    std::fs::write(dir.path().join("wrong"), "not-the-password\n").expect("write");
    let output = common::run_db(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--password-file", "wrong"],
    );
    assert_eq!(output.status.code(), Some(15), "authentication failed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refused user") && !stderr.contains("not-the-password"),
        "{stderr}"
    );

    let output = common::run_db(
        dir.path(),
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--uri",
            "bolt://127.0.0.1:1",
        ],
    );
    assert_eq!(output.status.code(), Some(14), "database unreachable");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach the database"), "{stderr}");

    let output = common::run_db(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--database", "no_such_db"],
    );
    assert_eq!(
        output.status.code(),
        Some(16),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no_such_db"), "{stderr}");
    assert!(
        stderr.contains("the server answered"),
        "the server's own code and message: {stderr}"
    );
    for debug in ["BoltString", "BoltMap", "Failure("] {
        assert!(
            !stderr.contains(debug),
            "a driver debug structure ({debug}): {stderr}"
        );
    }
}
