//! Neo4j's transaction memory limit: a server of its own with a low
//! `db.memory.transaction.max` refuses a phase-2 batch of the configured
//! size (the second driver sees the limit refuse a transaction as large);
//! the load splits such batches instead of failing, loads every row once,
//! says how many it split, and verify passes.
//!
//! Neo4j only: ArcadeDB has no such limit.

mod common;

use common::{FreshServer, generate, json, temp_dir};

const BOLT_PORT: u16 = 17707;

/// A transaction of about `rows` learners' worth of properties, sent by
/// the second driver: whether the server's limit refuses it.
async fn refused_for_memory(server: &FreshServer, rows: i64) -> Option<String> {
    let password = std::fs::read_to_string(server.password_file()).expect("password");
    let config = neo4rs::ConfigBuilder::default()
        .uri(server.uri())
        .user("root")
        .password(password.trim())
        .db("learners")
        .build()
        .expect("config");
    let graph = neo4rs::Graph::connect(config).await.expect("connects");
    let statement = neo4rs::query(
        "UNWIND range(1, $rows) AS i CREATE (:MemoryProbe {i: i, text: reduce(s = '', x IN range(1, 40) | s + 'abcdefghij')}) \
         WITH count(*) AS n MATCH (p:MemoryProbe) DETACH DELETE p",
    )
    .param("rows", rows);
    match graph.run(statement).await {
        Ok(()) => None,
        Err(e) => Some(format!("{e:?}")),
    }
}

/// Whether `text` holds one of Neo4j's codes for a transaction refused
/// for its memory.
fn memory_code(text: &str) -> bool {
    text.contains("Neo.TransientError.General.MemoryPoolOutOfMemoryError")
        || text.contains("Neo.ClientError.General.TransactionOutOfMemoryError")
}

#[tokio::test]
async fn a_batch_over_the_transaction_memory_limit_is_split_and_every_row_loads_once() {
    if !common::on_neo4j() {
        eprintln!(
            "the transaction memory limit is Neo4j's; this run is on {}",
            common::test_server()
        );
        return;
    }
    let work = temp_dir();
    let server = FreshServer::configured(
        work.path().join("db"),
        BOLT_PORT,
        &[],
        &["db.memory.transaction.max=16m".to_string()],
    );
    server.start();

    // The limit is in force: a transaction the size of a full batch is
    // refused with the code the loader reacts to, a small one passes.
    // Neo4j 5.26 names the limit of one transaction in its message and
    // answers with the pool's code; other versions use a code of its own.
    let refused = refused_for_memory(&server, 100_000)
        .await
        .expect("a large transaction is refused");
    assert!(refused.contains("db.memory.transaction.max"), "{refused}");
    assert!(memory_code(&refused), "{refused}");
    assert_eq!(refused_for_memory(&server, 50).await, None);

    let input = generate(work.path(), "memory.csv", 3_000, 83, 0.0);
    let input = input.to_str().unwrap();
    let load = server.run(work.path(), &["load", input, "--json", "--batch-size", "3000"]);
    let stderr = String::from_utf8_lossy(&load.stderr);
    assert!(load.status.success(), "{stderr}");
    let summary = json(&load);
    assert_eq!(summary["rows_accepted"], 3_000, "{stderr}");
    assert_eq!(summary["learners_written"], 3_000);
    let splits = summary["batches_split"].as_u64().expect("batches_split");
    assert!(splits >= 1, "no batch was split: {stderr}");
    assert!(memory_code(&stderr), "{stderr}");
    assert!(stderr.contains("writing it in halves"), "{stderr}");

    let verify = server.run(work.path(), &["verify", input]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}
