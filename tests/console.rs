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
    assert!(text.contains("neo4j.uri = bolt://127.0.0.1:1"), "{text}");
    assert!(text.contains("neo4j.connect_timeout_seconds = 2"), "{text}");
    // Only what ping uses: no write, transform or source settings.
    for unused in ["neo4j.batch_size", "etl.", "validation.", "graph.", "source."] {
        assert!(!text.contains(unused), "{unused} shown by ping: {text}");
    }
    assert!(!text.contains("not-shown-anywhere"), "{text}");
}

#[test]
fn check_shows_only_the_settings_it_uses_and_quiet_or_the_log_level_hides_them() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "in.csv", 50, 4, 0.0);
    let path = input.to_str().expect("utf-8");
    let text = stderr(&common::run_ok(dir.path(), &["check", path]));
    assert!(text.contains("etl.chunk_size = "), "{text}");
    assert!(text.contains("validation.max_error_rate = "), "{text}");
    assert!(!text.contains("neo4j."), "check never connects: {text}");
    assert!(!text.contains("etl.num_workers"), "{text}");
    assert!(!text.contains("max_rows"), "{text}");

    let quiet = stderr(&common::run_ok(dir.path(), &["-q", "check", path]));
    assert!(!quiet.contains("Configuration:"), "{quiet}");
    let warn_level = Command::new(common::binary())
        .args(["check", path])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    assert!(warn_level.status.success());
    assert!(
        !stderr(&warn_level).contains("Configuration:"),
        "{}",
        stderr(&warn_level)
    );
}

#[test]
fn a_load_without_input_is_a_usage_error_said_before_any_configuration() {
    let dir = common::temp_dir();
    let output = run(dir.path(), &["load"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(!text.contains("Configuration:"), "{text}");
    assert_eq!(text.lines().filter(|l| !l.trim().is_empty()).count(), 1, "{text}");
    assert!(text.starts_with("error: no input"), "{text}");
}

fn help(args: &[&str]) -> String {
    let output = Command::new(common::binary())
        .args(args)
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success(), "{args:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn each_subcommands_help_lists_only_its_own_flags() {
    let reading = [
        "--chunk-size",
        "--transform-threads",
        "--rejects",
        "--max-error-rate",
        "--source",
        "--snapshot-date",
    ];
    let writing = ["--workers", "--pool-size", "--checkpoint-interval"];
    for command in ["ping", "ask", "history", "report", "mcp", "clear"] {
        let text = help(&[command]);
        assert!(text.contains("--uri"), "{command}: {text}");
        for flag in reading.iter().chain(&writing) {
            assert!(
                !text.contains(&format!("{flag} ")) && !text.contains(&format!("{flag}\n")),
                "{command} --help lists {flag}: {text}"
            );
        }
        if command != "clear" {
            assert!(!text.contains("--batch-size"), "{command}: {text}");
        }
    }
    for command in ["check", "export"] {
        let text = help(&[command]);
        assert!(text.contains("--chunk-size"), "{command}: {text}");
        for flag in ["--uri", "--batch-size", "--workers", "--password-file"] {
            assert!(!text.contains(flag), "{command} --help lists {flag}: {text}");
        }
    }
    let load = help(&["load"]);
    for flag in reading.iter().chain(&writing).chain(&["--uri", "--batch-size"]) {
        assert!(load.contains(flag), "load --help lacks {flag}: {load}");
    }
    let verify = help(&["verify"]);
    assert!(
        verify.contains("--source") && verify.contains("--uri"),
        "{verify}"
    );
    assert!(!verify.contains("--workers"), "{verify}");
}

#[test]
fn refusals_of_the_command_line_exit_2_and_say_what_is_possible() {
    let dir = common::temp_dir();
    let no_yes = run(dir.path(), &["clear", "--all", "--uri", "bolt://127.0.0.1:1"]);
    assert_eq!(no_yes.status.code(), Some(2), "{}", stderr(&no_yes));
    assert!(stderr(&no_yes).contains("add --yes"), "{}", stderr(&no_yes));

    let phase = run(dir.path(), &["clear", "--phase", "1", "--yes"]);
    assert_eq!(phase.status.code(), Some(2));
    let text = stderr(&phase);
    assert!(text.contains("[possible values: 2]"), "{text}");
    assert!(!text.contains("2..=2"), "{text}");

    let future = run(
        dir.path(),
        &["generate", "--rows", "10", "--snapshots", "400", "--out", "s.csv"],
    );
    assert_eq!(future.status.code(), Some(2), "{}", stderr(&future));
    assert!(stderr(&future).contains("after today"), "{}", stderr(&future));

    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).expect("creates");
    std::fs::write(taken.join("notes.txt"), "mine").expect("writes");
    let input = common::generate(dir.path(), "in.csv", 20, 4, 0.0);
    let export = run(
        dir.path(),
        &[
            "export",
            input.to_str().expect("utf-8"),
            "--out",
            taken.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(export.status.code(), Some(23), "{}", stderr(&export));
    assert_eq!(
        std::fs::read_to_string(taken.join("notes.txt")).expect("kept"),
        "mine"
    );
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
