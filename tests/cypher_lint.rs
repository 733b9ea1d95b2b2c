//! Every statement the loader can send, run through Neo4j's own Cypher
//! front end (`@neo4j-cypher/language-support`, installed by
//! `scripts/test` into `tools/cypher-lint`) as `CYPHER 5` and `CYPHER 25`:
//! any error, warning or deprecation fails the test.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use learngraph::sink::neo4j::cypher::catalogue;

#[test]
fn every_statement_passes_neo4js_front_end_for_cypher_5_and_25() {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/cypher-lint");
    assert!(
        tool.join("node_modules/@neo4j-cypher/language-support").is_dir(),
        "Neo4j's Cypher front end is not installed: run `npm ci --prefix tools/cypher-lint` (scripts/test does)"
    );
    let statements = catalogue();
    assert!(
        statements.len() > 80,
        "the catalogue lists {} statements",
        statements.len()
    );
    let json: Vec<serde_json::Value> = statements
        .iter()
        .map(|(name, text)| serde_json::json!({"name": name, "text": text}))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("statements.json");
    std::fs::write(&file, serde_json::to_string(&json).expect("json")).expect("write statements");

    let output = Command::new("node")
        .arg(tool.join("lint.mjs"))
        .arg(&file)
        .output()
        .expect("node runs (Node.js is needed for this test)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Neo4j's front end found problems:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "checked {} statements, {} statement-versions: 0 findings",
            json.len(),
            2 * json.len()
        )),
        "{stdout}"
    );
}

#[test]
fn the_lint_fails_on_a_deprecated_subquery() {
    // The checker itself must see what it is there to catch.
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/cypher-lint");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("old.json");
    std::fs::write(
        &file,
        r#"[{"name":"old","text":"UNWIND $rows AS r CALL { WITH r RETURN r AS z } RETURN z"}]"#,
    )
    .expect("write");
    let output = Command::new("node")
        .arg(tool.join("lint.mjs"))
        .arg(&file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("variable scope clause is deprecated"), "{stdout}");
}

/// The statements `args` sent, read from the binary's JSON log at the
/// level that traces every statement on its way to the server.
fn sent_by(dir: &Path, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["--log-format", "json"];
    all.extend_from_slice(args);
    let output = common::db_command(dir, &all)
        .env("RUST_LOG", "warn,learngraph::cypher=trace")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == "learngraph::cypher")
        .map(|event| {
            let text = |name: &str| event[name].as_str().unwrap_or_default().to_string();
            (text("kind"), text("text"))
        })
        .collect()
}

#[test]
fn every_statement_real_runs_send_is_one_the_lint_checks() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    let first = common::generate(dir.path(), "first.csv", 300, 71, 0.0);
    let (later, _) = common::generate_follow_up(dir.path(), "later.csv", 300, 71);
    let options = dir.path().join("options.toml");
    std::fs::write(&options, "[graph]\nresides_in = true\nfrom_country = true\n").expect("config");
    let (first, later, options) = (
        first.to_str().expect("utf-8"),
        later.to_str().expect("utf-8"),
        options.to_str().expect("utf-8"),
    );
    let report = dir.path().join("report.html");
    // The runs a scheduler makes over a graph's life, each way they can go.
    let runs: Vec<Vec<&str>> = vec![
        vec!["clear", "--all", "--yes"],
        vec!["ping"],
        vec!["load", first, "--dry-run"],
        vec!["load", first, "--max-rows", "40"],
        vec!["load", first],
        vec!["load", first],
        vec!["mark the first load interrupted"],
        vec!["load", first, "--resume"],
        vec!["verify", first],
        vec!["load", later, "--dry-run"],
        vec!["load", later],
        vec!["load", later, "--config", options, "--apply-graph-options"],
        vec!["verify", later, "--config", options],
        vec!["history"],
        vec!["report", "--out", report.to_str().expect("utf-8")],
        vec!["ask", "learner-journey", "--param", "learner=nobody"],
        vec!["clear", "--all", "--yes"],
    ];
    let linted: BTreeSet<String> = catalogue().into_iter().map(|(_, text)| text).collect();
    let mut sent: BTreeSet<(String, String)> = BTreeSet::new();
    for args in &runs {
        if args == &["mark the first load interrupted"] {
            common::mark_interrupted(&dir.path().join("first.csv.checkpoint.json"));
            continue;
        }
        let statements = sent_by(dir.path(), args);
        assert!(
            !statements.is_empty(),
            "{args:?} sent no statement that the trace shows"
        );
        sent.extend(statements);
    }
    let unlinted: Vec<String> = sent
        .iter()
        .filter(|(_, text)| !linted.contains(text))
        .map(|(kind, text)| format!("{kind}: {text}"))
        .collect();
    assert!(
        unlinted.is_empty(),
        "{} of the {} statements sent are not in the catalogue Neo4j's front end checks (add them to \
         sink::neo4j::cypher::catalogue):\n{}",
        unlinted.len(),
        sent.len(),
        unlinted.join("\n")
    );
    // The trace saw the runs' many kinds of statement, not a few.
    let texts: BTreeSet<&String> = sent.iter().map(|(_, text)| text).collect();
    assert!(texts.len() > 40, "only {} statements traced", texts.len());
}
