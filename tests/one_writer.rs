//! End-to-end: one load at a time. Two loads of the same later snapshot
//! started together: exactly one runs, the other is refused with its own
//! exit code (29) naming the holder, and the graph is a single load's. A
//! lock left by a run that is gone is taken over; a live one on another
//! machine is respected until its heartbeat is old, or `--break-lock`.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::process::Stdio;

use neo4rs::query;

/// What a run records of its process in the lock: its host, boot, pid
/// namespace, pid and start time (`None`: a record of an earlier version,
/// which names only host and pid).
#[derive(Clone)]
struct Identity {
    host: String,
    boot_id: Option<String>,
    pid_namespace: Option<String>,
    pid: i64,
    process_start: Option<i64>,
}

impl Identity {
    /// A process of this host, boot and namespace, with pid `pid` started
    /// at tick `start`.
    fn here(pid: i64, start: i64) -> Self {
        Identity {
            host: host_name(),
            boot_id: Some(
                std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                    .expect("a boot id")
                    .trim()
                    .to_string(),
            ),
            pid_namespace: Some(
                std::fs::read_link("/proc/self/ns/pid")
                    .expect("a pid namespace")
                    .to_string_lossy()
                    .into_owned(),
            ),
            pid,
            process_start: Some(start),
        }
    }

    fn earlier_version(host: &str, pid: i64) -> Self {
        Identity {
            host: host.to_string(),
            boot_id: None,
            pid_namespace: None,
            pid,
            process_start: None,
        }
    }
}

/// Writes a lock node as another run would have left it, its last
/// heartbeat `age_millis` ago by the server's clock.
async fn plant_lock(graph: &neo4rs::Graph, who: Identity, age_millis: i64) {
    graph
        .run(query("MATCH (l:LoadLock) DELETE l"))
        .await
        .expect("clears the lock");
    graph
        .run(
            query(
                "CREATE (:LoadLock {name: 'load', token: 'planted', host: $host, pid: $pid, command: 'load other.csv', \
                 startedMillis: timestamp() - $age, heartbeatMillis: timestamp() - $age}) \
                 WITH 1 AS planted MATCH (l:LoadLock {name: 'load'}) \
                 SET l.bootId = $boot, l.pidNamespace = $namespace, l.processStart = $start",
            )
            .param("host", who.host)
            .param("pid", who.pid)
            .param("age", age_millis)
            .param("boot", who.boot_id)
            .param("namespace", who.pid_namespace)
            .param("start", who.process_start),
        )
        .await
        .expect("plants the lock");
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("a host name")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_loads_of_one_snapshot_at_once_exactly_one_runs() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let first = common::generate(dir.path(), "first.csv", 5_000, 41, 0.0);
    let (second, report) = common::generate_follow_up(dir.path(), "second.csv", 5_000, 41);
    common::run_db_ok(dir.path(), &["load", first.to_str().unwrap()]);

    // Two copies in two folders: no local lock is shared, the graph's
    // decides. A third run on the same file in the same folder meets the
    // local lock.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("a folder");
    std::fs::copy(&second, other.join("second.csv")).expect("copies");
    let spawn = |folder: &std::path::Path| {
        common::db_command(folder, &["load", "second.csv", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs")
    };
    // The first run is held still once it holds the graph's lock, so the
    // other two meet it there whatever the machine's speed (no overlap left
    // to luck). Stopped inside a commit it holds the lock's node, and the
    // others wait for it: then it goes on after a while, and they meet its
    // lock when its commit ends.
    let mut first_run = spawn(dir.path());
    let waited = std::time::Instant::now();
    while common::count(&graph, "MATCH (l:LoadLock) RETURN count(l) AS n").await == 0 {
        assert!(
            first_run.try_wait().expect("wait").is_none(),
            "the first run ended before it was seen holding the lock"
        );
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(120),
            "no lock taken"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    common::signal(&first_run, "STOP");
    let mut others = [spawn(&other), spawn(dir.path())];
    let held = std::time::Instant::now();
    while held.elapsed() < std::time::Duration::from_secs(20)
        && others.iter_mut().any(|c| c.try_wait().expect("wait").is_none())
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    common::signal(&first_run, "CONT");
    let [second_run, third_run] = others;
    let outputs: Vec<_> = [first_run, second_run, third_run]
        .into_iter()
        .map(|child| child.wait_with_output().expect("ends"))
        .collect();
    assert!(outputs[0].status.success(), "the run that held the lock finished");
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let stderr = |i: usize| String::from_utf8_lossy(&outputs[i].stderr).into_owned();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "exactly one runs: {codes:?}\n{}\n{}\n{}",
        stderr(0),
        stderr(1),
        stderr(2)
    );
    assert_eq!(codes.iter().filter(|c| **c == Some(29)).count(), 2, "{codes:?}");
    for (i, code) in codes.iter().enumerate() {
        if *code == Some(29) {
            let log = stderr(i);
            assert!(log.contains("nothing was written"), "{log}");
            assert!(
                log.contains(&format!("{} pid", host_name()))
                    || log.contains("another learngraph load on this machine"),
                "the refusal names the holder: {log}"
            );
        }
    }
    assert!(
        (0..3).any(|i| stderr(i).contains("holds the graph's load lock")),
        "the graph's lock refused a run in another folder"
    );
    let winner = outputs.iter().find(|o| o.status.success()).expect("a winner");
    let summary: serde_json::Value = serde_json::from_slice(&winner.stdout).expect("json");
    assert_eq!(summary["learners_written"], report.learners_joining, "{summary}");

    // The graph is a single load's: one current state of each kind per
    // learner, each transition opened once, the lock given back.
    for kind in ["HAS_LEARNING_STATE", "HAS_PROFESSIONAL_STATUS"] {
        let doubled = common::count(
            &graph,
            &format!(
                "MATCH (l:Learner)-[r:{kind}]->() WHERE r.isCurrent WITH l, count(r) AS c WHERE c > 1 RETURN count(l) AS n"
            ),
        )
        .await;
        assert_eq!(doubled, 0, "learners with two current {kind}");
    }
    let transitions: u64 = ["learning_transitions", "professional_transitions"]
        .iter()
        .flat_map(|k| summary[k].as_object().expect("a map").values())
        .map(|n| n.as_u64().expect("a count"))
        .sum();
    let opened = common::count(
        &graph,
        "MATCH ()-[r]->() WHERE r.openedBySnapshot RETURN count(r) AS n",
    )
    .await;
    assert_eq!(opened as u64, transitions, "each transition written once");
    assert_eq!(
        common::count(&graph, "MATCH (l:LoadLock) RETURN count(l) AS n").await,
        0
    );
    let verify = common::run_db_ok(dir.path(), &["verify", "second.csv"]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gone_holder_loses_the_lock_and_a_live_one_keeps_it_until_broken() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    let input = common::generate(dir.path(), "data.csv", 200, 43, 0.0);
    let path = input.to_str().unwrap();

    // A live run on another machine: refused, by load and clear alike.
    plant_lock(&graph, Identity::earlier_version("other-machine", 4242), 0).await;
    for args in [&["load", path][..], &["clear", "--all", "--yes"][..]] {
        let output = common::run_db(dir.path(), args);
        let log = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(29), "{args:?}: {log}");
        assert!(log.contains("other-machine pid 4242 (load other.csv)"), "{log}");
    }
    assert_eq!(
        common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await,
        0
    );
    // --break-lock, for the operator who knows better.
    let output = common::run_db_ok(dir.path(), &["load", path, "--break-lock"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Took over the load lock"));

    // Its heartbeat older than the bound: taken over with a warning.
    plant_lock(&graph, Identity::earlier_version("other-machine", 4242), 301_000).await;
    let output = common::run_db_ok(dir.path(), &["load", path]);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("Took over the load lock") && log.contains("no heartbeat"),
        "{log}"
    );

    // A run of this host, boot and pid namespace whose process is gone
    // (kill -9), or whose pid now names another process: taken over at
    // once.
    let this_process = i64::from(std::process::id());
    for gone in [
        Identity::here(i64::from(i32::MAX), 1),
        Identity::here(this_process, 1),
    ] {
        plant_lock(&graph, gone, 0).await;
        let output = common::run_db_ok(dir.path(), &["load", path]);
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(
            log.contains("Took over the load lock") && log.contains("is gone"),
            "{log}"
        );
    }
    // A record that cannot prove its process gone (an earlier version's,
    // naming only host and pid): kept until its heartbeat is old.
    plant_lock(
        &graph,
        Identity::earlier_version(&host_name(), i64::from(i32::MAX)),
        0,
    )
    .await;
    let output = common::run_db(dir.path(), &["load", path]);
    assert_eq!(
        output.status.code(),
        Some(29),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    graph
        .run(query("MATCH (l:LoadLock) DELETE l"))
        .await
        .expect("clears the lock");
    assert_eq!(
        common::count(&graph, "MATCH (l:LoadLock) RETURN count(l) AS n").await,
        0,
        "released"
    );
    let verify = common::run_db_ok(dir.path(), &["verify", path]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}
