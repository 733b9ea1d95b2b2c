//! End-to-end: the load lock trusts no other host's clock and no other
//! process-id namespace, and a run that loses it stops writing.
//!
//! - A load runs in a pid namespace of its own (a container sharing the
//!   host's network, so the same host name) with its clock 400 s behind.
//!   Two runs try to take the graph meanwhile: one from another pid
//!   namespace, which cannot see the first's process, and one whose clock
//!   runs 400 s ahead. Both are refused (exit 29); the first finishes and
//!   the graph is its file's, exactly.
//! - A load whose lock is broken by a trial (`--break-lock --max-rows`)
//!   stops before its next write with exit 31, its run is recorded as
//!   stopped with the reason, `history --fail-if-last-failed` fails on it,
//!   and `load --resume` then completes it.
//! - A write in flight when the lock is broken never lands: the holder's
//!   one transaction (the whole file in one batch) is running when a trial
//!   breaks the lock; it is rolled back, the trial's learners are the only
//!   ones in the graph, and the trial, which creates learners that
//!   transaction held, is not refused for duplicates.
//!
//! The namespaces come from `unshare` (util-linux) and the clocks from
//! `faketime` (libfaketime); `scripts/test` installs the latter.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Running;

/// The binary run through `wrapper` (a namespace, a clock), against the
/// test database.
fn wrapped(dir: &Path, wrapper: &[&str], args: &[&str]) -> Command {
    let plain = common::db_command(dir, args);
    let mut command = Command::new(wrapper[0]);
    command
        .args(&wrapper[1..])
        .arg(common::binary())
        .args(args)
        .current_dir(dir);
    for (key, value) in plain.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
}

const OWN_PID_NAMESPACE: &[&str] = &["unshare", "--pid", "--fork", "--mount-proc"];

/// A clock `offset` away (`+400s`), monotonic time left true.
fn skewed(offset: &str) -> Vec<String> {
    vec!["faketime".into(), "-f".into(), offset.into()]
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The learners the file holds, by the independent model.
fn learners_in(input: &Path) -> i64 {
    common::model::read(input, chrono::Utc::now().date_naive())
        .rows
        .len() as i64
}

async fn learners(graph: &neo4rs::Graph) -> i64 {
    common::count(graph, "MATCH (l:Learner) RETURN count(l) AS n").await
}

/// Another run, from a folder of its own with a copy of `dir`'s data.csv
/// (as from another container): a 50-row trial that breaks the load lock.
/// Fails the test unless it succeeded and took the lock over.
fn break_the_lock_with_a_trial(dir: &Path) {
    let trial_folder = dir.join("trial");
    std::fs::create_dir(&trial_folder).expect("a folder");
    std::fs::copy(dir.join("data.csv"), trial_folder.join("data.csv")).expect("copies");
    let trial = common::run_db(
        &trial_folder,
        &["load", "data.csv", "--max-rows", "50", "--break-lock"],
    );
    assert!(trial.status.success(), "{}", stderr(&trial));
    assert!(
        stderr(&trial).contains("Took over the load lock"),
        "the fault happened: {}",
        stderr(&trial)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_in_another_pid_namespace_or_with_a_skewed_clock_never_takes_a_live_lock() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let input = common::generate(dir.path(), "data.csv", 60_000, 47, 0.0);
    let expected = learners_in(&input);
    // The others load copies in their own folders: only the graph's lock
    // is shared, as between containers.
    let copy = |name: &str| {
        let folder = dir.path().join(name);
        std::fs::create_dir(&folder).expect("a folder");
        std::fs::copy(&input, folder.join("data.csv")).expect("copies");
        folder
    };
    let (container, ahead) = (copy("container"), copy("ahead"));

    let behind: Vec<String> = OWN_PID_NAMESPACE
        .iter()
        .map(|s| s.to_string())
        .chain(skewed("-400s"))
        .collect();
    let behind: Vec<&str> = behind.iter().map(String::as_str).collect();
    let mut holder = Running::spawn(wrapped(
        dir.path(),
        &behind,
        &["load", "data.csv", "--batch-size", "500", "--workers", "1"],
    ));
    holder.wait_for("phase=\"entities\"");

    let from_container = wrapped(&container, OWN_PID_NAMESPACE, &["load", "data.csv"])
        .output()
        .expect("runs");
    let ahead_args = skewed("+400s");
    let ahead_args: Vec<&str> = ahead_args.iter().map(String::as_str).collect();
    let from_ahead = wrapped(&ahead, &ahead_args, &["load", "data.csv"])
        .output()
        .expect("runs");
    let (code, log) = holder.finish();
    assert_eq!(code, Some(0), "the holder finishes: {log}");
    for (who, output) in [
        ("another pid namespace", &from_container),
        ("a clock 400 s ahead", &from_ahead),
    ] {
        let text = stderr(output);
        assert_eq!(output.status.code(), Some(29), "{who}: {text}");
        assert!(
            text.contains("holds the graph's load lock") && text.contains("nothing was written"),
            "{who}: {text}"
        );
        assert!(!text.contains("Took over"), "{who}: {text}");
    }
    assert!(!log.contains("taken over"), "the holder kept its lock: {log}");
    assert_eq!(learners(&graph).await, expected, "the graph is the file's, once");
    let verify = common::run_db_ok(dir.path(), &["verify", "data.csv"]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    let runs = history["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "the refused runs wrote no record: {history}");
    assert_eq!(runs[0]["outcome"], "finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lock_is_broken_stops_before_its_next_write_and_says_so() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let input = common::generate(dir.path(), "data.csv", 60_000, 53, 0.0);
    let expected = learners_in(&input);

    let mut first = Running::spawn(common::db_command(
        dir.path(),
        &["load", "data.csv", "--batch-size", "500", "--workers", "1"],
    ));
    first.wait_for("phase=\"entities\"");
    // The trial's 50 rows are in the first run's first batch: once that is
    // committed, the trial finds its learners there (a trial that broke the
    // lock before would create them beside the first run's).
    while learners(&graph).await < 500 {
        assert!(
            first.child.try_wait().expect("waits").is_none(),
            "the first run ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    break_the_lock_with_a_trial(dir.path());
    let after_trial = learners(&graph).await;
    let (code, log) = first.finish();
    assert_eq!(
        code,
        Some(31),
        "the run that lost its lock fails with its own code: {log}"
    );
    assert!(log.contains("lost the graph's load lock"), "{log}");
    assert!(log.contains("load --resume"), "it says the way on: {log}");
    assert_eq!(
        learners(&graph).await,
        after_trial,
        "nothing written once the lock was lost"
    );
    assert!(
        after_trial < expected,
        "the first run was cut short: {after_trial} of {expected}"
    );

    // The graph's own record says so, and a monitor sees it.
    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    let stopped: Vec<&serde_json::Value> = history["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|run| run["outcome"] == "stopped")
        .collect();
    assert_eq!(stopped.len(), 1, "{history}");
    assert!(
        stopped[0]["stopped_because"]
            .as_str()
            .is_some_and(|r| r.contains("load lock")),
        "{history}"
    );
    assert_eq!(history["last_run_finished"], false, "{history}");
    let monitored = common::run_db(dir.path(), &["history", "--fail-if-last-failed"]);
    assert_eq!(monitored.status.code(), Some(30), "{}", stderr(&monitored));
    assert!(String::from_utf8_lossy(&monitored.stdout).contains("STOPPED"));

    // Resumed once the other run is done: the file's graph, exactly.
    common::run_db_ok(dir.path(), &["load", "--resume", "data.csv"]);
    assert_eq!(learners(&graph).await, expected);
    let verify = common::run_db_ok(dir.path(), &["verify", "data.csv"]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    assert_eq!(history["last_run_finished"], true, "{history}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_in_flight_when_the_lock_is_broken_is_rolled_back() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let rows = 30_000;
    common::generate(dir.path(), "data.csv", rows, 71, 0.0);

    // Every learner in one transaction.
    let mut first = Running::spawn(common::db_command(
        dir.path(),
        &[
            "load",
            "data.csv",
            "--batch-size",
            &rows.to_string(),
            "--workers",
            "1",
        ],
    ));
    // Synchronised on the server: that transaction is running.
    let running = neo4rs::query(
        "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $needle RETURN count(*) AS n",
    )
    .param("needle", "UNWIND $learners AS p CREATE (l:Learner)");
    loop {
        let mut answer = graph.execute(running.clone()).await.expect("transactions");
        let row = answer.next().await.expect("a row").expect("a count");
        if row.get::<i64>("n").expect("n") > 0 {
            break;
        }
        assert!(
            first.child.try_wait().expect("waits").is_none(),
            "the first run ended before its learners' transaction was seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    break_the_lock_with_a_trial(dir.path());
    let (code, log) = first.finish();
    assert_eq!(code, Some(31), "{log}");
    assert_eq!(
        learners(&graph).await,
        50,
        "only the trial's learners: the transaction in flight was rolled back"
    );
}
