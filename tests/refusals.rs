//! Loads that must be refused before anything is written, and operators'
//! mistakes, against the real local database: files without rows, a
//! snapshot from the future, a snapshot that would mark too many learners
//! missing, rows rejected in a later snapshot, an input rewritten during a
//! load, a resume after `clear` or against an edited file, credentials in
//! the URI. Also: files with CR line endings or a cut last record load what
//! they hold.
// The lock serializes the tests that share the one database; holding it
// across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Output, Stdio};

use common::{
    column, count, db_command, db_lock, generate, json, records, rewrite, run_db, run_db_ok, temp_dir,
    test_db, test_graph,
};

fn clear(dir: &Path) {
    run_db_ok(dir, &["clear", "--all", "--yes"]);
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn nodes(graph: &neo4rs::Graph) -> i64 {
    count(graph, "MATCH (n) RETURN count(n) AS n").await
}

fn distinct_keys(path: &Path) -> HashSet<String> {
    records(path).into_iter().map(|r| r.key).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn files_without_rows_or_from_the_future_write_nothing() {
    let _lock = db_lock();
    let dir = temp_dir();
    let graph = test_graph().await;
    clear(dir.path());
    let sample = generate(dir.path(), "sample.csv", 60, 13, 0.0);
    let text = std::fs::read_to_string(&sample).expect("reads");
    let header_end = text.find('\n').expect("header") + 1;
    let header_only = dir.path().join("header-only.csv");
    std::fs::write(&header_only, &text[..header_end]).expect("writes");
    let headerless = dir.path().join("headerless.csv");
    std::fs::write(&headerless, &text[header_end..]).expect("writes");
    let future = dir.path().join("future.csv");
    let snapshot = column("snapshot_id");
    rewrite(&sample, &future, |_, fields| {
        fields[snapshot] = b"20991231".to_vec();
        true
    });

    for (file, expected, words) in [
        (&header_only, 12, "no data rows"),
        (&headerless, 13, "not a header row"),
        (&future, 21, "2099-12-31"),
    ] {
        let output = run_db(dir.path(), &["load", file.to_str().expect("utf-8")]);
        assert_eq!(
            code(&output),
            Some(expected),
            "{}: {}",
            file.display(),
            stderr(&output)
        );
        assert!(stderr(&output).contains(words), "{}", stderr(&output));
        assert_eq!(nodes(&graph).await, 0, "{} wrote nothing", file.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cr_line_endings_and_a_cut_last_record_load_what_the_file_holds() {
    let _lock = db_lock();
    let dir = temp_dir();
    let graph = test_graph().await;
    let lf = generate(dir.path(), "lf.csv", 300, 17, 0.0);
    let bytes = std::fs::read(&lf).expect("reads");
    let cr = dir.path().join("cr.csv");
    std::fs::write(&cr, String::from_utf8_lossy(&bytes).replace('\n', "\r")).expect("writes");
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).expect("writes");

    for (file, learners) in [
        (&cr, distinct_keys(&lf).len()),
        (&cut, distinct_keys(&lf).len() - 1),
    ] {
        clear(dir.path());
        let name = file.to_str().expect("utf-8");
        let summary = json(&run_db_ok(dir.path(), &["load", name, "--json"]));
        assert_eq!(summary["learners_written"], learners as u64, "{name}");
        run_db_ok(dir.path(), &["verify", name]);
        assert_eq!(
            count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await,
            learners as i64
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_snapshot_keeps_learners_whose_row_was_rejected_and_refuses_mass_missing() {
    let _lock = db_lock();
    let dir = temp_dir();
    let graph = test_graph().await;
    clear(dir.path());
    let full = generate(dir.path(), "full.csv", 400, 21, 0.0);
    run_db_ok(dir.path(), &["load", full.to_str().expect("utf-8")]);
    let all_keys = distinct_keys(&full);
    let missing_marks = "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL RETURN count(l) AS n";

    // Two rows of the next snapshot cannot be loaded: their learners are
    // still in the export, so they are kept as they are, not marked missing.
    let broken = dir.path().join("broken.csv");
    let learning = column("learning_details");
    let mut broken_keys = Vec::new();
    let key_column = column("hashed_email");
    rewrite(&full, &broken, |i, fields| {
        if i == 10 || i == 20 {
            fields[learning] = b"[{\"broken".to_vec();
            broken_keys.push(String::from_utf8(fields[key_column].clone()).expect("utf-8"));
        }
        true
    });
    let summary = json(&run_db_ok(
        dir.path(),
        &["load", broken.to_str().expect("utf-8"), "--json"],
    ));
    assert_eq!(summary["rows_rejected"], 2);
    assert_eq!(summary["learners_kept_row_rejected"], 2, "{summary}");
    assert_eq!(summary["learners_marked_missing"], 0);
    assert_eq!(count(&graph, missing_marks).await, 0);
    run_db_ok(dir.path(), &["verify", broken.to_str().expect("utf-8")]);
    for key in &broken_keys {
        let kept = format!(
            "MATCH (l:Learner {{hashedEmail: '{key}'}}) WHERE l.missingSince IS NULL RETURN count(l) AS n"
        );
        assert_eq!(count(&graph, &kept).await, 1, "{key} is kept");
    }

    // Half of the learners gone: refused before anything is written.
    let half = dir.path().join("half.csv");
    rewrite(&full, &half, |i, _| i < 200);
    let gone = all_keys.difference(&distinct_keys(&half)).count();
    let snapshots = "MATCH (s:Snapshot) RETURN count(s) AS n";
    let before = (nodes(&graph).await, count(&graph, snapshots).await);
    let output = run_db(dir.path(), &["load", half.to_str().expect("utf-8")]);
    assert_eq!(code(&output), Some(20), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("mark {gone} of")),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("--allow-missing"), "{}", stderr(&output));
    assert_eq!((nodes(&graph).await, count(&graph, snapshots).await), before);
    assert_eq!(count(&graph, missing_marks).await, 0);

    let summary = json(&run_db_ok(
        dir.path(),
        &["load", half.to_str().expect("utf-8"), "--allow-missing", "--json"],
    ));
    assert_eq!(summary["learners_marked_missing"], gone as u64);
    assert_eq!(count(&graph, missing_marks).await, gone as i64);
    run_db_ok(dir.path(), &["verify", half.to_str().expect("utf-8")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_after_clear_is_refused_and_a_resume_without_checkpoint_starts_over() {
    let _lock = db_lock();
    let dir = temp_dir();
    let graph = test_graph().await;
    clear(dir.path());
    // Larger than 2 MiB: an edit in the middle leaves the first and last MiB
    // alone, and only the fingerprint of the whole stream sees it.
    let input = generate(dir.path(), "data.csv", 2_000, 31, 0.0);
    assert!(std::fs::metadata(&input).expect("size").len() > 2 << 20);
    let name = input.to_str().expect("utf-8");
    run_db_ok(dir.path(), &["load", name]);
    // As if the load had been interrupted (a finished one's checkpoint is
    // spent: a resume over it is a new load).
    common::mark_interrupted(&dir.path().join("data.csv.checkpoint.json"));
    clear(dir.path());
    let output = run_db(dir.path(), &["load", "--resume", name]);
    assert_eq!(code(&output), Some(18), "{}", stderr(&output));
    assert!(stderr(&output).contains("cleared"), "{}", stderr(&output));
    assert_eq!(nodes(&graph).await, 0, "nothing written");

    std::fs::remove_file(dir.path().join("data.csv.checkpoint.json")).expect("removes the checkpoint");
    let output = run_db_ok(dir.path(), &["load", "--resume", name]);
    assert!(
        stderr(&output).contains("starting from the beginning"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await,
        distinct_keys(&input).len() as i64
    );
    run_db_ok(dir.path(), &["verify", name]);

    // The same file with one letter changed in the middle: same size, same
    // first and last MiB, another content. A resume is refused.
    // As if that load had been interrupted: a finished one's checkpoint is
    // spent, and a resume over it is a new load of the file as it is now.
    common::mark_interrupted(&dir.path().join("data.csv.checkpoint.json"));
    let len = std::fs::metadata(&input).expect("size").len();
    flip_a_letter(&input, len / 2);
    let output = run_db(dir.path(), &["load", "--resume", name]);
    assert_eq!(code(&output), Some(18), "{}", stderr(&output));
    assert!(stderr(&output).contains("edited"), "{}", stderr(&output));
}

/// Changes the first ASCII letter at or after `from` into another letter, in
/// place: the file keeps its size and stays valid CSV.
fn flip_a_letter(path: &Path, from: u64) {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("opens");
    let bytes = std::fs::read(path).expect("reads");
    let at = (from as usize..bytes.len())
        .find(|&i| bytes[i].is_ascii_lowercase())
        .expect("a letter");
    let flipped = if bytes[at] == b'x' { b'y' } else { b'x' };
    file.seek(SeekFrom::Start(at as u64)).expect("seeks");
    file.write_all(&[flipped]).expect("writes");
    file.sync_all().expect("syncs");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_input_rewritten_during_the_load_is_refused_before_its_changed_part_is_written() {
    let _lock = db_lock();
    let dir = temp_dir();
    let graph = test_graph().await;
    clear(dir.path());
    let input = generate(dir.path(), "data.csv", 4_000, 41, 0.0);
    let len = std::fs::metadata(&input).expect("size").len();
    let mut child = db_command(
        dir.path(),
        &[
            "load",
            input.to_str().expect("utf-8"),
            "--batch-size",
            "500",
            "--chunk-size",
            "1000",
        ],
    )
    .stderr(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .expect("starts");
    // Once phase 1 starts the analysis has read the file: the export job
    // "rewrites" the last chunk now, before phase 2 reads it again.
    let mut log = String::new();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        let line = line.expect("a log line");
        log.push_str(&line);
        log.push('\n');
        if line.contains("Phase 1") {
            flip_a_letter(&input, len - len / 8);
            break;
        }
    }
    for line in lines {
        log.push_str(&line.expect("a log line"));
        log.push('\n');
    }
    let status = child.wait().expect("ends");
    assert_eq!(status.code(), Some(22), "{log}");
    assert!(log.contains("changed while it was being loaded"), "{log}");
    let learners = count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await;
    let before_the_change = rows_ending_before(&input, len - len / 8);
    assert!(
        learners as u64 <= before_the_change && before_the_change < 4_000,
        "nothing from the changed part is written: {learners} learners, {before_the_change} rows before the change"
    );
}

/// How many data records of a CSV file end before byte `offset`.
fn rows_ending_before(path: &Path, offset: u64) -> u64 {
    let mut reader = csv::Reader::from_path(path).expect("opens");
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).expect("reads") {
        if reader.position().byte() > offset {
            break;
        }
        rows += 1;
    }
    rows
}

#[test]
fn credentials_in_the_uri_are_used_and_never_shown() {
    let _lock = db_lock();
    let dir = temp_dir();
    clear(dir.path());
    let input = generate(dir.path(), "data.csv", 50, 51, 0.0);
    let db = test_db();
    let with_credentials = db.uri.replacen("://", &format!("://root:{}@", db.password), 1);
    let unreachable = format!("bolt://root:{}@127.0.0.1:1", db.password);
    for (uri, expected) in [(&with_credentials, Some(0)), (&unreachable, Some(14))] {
        for extra in [&[][..], &["--json"][..]] {
            let mut args = vec!["load", input.to_str().expect("utf-8")];
            args.extend_from_slice(extra);
            let output = db_command(dir.path(), &args)
                .env_remove("NEO4J_PASSWORD")
                .env_remove("NEO4J_USERNAME")
                .env("NEO4J_URI", uri)
                .output()
                .expect("runs");
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.status.code(), expected, "{printed}");
            assert!(!printed.contains(&db.password), "the password is printed");
            assert!(!printed.contains("root:"), "the user-info is printed");
        }
    }

    // A password file named in the TOML file yields to NEO4J_PASSWORD.
    let toml = common::toml_with_password_file(dir.path(), "not-the-password");
    let args = [
        "load",
        input.to_str().expect("utf-8"),
        "-c",
        toml.to_str().expect("utf-8"),
    ];
    common::assert_success(&args, run_db(dir.path(), &args));
    let output = db_command(dir.path(), &args)
        .env_remove("NEO4J_PASSWORD")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(15),
        "the file's password is used: {}",
        stderr(&output)
    );
}
