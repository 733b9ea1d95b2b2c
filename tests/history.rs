//! End-to-end: `learngraph history` tells what the graph holds and whether
//! the last run worked, from the graph's own records: an empty graph, a
//! first snapshot, a load of the next one killed mid-phase 2 (unfinished,
//! exit 30 with `--fail-if-last-failed`), then its `--resume` (finished;
//! the killed run shows as stopped and resumed).
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

fn history(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["history"];
    args.extend_from_slice(extra);
    let output = common::run_db(dir, &args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn history_json(dir: &Path) -> Json {
    let (code, stdout) = history(dir, &["--json"]);
    assert_eq!(code, Some(0), "{stdout}");
    serde_json::from_str(&stdout).expect("one JSON document")
}

fn spawn_load(dir: &Path, input: &Path) -> Child {
    common::db_command(
        dir,
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--batch-size",
            "50",
            "--checkpoint-interval",
            "50",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("load starts")
}

/// Waits until the load has committed some learners (the checkpoint is
/// the event, polled), then kills it, and shows the kill met a running
/// load: a load that had already ended would not die of the signal.
fn kill_mid_phase_2(mut child: Child, checkpoint: &Path) {
    let started = Instant::now();
    loop {
        let committed = std::fs::read_to_string(checkpoint)
            .ok()
            .and_then(|text| serde_json::from_str::<Json>(&text).ok())
            .and_then(|json| json["committed_records"].as_u64())
            .unwrap_or(0);
        if committed > 0 {
            break;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the load ended before the kill"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint in 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the load had ended before the kill: {status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_shows_snapshots_and_runs_and_tells_an_unfinished_last_run() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);

    let empty = history_json(dir.path());
    assert_eq!(empty["snapshots"], Json::Array(Vec::new()));
    assert_eq!(empty["runs"], Json::Array(Vec::new()));
    assert_eq!(empty["last_run_finished"], Json::Null);
    assert_eq!(history(dir.path(), &["--fail-if-last-failed"]).0, Some(0));

    let files = common::generate_snapshots(dir.path(), "snapshots", 3_000, 5, 2, 0.0);
    let (first, second) = (&files[0], &files[1]);
    let out = dir.path().join("snapshots");
    let load1 = common::json(&common::run_db_ok(
        dir.path(),
        &["load", first.to_str().expect("utf-8"), "--json"],
    ));

    kill_mid_phase_2(
        spawn_load(dir.path(), second),
        &dir.path().join("snapshots/snapshot-2.csv.checkpoint.json"),
    );
    let after_kill = history_json(dir.path());
    assert_eq!(after_kill["last_run_finished"], false, "{after_kill}");
    assert_eq!(after_kill["runs"][0]["outcome"], "unfinished", "{after_kill}");
    assert_eq!(after_kill["runs"][0]["snapshot_date"], "2025-12-31");
    assert_eq!(after_kill["runs"][1]["outcome"], "finished");
    assert_eq!(
        after_kill["snapshots"].as_array().map(Vec::len),
        Some(1),
        "{after_kill}"
    );
    let snapshot1 = &after_kill["snapshots"][0];
    assert_eq!(snapshot1["date"], "2025-09-30");
    assert_eq!(snapshot1["learners_new"], load1["rows_accepted"]);
    assert_eq!(snapshot1["learners_present"], load1["rows_accepted"]);
    let (code, text) = history(dir.path(), &["--fail-if-last-failed"]);
    assert_eq!(code, Some(30), "{text}");
    assert!(text.contains("The last run DID NOT FINISH"), "{text}");

    common::run_db_ok(dir.path(), &["load", second.to_str().expect("utf-8"), "--resume"]);
    let done = history_json(dir.path());
    assert_eq!(done["last_run_finished"], true, "{done}");
    let runs = done["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{done}");
    assert_eq!(runs[0]["outcome"], "finished");
    assert_eq!(
        runs[0]["resumes"], runs[1]["id"],
        "the resume names the killed run"
    );
    assert_eq!(runs[1]["outcome"], "stopped_and_resumed");
    // Every run records the build that ran, as `--version` names it.
    let version = common::run_ok(dir.path(), &["--version"]);
    let version = String::from_utf8_lossy(&version.stdout);
    let version = version
        .trim()
        .strip_prefix("learngraph ")
        .expect("learngraph VERSION");
    for run in runs {
        assert_eq!(run["learngraph_version"], version, "{done}");
    }
    assert!(
        runs[0]["ended_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{done}"
    );
    let snapshots = done["snapshots"].as_array().expect("snapshots");
    assert_eq!(snapshots[0]["date"], "2025-12-31", "newest first");
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(out.join("snapshot-2.csv.changes.json")).expect("the change report"),
    )
    .expect("JSON");
    assert_eq!(
        snapshots[0]["learning_transitions"], report["learning_transitions"],
        "the transitions the graph records are the generator's"
    );
    let (code, text) = history(dir.path(), &["--fail-if-last-failed"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("The last run finished."), "{text}");
    assert!(text.contains("2025-12-31"), "{text}");
    assert!(
        text.contains("3,0") || text.contains("2,9"),
        "digits grouped: {text}"
    );
}
