//! Parquet as a source, through files no one here wrote: generated CSV
//! samples converted by pyarrow, DuckDB and polars
//! (`tests/fixtures/parquet_tools.py`; scripts/test installs them into a
//! virtual environment and names its interpreter in
//! LEARNGRAPH_TEST_PARQUET_PYTHON), with several codecs and row group
//! sizes, typed columns and nested JSON columns.
//!
//! - `check --json` of each file says what it says of the CSV (counts and
//!   findings), and `export` writes the same files byte for byte.
//! - A rejected row reaches the rejects file with its row number and the
//!   reason the CSV's row gets.
//! - Damaged files (cut short, wrong magic, a missing column, a column of
//!   another type, a corrupt page) are refused with their exit code, and a
//!   load of one writes nothing.
//! - A load of a Parquet file verifies, and its graph is the CSV load's.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

fn python() -> String {
    std::env::var("LEARNGRAPH_TEST_PARQUET_PYTHON").expect(
        "LEARNGRAPH_TEST_PARQUET_PYTHON is not set: run the tests with scripts/test, which installs pyarrow, DuckDB \
         and polars",
    )
}

/// Runs `parquet_tools.py ARGS` (see its header) and fails the test when it fails.
fn tool(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet_tools.py");
    let output = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "parquet_tools.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The fields of a report that name the input or time the run.
const NAMES_AND_TIMES: [&str; 5] = [
    "input",
    "rejects_file",
    "input_fingerprint",
    "seconds",
    "rows_per_second",
];

/// What `check --json` says of a file, without what names or times it.
fn findings(dir: &Path, input: &Path) -> Json {
    let mut json = common::check_json(dir, input, &[]);
    let object = json.as_object_mut().expect("an object");
    for key in NAMES_AND_TIMES {
        object.remove(key);
    }
    json
}

/// Every file `export` writes for `input`, by name; its report without
/// what names the input or times the run.
fn exported(dir: &Path, input: &Path, name: &str) -> Vec<(String, Vec<u8>)> {
    let out = dir.join(name);
    common::run_ok(dir, &["export", text(input), "--out", text(&out)]);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .expect("the export folder")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut bytes = std::fs::read(&path).expect("reads");
            if name == "report.json" {
                let mut report: Json = serde_json::from_slice(&bytes).expect("a JSON report");
                for key in NAMES_AND_TIMES {
                    report.as_object_mut().expect("an object").remove(key);
                }
                bytes = report.to_string().into_bytes();
            }
            (name, bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() > 5, "{files:?}");
    files
}

#[test]
fn parquet_files_from_pyarrow_duckdb_and_polars_check_and_export_as_the_csv_does() {
    let dir = common::temp_dir();
    let csv = common::generate(dir.path(), "sample.csv", 2_500, 61, 0.0);
    let expected = findings(dir.path(), &csv);
    assert_eq!(expected["rows_read"], 2_500);
    let expected_export = exported(dir.path(), &csv, "csv-export");

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (tool_name, codec, rows) in [
        ("pyarrow", "snappy", "300"),
        ("pyarrow", "none", "100000"),
        ("duckdb", "zstd", "500"),
        ("duckdb", "gzip", "2048"),
        ("polars", "zstd", "400"),
        ("polars", "none", "1000"),
    ] {
        let out = dir.path().join(format!("{tool_name}-{codec}-{rows}.parquet"));
        tool(&["convert", tool_name, codec, rows, text(&csv), text(&out)]);
        files.push((format!("{tool_name} {codec} {rows}"), out));
    }
    for kind in ["typed", "nested"] {
        let out = dir.path().join(format!("{kind}.parquet"));
        tool(&[kind, text(&csv), text(&out)]);
        files.push((kind.to_string(), out));
    }
    // Recognised by its content, not its name.
    let unnamed = dir.path().join("export-without-extension");
    std::fs::copy(&files[0].1, &unnamed).expect("copies");
    files.push(("no extension".to_string(), unnamed));

    for (index, (name, file)) in files.iter().enumerate() {
        assert_eq!(findings(dir.path(), file), expected, "check of {name}");
        let export = exported(dir.path(), file, &format!("export-{index}"));
        assert_eq!(export.len(), expected_export.len(), "{name}");
        for ((file_name, bytes), (expected_name, expected_bytes)) in export.iter().zip(&expected_export) {
            assert_eq!(file_name, expected_name, "{name}");
            assert!(
                bytes == expected_bytes,
                "{name}: {file_name} differs from the CSV's"
            );
        }
    }
}

#[test]
fn generate_format_parquet_writes_the_rows_of_the_csv() {
    let dir = common::temp_dir();
    let csv = common::generate(dir.path(), "same.csv", 1_200, 7, 0.0);
    let parquet = dir.path().join("same.parquet");
    common::run_ok(
        dir.path(),
        &[
            "generate",
            "--rows",
            "1200",
            "--seed",
            "7",
            "--format",
            "parquet",
            "--out",
            text(&parquet),
        ],
    );
    // pyarrow reads it back as the CSV's rows, value for value.
    tool(&["same", text(&csv), text(&parquet)]);
    assert_eq!(findings(dir.path(), &parquet), findings(dir.path(), &csv));

    let dirty = common::run_in(
        dir.path(),
        &[
            "generate",
            "--rows",
            "10",
            "--dirty",
            "0.1",
            "--format",
            "parquet",
            "--out",
            "d.parquet",
        ],
    );
    assert_eq!(dirty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dirty.stderr).contains("generate the damaged sample as CSV"));
}

#[test]
fn a_rejected_parquet_row_reaches_the_rejects_file_with_its_row_number_and_reason() {
    let dir = common::temp_dir();
    let clean = common::generate(dir.path(), "clean.csv", 400, 19, 0.0);
    // Row 5: JSON cut short; row 9: no key. Rows counted from 1 after the header.
    let damaged = dir.path().join("damaged.csv");
    let (learning, key) = (common::column("learning_details"), common::column("hashed_email"));
    common::rewrite(&clean, &damaged, |index, fields| {
        match index + 1 {
            5 => fields[learning] = b"[{\"program_name\": \"Software Eng".to_vec(),
            9 => fields[key] = Vec::new(),
            _ => {}
        }
        true
    });
    let parquet = dir.path().join("damaged.parquet");
    tool(&[
        "convert",
        "pyarrow",
        "snappy",
        "100",
        text(&damaged),
        text(&parquet),
    ]);

    // Each rejected row: its record number, reason and raw line.
    let rejected = |input: &Path, rejects: &str| -> Vec<(String, String, String)> {
        let rejects = dir.path().join(rejects);
        let json = common::check_json(dir.path(), input, &["--rejects", text(&rejects)]);
        assert_eq!(json["rows_rejected"], 2, "{json}");
        let mut reader = csv::Reader::from_path(&rejects).expect("the rejects file");
        reader
            .records()
            .map(|r| {
                let r = r.expect("a record");
                (r[0].to_string(), r[2].to_string(), r[4].to_string())
            })
            .collect()
    };
    let from_csv = rejected(&damaged, "csv.rejects.csv");
    let from_parquet = rejected(&parquet, "parquet.rejects.csv");
    let numbers_and_reasons = |rows: &[(String, String, String)]| -> Vec<(String, String)> {
        rows.iter()
            .map(|(n, reason, _)| (n.clone(), reason.clone()))
            .collect()
    };
    let expected = vec![
        ("5".to_string(), "invalid_json".to_string()),
        ("9".to_string(), "missing_key".to_string()),
    ];
    assert_eq!(numbers_and_reasons(&from_csv), expected);
    assert_eq!(numbers_and_reasons(&from_parquet), expected);
    // The Parquet row's raw line is the CSV file's line of the same row.
    assert!(from_csv[0].2.contains("Software Eng"), "{from_csv:?}");
    assert_eq!(from_parquet, from_csv);
}

/// The exit code and message of `check` (or `load`) of a damaged file.
fn refused(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = common::run_in(dir, args);
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!said.contains("panicked"), "{said}");
    (output.status.code(), said)
}

#[test]
fn damaged_parquet_files_are_refused_with_their_exit_code() {
    let dir = common::temp_dir();
    let csv = common::generate(dir.path(), "base.csv", 800, 23, 0.0);
    let good = dir.path().join("good.parquet");
    tool(&["convert", "pyarrow", "snappy", "200", text(&csv), text(&good)]);
    let bytes = std::fs::read(&good).expect("reads");

    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).expect("writes");
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"hashed_email,sand_id\nnot,parquet\n").expect("writes");
    let magic_only = dir.path().join("magic.parquet");
    std::fs::write(&magic_only, b"PAR1 and then nothing a Parquet reader knows").expect("writes");
    let missing = dir.path().join("missing.parquet");
    tool(&["bad", "missing-column", text(&csv), text(&missing)]);
    let wrong = dir.path().join("wrong.parquet");
    tool(&["bad", "wrong-type", text(&csv), text(&wrong)]);
    let corrupt = dir.path().join("corrupt.parquet");
    let mut flipped = bytes.clone();
    for at in (bytes.len() / 3..bytes.len() / 3 + 64).step_by(8) {
        flipped[at] ^= 0x5a;
    }
    std::fs::write(&corrupt, &flipped).expect("writes");

    for (file, code, says) in [
        (&cut, 11, "cut short"),
        (&garbage, 11, "does not begin with PAR1"),
        (&magic_only, 11, "not a Parquet file learngraph can read"),
        (&missing, 13, "\"skills_list\""),
        (&wrong, 13, "\"city_of_residence\" is of type Time32"),
        (&corrupt, 11, "damaged"),
    ] {
        let (exit, said) = refused(dir.path(), &["check", text(file)]);
        assert_eq!(exit, Some(code), "{}: {said}", file.display());
        assert!(said.contains(says), "{}: {said}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parquet_load_verifies_and_its_graph_is_the_csv_loads() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    let csv = common::generate(dir.path(), "load.csv", 1_500, 29, 0.0);
    let parquet = dir.path().join("load.parquet");
    tool(&["convert", "duckdb", "zstd", "400", text(&csv), text(&parquet)]);

    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    common::run_db_ok(dir.path(), &["load", text(&csv)]);
    let from_csv = common::graph_picture(None, &[]).await;

    // A damaged file first: refused, nothing written.
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let bytes = std::fs::read(&parquet).expect("reads");
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("writes");
    let corrupt = dir.path().join("corrupt.parquet");
    let mut flipped = bytes.clone();
    for at in (bytes.len() / 2..bytes.len() / 2 + 64).step_by(8) {
        flipped[at] ^= 0x5a;
    }
    std::fs::write(&corrupt, &flipped).expect("writes");
    let graph = common::test_graph().await;
    for damaged in [&cut, &corrupt] {
        let load = common::run_db(dir.path(), &["load", text(damaged)]);
        let said = String::from_utf8_lossy(&load.stderr);
        assert_eq!(load.status.code(), Some(11), "{said}");
        assert!(said.contains("write it again"), "{said}");
        assert_eq!(
            common::count(&graph, "MATCH (n) RETURN count(n) AS n").await,
            0,
            "{said}"
        );
    }

    // A trial, then the whole file, then verify.
    common::run_db_ok(dir.path(), &["load", text(&parquet), "--max-rows", "300"]);
    assert_eq!(
        common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await,
        300
    );
    common::run_db_ok(dir.path(), &["load", text(&parquet)]);
    let verify = common::run_db_ok(dir.path(), &["verify", text(&parquet)]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
    assert_eq!(common::graph_picture(None, &[]).await, from_csv);
}

/// A Parquet load killed mid-way resumes from its checkpoint to the graph
/// one whole load makes. While it runs, a second load of the same file is
/// refused by the file's lock; a resume after the file was replaced by
/// another export is refused and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_parquet_load_resumes_and_a_replaced_file_is_refused() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    let csv = common::generate(dir.path(), "resume.csv", 2_000, 31, 0.0);
    let parquet = dir.path().join("resume.parquet");
    tool(&["convert", "pyarrow", "snappy", "500", text(&csv), text(&parquet)]);
    let other_csv = common::generate(dir.path(), "other.csv", 2_000, 32, 0.0);
    let other = dir.path().join("other.parquet");
    tool(&["convert", "polars", "zstd", "700", text(&other_csv), text(&other)]);
    let learners = "MATCH (l:Learner) RETURN count(l) AS n";

    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    // One learner per transaction: the kill lands with most of it to do.
    let mut killed = common::Running::spawn(common::db_command(
        dir.path(),
        &["load", text(&parquet), "--batch-size", "1", "--workers", "1"],
    ));
    killed.wait_for("phase=\"entities\"");
    while common::count(&graph, learners).await < 100 {
        assert!(
            killed.child.try_wait().expect("waits").is_none(),
            "the load ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = common::run_db(dir.path(), &["load", text(&parquet)]);
    assert_eq!(
        second.status.code(),
        Some(29),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    killed.child.kill().expect("kill -9");
    let (code, _) = killed.finish();
    assert_eq!(code, None, "killed by a signal");
    let written = common::count(&graph, learners).await;
    let accepted = common::check_json(dir.path(), &csv, &[])["rows_loaded"]
        .as_i64()
        .expect("a count");
    assert!(
        (100..accepted).contains(&written),
        "killed mid-load: {written} of {accepted}"
    );

    // Replaced by another export at the same path: the resume is refused.
    let kept = dir.path().join("kept.parquet");
    std::fs::rename(&parquet, &kept).expect("moves");
    std::fs::copy(&other, &parquet).expect("copies");
    let refused = common::run_db(dir.path(), &["load", "--resume", text(&parquet)]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(18), "{said}");
    assert!(said.contains("another version of the input"), "{said}");
    assert_eq!(common::count(&graph, learners).await, written);

    std::fs::rename(&kept, &parquet).expect("moves back");
    let resumed = common::run_db_ok(dir.path(), &["load", "--resume", text(&parquet), "--json"]);
    assert_eq!(common::json(&resumed)["rows_read"], 2_000);
    assert_eq!(common::count(&graph, learners).await, accepted);
    let verify = common::run_db_ok(dir.path(), &["verify", text(&parquet)]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}
