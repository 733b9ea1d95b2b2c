//! End-to-end: a follow-up snapshot loaded onto the graph of the first one.
//! The generator says what it changed; the load, the graph and
//! `verify` must agree with it, and a second load of the same snapshot must
//! change nothing.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use neo4rs::{Graph, query};
use serde_json::Value as Json;

/// Nodes and relationships in the whole graph, but for the one `LoadRun`
/// record each load adds.
async fn totals(graph: &Graph) -> (i64, i64) {
    (
        common::count(graph, "MATCH (n) WHERE NOT n:LoadRun RETURN count(n) AS n").await,
        common::count(graph, "MATCH ()-[r]->() RETURN count(r) AS n").await,
    )
}

fn transitions(summary: &Json, key: &str) -> std::collections::BTreeMap<String, u64> {
    serde_json::from_value(summary[key].clone()).expect("a map of transitions")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follow_up_snapshot_adds_history_and_loading_it_twice_changes_nothing() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let first = common::generate(dir.path(), "snapshot1.csv", 20_000, 11, 0.0);
    let (second, report) = common::generate_follow_up(dir.path(), "snapshot2.csv", 20_000, 11);
    assert!(report.learners_changed > 300, "{report:?}");
    assert!(
        report.learners_leaving > 50 && report.learners_joining > 150,
        "{report:?}"
    );
    assert!(
        report.learning_transitions.contains_key("Active -> Graduate"),
        "{report:?}"
    );

    // A dry run onto the empty graph plans a first load and writes nothing.
    let graph = common::test_graph().await;
    let plan1 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", first.to_str().expect("utf-8"), "--dry-run", "--json"],
    ));
    let check1 = common::check_json(dir.path(), &first, &[]);
    assert_eq!(plan1["dry_run"], true);
    assert_eq!(plan1["graph_holds_learners"], false);
    assert_eq!(plan1["learners_new"], check1["rows_loaded"]);
    assert_eq!(plan1["nodes"], check1["nodes"], "the plan's graph is the file's");
    assert_eq!(plan1["relationships"], check1["relationships"]);
    assert_eq!(totals(&graph).await, (0, 0), "a dry run writes nothing");
    assert!(!dir.path().join("snapshot1.csv.checkpoint.json").exists());

    let load1 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", first.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(load1["snapshot_date"], "2025-09-30");

    // A dry run of the follow-up names what the load will do.
    let before_plan = totals(&graph).await;
    let plan2 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", second.to_str().expect("utf-8"), "--dry-run", "--json"],
    ));
    assert_eq!(plan2["graph_holds_learners"], true);
    assert_eq!(
        plan2["learners_new"].as_u64(),
        Some(report.learners_joining),
        "{plan2}"
    );
    assert_eq!(
        plan2["learners_to_mark_missing"].as_u64(),
        Some(report.learners_leaving),
        "{plan2}"
    );
    // The split the load then makes, from the generator's own count.
    assert_eq!(
        plan2["learners_changed"].as_u64(),
        Some(report.learners_changed),
        "{plan2}"
    );
    assert_eq!(
        plan2["learners_unchanged"].as_u64(),
        Some(plan2["learners_in_graph"].as_u64().unwrap_or(0) - report.learners_changed),
        "{plan2}"
    );
    let plan2_text = String::from_utf8_lossy(
        &common::run_db_ok(
            dir.path(),
            &["load", second.to_str().expect("utf-8"), "--dry-run"],
        )
        .stdout,
    )
    .into_owned();
    assert!(
        plan2_text.contains(&format!(
            "({} changed, written;",
            common::with_commas(report.learners_changed)
        )),
        "{plan2_text}"
    );
    assert_eq!(totals(&graph).await, before_plan, "a dry run writes nothing");

    let load2 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(load2["snapshot_date"], "2025-12-31");
    assert_eq!(
        load2["learners_written"].as_u64(),
        Some(report.learners_joining),
        "new learners"
    );
    assert_eq!(
        load2["learners_updated"].as_u64(),
        Some(report.learners_changed),
        "changed learners"
    );
    assert_eq!(
        load2["learners_marked_missing"].as_u64(),
        Some(report.learners_leaving),
        "missing learners"
    );
    let accepted = load2["rows_accepted"].as_u64().expect("rows");
    assert_eq!(
        load2["learners_unchanged"].as_u64(),
        Some(accepted - report.learners_joining - report.learners_changed),
        "unchanged learners"
    );
    assert_eq!(
        transitions(&load2, "learning_transitions"),
        report.learning_transitions
    );
    assert_eq!(
        transitions(&load2, "professional_transitions"),
        report.professional_transitions
    );

    // The graph: closed and open state relationships, missing learners.
    let graph = common::test_graph().await;
    let graduated = report.learning_transitions["Active -> Graduate"] as i64;
    let left_active: i64 = report
        .learning_transitions
        .iter()
        .filter(|(k, _)| k.starts_with("Active ->"))
        .map(|(_, n)| *n as i64)
        .sum();
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner)-[r:HAS_LEARNING_STATE]->(:LearningState {state: 'Graduate'}), \
                   (l)-[old:HAS_LEARNING_STATE]->(:LearningState {state: 'Active'}) \
             WHERE r.validFrom = date('2025-12-31') AND r.isCurrent = true AND r.openedBySnapshot = true \
               AND old.validTo = r.validFrom AND old.isCurrent = false RETURN count(r) AS n"
        )
        .await,
        graduated
    );
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner)-[r:HAS_LEARNING_STATE]->(:LearningState {state: 'Active'}), \
                   (l)-[new:HAS_LEARNING_STATE]->() WHERE new.openedBySnapshot = true \
               AND r.validTo = new.validFrom AND r.isCurrent = false RETURN count(r) AS n"
        )
        .await,
        left_active
    );
    let found_job = report.professional_transitions["Unemployed -> Wage Employed"] as i64;
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner)-[r:HAS_PROFESSIONAL_STATUS]->(:ProfessionalStatus {status: 'Unemployed'}), \
                   (l)-[new:HAS_PROFESSIONAL_STATUS]->(:ProfessionalStatus {status: 'Wage Employed'}) \
             WHERE new.openedBySnapshot = true AND new.isCurrent = true \
               AND r.validTo = new.validFrom AND r.isCurrent = false RETURN count(r) AS n"
        )
        .await,
        found_job
    );
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner)-[r:HAS_LEARNING_STATE]->() WHERE r.isCurrent = true \
             WITH l, count(r) AS c WHERE c <> 1 RETURN count(l) AS n"
        )
        .await,
        0,
        "exactly one current learning state per learner"
    );
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner) WHERE l.missingSince = date('2025-12-31') RETURN count(l) AS n"
        )
        .await,
        report.learners_leaving as i64
    );
    // The README's question: Active -> Graduate between the snapshots, per program.
    let mut stream = graph
        .execute(query(
            "MATCH (l:Learner)-[old:HAS_LEARNING_STATE]->(:LearningState {state: 'Active'}), \
                   (l)-[new:HAS_LEARNING_STATE]->(:LearningState {state: 'Graduate'}) \
             WHERE new.openedBySnapshot AND new.validFrom = date('2025-12-31') AND old.validTo = new.validFrom \
             MATCH (l)-[:ENROLLED_IN]->(p:Program) \
             RETURN p.name AS program, count(DISTINCT l) AS graduated ORDER BY graduated DESC, program",
        ))
        .await
        .expect("the README query runs");
    let mut per_program = 0;
    let mut programs = 0;
    while let Some(row) = stream.next().await.expect("reads") {
        per_program += row.get::<i64>("graduated").expect("graduated");
        programs += 1;
    }
    assert_eq!(
        per_program, graduated,
        "the README query counts every graduation once"
    );
    assert!(programs > 1);

    let verify = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(verify["several_snapshots"], true);
    assert_eq!(verify["differences"], Json::Array(Vec::new()), "{verify}");
    // Verify's answers are the latest snapshot's: the learners marked
    // missing (graduates among them) are left out. Counted from the file.
    let graduates = common::records(&second)
        .iter()
        .filter(|record| record.text("currentLearningState") == Some("Graduate"))
        .count();
    assert_eq!(
        verify["answers"]["graduates"].as_u64(),
        Some(graduates as u64),
        "{verify}"
    );

    // The same snapshot again: nothing changes.
    let before = totals(&graph).await;
    let again = common::json(&common::run_db_ok(
        dir.path(),
        &["load", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(again["learners_written"], 0);
    assert_eq!(again["learners_updated"], 0);
    assert_eq!(again["learners_marked_missing"], 0);
    assert_eq!(again["learners_unchanged"].as_u64(), Some(accepted));
    let verify_again = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(
        verify_again["actual"], verify["actual"],
        "a second load of a snapshot changes no count"
    );
    let after = totals(&graph).await;
    assert_eq!(after, before, "no node or relationship added or removed");
    let runs = common::count(&graph, "MATCH (r:LoadRun) WHERE r.complete RETURN count(r) AS n").await;
    assert_eq!(runs, 3, "one completed LoadRun record per load");
    // The snapshot keeps what its first load did; each run keeps its own.
    let first_counts = common::count(
        &graph,
        "MATCH (s:Snapshot {date: date('2025-12-31')}) RETURN s.learnersNew AS n",
    )
    .await;
    assert_eq!(
        first_counts as u64, report.learners_joining,
        "the reload did not overwrite the snapshot"
    );
    let reload_new = common::count(
        &graph,
        "MATCH (r:LoadRun) WHERE r.snapshotDate = date('2025-12-31') AND r.learnersNew = 0 \
         AND r.learnersUnchanged > 0 RETURN count(r) AS n",
    )
    .await;
    assert_eq!(reload_new, 1, "the reload has a record of its own");

    // An older snapshot after a newer one is refused, and writes nothing.
    let older = common::run_db(dir.path(), &["load", first.to_str().expect("utf-8")]);
    assert_eq!(
        older.status.code(),
        Some(19),
        "{}",
        String::from_utf8_lossy(&older.stderr)
    );
    assert!(String::from_utf8_lossy(&older.stderr).contains("older than the latest one the graph holds"));
    let after_older = totals(&graph).await;
    assert_eq!(after_older, before, "a refused snapshot writes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trial_load_writes_only_the_first_rows_and_says_so() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "trial.csv", 1_000, 21, 0.0);
    let path = input.to_str().expect("utf-8");
    let graph = common::test_graph().await;

    let trial = common::json(&common::run_db_ok(
        dir.path(),
        &["load", path, "--max-rows", "250", "--json"],
    ));
    assert_eq!(trial["trial_max_rows"], 250);
    assert_eq!(trial["rows_read"], 250, "{trial}");
    let trial_learners = trial["rows_accepted"].as_u64().expect("rows");
    assert_eq!(trial["learners_written"].as_u64(), Some(trial_learners));
    assert_eq!(
        common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await as u64,
        trial_learners
    );
    assert_eq!(
        common::count(&graph, "MATCH (s:Snapshot) RETURN count(s) AS n").await,
        0,
        "a trial records no snapshot"
    );
    let text = common::run_db_ok(dir.path(), &["load", path, "--max-rows", "250"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.starts_with("TRIAL LOAD: only the first 250 rows"),
        "{stdout}"
    );

    // The whole file afterwards: the trial's learners are unchanged, the
    // rest created, nobody marked missing, and the graph is the file's.
    let full = common::json(&common::run_db_ok(dir.path(), &["load", path, "--json"]));
    assert_eq!(full["trial_max_rows"], Json::Null);
    assert_eq!(full["learners_marked_missing"], 0);
    assert_eq!(
        full["learners_unchanged"].as_u64(),
        Some(trial_learners),
        "{full}"
    );
    assert_eq!(
        full["learners_written"].as_u64(),
        Some(full["rows_accepted"].as_u64().expect("rows") - trial_learners)
    );
    let verify = common::json(&common::run_db_ok(dir.path(), &["verify", path, "--json"]));
    assert_eq!(verify["differences"], Json::Array(Vec::new()), "{verify}");
}

/// The values of column `c` of a query's rows, sorted.
async fn strings(graph: &Graph, statement: &str, key: &str) -> Vec<String> {
    let mut stream = graph
        .execute(query(statement).param("k", key))
        .await
        .expect("the query runs");
    let mut values = Vec::new();
    while let Some(row) = stream.next().await.expect("reads") {
        values.push(row.get::<String>("c").expect("a string column c"));
    }
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_snapshot_rewrites_only_what_changed_and_the_graph_equals_the_file() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let first = common::generate(dir.path(), "first.csv", 2_000, 31, 0.0);
    let load1 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", first.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(
        load1["entity_nodes_unchanged"], 0,
        "an empty graph holds no shared node"
    );

    // The next export: learner 0 has other skills, learner 1 lives in a
    // new city, and learner 0's city has moved (every row of it says so).
    // (RESIDES_IN is off by default: the city is the learner's property.)
    let (skills, city, latitude) = (
        column("skills_list"),
        column("city_of_residence"),
        column("city_of_residence_latitude"),
    );
    let mut moved_city = Vec::new();
    let second = dir.path().join("second.csv");
    common::rewrite(&first, &second, |index, fields| {
        fields[column("snapshot_id")] = b"20251231".to_vec();
        if index == 0 {
            fields[skills] = b"Rust,Cypher,Data Engineering".to_vec();
            moved_city = fields[city].clone();
        }
        if index == 1 {
            fields[city] = b"Testville".to_vec();
        }
        if fields[city] == moved_city {
            fields[latitude] = b"-1.2345".to_vec();
        }
        true
    });
    let records = common::records(&second);
    let load2 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(load2["learners_updated"], 2, "{load2}");
    assert_eq!(load2["learners_written"], 0, "{load2}");
    // Written again: the moved city, Testville and the skills the graph
    // did not hold; every other shared node is left alone.
    let known_skills: std::collections::HashSet<String> = common::records(&first)
        .into_iter()
        .flat_map(|record| record.skills)
        .collect();
    let new_skills = records[0]
        .skills
        .iter()
        .filter(|s| !known_skills.contains(*s))
        .count() as u64;
    assert_eq!(
        load2["entity_nodes_merged"].as_u64(),
        Some(2 + new_skills),
        "{load2}"
    );
    let check2 = common::check_json(dir.path(), &second, &[]);
    let shared: u64 = check2["nodes"]
        .as_object()
        .expect("nodes by label")
        .iter()
        .filter(|(label, _)| *label != "Learner")
        .map(|(_, n)| n.as_u64().expect("a count"))
        .sum();
    assert_eq!(
        load2["entity_nodes_unchanged"].as_u64(),
        Some(shared - 2 - new_skills),
        "{load2}"
    );

    let graph = common::test_graph().await;
    let mut skill_ids = records[0].skills.clone();
    skill_ids.sort();
    assert_eq!(
        strings(
            &graph,
            "MATCH (:Learner {hashedEmail: $k})-[:HAS_SKILL]->(s:Skill) RETURN s.id AS c",
            &records[0].key
        )
        .await,
        skill_ids,
        "learner 0's skills are the new export's"
    );
    assert_eq!(
        strings(
            &graph,
            "MATCH (l:Learner {hashedEmail: $k}) MATCH (c:City {id: l.cityOfResidenceId}) RETURN c.name AS c",
            &records[1].key
        )
        .await,
        ["Testville"],
        "learner 1 lives in the new city"
    );
    let moved = records[0].city_id.clone().expect("learner 0 has a city");
    assert_eq!(
        common::count(
            &graph,
            &format!("MATCH (c:City {{id: '{moved}'}}) WHERE c.latitude = -1.2345 RETURN count(c) AS n")
        )
        .await,
        1,
        "the moved city's latitude is the new export's"
    );
    let verify = common::json(&common::run_db_ok(
        dir.path(),
        &["verify", second.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(verify["differences"], Json::Array(Vec::new()), "{verify}");
}

fn column(name: &str) -> usize {
    common::column(name)
}
