//! `learngraph check`: every injected fault is reported with a fitting
//! reason, no clean row is rejected, counts follow the file, and bad input
//! or too many rejects give clear errors and exit codes.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use common::check_json;

/// The rejects file as record number -> reason.
fn rejects(path: &Path) -> HashMap<u64, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .from_path(path)
        .expect("rejects file exists");
    assert_eq!(
        rdr.headers().expect("header").iter().collect::<Vec<_>>(),
        ["record", "line", "reason", "detail", "raw"]
    );
    rdr.byte_records()
        .map(|r| {
            let r = r.expect("rejects row");
            let record: u64 = std::str::from_utf8(&r[0])
                .expect("utf-8")
                .parse()
                .expect("number");
            assert!(!r[3].is_empty(), "every reject has an explanation");
            assert!(!r[4].is_empty(), "every reject keeps its raw text");
            (record, String::from_utf8(r[2].to_vec()).expect("utf-8"))
        })
        .collect()
}

/// Faults listed by the generator: record -> (fault, expected outcome),
/// each checked to be listed under the name check gives it.
fn faults(path: &Path) -> HashMap<u64, (String, String)> {
    csv::Reader::from_path(path)
        .expect("sidecar exists")
        .deserialize::<(u64, u64, String, String, String)>()
        .map(|r| {
            let (_, record, fault, expected, reported_as) = r.expect("sidecar row");
            if expected == "rejected" {
                assert_eq!(reported_as, fitting(&fault), "record {record}");
            }
            (record, (fault, expected))
        })
        .collect()
}

/// The rejects file names `record` with the reason its fault calls for.
fn assert_rejected_for(rejected: &HashMap<u64, String>, record: u64, fault: &str) {
    assert_eq!(
        rejected.get(&record).map(String::as_str),
        Some(fitting(fault)),
        "record {record} with {fault}"
    );
}

/// The reason check gives a row with the fault the generator planted.
fn fitting(fault: &str) -> &'static str {
    match fault {
        "invalid_json" => "invalid_json",
        "too_few_columns" | "too_many_columns" => "wrong_column_count",
        "missing_key" => "missing_key",
        "invalid_utf8" => "invalid_utf8",
        "future_snapshot_id" => "future_snapshot_id",
        other => panic!("{other} is not a rejecting fault"),
    }
}

#[test]
fn every_injected_fault_is_reported_and_no_clean_row_is_rejected() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "dirty.csv", 20_000, 9, 0.01);
    let report = check_json(dir.path(), &input, &[]);
    let rejected = rejects(&dir.path().join("dirty.csv.rejects.csv"));
    let injected = faults(&dir.path().join("dirty.csv.faults.csv"));
    assert!(injected.len() > 150, "{} faults", injected.len());

    let mut cleaned: HashMap<&str, u64> = HashMap::new();
    for (record, (fault, expected)) in &injected {
        if expected == "rejected" {
            assert_rejected_for(&rejected, *record, fault);
        } else {
            assert!(
                !rejected.contains_key(record),
                "record {record} with {fault} must load, cleaned"
            );
            *cleaned.entry(fault.as_str()).or_default() += 1;
        }
    }

    // Rows with a repeated key: found independently, in file order, among
    // the rows not rejected for a fault.
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&input)
        .expect("input");
    let mut seen = HashSet::new();
    let mut duplicates = HashSet::new();
    for (i, row) in rdr.byte_records().enumerate() {
        let record = i as u64 + 1;
        let row = row.expect("row");
        if injected.get(&record).is_some_and(|(_, e)| e == "rejected") {
            continue;
        }
        if !seen.insert(row[0].to_vec()) {
            duplicates.insert(record);
        }
    }
    for (record, reason) in &rejected {
        let from_fault = injected.get(record).is_some_and(|(_, e)| e == "rejected");
        assert!(
            from_fault || (duplicates.contains(record) && reason == "duplicate_key"),
            "clean record {record} rejected as {reason}"
        );
    }

    // Cleaned faults are counted by the quality report, and the totals add up.
    let findings = &report["findings"];
    assert!(findings["nul_bytes_removed"].as_u64().unwrap_or(0) >= cleaned["nul_byte"]);
    assert_eq!(
        findings["unknown_country"].as_u64(),
        Some(cleaned["unknown_country"])
    );
    let unknown_total: u64 = report["unknown_countries"]
        .as_object()
        .expect("map")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(unknown_total, cleaned["unknown_country"]);
    assert_eq!(report["rows_read"].as_u64(), Some(20_000));
    assert_eq!(report["rows_rejected"].as_u64(), Some(rejected.len() as u64));
    assert_eq!(
        report["rows_loaded"].as_u64(),
        Some(20_000 - rejected.len() as u64)
    );
    let by_reason: u64 = report["rejected_by_reason"]
        .as_object()
        .expect("map")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(by_reason, rejected.len() as u64);
}

/// A later dirty snapshot holds learners who left (so record numbers are
/// not population rows) and one row dated in the future: its faults file
/// lists that row too, at the record check rejects it as.
#[test]
fn a_later_dirty_snapshots_faults_file_lists_each_rejected_row_at_its_record() {
    let dir = common::temp_dir();
    let files = common::generate_snapshots(dir.path(), "snaps", 4_000, 23, 2, 0.01);
    let later = &files[1];
    let injected = faults(&dir.path().join("snaps/snapshot-2.csv.faults.csv"));
    let future: Vec<_> = injected
        .iter()
        .filter(|(_, (fault, _))| fault == "future_snapshot_id")
        .collect();
    assert_eq!(future.len(), 1, "one row from the future: {future:?}");
    check_json(dir.path(), later, &["--max-error-rate", "0.5"]);
    let rejected = rejects(&dir.path().join("snaps/snapshot-2.csv.rejects.csv"));
    let mut matched = 0;
    for (record, (fault, expected)) in &injected {
        if expected == "rejected" {
            assert_rejected_for(&rejected, *record, fault);
            matched += 1;
        }
    }
    let unexplained: Vec<_> = rejected
        .iter()
        .filter(|(record, reason)| !injected.contains_key(record) && *reason != "duplicate_key")
        .collect();
    assert!(
        unexplained.is_empty(),
        "rejected without a listed fault: {unexplained:?}"
    );
    assert!(matched > 20, "{matched} listed rejections");
}

#[test]
fn counts_follow_the_file() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "clean.csv", 30_000, 4, 0.0);
    let report = check_json(dir.path(), &input, &[]);
    let nodes = &report["nodes"];
    let rels = &report["relationships"];
    let loaded = report["rows_loaded"].as_u64().expect("number");

    // Independent counts from the raw file.
    let mut rdr = csv::Reader::from_path(&input).expect("input");
    let mut keys = HashSet::new();
    let mut cohorts = HashSet::new();
    let mut studies = 0u64;
    for row in rdr.records() {
        let row = row.expect("row");
        if !keys.insert(row[0].to_string()) {
            continue;
        }
        let learning: Value = serde_json::from_str(&row[27]).expect("json");
        cohorts.insert(learning[0]["cohort_code"].as_str().expect("code").to_string());
        let education: Value = serde_json::from_str(&row[35]).expect("json");
        studies += education.as_array().expect("array").len() as u64;
    }
    assert_eq!(
        report["rows_rejected"].as_u64(),
        Some(30_000 - keys.len() as u64),
        "only duplicate keys"
    );
    assert_eq!(nodes["Learner"].as_u64(), Some(keys.len() as u64));
    assert_eq!(nodes["Learner"].as_u64(), Some(loaded));
    assert_eq!(rels["ENROLLED_IN"].as_u64(), Some(loaded));
    assert_eq!(nodes["Program"].as_u64(), Some(cohorts.len() as u64));
    assert_eq!(rels["STUDIED_AT"].as_u64(), Some(studies));
    assert_eq!(nodes["Country"].as_u64(), Some(168));
    assert_eq!(nodes["LearningState"].as_u64(), Some(4));
    assert_eq!(nodes["ProfessionalStatus"].as_u64(), Some(5));
    assert_eq!(rels["IN_COUNTRY"], nodes["City"]);
    assert!(rels["HAS_LEARNING_STATE"].as_u64().expect("n") >= loaded);
    assert!(
        rels.get("RESIDES_IN").is_none(),
        "optional relationships are off by default"
    );
}

#[test]
fn results_do_not_depend_on_thread_or_chunk_counts() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "t.csv", 8_000, 21, 0.01);
    let mut one = check_json(
        dir.path(),
        &input,
        &["--transform-threads", "1", "--chunk-size", "7"],
    );
    let mut two = check_json(
        dir.path(),
        &input,
        &["--transform-threads", "3", "--chunk-size", "1000"],
    );
    for report in [&mut one, &mut two] {
        let object = report.as_object_mut().expect("object");
        object.remove("seconds");
        object.remove("rows_per_second");
    }
    assert_eq!(one, two);
}

#[test]
fn too_many_rejects_fail_with_exit_code_3() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "bad.csv", 3_000, 2, 0.05);
    let output = common::run_in(
        dir.path(),
        &[
            "check",
            input.to_str().expect("utf-8"),
            "--max-error-rate",
            "0.01",
        ],
    );
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("FAILED") && stdout.contains("max_error_rate"),
        "{stdout}"
    );
}

#[test]
fn unreadable_input_gives_a_clear_error() {
    let dir = common::temp_dir();
    let missing = common::run_in(dir.path(), &["check", "no-such-file.csv"]);
    assert_eq!(missing.status.code(), Some(11), "input missing");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no-such-file.csv") && stderr.contains("cannot open"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("empty.csv"), b"").expect("write");
    let empty = common::run_in(dir.path(), &["check", "empty.csv"]);
    assert_eq!(empty.status.code(), Some(12), "input empty");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("is empty"));

    std::fs::write(dir.path().join("short.csv"), b"hashed_email,sand_id\nabc,n/a\n").expect("write");
    let short = common::run_in(dir.path(), &["check", "short.csv"]);
    assert_eq!(short.status.code(), Some(13), "header lacks columns");
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("lacks the columns") && stderr.contains("learning_details"),
        "{stderr}"
    );
}

/// Every stderr line of a run with `--log-format json` is one JSON object.
fn json_log_lines(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"))
        })
        .collect()
}

/// The settings of the one `Configuration` event on a JSON-logging stderr.
fn configuration_event(stderr: &[u8]) -> Value {
    let lines = json_log_lines(stderr);
    let configuration = lines
        .iter()
        .find(|line| line["message"] == "Configuration")
        .expect("a Configuration event");
    serde_json::from_str(configuration["configuration"].as_str().expect("a JSON text"))
        .expect("the configuration is a JSON object")
}
#[test]
fn with_json_logs_stderr_is_json_lines_and_the_configuration_is_one_of_them() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "clean.csv", 300, 3, 0.0);
    let toml = common::toml_with_password_file(dir.path(), "hunter2-not-shown");
    let output = common::run_ok(
        dir.path(),
        &[
            "check",
            input.to_str().unwrap(),
            "-c",
            toml.to_str().unwrap(),
            "--log-format",
            "json",
        ],
    );
    let settings = configuration_event(&output.stderr);
    assert_eq!(settings["etl.chunk_size"], "1000");
    // check never connects: no database setting is shown.
    assert!(settings.get("neo4j.batch_size").is_none(), "{settings}");
    assert!(settings.get("neo4j.password").is_none(), "{settings}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));

    // A command that connects shows its password redacted (nothing listens on port 1).
    let ping = common::run_in(
        dir.path(),
        &[
            "-v",
            "ping",
            "--uri",
            "bolt://127.0.0.1:1",
            "--connect-timeout-seconds",
            "1",
            "-c",
            toml.to_str().unwrap(),
            "--log-format",
            "json",
        ],
    );
    let settings = configuration_event(&ping.stderr);
    assert!(
        settings["neo4j.password"]
            .as_str()
            .is_some_and(|p| p.contains("***")),
        "{settings}"
    );
    assert!(!String::from_utf8_lossy(&ping.stderr).contains("hunter2"));

    // A failure, too, is a JSON line with its exit code, and nothing else.
    let missing = dir.path().join("missing.csv");
    let failed = common::run_in(
        dir.path(),
        &["check", missing.to_str().unwrap(), "--log-format", "json"],
    );
    assert!(!failed.status.success());
    let lines = json_log_lines(&failed.stderr);
    let stopped = lines
        .iter()
        .find(|line| line["message"] == "Stopped")
        .expect("a Stopped event");
    assert_eq!(stopped["level"], "ERROR");
    assert_eq!(
        stopped["exit_code"].as_u64(),
        failed.status.code().map(|c| c as u64)
    );
}

#[test]
fn a_file_name_with_escape_sequences_reaches_the_terminal_escaped() {
    let dir = common::temp_dir();
    // Dirty: the report also names the rejects file, after the input.
    let input = common::generate(dir.path(), "data.csv", 200, 7, 0.1);
    let hostile = dir.path().join("data\u{1b}]0;owned\u{7}\u{1b}[2J.csv");
    std::fs::copy(&input, &hostile).expect("copies");
    let name = hostile.file_name().unwrap().to_str().unwrap();
    for args in [vec!["check", name], vec!["check", "missing\u{1b}[31m.csv"]] {
        let output = common::run_in(dir.path(), &args);
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}'),
                "{args:?}: {text:?}"
            );
        }
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("\\u{1b}")
                || String::from_utf8_lossy(&output.stderr).contains("\\u{1b}"),
            "the name is shown, escaped"
        );
    }
}

#[test]
fn a_configured_snapshot_date_says_so_and_counts_the_rows_it_overrides() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "data.csv", 300, 11, 0.0);
    let own = check_json(dir.path(), &input, &[]);
    assert_eq!(own["snapshot_date_from"], "snapshot_id");
    assert_eq!(own["rows_snapshot_id_overridden"], 0);
    let own_date = own["snapshot_date"].as_str().expect("a date").to_string();
    // Every row names its snapshot: a configured other date overrides all.
    let configured = check_json(dir.path(), &input, &["--snapshot-date", "2020-06-30"]);
    assert_eq!(configured["snapshot_date"], "2020-06-30");
    assert_eq!(configured["snapshot_date_from"], "configured");
    assert_eq!(configured["rows_snapshot_id_overridden"], 300);
    let text = common::run_in(
        dir.path(),
        &["check", "data.csv", "--snapshot-date", "2020-06-30"],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Snapshot: 2020-06-30 (configured"), "{text}");
    assert!(text.contains("300 rows carry another snapshot_id"), "{text}");
    // The file's own date configured: nothing overridden.
    let same = check_json(dir.path(), &input, &["--snapshot-date", &own_date]);
    assert_eq!(same["rows_snapshot_id_overridden"], 0);
    for date in ["0205-12-31", "1899-12-31", "2999-01-01"] {
        let output = common::run_in(dir.path(), &["check", "data.csv", "--snapshot-date", date]);
        assert_eq!(output.status.code(), Some(10), "{date}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("etl.snapshot_date"),
            "{date}"
        );
    }
}
