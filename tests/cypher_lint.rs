//! Every statement the loader can send, run through Neo4j's own Cypher
//! front end (`@neo4j-cypher/language-support`, installed by
//! `scripts/test` into `tools/cypher-lint`) as `CYPHER 5` and `CYPHER 25`:
//! any error, warning or deprecation fails the test.

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
