//! The first run on a fresh machine: a local database started from an empty
//! folder answers the very first load (its script returns only once the
//! database answers a query, not when its port opens), and a failure to
//! connect reads as a sentence with the server's own code, never as a
//! driver's debug structure.

mod common;

use std::path::Path;
use std::process::Command;

use common::{FreshServer, generate, json, temp_dir};

fn load(dir: &Path, input: &Path, password_file: &Path, database: &str) -> std::process::Output {
    Command::new(common::binary())
        .args([
            "load",
            input.to_str().expect("utf-8"),
            "--json",
            "--password-file",
        ])
        .arg(password_file)
        .current_dir(dir)
        .env("NEO4J_URI", "bolt://127.0.0.1:17687")
        .env("NEO4J_USERNAME", "root")
        .env("NEO4J_DATABASE", database)
        .env_remove("NEO4J_PASSWORD")
        .output()
        .expect("runs")
}

#[test]
fn a_database_started_from_an_empty_folder_takes_the_first_load_at_once() {
    let work = temp_dir();
    let server = FreshServer::new(work.path().join("db"), 17687);
    let input = generate(work.path(), "sample.csv", 200, 61, 0.0);
    let started = server.script("start");
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let password = server.dir.join("password");

    let output = load(work.path(), &input, &password, "learners");
    assert!(
        output.status.success(),
        "the first load on a fresh server fails: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json(&output)["rows_accepted"], 200);

    // An unknown database: the server's code and message in a sentence.
    let output = load(work.path(), &input, &password, "nosuch");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(16), "{stderr}");
    assert!(
        stderr.contains("the server answered Neo.ClientError.Database.DatabaseNotFound"),
        "{stderr}"
    );
    for debug in ["BoltString", "Failure {", "BoltMap", "Failure("] {
        assert!(
            !stderr.contains(debug),
            "a debug structure ({debug}) in: {stderr}"
        );
    }
}
