//! `learngraph export`: the files are valid for `neo4j-admin database
//! import`, agree with `check`, and load into the same graph as `load`.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use neo4rs::{BoltBoolean, BoltDate, BoltFloat, BoltInteger, BoltList, BoltMap, BoltString, BoltType, query};
use serde_json::Value as Json;

use common::{LABELS, TYPES};

/// One exported file: its header fields and rows.
struct ExportFile {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_export(path: &Path) -> ExportFile {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .expect("gzip");
        bytes = out;
    }
    let mut rdr = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let header = rdr.headers().expect("header").iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| r.expect("row").iter().map(String::from).collect())
        .collect();
    ExportFile { header, rows }
}

/// Splits `name:type` into its parts; `(name, "string")` without a type.
fn typed(field: &str) -> (&str, &str) {
    field.split_once(':').unwrap_or((field, "string"))
}

fn node_path(dir: &Path, label: &str, ext: &str) -> PathBuf {
    let mut stem = String::new();
    for (i, c) in label.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            stem.push('_');
        }
        stem.push(c.to_ascii_lowercase());
    }
    dir.join(format!("{stem}{ext}"))
}

fn rel_path(dir: &Path, rel: &str, ext: &str) -> PathBuf {
    dir.join(format!("{}{ext}", rel.to_lowercase()))
}

/// A value parsed by its header type, as the importer would; `None` when empty.
fn value(kind: &str, text: &str) -> Option<BoltType> {
    if text.is_empty() {
        return None;
    }
    Some(match kind {
        "string" => BoltType::String(BoltString::new(text)),
        "long" => BoltType::Integer(BoltInteger::new(text.parse().expect("a long"))),
        "double" => BoltType::Float(BoltFloat::new(text.parse().expect("a double"))),
        "boolean" => {
            assert!(text == "true" || text == "false", "boolean {text:?}");
            BoltType::Boolean(BoltBoolean::new(text == "true"))
        }
        "date" => BoltType::Date(BoltDate::from(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date"),
        )),
        other => panic!("unexpected type {other}"),
    })
}

#[test]
fn exported_files_are_valid_for_the_importer_and_match_check() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "in.csv", 10_000, 3, 0.01);
    let out = dir.path().join("export");
    common::run_ok(
        dir.path(),
        &[
            "export",
            input.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    let check: Json = serde_json::from_slice(
        &common::run_ok(dir.path(), &["check", input.to_str().expect("utf-8"), "--json"]).stdout,
    )
    .expect("json");

    let mut ids: HashMap<&str, HashSet<String>> = HashMap::new();
    for label in LABELS {
        let file = read_export(&node_path(&out, label, ".csv"));
        assert_eq!(
            file.header[0],
            format!("{}:ID({label})", file.header[0].split(':').next().expect("name"))
        );
        for field in &file.header[1..] {
            let (name, kind) = typed(field);
            assert!(
                !name.is_empty() && name.chars().all(char::is_alphanumeric),
                "{label}: {field}"
            );
            assert!(
                ["string", "long", "double", "boolean", "date"].contains(&kind),
                "{label}: {field}"
            );
        }
        let space = ids.entry(label).or_default();
        for row in &file.rows {
            assert_eq!(row.len(), file.header.len(), "{label}: row width");
            assert!(space.insert(row[0].clone()), "{label}: id {} repeats", row[0]);
            for (field, text) in file.header[1..].iter().zip(&row[1..]) {
                let _ = value(typed(field).1, text);
            }
        }
        assert_eq!(
            Some(file.rows.len() as u64),
            check["nodes"][label].as_u64(),
            "{label} count"
        );
    }
    for rel in TYPES {
        let file = read_export(&rel_path(&out, rel, ".csv"));
        let start = file.header[0]
            .strip_prefix(":START_ID(")
            .and_then(|s| s.strip_suffix(')'))
            .expect(":START_ID");
        let end = file.header[1]
            .strip_prefix(":END_ID(")
            .and_then(|s| s.strip_suffix(')'))
            .expect(":END_ID");
        assert_eq!(file.header[2], ":TYPE");
        for row in &file.rows {
            assert!(
                ids[start].contains(&row[0]),
                "{rel}: start {} missing in {start}",
                row[0]
            );
            assert!(
                ids[end].contains(&row[1]),
                "{rel}: end {} missing in {end}",
                row[1]
            );
            assert_eq!(row[2], rel);
            for (field, text) in file.header[3..].iter().zip(&row[3..]) {
                let _ = value(typed(field).1, text);
            }
        }
        assert_eq!(
            Some(file.rows.len() as u64),
            check["relationships"][rel].as_u64(),
            "{rel} count"
        );
    }

    let script = std::fs::read_to_string(out.join("import.sh")).expect("import.sh");
    assert!(script.contains("neo4j-admin\" database import full \"${DATABASE:-neo4j}\""));
    for label in LABELS {
        assert!(
            script.contains(&format!("--nodes={label}=\"$here\"/")),
            "{label} in import.sh"
        );
    }
    for rel in TYPES {
        assert!(
            script.contains(&format!("--relationships={rel}=")),
            "{rel} in import.sh"
        );
    }
    let schema = std::fs::read_to_string(out.join("schema.cypher")).expect("schema.cypher");
    assert_eq!(schema.matches("CREATE CONSTRAINT").count(), 9);
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["rows_rejected"], check["rows_rejected"]);
    assert!(dir.path().join("in.csv.rejects.csv").exists());
}

/// Exports `input` into the folder `name` of `dir` with `extra` flags.
fn export_into(dir: &Path, input: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "export",
        input.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    common::run_ok(dir, &args);
    out
}

#[test]
fn gzip_files_hold_the_same_content() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "in.csv", 3_000, 4, 0.0);
    let plain = export_into(dir.path(), &input, "plain", &[]);
    let gz = export_into(dir.path(), &input, "gz", &["--gzip"]);
    for label in LABELS {
        let a = read_export(&node_path(&plain, label, ".csv"));
        let b = read_export(&node_path(&gz, label, ".csv.gz"));
        assert_eq!((a.header, a.rows), (b.header, b.rows), "{label}");
    }
    for rel in TYPES {
        let a = read_export(&rel_path(&plain, rel, ".csv"));
        let b = read_export(&rel_path(&gz, rel, ".csv.gz"));
        assert_eq!((a.header, a.rows), (b.header, b.rows), "{rel}");
    }
    assert!(
        std::fs::read_to_string(gz.join("import.sh"))
            .expect("script")
            .contains("learner.csv.gz")
    );
}

/// Shared nodes (the most frequent spelling of each id, the first known
/// coordinates, program names) come out the same whether one thread reads
/// the file as one chunk or three threads share it in chunks of seven rows.
#[test]
fn shared_nodes_do_not_depend_on_thread_or_chunk_counts() {
    let dir = common::temp_dir();
    let input = common::generate(dir.path(), "in.csv", 4_000, 9, 0.05);
    let one = ["--transform-threads", "1", "--chunk-size", "4000"];
    let whole = export_into(dir.path(), &input, "whole", &one);
    let three = ["--transform-threads", "3", "--chunk-size", "7"];
    let shared = export_into(dir.path(), &input, "shared", &three);
    for label in LABELS {
        let a = read_export(&node_path(&whole, label, ".csv"));
        let b = read_export(&node_path(&shared, label, ".csv"));
        assert!(!a.rows.is_empty(), "{label} has nodes");
        assert_eq!((a.header, a.rows), (b.header, b.rows), "{label}");
    }
}

/// Loads an export folder into the test database with Cypher, the way the
/// importer would read it.
async fn load_export(graph: &neo4rs::Graph, dir: &Path) {
    for label in LABELS {
        let file = read_export(&node_path(dir, label, ".csv"));
        let key = file.header[0].split(':').next().expect("key").to_string();
        for batch in file.rows.chunks(2_000) {
            let rows: Vec<BoltType> = batch
                .iter()
                .map(|row| {
                    let mut props = BoltMap::new();
                    props.put(BoltString::new(&key), BoltType::String(BoltString::new(&row[0])));
                    for (field, text) in file.header[1..].iter().zip(&row[1..]) {
                        let (name, kind) = typed(field);
                        if let Some(v) = value(kind, text) {
                            props.put(BoltString::new(name), v);
                        }
                    }
                    BoltType::Map(props)
                })
                .collect();
            graph
                .run(
                    query(&format!("UNWIND $rows AS r CREATE (n:{label}) SET n = r"))
                        .param("rows", BoltType::List(BoltList { value: rows })),
                )
                .await
                .expect("nodes load");
        }
    }
    for rel in TYPES {
        let file = read_export(&rel_path(dir, rel, ".csv"));
        let space = |field: &str| {
            field
                .split_once('(')
                .and_then(|(_, s)| s.strip_suffix(')'))
                .expect("space")
                .to_string()
        };
        let (start, end) = (space(&file.header[0]), space(&file.header[1]));
        let key = |label: &str| match label {
            "Learner" => "hashedEmail",
            "Country" => "code",
            "LearningState" => "state",
            "ProfessionalStatus" => "status",
            _ => "id",
        };
        for batch in file.rows.chunks(2_000) {
            let rows: Vec<BoltType> = batch
                .iter()
                .map(|row| {
                    let mut props = BoltMap::new();
                    for (field, text) in file.header[3..].iter().zip(&row[3..]) {
                        let (name, kind) = typed(field);
                        if let Some(v) = value(kind, text) {
                            props.put(BoltString::new(name), v);
                        }
                    }
                    let mut r = BoltMap::new();
                    r.put(BoltString::new("s"), BoltType::String(BoltString::new(&row[0])));
                    r.put(BoltString::new("e"), BoltType::String(BoltString::new(&row[1])));
                    r.put(BoltString::new("p"), BoltType::Map(props));
                    BoltType::Map(r)
                })
                .collect();
            let statement = format!(
                "UNWIND $rows AS r MATCH (a:{start} {{{}: r.s}}) MATCH (b:{end} {{{}: r.e}}) CREATE (a)-[x:{rel}]->(b) SET x = r.p",
                key(&start),
                key(&end)
            );
            graph
                .run(query(&statement).param("rows", BoltType::List(BoltList { value: rows })))
                .await
                .expect("rels load");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_loads_into_the_same_graph_as_load() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "same.csv", 3_000, 6, 0.005);
    let out = dir.path().join("export");
    common::run_ok(
        dir.path(),
        &[
            "export",
            input.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    let graph = common::test_graph().await;
    load_export(&graph, &out).await;
    // Every learner's whole picture: its properties, and each relationship
    // with its properties and its target's. The marks a load leaves for its
    // Snapshot record are left out (the offline import is no load and
    // records none), and so is the Snapshot node itself.
    let from_export = common::graph_picture(None, &common::LOAD_MARKS).await;

    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    common::run_db_ok(dir.path(), &["load", input.to_str().expect("utf-8")]);
    let mut from_load = common::graph_picture(None, &common::LOAD_MARKS).await;
    assert_eq!(from_load.0.remove("label Snapshot"), Some(1), "{:?}", from_load.0);
    let learners = common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await;
    let marked = common::count(
        &graph,
        "MATCH (s:Snapshot) WITH max(s.date) AS d MATCH (l:Learner) WHERE l.firstSnapshot = d AND l.changedBySnapshot IS NULL RETURN count(l) AS n",
    )
    .await;
    assert_eq!(
        marked, learners,
        "a first load marks every learner with its snapshot"
    );
    assert_eq!(from_export.0, from_load.0, "counts");
    assert_eq!(from_export.1.len() as i64, learners, "every learner pictured");
    let differing: Vec<(&String, &String)> = from_export
        .1
        .iter()
        .zip(&from_load.1)
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(
        differing.is_empty(),
        "learners differ between the import and the load (export, then load):\n{differing:#?}"
    );
    for label in LABELS {
        assert!(
            from_export.0[&format!("label {label}")] > 0,
            "{label}: {:?}",
            from_export.0
        );
    }
    for rel in TYPES {
        assert!(
            from_export.0[&format!("type {rel}")] > 0,
            "{rel}: {:?}",
            from_export.0
        );
    }
}
