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
    let trial = common::run_db_ok(dir.path(), &["load", files[2].to_str().unwrap(), "--max-rows", "50"]);
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
        &["load", files[2].to_str().unwrap(), "--batch-size", "1", "--workers", "1"],
    ));
    killed.wait_for("phase=\"entities\"");
    while common::count(
        &graph,
        "MATCH (l:Learner) WHERE l.changedBySnapshot IS NOT NULL RETURN count(l) AS n",
    )
    .await
        < 100
    {
        assert!(killed.child.try_wait().expect("waits").is_none(), "the load ended early");
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
