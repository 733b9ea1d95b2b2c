//! The planner's own answer: every statement the loader, verify, history,
//! the lock and the analysts' questions send is EXPLAINed by the server the
//! tests run on, after a load of a sample and of its follow-up snapshot (so
//! that the schema and the statistics are a real graph's). A plan fails the
//! test where it scans every node, scans a label where a key lookup is
//! meant, plans an `Eager` barrier, or multiplies two unrelated matches,
//! unless the statement is listed below with the reason it may.
//!
//! Neo4j's planner only: ArcadeDB plans differently and its plans are not
//! what users run.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use neo4j::driver::auth::AuthToken;
use neo4j::driver::{ConnectionConfig, Driver, DriverConfig};
use neo4j::summary::Plan;

/// Statements that read every node of a label by design, and why.
const LABEL_SCANS: &[(&str, &str)] = &[
    ("clear ", "clear deletes every node of the label"),
    ("clear all", "clear deletes every node"),
    ("count ", "verify counts every node or relationship of a kind"),
    (
        "count latest ",
        "verify counts the current relationships of a kind",
    ),
    (
        "present learner keys",
        "a later snapshot reads every learner's key once, streamed",
    ),
    (
        "missing learner keys",
        "the learners a snapshot no longer holds: every learner is looked at",
    ),
    ("count missing learners", "counts the learners marked missing"),
    ("count present learners", "counts the learners present"),
    (
        "delete snapshots",
        "clear --phase 2 deletes every Snapshot record",
    ),
    ("delete load runs", "clear --phase 2 deletes every LoadRun record"),
    (
        "complete loads of snapshot",
        "a complete load counts the LoadRun records (one per run) of its date",
    ),
    (
        "later snapshot run",
        "a load reads the LoadRun records (one per run) for a later snapshot's",
    ),
    (
        "graph options in force",
        "a later load reads the LoadRun records (one per run) for the graph options the graph is written with",
    ),
    ("snapshots", "history lists every Snapshot record (a handful)"),
    (
        "latest snapshot",
        "the newest of the Snapshot records (a handful)",
    ),
    (
        "history of ",
        "history reads every Snapshot and LoadRun record (a handful) and every current state",
    ),
    (
        "snapshot learners ",
        "a snapshot's counts are taken over every learner",
    ),
    ("verify ", "verify's answers are aggregates over every learner"),
    (
        "phase 1 compare ",
        "phase 1 reads a label's nodes once to write only what differs",
    ),
    (
        "phase 1 IN_COUNTRY",
        "cities are matched to their countries by key after a scan of the few thousand cities",
    ),
    ("question ", "an analyst's question aggregates over the graph"),
    ("any learner", "one learner, any: the scan stops at the first"),
    ("ping constraints", "SHOW CONSTRAINTS lists the schema"),
];

/// Statements that read every node by design, and why.
const ALL_NODES: &[(&str, &str)] = &[("clear all", "clear --all deletes every node, in batches")];

/// Statements whose `Eager` barrier is intended, and why.
const EAGER: &[(&str, &str)] = &[
    (
        "phase 2 update",
        "a changed learner's replaced relationships are deleted before the new ones are created in the same \
         statement; only the changed learners of a later snapshot (a few per cent) go through it",
    ),
    (
        "clear relationships of ",
        "clear reads one bounded batch ($limit) of a label's relationships, then deletes it",
    ),
    ("take the load lock", "one node, the lock"),
    (
        "take over the load lock",
        "one node: the token is read and replaced at once",
    ),
    (
        "release the load lock",
        "one node: the token is read, then the node deleted",
    ),
];

/// Statements whose cartesian product is intended, and why.
const CARTESIAN: &[(&str, &str)] = &[
    (
        "phase 2 create",
        "each kind of target (skills, programs, states...) is looked up once per batch in a subquery that returns \
         one row, its collected nodes; the product joins those single rows",
    ),
    ("phase 2 update", "as phase 2 create"),
    (
        "phase 1 IN_COUNTRY",
        "the city and its country are each one unique-index seek per row",
    ),
];

fn allowed(list: &[(&str, &str)], name: &str) -> bool {
    list.iter()
        .any(|(prefix, _)| name == *prefix || name.starts_with(prefix))
}

/// Every operator of a plan, without the runtime's `@neo4j` suffix.
fn operators(plan: &Plan, out: &mut Vec<String>) {
    let name = plan.op_type.split('@').next().unwrap_or(&plan.op_type);
    out.push(name.to_string());
    for child in &plan.children {
        operators(child, out);
    }
}

fn driver() -> Driver {
    let db = common::test_db();
    let connection: ConnectionConfig = db.uri.parse().expect("a Bolt URI");
    let config = DriverConfig::new().with_auth(Arc::new(AuthToken::new_basic_auth(&db.user, &db.password)));
    Driver::new(connection, config)
}

/// The plan's operators for `text`, or the server's refusal.
fn explain(driver: &Driver, text: &str) -> Result<Vec<String>, String> {
    let result = driver
        .execute_query(format!("EXPLAIN {text}"))
        .with_database(Arc::new(common::test_db().database))
        .run()
        .map_err(|e| e.to_string())?;
    let plan = result.summary.plan.ok_or("the server returned no plan")?;
    let mut out = Vec::new();
    operators(&plan, &mut out);
    Ok(out)
}

/// Schema commands: EXPLAIN does not apply to them.
fn is_schema_command(text: &str) -> bool {
    text.starts_with("CREATE CONSTRAINT") || text.starts_with("CREATE INDEX") || text.starts_with("DROP ")
}

#[test]
fn every_statement_is_planned_without_scans_eager_or_products_it_does_not_mean() {
    if !common::on_neo4j() {
        eprintln!(
            "the planner test asks Neo4j's planner; this run is on {}",
            common::test_server()
        );
        return;
    }
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let first = common::generate(dir.path(), "plans.csv", 2_000, 5, 0.0);
    common::run_db_ok(dir.path(), &["load", first.to_str().unwrap()]);
    let (second, _) = common::generate_follow_up(dir.path(), "plans-2.csv", 2_000, 5);
    common::run_db_ok(dir.path(), &["load", second.to_str().unwrap()]);

    let driver = driver();
    let mut findings = Vec::new();
    let mut planned = 0;
    let mut phase2 = Vec::new();
    for (name, text) in learngraph::sink::neo4j::cypher::catalogue() {
        if is_schema_command(&text) {
            continue;
        }
        let ops = match explain(&driver, &text) {
            Ok(ops) => ops,
            Err(e) => {
                findings.push(format!("{name}: the server did not plan it: {e}"));
                continue;
            }
        };
        planned += 1;
        let kinds: BTreeSet<&str> = ops.iter().map(String::as_str).collect();
        if kinds.contains("AllNodesScan") && !allowed(ALL_NODES, &name) {
            findings.push(format!("{name}: AllNodesScan in {ops:?}"));
        }
        if kinds.contains("NodeByLabelScan") && !allowed(LABEL_SCANS, &name) {
            findings.push(format!(
                "{name}: NodeByLabelScan where a key lookup is meant, in {ops:?}"
            ));
        }
        if kinds.contains("Eager") && !allowed(EAGER, &name) {
            findings.push(format!("{name}: Eager in {ops:?}"));
        }
        if kinds.contains("CartesianProduct") && !allowed(CARTESIAN, &name) {
            findings.push(format!("{name}: CartesianProduct in {ops:?}"));
        }
        if name.starts_with("phase 2") {
            phase2.push(format!("{name}: {}", ops.join(" < ")));
        }
    }
    // The operators of the phase-2 statements, for BENCHMARKS.md.
    eprintln!("phase-2 plans:\n{}", phase2.join("\n"));
    assert!(planned > 80, "only {planned} statements were planned");
    assert!(
        findings.is_empty(),
        "{} plans are wrong:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

#[test]
fn the_plan_check_sees_a_label_scan_and_an_eager_plan() {
    // The check must catch what it is there to catch.
    if !common::on_neo4j() {
        return;
    }
    let driver = driver();
    let scan = explain(&driver, "MATCH (l:Learner) WHERE l.firstName = $x RETURN l").expect("plans");
    assert!(scan.iter().any(|op| op == "NodeByLabelScan"), "{scan:?}");
    let all = explain(&driver, "MATCH (n) RETURN n").expect("plans");
    assert!(all.iter().any(|op| op == "AllNodesScan"), "{all:?}");
    let eager = explain(
        &driver,
        "MATCH (a:Skill) MATCH (b:Skill) CREATE (:Skill {id: a.id + b.id})",
    )
    .expect("plans");
    assert!(eager.iter().any(|op| op == "Eager"), "{eager:?}");
    assert!(eager.iter().any(|op| op == "CartesianProduct"), "{eager:?}");
}
