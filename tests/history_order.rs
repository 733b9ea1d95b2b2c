//! End-to-end: no order of runs bends the snapshot history. A later
//! snapshot that was only tried (`--max-rows`) or killed mid-load has
//! written learners dated by it: the skipped earlier snapshot is then
//! refused (exit 19), naming the later run and the ways on, and no state
//! interval ever ends before it begins.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;

use common::Running;

fn load_args(file: &Path) -> Vec<&str> {
    vec!["load", file.to_str().expect("a UTF-8 path")]
}

/// State relationships whose interval ends before it begins.
async fn bent_intervals(graph: &neo4rs::Graph) -> i64 {
    common::count(
        graph,
        "MATCH ()-[r:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->() \
         WHERE r.validTo IS NOT NULL AND r.validTo < r.validFrom RETURN count(r) AS n",
    )
    .await
}

fn assert_refused_for_later_run(output: &std::process::Output, kind: &str) {
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(19), "{log}");
    assert!(log.contains("nothing was written"), "{log}");
    assert!(log.contains(kind), "the refusal names the later run: {log}");
    assert!(
        log.contains("load --resume") && log.contains("clear --all --yes"),
        "the refusal names the ways on: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tried_or_killed_later_snapshot_keeps_an_earlier_one_out() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let files = common::generate_snapshots(dir.path(), "snaps", 20_000, 61, 3, 0.0);
    common::run_db_ok(dir.path(), &load_args(&files[0]));

    // A trial of snapshot 3, then snapshot 2.
    let trial = common::run_db_ok(
        dir.path(),
        &["load", files[2].to_str().unwrap(), "--max-rows", "50"],
    );
    assert!(trial.status.success());
    let learners_before = common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await;
    let refused = common::run_db(dir.path(), &load_args(&files[1]));
    assert_refused_for_later_run(&refused, "--max-rows trial of 50 rows");
    assert_eq!(
        common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await,
        learners_before
    );

    // Snapshot 3 killed mid-load, then snapshot 2. One learner per
    // transaction: the kill lands with most of the load still to do.
    let mut killed = Running::spawn(common::db_command(
        dir.path(),
        &[
            "load",
            files[2].to_str().unwrap(),
            "--batch-size",
            "1",
            "--workers",
            "1",
        ],
    ));
    killed.wait_for("phase=\"entities\"");
    while common::count(
        &graph,
        "MATCH (l:Learner) WHERE l.changedBySnapshot IS NOT NULL RETURN count(l) AS n",
    )
    .await
        < 100
    {
        assert!(
            killed.child.try_wait().expect("waits").is_none(),
            "the load ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    killed.child.kill().expect("kill -9");
    let (code, _) = killed.finish();
    assert_eq!(code, None, "killed by a signal");
    let refused = common::run_db(dir.path(), &load_args(&files[1]));
    assert_refused_for_later_run(&refused, "did not finish");
    assert_eq!(bent_intervals(&graph).await, 0);

    // The way on: finish snapshot 3; snapshot 2 is then plainly older.
    common::run_db_ok(dir.path(), &["load", "--resume", files[2].to_str().unwrap()]);
    let older = common::run_db(dir.path(), &load_args(&files[1]));
    assert_eq!(older.status.code(), Some(19));
    assert_eq!(bent_intervals(&graph).await, 0);
    let verify = common::run_db_ok(dir.path(), &["verify", files[2].to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

/// Zero-length state intervals that begin on `date`.
async fn empty_intervals_on(graph: &neo4rs::Graph, date: &str) -> i64 {
    common::count(
        graph,
        &format!(
            "MATCH ()-[r:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->() \
             WHERE r.validFrom = date('{date}') AND r.validTo = r.validFrom RETURN count(r) AS n"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrected_export_of_the_same_date_corrects_that_date() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let files = common::generate_snapshots(dir.path(), "snaps", 3_000, 67, 3, 0.0);
    let (first, second, third) = (
        common::rows_by_key(&files[0]),
        common::rows_by_key(&files[1]),
        common::rows_by_key(&files[2]),
    );
    // The correction of snapshot 2: half the learners it changed are as
    // they were (the change was wrong), and those snapshot 3 changes are
    // as snapshot 3 has them (the change came early); dated as snapshot 2.
    let snapshot_id = common::column("snapshot_id");
    let key = common::column("hashed_email");
    let corrected = dir.path().join("snapshot-2-corrected.csv");
    let (mut reverted, mut advanced) = (0, 0);
    common::rewrite(&files[1], &corrected, |i, fields| {
        let date = fields[snapshot_id].clone();
        let k = fields[key].clone();
        match (first.get(&k), third.get(&k)) {
            (Some(before), _) if before[1..] != fields[1..] && i % 2 == 0 && before[snapshot_id] != date => {
                let mut before = before.clone();
                before[snapshot_id] = date.clone();
                if before != *fields {
                    *fields = before;
                    reverted += 1;
                }
            }
            (_, Some(after)) if after != &second[&k] => {
                *fields = after.clone();
                fields[snapshot_id] = date;
                advanced += 1;
            }
            _ => {}
        }
        true
    });
    assert!(
        reverted > 50 && advanced > 50,
        "{reverted} reverted, {advanced} advanced"
    );
    let date = {
        let summary = common::json(&common::run_db_ok(
            dir.path(),
            &["load", files[0].to_str().unwrap(), "--json"],
        ));
        assert!(summary.is_object());
        let summary = common::json(&common::run_db_ok(
            dir.path(),
            &["load", files[1].to_str().unwrap(), "--json"],
        ));
        summary["snapshot_date"]
            .as_str()
            .expect("a snapshot date")
            .to_string()
    };
    assert_eq!(empty_intervals_on(&graph, &date).await, 0);
    common::run_db_ok(dir.path(), &["load", corrected.to_str().unwrap()]);

    // No interval of no length, no transition from a state to itself.
    assert_eq!(empty_intervals_on(&graph, &date).await, 0);
    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    let snapshot = history["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .find(|s| s["date"] == date.as_str())
        .expect("the snapshot's record");
    for kind in ["learning_transitions", "professional_transitions"] {
        for name in snapshot[kind].as_object().expect("a map").keys() {
            let (before, after) = name.split_once(" -> ").expect("a transition");
            assert_ne!(before, after, "{history}");
        }
    }
    assert_eq!(snapshot["loads"], 2, "{snapshot}");
    let text = String::from_utf8_lossy(&common::run_db_ok(dir.path(), &["history"]).stdout).into_owned();
    assert!(text.contains("reloaded"), "{text}");
    let corrected_picture = common::graph_picture(None, &[]).await;
    let record: Vec<i64> = [
        "learners_new",
        "learners_changed",
        "learners_missing",
        "learners_present",
    ]
    .iter()
    .map(|k| snapshot[k].as_i64().expect("a count"))
    .collect();

    // The graph is the one the correction would have made in the first
    // place, and so is the record of its date.
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    common::run_db_ok(dir.path(), &["load", files[0].to_str().unwrap()]);
    common::run_db_ok(dir.path(), &["load", corrected.to_str().unwrap()]);
    let direct_picture = common::graph_picture(None, &[]).await;
    // Shared nodes only the wrong export named stay (shared nodes are
    // never deleted): the learners and every relationship compare.
    let learners_and_relationships = |counts: &std::collections::BTreeMap<String, i64>| {
        counts
            .iter()
            .filter(|(k, _)| (k.starts_with("type ") && *k != "type IN_COUNTRY") || *k == "label Learner")
            .map(|(k, n)| (k.clone(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        learners_and_relationships(&corrected_picture.0),
        learners_and_relationships(&direct_picture.0)
    );
    let differing: Vec<_> = corrected_picture
        .1
        .iter()
        .zip(&direct_picture.1)
        .filter(|(a, b)| a != b)
        .take(3)
        .map(|(a, b)| {
            let parts = |s: &str| {
                s.split("; ")
                    .map(str::to_string)
                    .collect::<std::collections::BTreeSet<_>>()
            };
            let (a, b) = (parts(a), parts(b));
            (
                a.difference(&b).cloned().collect::<Vec<_>>(),
                b.difference(&a).cloned().collect::<Vec<_>>(),
            )
        })
        .collect();
    assert!(differing.is_empty(), "learners differ:\n{differing:#?}");
    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    let direct = history["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .find(|s| s["date"] == date.as_str())
        .expect("the snapshot's record");
    assert_eq!(direct["learners_new"].as_i64(), Some(record[0]));
    assert_eq!(direct["learners_changed"].as_i64(), Some(record[1]));
    assert_eq!(direct["learners_missing"].as_i64(), Some(record[2]));
    assert_eq!(direct["learners_present"].as_i64(), Some(record[3]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trial_after_a_full_load_renames_no_shared_node() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let input = common::generate(dir.path(), "data.csv", 2_000, 71, 0.0);
    common::run_db_ok(dir.path(), &load_args(&input));
    let names = |graph: neo4rs::Graph| async move {
        let mut rows = graph
            .execute(neo4rs::query(
                "MATCH (s:Skill) RETURN s.id AS id, s.name AS name ORDER BY id",
            ))
            .await
            .expect("skills");
        let mut names = Vec::new();
        while let Some(row) = rows.next().await.expect("reads") {
            names.push((
                row.get::<String>("id").unwrap(),
                row.get::<String>("name").unwrap(),
            ));
        }
        names
    };
    let before = names(graph.clone()).await;
    // The same export, its first 50 rows shouting their skills: by these
    // rows' counts alone, every skill they name is spelt in capitals.
    let skills = common::column("skills_list");
    let shouting = dir.path().join("shouting.csv");
    common::rewrite(&input, &shouting, |i, fields| {
        if i < 50 {
            fields[skills] = String::from_utf8_lossy(&fields[skills])
                .to_uppercase()
                .into_bytes();
        }
        true
    });
    common::run_db_ok(
        dir.path(),
        &["load", shouting.to_str().unwrap(), "--max-rows", "50"],
    );
    let after = names(graph.clone()).await;
    let renamed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert_eq!(before.len(), after.len());
    assert!(renamed.is_empty(), "the trial renamed {renamed:?}");
    // The fault was real: the trial's own rows name skills in capitals.
    let mut reader = csv::Reader::from_path(&shouting).expect("opens");
    let first = reader.records().next().expect("a row").expect("reads");
    let named = &first[skills];
    assert!(
        named.chars().any(char::is_alphabetic) && named == named.to_uppercase(),
        "{named}"
    );
}
