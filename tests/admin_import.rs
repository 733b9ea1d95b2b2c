//! The offline path for real: the files `export` writes are imported by
//! Neo4j's own `neo4j-admin database import full` (run through the
//! `import.sh` the export writes, as a user would run it), the server is
//! started on them, `verify` passes, and the whole graph, every node and
//! relationship with every property, equals an online `load` of the same
//! file, both read back through a second driver.
//!
//! Neo4j only: the importer is Neo4j's.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{FreshServer, LABELS, TYPES, temp_dir};
use neo4rs::query;

const BOLT_PORT: u16 = 17717;

/// A node's or relationship's properties as sorted `key=value` text.
fn properties(map: &neo4rs::BoltMap) -> String {
    let mut props: Vec<String> = map
        .value
        .iter()
        .filter(|(k, _)| !common::LOAD_MARKS.contains(&k.value.as_str()))
        .map(|(k, v)| format!("{}={v:?}", k.value))
        .collect();
    props.sort();
    props.join(", ")
}

async fn rows(graph: &neo4rs::Graph, statement: &str) -> Vec<neo4rs::Row> {
    let mut stream = graph.execute(query(statement)).await.expect("query runs");
    let mut out = Vec::new();
    while let Some(row) = stream.next().await.expect("row") {
        out.push(row);
    }
    out
}

/// The whole model part of a graph as sorted lines: every node of every
/// label with its properties, every relationship with its ends' keys and
/// its properties.
async fn whole_graph(graph: &neo4rs::Graph) -> Vec<String> {
    let mut lines = Vec::new();
    for label in LABELS {
        for row in rows(graph, &format!("MATCH (n:{label}) RETURN properties(n) AS p")).await {
            let props: neo4rs::BoltMap = row.get("p").expect("properties");
            lines.push(format!("({label} {})", properties(&props)));
        }
    }
    let key = |v: &str| format!("coalesce({v}.hashedEmail, {v}.code, {v}.id, {v}.state, {v}.status)");
    for rel in TYPES {
        let statement = format!(
            "MATCH (a)-[r:{rel}]->(b) RETURN {} AS s, properties(r) AS p, {} AS e",
            key("a"),
            key("b")
        );
        for row in rows(graph, &statement).await {
            let props: neo4rs::BoltMap = row.get("p").expect("properties");
            let (s, e): (String, String) = (row.get("s").expect("start"), row.get("e").expect("end"));
            lines.push(format!("({s})-[{rel} {}]->({e})", properties(&props)));
        }
    }
    lines.sort();
    lines
}

async fn connect(uri: &str, password: &str) -> neo4rs::Graph {
    let config = neo4rs::ConfigBuilder::default()
        .uri(uri)
        .user("root")
        .password(password)
        .db("learners")
        .build()
        .expect("config");
    neo4rs::Graph::connect(config).await.expect("connects")
}

/// Runs `schema.cypher` statement by statement, as cypher-shell would.
async fn apply_schema(graph: &neo4rs::Graph, file: &Path) {
    let text = std::fs::read_to_string(file).expect("schema.cypher");
    let statements: Vec<String> = text
        .split(';')
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect();
    assert!(statements.len() >= 9, "{statements:?}");
    for statement in &statements {
        graph
            .run(query(statement.trim()))
            .await
            .expect("schema statement runs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn neo4j_admin_imports_the_export_into_the_graph_an_online_load_builds() {
    if !common::on_neo4j() {
        eprintln!("neo4j-admin is Neo4j's; this run is on {}", common::test_server());
        return;
    }
    let work = temp_dir();
    let input = common::generate(work.path(), "offline.csv", 3_000, 29, 0.005);
    let out = work.path().join("export");
    common::run_ok(
        work.path(),
        &["export", input.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );

    // The import, through the script the export wrote, into a server's
    // folder that has never started.
    let server = FreshServer::new(work.path().join("db"), BOLT_PORT);
    let installed = server.script("install");
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let import = Command::new("bash")
        .arg(out.join("import.sh"))
        .env("NEO4J_HOME", &server.dir)
        .env("DATABASE", "learners")
        .output()
        .expect("import.sh runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&import.stdout),
        String::from_utf8_lossy(&import.stderr)
    );
    assert!(import.status.success(), "{said}");
    assert!(said.contains("IMPORT DONE"), "{said}");

    server.start();
    let password = std::fs::read_to_string(server.password_file()).expect("password");
    let imported = connect(&server.uri(), password.trim()).await;
    apply_schema(&imported, &out.join("schema.cypher")).await;
    let verify = server.run(work.path(), &["verify", input.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let from_import = whole_graph(&imported).await;

    // The same file loaded online into the shared test database.
    let _db = common::db_lock();
    common::run_db_ok(work.path(), &["clear", "--all", "--yes"]);
    common::run_db_ok(work.path(), &["load", input.to_str().unwrap()]);
    let from_load = whole_graph(&common::test_graph().await).await;

    assert!(from_load.len() > 30_000, "{} lines", from_load.len());
    assert_eq!(from_import.len(), from_load.len(), "nodes and relationships");
    let differing: Vec<_> = from_import
        .iter()
        .zip(&from_load)
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert!(differing.is_empty(), "import vs load: {differing:#?}");
}
