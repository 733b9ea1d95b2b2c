//! End-to-end: what reaches a terminal or a spreadsheet is inert. Values
//! from the file that are escape sequences or spreadsheet formulas are
//! shown escaped in human output (check's report, ask's table), written
//! neutralized as CSV text cells, and kept exactly in JSON.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use common::{column, rewrite};

/// An OSC 8 hyperlink and a colour change: a terminal would act on both.
const ESCAPE_SKILL: &str = "\u{1b}]8;;http://attacker.example\u{7}Python\u{1b}]8;;\u{7}";
const ESCAPE_COUNTRY: &str = "\u{1b}[31mNarnia\u{1b}[0m";
const ESCAPE_PROGRAM: &str = "\u{1b}[2J\u{1b}[31mWiped";
const FORMULA_SKILL: &str = "=HYPERLINK(\"http://attacker.example\")";

#[test]
fn escape_sequences_and_formulas_from_the_file_are_inert() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let generated = common::generate(dir.path(), "generated.csv", 300, 5, 0.0);
    let input = dir.path().join("hostile.csv");
    let (skills, country) = (column("skills_list"), column("country_of_residence"));
    let learning = column("learning_details");
    rewrite(&generated, &input, |i, fields| {
        // Enough learners that both skills lead the top skills, and
        // graduates of a program whose name is an escape sequence.
        if i < 250 {
            fields[skills] = format!("{ESCAPE_SKILL},{FORMULA_SKILL}").into_bytes();
            let mut entries: serde_json::Value = serde_json::from_slice(&fields[learning]).expect("JSON");
            for entry in entries.as_array_mut().expect("an array") {
                entry["program_name"] = ESCAPE_PROGRAM.into();
                entry["enrollment_status"] = "Graduated".into();
                entry["program_graduation_date"] = "2024-06-30".into();
            }
            fields[learning] = entries.to_string().into_bytes();
        }
        if i == 7 {
            fields[country] = ESCAPE_COUNTRY.as_bytes().to_vec();
        }
        true
    });
    let path = input.to_str().expect("utf-8");

    let check = common::run_ok(dir.path(), &["check", path]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        !text.contains('\u{1b}'),
        "an escape sequence reaches the terminal:\n{text}"
    );
    assert!(
        text.contains("\\u{1b}[31mNarnia"),
        "the name is shown, escaped:\n{text}"
    );
    let json = common::check_json(dir.path(), &input, &[]);
    assert!(
        json["unknown_countries"].get(ESCAPE_COUNTRY).is_some(),
        "JSON keeps the value: {json}"
    );

    common::run_db_ok(dir.path(), &["load", path]);
    // verify's answers name programs: shown escaped too.
    let verify = common::run_db_ok(dir.path(), &["verify", path]);
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(
        !text.contains('\u{1b}'),
        "an escape sequence reaches the terminal:\n{text}"
    );
    assert!(
        text.contains("\\u{1b}[2J\\u{1b}[31mWiped"),
        "the program is shown, escaped:\n{text}"
    );
    let table = common::run_db_ok(dir.path(), &["ask", "top-skills"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'), "{table}");
    assert!(
        table.contains("\\u{1b}]8;;http://attacker.example\\u{7}Python"),
        "{table}"
    );

    let csv_out = common::run_db_ok(dir.path(), &["ask", "top-skills", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV row")).collect();
    let formula_row = rows
        .iter()
        .find(|r| r[1].contains("HYPERLINK"))
        .expect("the formula skill is among the top skills (skill, name, learners)");
    assert_eq!(
        &formula_row[1],
        format!("'{FORMULA_SKILL}"),
        "a text cell is neutralized"
    );
    assert!(
        formula_row[2].parse::<u64>().is_ok(),
        "a number stays a number: {formula_row:?}"
    );
    assert!(
        rows.iter()
            .flat_map(|r| r.iter())
            .all(|cell| !cell.starts_with('=')),
        "{rows:?}"
    );

    let json = common::json(&common::run_db_ok(dir.path(), &["ask", "top-skills", "--json"]));
    let names: Vec<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|row| match row {
            serde_json::Value::Array(cells) => cells.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>(),
            serde_json::Value::Object(cells) => cells.values().filter_map(|c| c.as_str()).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert!(names.contains(&FORMULA_SKILL), "JSON keeps the value: {json}");
    assert!(names.contains(&ESCAPE_SKILL), "JSON keeps the value: {json}");
}
