//! What the commands say on stderr and stdout for a reader: the whole
//! configuration where a command decides what a run writes, one line where
//! it only connects, everything with `-v`; digits grouped in human output,
//! plain numbers in JSON. No database needed: `ping` announces before it
//! connects, to a port where nothing listens.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(common::binary())
        .args(args)
        .current_dir(dir)
        .env("NEO4J_PASSWORD", "not-shown-anywhere")
        .env_remove("NEO4J_URI")
        .output()
        .expect("the learngraph binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_command_that_only_connects_says_where_in_one_line_and_everything_with_v() {
    let dir = common::temp_dir();
    let uri = "bolt://127.0.0.1:1";
    let quiet = run(
        dir.path(),
        &["ping", "--uri", uri, "--connect-timeout-seconds", "2"],
    );
    assert!(!quiet.status.success(), "nothing listens on port 1");
    let text = stderr(&quiet);
    assert!(
        text.contains("Connecting to bolt://127.0.0.1:1 (database neo4j, user neo4j)"),
        "{text}"
    );
    assert!(!text.contains("Configuration:"), "{text}");
    assert!(!text.contains("neo4j.batch_size"), "{text}");

    let verbose = run(
        dir.path(),
        &["-v", "ping", "--uri", uri, "--connect-timeout-seconds", "2"],
    );
    let text = stderr(&verbose);
    assert_eq!(text.matches("Configuration:").count(), 1, "{text}");
    assert!(text.contains("neo4j.batch_size = "), "{text}");
    assert!(!text.contains("not-shown-anywhere"), "{text}");
}

#[test]
fn check_shows_the_whole_configuration_once_and_groups_digits_for_a_reader() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "in.csv", 2_345, 4, 0.0);
    let output = common::run_ok(dir.path(), &["check", input.to_str().expect("utf-8")]);
    let text = stderr(&output);
    assert_eq!(text.matches("Configuration:").count(), 1, "{text}");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("Rows: 2,345 read"), "{report}");

    let json = common::check_json(dir.path(), &input, &[]);
    assert_eq!(json["rows_read"], 2_345, "JSON keeps plain numbers");
}
