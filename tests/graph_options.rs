//! A change of graph options (`graph.resides_in`, `graph.from_country`) on a
//! graph already loaded is never silent: refused before any write (exit 32)
//! with the way to apply it, and `--apply-graph-options` applies it to the
//! whole graph, turned on or off, so that `verify` holds. The expected
//! relationships come from the reference model, which reads the CSV alone.
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;

async fn totals(graph: &neo4rs::Graph) -> (i64, i64) {
    (
        common::count(graph, "MATCH (n) RETURN count(n) AS n").await,
        common::count(graph, "MATCH ()-[r]->() RETURN count(r) AS n").await,
    )
}

async fn of_type(graph: &neo4rs::Graph, rel: &str) -> i64 {
    common::count(graph, &format!("MATCH ()-[r:{rel}]->() RETURN count(r) AS n")).await
}

fn config(dir: &Path, name: &str, resides_in: bool, from_country: bool) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("[graph]\nresides_in = {resides_in}\nfrom_country = {from_country}\n"),
    )
    .expect("writes the configuration");
    path.to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_graph_option_is_refused_or_applied_to_the_whole_graph_never_half() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "options.csv", 2_000, 71, 0.0);
    let file = input.to_str().expect("utf-8");
    let model = common::model::read(&input, learngraph::transform::today());
    let with_city = model.rows.values().filter(|facts| facts.city.is_some()).count() as i64;
    let with_origin = model.rows.values().filter(|facts| facts.origin.is_some()).count() as i64;
    assert!(
        with_city > 1_000 && with_origin > 1_000,
        "{with_city} {with_origin}"
    );

    common::run_db_ok(dir.path(), &["load", file]);
    let graph = common::test_graph().await;
    assert_eq!(of_type(&graph, "RESIDES_IN").await, 0);

    // A graph loaded before loads recorded their options: the graph
    // itself says which it holds.
    graph
        .run(neo4rs::query(
            "MATCH (r:LoadRun) REMOVE r.residesIn, r.fromCountry",
        ))
        .await
        .expect("forgets the recorded options");
    let first = totals(&graph).await;

    // Turned on: refused, nothing written, the way on said; the dry run too.
    let on = config(dir.path(), "on.toml", true, false);
    for args in [
        vec!["load", file, "--config", &on],
        vec!["load", file, "--dry-run", "--config", &on],
    ] {
        let refused = common::run_db(dir.path(), &args);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(32), "{args:?}: {said}");
        assert!(
            said.contains("graph.resides_in = true") && said.contains("--apply-graph-options"),
            "{said}"
        );
        assert_eq!(said.matches("error:").count(), 1, "said once: {said}");
    }
    assert_eq!(totals(&graph).await, first, "a refused load writes nothing");

    // Applied: every learner with a city gets its RESIDES_IN, nothing else
    // changes, and verify holds with the new options.
    let applied = common::json(&common::run_db_ok(
        dir.path(),
        &["load", file, "--config", &on, "--apply-graph-options", "--json"],
    ));
    let learners = model.rows.len() as u64;
    assert_eq!(applied["learners_updated"], 0, "{applied}");
    assert_eq!(
        applied["learners_unchanged"].as_u64(),
        Some(learners),
        "{applied}"
    );
    assert_eq!(
        applied["learners_rewritten_for_options"].as_u64(),
        Some(learners),
        "{applied}"
    );
    assert_eq!(of_type(&graph, "RESIDES_IN").await, with_city);
    assert_eq!(of_type(&graph, "FROM_COUNTRY").await, 0);
    assert_eq!(
        common::count(
            &graph,
            "MATCH (l:Learner) WHERE l.changedBySnapshot IS NOT NULL RETURN count(l) AS n"
        )
        .await,
        0,
        "learners written again are not counted as changed by the snapshot"
    );
    common::run_db_ok(dir.path(), &["verify", file, "--config", &on]);
    // The options are now the graph's: a load with them is no change.
    common::run_db_ok(dir.path(), &["load", file, "--config", &on]);

    // One on, one off at once: FROM_COUNTRY written, RESIDES_IN deleted.
    let swapped = config(dir.path(), "swapped.toml", false, true);
    let refused = common::run_db(dir.path(), &["load", file, "--config", &swapped]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(32), "{said}");
    assert!(
        said.contains("graph.resides_in = false") && said.contains("graph.from_country = true"),
        "{said}"
    );
    assert_eq!(
        of_type(&graph, "RESIDES_IN").await,
        with_city,
        "refused: nothing deleted"
    );
    common::run_db_ok(
        dir.path(),
        &["load", file, "--config", &swapped, "--apply-graph-options"],
    );
    assert_eq!(of_type(&graph, "RESIDES_IN").await, 0);
    assert_eq!(of_type(&graph, "FROM_COUNTRY").await, with_origin);
    common::run_db_ok(dir.path(), &["verify", file, "--config", &swapped]);

    // And back to the defaults: the graph of the first load again.
    let defaults = config(dir.path(), "defaults.toml", false, false);
    common::run_db_ok(
        dir.path(),
        &["load", file, "--config", &defaults, "--apply-graph-options"],
    );
    assert_eq!(of_type(&graph, "FROM_COUNTRY").await, 0);
    let (nodes, relationships) = totals(&graph).await;
    // Each load adds its LoadRun record, with no relationship.
    assert_eq!(relationships, first.1);
    assert_eq!(nodes, first.0 + 4, "four more LoadRun records");
    common::run_db_ok(dir.path(), &["verify", file]);

    // A trial writes its first rows only: its options never become the
    // graph's, so the full load after it is still refused until applied.
    common::run_db_ok(
        dir.path(),
        &[
            "load",
            file,
            "--max-rows",
            "100",
            "--config",
            &on,
            "--apply-graph-options",
        ],
    );
    let after_trial = common::run_db(dir.path(), &["load", file, "--config", &on]);
    assert_eq!(
        after_trial.status.code(),
        Some(32),
        "{}",
        String::from_utf8_lossy(&after_trial.stderr)
    );
    common::run_db_ok(
        dir.path(),
        &["load", file, "--config", &on, "--apply-graph-options"],
    );
    assert_eq!(of_type(&graph, "RESIDES_IN").await, with_city);
    common::run_db_ok(dir.path(), &["verify", file, "--config", &on]);
}
