//! `learngraph ping` against the real local database: who answers, write
//! access proved by a write that leaves nothing behind, the key
//! constraints after a load, and the exit codes of a refused user and an
//! unreachable server.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use common::{count, db_command, json, run_db_ok, test_graph};

#[tokio::test(flavor = "multi_thread")]
async fn ping_reports_the_server_write_access_and_the_schema_and_writes_nothing() {
    let _guard = common::db_lock();
    let dir = common::temp_dir();
    // From an empty graph: another test's learners would make this small
    // file a snapshot that marks them all missing, which a load refuses.
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "small.csv", 200, 11, 0.0);
    run_db_ok(dir.path(), &["load", input.to_str().unwrap()]);
    let graph = test_graph().await;
    let nodes_before = count(&graph, "MATCH (n) RETURN count(n) AS n").await;

    let report = json(&run_db_ok(dir.path(), &["ping", "--json"]));
    assert!(
        !report["server_agent"].as_str().unwrap_or("").is_empty(),
        "{report}"
    );
    let bolt: Vec<u32> = report["bolt_version"]
        .as_str()
        .expect("a Bolt version")
        .split('.')
        .map(|part| part.parse().expect("a number"))
        .collect();
    assert!(bolt.len() == 2 && bolt[0] >= 4, "{report}");
    assert_eq!(report["database"], "learners");
    assert_eq!(report["write_access"], true, "{report}");
    assert_eq!(
        report["constraints_missing"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(
        report["constraints_present"].as_array().map(Vec::len),
        Some(9),
        "{report}"
    );
    assert!(
        report["constraints_present"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "Learner.hashedEmail"),
        "{report}"
    );

    assert_eq!(
        count(&graph, "MATCH (n) RETURN count(n) AS n").await,
        nodes_before,
        "ping writes nothing"
    );
    assert_eq!(
        count(&graph, "MATCH (p:LearngraphPing) RETURN count(p) AS n").await,
        0
    );

    let text = run_db_ok(dir.path(), &["ping"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("Write access: yes") && stdout.contains("Ready to load."),
        "{stdout}"
    );
}

#[test]
fn ping_tells_a_refused_user_and_an_unreachable_server_apart() {
    let dir = common::temp_dir();
    let refused = db_command(dir.path(), &["ping"])
        .env("NEO4J_PASSWORD", "not-the-password")
        .output()
        .expect("runs");
    assert_eq!(
        refused.status.code(),
        Some(15),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!String::from_utf8_lossy(&refused.stderr).contains("not-the-password"));

    let unreachable = db_command(
        dir.path(),
        &[
            "ping",
            "--uri",
            "bolt://127.0.0.1:9",
            "--query-timeout-seconds",
            "5",
        ],
    )
    .output()
    .expect("runs");
    assert_eq!(
        unreachable.status.code(),
        Some(14),
        "{}",
        String::from_utf8_lossy(&unreachable.stderr)
    );
}

/// The README's one way to connect: `eval "$(scripts/local-db env)"` gives
/// a shell everything `learngraph` needs for the local server, and prints
/// no password.
#[test]
fn the_local_servers_env_lines_give_a_shell_the_connection() {
    let dir = common::temp_dir();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-db");
    let printed = std::process::Command::new(script)
        .arg("env")
        .output()
        .expect("local-db runs");
    assert!(printed.status.success());
    let lines = String::from_utf8_lossy(&printed.stdout).into_owned();
    let password = common::test_db().password;
    assert!(!lines.contains(&password), "the password is printed: {lines}");
    let shell = format!(
        "eval \"$('{script}' env)\" && exec '{}' ping --json",
        common::binary().display()
    );
    let pinged = std::process::Command::new("bash")
        .args(["-c", &shell])
        .current_dir(dir.path())
        .env_remove("NEO4J_URI")
        .env_remove("NEO4J_USERNAME")
        .env_remove("NEO4J_PASSWORD")
        .env_remove("NEO4J_DATABASE")
        .output()
        .expect("bash runs");
    assert!(
        pinged.status.success(),
        "{lines}\n{}",
        String::from_utf8_lossy(&pinged.stderr)
    );
    let report = json(&pinged);
    assert_eq!(report["database"], "learners");
    assert_eq!(report["user"], "root");
    assert_eq!(report["uri"], common::test_db().uri.as_str());
}

/// `ping` checks that the database it names exists: the local server holds
/// `learners`, not the default `neo4j`.
#[test]
fn ping_of_a_database_the_server_does_not_hold_exits_16_and_names_it() {
    let dir = common::temp_dir();
    let pinged = db_command(dir.path(), &["ping", "--database", "nosuchdb"])
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&pinged.stderr);
    assert_eq!(pinged.status.code(), Some(16), "{said}");
    assert!(said.contains("nosuchdb"), "{said}");
    assert!(!String::from_utf8_lossy(&pinged.stdout).contains("Ready to load"));
}
