//! Nothing lost, nothing doubled: a killed loader resumes from its
//! checkpoint, a restarted database is waited for, and a checkpoint from
//! another file is refused.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

fn spawn_load(dir: &Path, input: &Path, extra: &[&str]) -> Child {
    let mut args = vec![
        "load",
        input.to_str().expect("utf-8"),
        "--batch-size",
        "300",
        "--json",
    ];
    args.extend_from_slice(extra);
    common::db_command(dir, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("load starts")
}

fn committed(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|text| serde_json::from_str::<Json>(&text).ok())
        .and_then(|json| json["committed_records"].as_u64())
        .unwrap_or(0)
}

/// Waits until the checkpoint shows at least `records` committed rows.
fn wait_for_checkpoint(checkpoint: &Path, records: u64, child: &mut Child) {
    let started = Instant::now();
    while committed(checkpoint) < records {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the load ended ({status}) before record {records} was checkpointed");
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint at {records} after 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn verify_passes(dir: &Path, input: &Path) {
    let output = common::run_db_ok(dir, &["verify", input.to_str().expect("utf-8"), "--json"]);
    let report: Json = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["differences"], Json::Array(Vec::new()), "{report}");
}

fn local_db(action: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/local-db");
    let status = Command::new("bash")
        .arg(script)
        .arg(action)
        .status()
        .expect("local-db runs");
    assert!(status.success(), "scripts/local-db {action}");
}

#[test]
fn a_loader_killed_three_times_resumes_to_exactly_the_source_counts() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "kill.csv", 12_000, 17, 0.002);
    let checkpoint = dir.path().join("kill.csv.checkpoint.json");
    let interval = ["--checkpoint-interval", "600"];

    let mut child = spawn_load(dir.path(), &input, &interval);
    for target in [1_500u64, 5_000, 9_000] {
        wait_for_checkpoint(&checkpoint, target, &mut child);
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let at = committed(&checkpoint);
        assert!(at >= target, "checkpoint at {at}");
        child = spawn_load(dir.path(), &input, &["--resume", interval[0], interval[1]]);
    }
    let output = child.wait_with_output().expect("the last resume finishes");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Json = serde_json::from_slice(&output.stdout).expect("json");
    assert!(summary["resumed_after_record"].as_u64().expect("n") >= 9_000);
    let checkpoint_json: Json =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).expect("checkpoint")).expect("json");
    assert_eq!(checkpoint_json["complete"], true);
    verify_passes(dir.path(), &input);
}

/// The load meets the database down (it is held still while the server
/// stops, so it cannot finish first), says it is waiting, and finishes
/// once the server is back, however long the server takes to start: its
/// retry bound is set far above any start-up time, and each step waits on
/// an event (a checkpoint, a log line, the server answering), not a sleep.
#[test]
fn a_database_restart_during_phase_2_is_waited_for() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "restart.csv", 30_000, 23, 0.0);
    let checkpoint = dir.path().join("restart.csv.checkpoint.json");
    std::fs::write(
        dir.path().join("long-retry.toml"),
        "[neo4j]\nmax_retry_seconds = 3600\n",
    )
    .expect("write");
    let command = common::db_command(
        dir.path(),
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--batch-size",
            "300",
            "--json",
            "-c",
            "long-retry.toml",
            "--checkpoint-interval",
            "300",
        ],
    );
    let mut load = common::Running::spawn(command);
    wait_for_checkpoint(&checkpoint, 1_500, &mut load.child);
    common::signal(&load.child, "STOP");
    local_db("stop");
    common::signal(&load.child, "CONT");
    let waiting = load.wait_for_any(&["Retrying after a transient error", "Cannot connect again yet"]);
    assert!(
        load.child.try_wait().expect("wait").is_none(),
        "the load is still running after it said: {waiting}"
    );
    local_db("start");
    let stdout = load.child.stdout.take().expect("stdout");
    let (code, log) = load.finish();
    assert_eq!(code, Some(0), "{log}");
    let summary: Json = serde_json::from_reader(stdout).expect("json");
    assert!(
        summary["retries"].as_u64().expect("n") > 0,
        "the restart was retried: {summary}"
    );
    verify_passes(dir.path(), &input);
}

#[test]
fn a_checkpoint_from_another_file_is_refused() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "a.csv", 500, 1, 0.0);
    common::run_db_ok(dir.path(), &["load", input.to_str().expect("utf-8")]);
    // As if the load had been interrupted (a finished one's checkpoint is
    // spent: a resume over it is a new load).
    common::mark_interrupted(&dir.path().join("a.csv.checkpoint.json"));
    // Same name, other content: the checkpoint no longer fits.
    common::generate(dir.path(), "a.csv", 500, 2, 0.0);
    let output = common::run_db(dir.path(), &["load", input.to_str().expect("utf-8"), "--resume"]);
    assert_eq!(output.status.code(), Some(18));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("was edited") && stderr.contains("refusing to resume"),
        "{stderr}"
    );

    let output = common::run_db(dir.path(), &["load", "never-loaded.csv", "--resume"]);
    assert_ne!(output.status.code(), Some(0));
}

#[test]
fn past_the_retry_bound_the_load_stops_and_says_how_to_resume() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "gone.csv", 30_000, 29, 0.0);
    let checkpoint = dir.path().join("gone.csv.checkpoint.json");
    std::fs::write(
        dir.path().join("short-retry.toml"),
        "[neo4j]\nmax_retry_seconds = 3\n",
    )
    .expect("write");
    let mut child = spawn_load(
        dir.path(),
        &input,
        &["-c", "short-retry.toml", "--checkpoint-interval", "300"],
    );
    wait_for_checkpoint(&checkpoint, 900, &mut child);
    local_db("stop");
    let output = child.wait_with_output().expect("the load ends");
    local_db("start");
    assert_eq!(
        output.status.code(),
        Some(17),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("learngraph load --resume") && stderr.contains("committed"),
        "{stderr}"
    );
    let at = committed(&checkpoint);
    assert!(at >= 900, "checkpoint at {at}");

    let output = common::run_db_ok(
        dir.path(),
        &["load", input.to_str().expect("utf-8"), "--resume", "--json"],
    );
    let summary: Json = serde_json::from_slice(&output.stdout).expect("json");
    assert!(summary["resumed_after_record"].as_u64().expect("n") >= 900);
    verify_passes(dir.path(), &input);
}
