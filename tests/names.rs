//! End-to-end: a shared node is named by the spelling its file uses most
//! often (docs/graph.md, "Names"), whatever the threads and chunks that read
//! the file, in an export as in a load; a later snapshot renames it only
//! when its own counts choose another spelling.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::{Path, PathBuf};

use neo4rs::query;

/// Copies `from` to `to` with the first skill of every row spelled as
/// `spell(row)` says (`None`: no Python at all, every spelling of it
/// removed). The spelling comes first in the cell, so a row's own Python,
/// in any spelling, is a repeat that counts for nothing.
fn spell_python(from: &Path, to: &Path, spell: impl Fn(usize) -> Option<&'static str>) {
    let skills = common::column("skills_list");
    common::rewrite(from, to, |row, fields| {
        let others: Vec<String> = String::from_utf8_lossy(&fields[skills])
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("python"))
            .collect();
        let cell = spell(row)
            .into_iter()
            .map(str::to_string)
            .chain(others)
            .collect::<Vec<_>>()
            .join(", ");
        fields[skills] = cell.into_bytes();
        true
    });
}

/// Six rows in ten spell it `first_choice`, three `second`, one `PYTHON`,
/// and the very first row `PYTHON`: the first seen is the rarest.
fn proportions(first_choice: &'static str, second: &'static str) -> impl Fn(usize) -> Option<&'static str> {
    move |row| match row % 10 {
        _ if row == 0 => Some("PYTHON"),
        0..=5 => Some(first_choice),
        6..=8 => Some(second),
        _ => Some("PYTHON"),
    }
}

/// The name of Skill `python` in an export made with `flags`.
fn exported_name(dir: &Path, input: &Path, out: &str, flags: &[&str]) -> String {
    let folder = dir.join(out);
    let mut args = vec![
        "export",
        input.to_str().expect("utf-8"),
        "--out",
        folder.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(flags);
    common::run_ok(dir, &args);
    let mut reader = csv::Reader::from_path(folder.join("skill.csv")).expect("skill.csv");
    reader
        .records()
        .map(|r| r.expect("a row"))
        .find(|r| &r[0] == "python")
        .map(|r| r[1].to_string())
        .expect("Skill python is exported")
}

async fn graph_name(graph: &neo4rs::Graph) -> String {
    let mut rows = graph
        .execute(query("MATCH (s:Skill {id: 'python'}) RETURN s.name AS name"))
        .await
        .expect("the query runs");
    let row = rows.next().await.expect("reads").expect("Skill python exists");
    row.get("name").expect("a name")
}

fn load(dir: &Path, input: &Path) {
    common::run_db_ok(dir, &["load", input.to_str().expect("utf-8"), "--allow-missing"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_is_named_by_its_most_frequent_spelling_and_renamed_only_by_later_counts() {
    let dir = common::temp_dir();
    let generated = common::generate_snapshots(dir.path(), "generated", 3_000, 21, 3, 0.0);
    let snapshot = |n: usize| generated[n - 1].clone();
    let spelled = |n: usize| -> PathBuf { dir.path().join(format!("spelled-{n}.csv")) };
    spell_python(&snapshot(1), &spelled(1), proportions("Python", "python"));
    spell_python(&snapshot(2), &spelled(2), proportions("python", "Python"));
    spell_python(&snapshot(3), &spelled(3), |_| None);

    // The same name whatever reads the file: one thread in one chunk, or
    // three threads in chunks of seven rows.
    let one = ["--transform-threads", "1", "--chunk-size", "5000"];
    let three = ["--transform-threads", "3", "--chunk-size", "7"];
    assert_eq!(exported_name(dir.path(), &spelled(1), "one", &one), "Python");
    assert_eq!(exported_name(dir.path(), &spelled(1), "three", &three), "Python");

    let _db = common::db_lock();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let graph = common::test_graph().await;
    load(dir.path(), &spelled(1));
    assert_eq!(
        graph_name(&graph).await,
        "Python",
        "the most frequent of the first snapshot"
    );
    load(dir.path(), &spelled(2));
    assert_eq!(
        graph_name(&graph).await,
        "python",
        "the second snapshot's own counts choose another spelling"
    );
    load(dir.path(), &spelled(3));
    assert_eq!(
        graph_name(&graph).await,
        "python",
        "a snapshot that never names the skill leaves its name"
    );
    let learners = common::count(
        &graph,
        "MATCH (l:Learner)-[:HAS_SKILL]->(:Skill {id: 'python'}) WHERE l.missingSince IS NULL RETURN count(l) AS n",
    )
    .await;
    assert_eq!(learners, 0, "the third snapshot's learners have no Python");
}
