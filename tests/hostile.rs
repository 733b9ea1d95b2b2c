//! Files and situations real exports and real operators produce, each of
//! which must either load every row it can or be refused with a clear
//! message and its own exit code, never pass as a silent success: line
//! endings, empty and headerless files, a cut file, a huge chunk size,
//! country spellings, outputs over the input, credentials in a URI.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_success, binary, check_json, column, generate, records, rewrite, run_in, temp_dir};

fn exit_code(output: &std::process::Output) -> Option<i32> {
    output.status.code()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn lf_crlf_and_cr_line_endings_read_the_same_rows() {
    let dir = temp_dir();
    let lf = generate(dir.path(), "lf.csv", 400, 11, 0.0);
    let bytes = std::fs::read(&lf).expect("reads");
    let crlf = dir.path().join("crlf.csv");
    let cr = dir.path().join("cr.csv");
    std::fs::write(&crlf, String::from_utf8_lossy(&bytes).replace('\n', "\r\n")).expect("writes");
    std::fs::write(&cr, String::from_utf8_lossy(&bytes).replace('\n', "\r")).expect("writes");

    let reports: Vec<_> = [&lf, &crlf, &cr]
        .iter()
        .map(|p| check_json(dir.path(), p, &[]))
        .collect();
    for report in &reports {
        assert_eq!(report["rows_read"], 400, "{report}");
        assert_eq!(report["rows_rejected"], 0, "{report}");
        assert_eq!(report["nodes"], reports[0]["nodes"]);
        assert_eq!(report["relationships"], reports[0]["relationships"]);
    }
    // A quoted field keeps its own breaks, whatever ends the lines.
    let (from_lf, from_cr) = (records(&lf), records(&cr));
    assert_eq!(from_lf.len(), from_cr.len());
    let mut multi_line = 0;
    for (a, b) in from_lf.iter().zip(&from_cr) {
        assert_eq!(a.key, b.key);
        let (bio_lf, bio_cr) = (a.text("bio").unwrap_or(""), b.text("bio").unwrap_or(""));
        assert_eq!(bio_lf.replace('\n', "\r"), bio_cr);
        multi_line += usize::from(bio_lf.contains('\n'));
    }
    assert!(multi_line > 0, "the sample holds multi-line bios");
}

#[test]
fn a_file_without_rows_or_without_a_header_is_refused_with_its_own_code() {
    let dir = temp_dir();
    let sample = generate(dir.path(), "sample.csv", 50, 3, 0.0);
    let text = std::fs::read_to_string(&sample).expect("reads");
    let header_end = text.find('\n').expect("a header line") + 1;
    let cases = [
        ("empty.csv", String::new(), 12, "empty"),
        (
            "header-only.csv",
            text[..header_end].to_string(),
            12,
            "no data rows",
        ),
        (
            "headerless.csv",
            text[header_end..].to_string(),
            13,
            "not a header row",
        ),
    ];
    for (name, content, code, words) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("writes");
        let output = run_in(dir.path(), &["check", path.to_str().expect("utf-8")]);
        assert_eq!(exit_code(&output), Some(code), "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains(words), "{name}: {}", stderr(&output));
    }
}

#[test]
fn a_cut_file_rejects_its_last_record_as_truncated_and_keeps_the_rest() {
    let dir = temp_dir();
    let full = generate(dir.path(), "full.csv", 300, 5, 0.0);
    let bytes = std::fs::read(&full).expect("reads");
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).expect("writes");
    let report = check_json(dir.path(), &cut, &[]);
    assert_eq!(report["rows_read"], 300);
    assert_eq!(report["rows_loaded"], 299);
    assert_eq!(report["rejected_by_reason"], serde_json::json!({"truncated": 1}));
    let rejects = std::fs::read_to_string(dir.path().join("cut.csv.rejects.csv")).expect("rejects");
    assert!(rejects.contains(",truncated,"), "{rejects}");
}

#[test]
fn a_chunk_size_beyond_the_size_cut_never_splits_a_quoted_field() {
    let dir = temp_dir();
    let base = generate(dir.path(), "base.csv", 100, 9, 0.0);
    // Rows of about 11 KB whose bios hold 800 line breaks each: nearly every
    // line end in the file is inside a quoted field, and the file is larger
    // than the reader's 64 MiB size cut.
    let big = dir.path().join("big.csv");
    let bio = "a line of a long biography\n".repeat(400).into_bytes();
    let (key, bio_column) = (column("hashed_email"), column("bio"));
    let mut reader = csv::Reader::from_path(&base).expect("opens");
    let header = reader.byte_headers().expect("header").clone();
    let rows: Vec<csv::ByteRecord> = reader.byte_records().map(|r| r.expect("row")).collect();
    let mut writer = csv::Writer::from_path(&big).expect("creates");
    writer.write_byte_record(&header).expect("writes");
    let total = 6_500;
    for i in 0..total {
        let mut fields: Vec<Vec<u8>> = rows[i % rows.len()].iter().map(<[u8]>::to_vec).collect();
        fields[key] = format!("{i:064x}").into_bytes();
        fields[bio_column] = bio.clone();
        writer.write_record(&fields).expect("writes");
    }
    writer.flush().expect("flushes");
    drop(writer);
    assert!(std::fs::metadata(&big).expect("size").len() > 70 << 20);

    for chunk in ["1000", "1000000"] {
        let report = check_json(dir.path(), &big, &["--chunk-size", chunk]);
        assert_eq!(report["rows_read"], total, "chunk size {chunk}: {report}");
        assert_eq!(
            report["rows_rejected"], 0,
            "chunk size {chunk}: {}",
            report["rejected_by_reason"]
        );
    }
}

#[test]
fn country_abbreviations_and_native_names_get_their_codes_and_unknown_ones_none() {
    let dir = temp_dir();
    let base = generate(dir.path(), "base.csv", 200, 4, 0.0);
    let spellings = [
        ("UAE", "AE"),
        ("RSA", "ZA"),
        ("Deutschland", "DE"),
        ("Brasil", "BR"),
        ("Ivory Coast", "CI"),
        ("DRC", "CD"),
        ("España", "ES"),
    ];
    let variants = dir.path().join("variants.csv");
    let residence = column("country_of_residence");
    rewrite(&base, &variants, |i, fields| {
        if let Some((name, _)) = spellings.get(i) {
            fields[residence] = name.as_bytes().to_vec();
        } else if i == spellings.len() {
            fields[residence] = b"Neverland".to_vec();
        }
        true
    });
    let out = records(&variants);
    for (i, (name, code)) in spellings.iter().enumerate() {
        assert_eq!(out[i].text("countryOfResidenceCode"), Some(*code), "{name}");
    }
    assert_eq!(out[spellings.len()].text("countryOfResidenceCode"), None);
    let report = check_json(dir.path(), &variants, &[]);
    let unknown = report["unknown_countries"].as_object().expect("a map");
    assert_eq!(
        unknown.get("Neverland"),
        Some(&serde_json::json!(1)),
        "{unknown:?}"
    );
    for (name, _) in spellings {
        assert!(!unknown.contains_key(name), "{name} is reported unknown");
    }
}

#[test]
fn an_output_over_the_input_is_refused_before_anything_is_written() {
    let dir = temp_dir();
    let input = generate(dir.path(), "data.csv", 100, 2, 0.0);
    let before = std::fs::read(&input).expect("reads");
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("lists")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        names
    };
    let files_before = listing(dir.path());

    let output = run_in(dir.path(), &["check", "data.csv", "--rejects", "./data.csv"]);
    assert_eq!(exit_code(&output), Some(23), "{}", stderr(&output));
    assert!(stderr(&output).contains("is the input"), "{}", stderr(&output));
    let output = run_in(dir.path(), &["export", "data.csv", "--out", "."]);
    assert_eq!(exit_code(&output), Some(23), "{}", stderr(&output));
    assert!(stderr(&output).contains("holds the input"), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&input).expect("reads"),
        before,
        "the input is untouched"
    );
    assert_eq!(listing(dir.path()), files_before, "nothing was created");
}

#[test]
fn an_export_that_fails_on_a_full_disk_leaves_no_folder_behind() {
    let dir = temp_dir();
    generate(dir.path(), "data.csv", 300, 2, 0.0);
    // A file-size limit stands in for a full disk: every write past 16 KiB
    // fails (EFBIG), including the gzip stream's last bytes.
    let script = format!(
        "trap '' XFSZ; ulimit -f 16; exec '{}' export data.csv --gzip --out out",
        binary().display()
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .current_dir(dir.path())
        .output()
        .expect("bash runs");
    assert!(
        !output.status.success(),
        "the export must fail: {}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("cannot write"), "{}", stderr(&output));
    assert!(!dir.path().join("out").exists(), "no half-written export folder");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Without the limit the same export completes, and a second one replaces it.
    for _ in 0..2 {
        let args = ["export", "data.csv", "--gzip", "--out", "out"];
        assert_success(&args, run_in(dir.path(), &args));
    }
    assert!(dir.path().join("out/import.sh").is_file());
    assert!(dir.path().join("out/learner.csv.gz").is_file());
}

#[test]
fn the_dominant_snapshot_id_dates_the_file_and_other_ones_are_counted() {
    let dir = temp_dir();
    let base = generate(dir.path(), "base.csv", 200, 8, 0.0);
    let dominant = check_json(dir.path(), &base, &[])["snapshot_date"].clone();
    assert!(dominant.is_string(), "{dominant}");
    let mixed = dir.path().join("mixed.csv");
    let snapshot = column("snapshot_id");
    rewrite(&base, &mixed, |i, fields| {
        if i < 7 {
            fields[snapshot] = b"20240101".to_vec();
        }
        true
    });
    let report = check_json(dir.path(), &mixed, &[]);
    assert_eq!(report["snapshot_date"], dominant);
    assert_eq!(report["rows_off_snapshot"], 7);
    assert_eq!(report["rows_per_snapshot"]["2024-01-01"], 7);
    let keys: HashSet<String> = records(&mixed).into_iter().map(|r| r.key).collect();
    assert!(keys.len() >= 190);
}

#[test]
fn a_record_longer_than_the_bound_stops_the_read_naming_its_line() {
    let dir = temp_dir();
    let sample = generate(dir.path(), "sample.csv", 20, 9, 0.0);
    let text = std::fs::read(&sample).expect("reads");
    let header_end = text.iter().position(|b| *b == b'\n').expect("a header") + 1;
    // No line break after the header: one record as long as the file,
    // past the default bound of 32 MiB.
    let unbroken = dir.path().join("unbroken.csv");
    let mut bytes = text[..header_end].to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 40 << 20));
    std::fs::write(&unbroken, bytes).expect("writes");
    let output = run_in(dir.path(), &["check", unbroken.to_str().expect("utf-8")]);
    assert_eq!(exit_code(&output), Some(11), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("begins at line 2 and is longer than etl.max_record_bytes (33554432 bytes)"),
        "{}",
        stderr(&output)
    );

    // Five good rows, then a quote that never closes on the sixth, with
    // lines after it: with a bound of 4 KiB the read stops naming the line
    // where that row began.
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(&text[..]);
    let mut record = csv::ByteRecord::new();
    for _ in 0..5 {
        assert!(reader.read_byte_record(&mut record).expect("reads"));
    }
    let (sixth_byte, sixth_line) = (reader.position().byte() as usize, reader.position().line());
    let stray = dir.path().join("stray.csv");
    let mut bytes = text[..sixth_byte].to_vec();
    bytes.extend_from_slice(b"stray,\"never closed\n");
    for _ in 0..2_000 {
        bytes.extend_from_slice(b"more text on a line without quotes\n");
    }
    std::fs::write(&stray, bytes).expect("writes");
    let toml = dir.path().join("bound.toml");
    std::fs::write(&toml, "[etl]\nmax_record_bytes = 4096\n").expect("writes");
    let output = run_in(
        dir.path(),
        &[
            "check",
            stray.to_str().expect("utf-8"),
            "-c",
            toml.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(exit_code(&output), Some(11), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "begins at line {sixth_line} and is longer than etl.max_record_bytes (4096 bytes)"
        )),
        "{}",
        stderr(&output)
    );
}
