//! End-to-end: history is dated by the snapshot, never by a stray row. A
//! row whose own snapshot_id is in the future is rejected with its reason;
//! rows dated otherwise are dated by the load; no state interval begins
//! after the snapshot that recorded it or ends before it begins, in a first
//! load or a later one; a dry run counts learners coming back as returning.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::HashSet;
use std::path::Path;

use neo4rs::Graph;

use common::{column, rewrite};

/// Every way a state interval can break its bounds, counted in the graph
/// through the test's own driver.
async fn interval_violations(graph: &Graph, snapshot: &str) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for (name, condition) in [
        ("ends before it begins", "r.validTo < r.validFrom"),
        (
            "begins after the latest snapshot",
            "r.validFrom > date($snapshot)",
        ),
        ("ends after the latest snapshot", "r.validTo > date($snapshot)"),
    ] {
        let statement = format!(
            "MATCH ()-[r:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->() WHERE {condition} RETURN count(r) AS n"
        );
        let mut rows = graph
            .execute(neo4rs::query(&statement).param("snapshot", snapshot))
            .await
            .expect("query");
        let row = rows.next().await.expect("row").expect("one row");
        let n: i64 = row.get("n").expect("n");
        if n > 0 {
            found.push((name.to_string(), n));
        }
    }
    found
}

fn keys(path: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).expect("opens");
    let key = column("hashed_email");
    reader
        .byte_records()
        .map(|r| String::from_utf8_lossy(&r.expect("reads")[key]).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn states_are_dated_by_the_snapshot_never_by_a_stray_row() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let first = common::generate(dir.path(), "first.csv", 3_000, 3, 0.0);
    let (generated, report) = common::generate_follow_up(dir.path(), "generated.csv", 3_000, 3);
    assert!(
        report.learners_changed > 0 && report.learners_leaving > 0,
        "{report:?}"
    );

    // A first load: jobs that start after the snapshot exist in the sample
    // (check counts them) and still no interval reaches past it.
    let check = common::check_json(dir.path(), &first, &[]);
    let clamped = check["findings"]["state_date_after_snapshot"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        clamped > 0,
        "the sample has states dated after its snapshot: {check}"
    );
    common::run_db_ok(dir.path(), &["load", first.to_str().unwrap()]);
    assert_eq!(interval_violations(&graph, "2025-09-30").await, Vec::new());

    // The follow-up with stray rows: one from the future, every third from
    // before the graph's latest snapshot.
    let snapshot_id = column("snapshot_id");
    let second = dir.path().join("second.csv");
    let mut future_key = String::new();
    rewrite(&generated, &second, |i, fields| {
        if i == 0 {
            fields[snapshot_id] = b"20991231".to_vec();
            future_key = String::from_utf8_lossy(&fields[column("hashed_email")]).into_owned();
        } else if i % 3 == 0 {
            fields[snapshot_id] = b"20250101".to_vec();
        }
        true
    });
    let load = common::json(&common::run_db_ok(
        dir.path(),
        &["load", second.to_str().unwrap(), "--json"],
    ));
    assert_eq!(load["snapshot_date"], "2025-12-31", "{load}");
    assert_eq!(load["rejected_by_reason"]["future_snapshot_id"], 1, "{load}");
    let rejects = std::fs::read_to_string(dir.path().join("second.csv.rejects.csv")).expect("rejects");
    assert!(
        rejects.contains("future_snapshot_id") && rejects.contains(&future_key),
        "{rejects}"
    );
    assert_eq!(interval_violations(&graph, "2025-12-31").await, Vec::new());
    // Every change this load wrote carries its one date.
    for (what, statement) in [
        (
            "states opened by the snapshot on another date",
            "MATCH ()-[r]->() WHERE r.openedBySnapshot AND r.validFrom <> date('2025-12-31') RETURN count(r) AS n",
        ),
        (
            "learners marked missing on another date",
            "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL AND l.missingSince <> date('2025-12-31') \
             RETURN count(l) AS n",
        ),
    ] {
        assert_eq!(common::count(&graph, statement).await, 0, "{what}");
    }
    assert!(
        common::count(
            &graph,
            "MATCH ()-[r]->() WHERE r.openedBySnapshot AND r.validFrom = date('2025-12-31') RETURN count(r) AS n"
        )
        .await
            > 0,
        "the follow-up opened states"
    );

    // A third snapshot bringing back every learner the second one marked
    // missing: the dry run counts them as returning, not as new.
    let present: HashSet<String> = keys(&second).into_iter().collect();
    let leaving: HashSet<String> = keys(&first)
        .into_iter()
        .filter(|k| !present.contains(k))
        .collect();
    let third = dir.path().join("third.csv");
    let back = dir.path().join("back.csv");
    rewrite(&first, &back, |_, fields| {
        fields[snapshot_id] = b"20260331".to_vec();
        leaving.contains(String::from_utf8_lossy(&fields[column("hashed_email")]).as_ref())
    });
    rewrite(&second, &third, |_, fields| {
        fields[snapshot_id] = b"20260331".to_vec();
        true
    });
    let mut appended = std::fs::read(&third).expect("reads");
    let back_rows = std::fs::read(&back).expect("reads");
    let header_end = back_rows.iter().position(|b| *b == b'\n').expect("a header") + 1;
    appended.extend_from_slice(&back_rows[header_end..]);
    std::fs::write(&third, appended).expect("writes");
    let marked = common::count(
        &graph,
        "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL RETURN count(l) AS n",
    )
    .await;
    assert_eq!(
        marked as usize,
        leaving.len(),
        "the second snapshot marked the leavers"
    );
    let plan = common::json(&common::run_db_ok(
        dir.path(),
        &["load", third.to_str().unwrap(), "--dry-run", "--json"],
    ));
    assert_eq!(
        plan["learners_returning"].as_u64(),
        Some(leaving.len() as u64),
        "{plan}"
    );
    // The row from the future was rejected: its learner is new unless the
    // first snapshot had it.
    let future_is_new = !keys(&first).contains(&future_key);
    assert_eq!(plan["learners_new"], u64::from(future_is_new), "{plan}");
    let load = common::json(&common::run_db_ok(
        dir.path(),
        &["load", third.to_str().unwrap(), "--json"],
    ));
    assert_eq!(load["learners_written"], plan["learners_new"], "{load}");
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL RETURN count(l) AS n"
        )
        .await,
        0,
        "every learner came back"
    );
    assert_eq!(interval_violations(&graph, "2026-03-31").await, Vec::new());
}
