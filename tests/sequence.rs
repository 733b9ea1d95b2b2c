//! Every sequence of snapshots, checked against a model: for a seed, K
//! successive snapshots are generated and loaded in order, with faults drawn
//! from the seed between and during the loads (kill -9 then `--resume`, the
//! database restarted mid-load, a lock broken mid-load by another run, the
//! same snapshot loaded twice, a corrected export of the same date, an
//! older snapshot tried after a newer one, a later snapshot's trial or
//! killed load first, a `--max-rows` trial before the full load, a
//! `--dry-run` whose plan must be what the load then does), and
//! after every step the whole graph, read back through a second driver, is
//! compared learner by learner with `common::model`, which computes it from
//! the files alone. A difference names the seed, the step and the first
//! learners that differ, so it replays exactly.
//!
//! CI runs a few seeds; `scripts/soak SEEDS ROWS K` runs as many as asked
//! through the environment (`LEARNGRAPH_SEQUENCE_SEEDS` as `FIRST..LAST`,
//! `LEARNGRAPH_SEQUENCE_ROWS`, `LEARNGRAPH_SEQUENCE_SNAPSHOTS`).

// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::model::{Facts, Learner, Model, Prop, Props, Snapshot, SnapshotCounts, StateRel};
use learngraph::generate::fields::mix;
use serde_json::Value as Json;

/// What happens around one load, drawn from the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    KillAndResume,
    RestartDatabase,
    TrialFirst,
    /// Another run (a trial, from another folder) breaks the load's lock
    /// mid-load; the load stops (exit 31) and is resumed.
    LoseLock,
}

/// The steps of one sequence, for the failure message.
struct Run {
    seed: u64,
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    log: Vec<String>,
    /// The faults and odd orders shown to have happened, by kind.
    faults_done: Vec<&'static str>,
}

impl Run {
    fn step(&mut self, what: String) {
        eprintln!("seed {}: {what}", self.seed);
        self.log.push(what);
    }

    fn replay(&self) -> String {
        format!(
            "seed {} (replay: LEARNGRAPH_SEQUENCE_SEEDS={0}..{0} cargo test --release --test sequence -- --nocapture); steps so far:\n  {}",
            self.seed,
            self.log.join("\n  ")
        )
    }

    fn path(&self, step: usize) -> &str {
        self.files[step - 1].to_str().expect("utf-8")
    }
}

fn local_db(action: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/local-db");
    // The database keeps the real clock when the test runs under
    // libfaketime (scripts/soak's SOAK_FAKETIME).
    let status = Command::new("bash")
        .arg(script)
        .arg(action)
        .env_remove("LD_PRELOAD")
        .env_remove("FAKETIME")
        .status()
        .expect("local-db runs");
    assert!(status.success(), "scripts/local-db {action}");
}

/// Where a fault interrupts a load, planned from the learners the model
/// says the load writes: after the record of one of the first half of
/// them, so that at least half of its writes are still to come, in batches
/// small enough that those take many transactions. A load that writes too
/// few learners to be interrupted mid-way gets no fault (said in the log).
struct Interruption {
    /// Fires once the checkpoint has passed this record.
    after_record: u64,
    /// Learners per transaction of the interrupted load.
    batch: &'static str,
    /// Learners still to write after it, for the failure message.
    writes_after: usize,
}

/// The fewest learners a load must write for a fault to land mid-way.
const FEWEST_WRITES_TO_INTERRUPT: usize = 20;

fn interruption(written_records: &[u64], h: u64) -> Option<Interruption> {
    let writes = written_records.len();
    if writes < FEWEST_WRITES_TO_INTERRUPT {
        return None;
    }
    let k = (h % (writes as u64 / 2)) as usize;
    Some(Interruption {
        after_record: written_records[k],
        batch: if writes >= 400 { "10" } else { "1" },
        writes_after: writes - k - 1,
    })
}

/// The record numbers of the learners a complete load of `snapshot` onto
/// `model` writes (created, changed or brought back), in file order.
fn written_records(model: &Model, snapshot: &Snapshot) -> Vec<u64> {
    let mut after = model.clone();
    after.apply(snapshot);
    let mut records: Vec<u64> = after
        .last_written
        .iter()
        .filter_map(|key| snapshot.records.get(key).copied())
        .collect();
    records.sort_unstable();
    records
}

/// Kills the load with SIGKILL and shows that it was still running: a
/// load that had ended would not have died of the signal.
fn kill_mid_load(run: &Run, mut child: Child, plan: &Interruption) {
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the fault did not happen: the load ended ({status}) before the kill after record {} ({} learners still to write)\n{}",
        plan.after_record,
        plan.writes_after,
        run.replay()
    );
}

/// Waits until the load has passed the interruption's record, failing the
/// test if it ended first (the fault would not have happened).
fn reach(run: &Run, child: &mut Child, checkpoint: &Path, plan: &Interruption) {
    assert!(
        reaches(child, checkpoint, plan.after_record),
        "the fault did not happen: the load ended before its checkpoint passed record {} ({} learners were still to write)\n{}",
        plan.after_record,
        plan.writes_after,
        run.replay()
    );
}

fn spawn_load(dir: &Path, input: &str, extra: &[&str]) -> Child {
    spawn_load_in_batches(dir, input, "100", extra)
}

fn spawn_load_in_batches(dir: &Path, input: &str, batch: &str, extra: &[&str]) -> Child {
    let mut args = vec![
        "load",
        input,
        "--json",
        "--batch-size",
        batch,
        "--checkpoint-interval",
        batch,
    ];
    args.extend_from_slice(extra);
    common::db_command(dir, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("load starts")
}

fn committed(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|text| serde_json::from_str::<Json>(&text).ok())
        .filter(|json| json["complete"] != true)
        .and_then(|json| json["committed_records"].as_u64())
        .unwrap_or(0)
}

/// Waits until the load has committed `records` rows; false if it ended first.
fn reaches(child: &mut Child, checkpoint: &Path, records: u64) -> bool {
    let started = Instant::now();
    while committed(checkpoint) < records {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint in 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

fn finished(run: &Run, child: Child, what: &str) -> Json {
    let output = child.wait_with_output().expect("the load ends");
    assert!(
        output.status.success(),
        "{what} failed ({:?}): {}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr),
        run.replay()
    );
    serde_json::from_slice(&output.stdout).expect("a JSON summary")
}

/// Loads snapshot `step` under `fault`, interrupted as `plan` says;
/// returns the summary of the run that finished it, and whether that run
/// did the whole load alone. Each fault is shown to have happened.
/// Starts a load, lets it reach its planned record, and stops it there
/// (SIGSTOP), asserting it still runs, so that the fault `before` lands
/// mid-load.
fn pause_mid_load(
    run: &Run,
    dir: &Path,
    input: &str,
    checkpoint: &Path,
    plan: &Interruption,
    before: &str,
) -> Child {
    let mut child = spawn_load_in_batches(dir, input, plan.batch, &[]);
    reach(run, &mut child, checkpoint, plan);
    common::signal(&child, "STOP");
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the fault did not happen: the load ended before {before}\n{}",
        run.replay()
    );
    child
}

fn load(run: &mut Run, step: usize, fault: Fault, plan: Option<Interruption>, h: u64) -> (Json, bool) {
    let dir = run.dir.path().to_path_buf();
    let input = run.path(step).to_string();
    let checkpoint = PathBuf::from(format!("{input}.checkpoint.json"));
    let needs_plan = matches!(
        fault,
        Fault::KillAndResume | Fault::RestartDatabase | Fault::LoseLock
    );
    let fault = match (needs_plan, &plan) {
        (true, None) => {
            run.step(format!(
                "  (snapshot {step} writes fewer than {FEWEST_WRITES_TO_INTERRUPT} learners: no {fault:?})"
            ));
            Fault::None
        }
        _ => fault,
    };
    match fault {
        Fault::None => {
            run.step(format!("load snapshot {step}"));
            let child = spawn_load(&dir, &input, &[]);
            (finished(run, child, "the load"), true)
        }
        Fault::KillAndResume => {
            let plan = plan.expect("planned");
            run.step(format!(
                "load snapshot {step}, kill -9 after record {}, then --resume",
                plan.after_record
            ));
            let mut child = spawn_load_in_batches(&dir, &input, plan.batch, &[]);
            reach(run, &mut child, &checkpoint, &plan);
            kill_mid_load(run, child, &plan);
            run.faults_done.push("kill -9 and --resume");
            let child = spawn_load(&dir, &input, &["--resume"]);
            (finished(run, child, "the resumed load"), false)
        }
        Fault::RestartDatabase => {
            let plan = plan.expect("planned");
            run.step(format!(
                "load snapshot {step}, database restarted after record {}",
                plan.after_record
            ));
            // Held still while the server goes away and comes back, so
            // that its next statements meet the restarted server.
            let child = pause_mid_load(run, &dir, &input, &checkpoint, &plan, "the restart");
            local_db("stop");
            local_db("start");
            common::signal(&child, "CONT");
            let output = child.wait_with_output().expect("the load ends");
            let log = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(
                output.status.success(),
                "the load through a restart failed ({:?}): {log}\n{}",
                output.status.code(),
                run.replay()
            );
            assert!(
                log.contains("Retrying after a transient error") || log.contains("Cannot connect again yet"),
                "the restart did not reach the load (no retry in its log): {log}\n{}",
                run.replay()
            );
            run.faults_done.push("database restarted mid-load");
            (
                serde_json::from_slice(&output.stdout).expect("a JSON summary"),
                true,
            )
        }
        Fault::LoseLock => {
            let plan = plan.expect("planned");
            let trial_rows = 1 + mix(h, 7) % run_rows(run, step);
            run.step(format!(
                "load snapshot {step}; after record {} a trial from elsewhere (--max-rows {trial_rows} --break-lock) takes its lock, it stops, then --resume",
                plan.after_record
            ));
            // Held still while the other run takes its lock, so that the
            // take-over lands mid-load whatever the machine's speed.
            let child = pause_mid_load(run, &dir, &input, &checkpoint, &plan, "its lock was broken");
            // The other run has its own copy of the file, as a run from
            // another container would.
            let elsewhere = dir.join(format!("elsewhere-{step}"));
            std::fs::create_dir_all(&elsewhere).expect("a folder");
            let copy = elsewhere.join("snapshot.csv");
            std::fs::copy(&input, &copy).expect("copies");
            let mut trial = common::db_command(
                &elsewhere,
                &[
                    "load",
                    copy.to_str().expect("utf-8"),
                    "--max-rows",
                    &trial_rows.to_string(),
                    "--break-lock",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the trial starts");
            // Went on once the lock is the trial's. Stopped inside its own
            // commit, the load holds the lock's node, and the trial waits for
            // it: then the load goes on after a while, ends that commit, and
            // its next write finds the lock gone.
            let graph = block_on(common::test_graph());
            let token = lock_token(&graph);
            let started = Instant::now();
            while lock_token(&graph) == token && started.elapsed() < Duration::from_secs(10) {
                if trial.try_wait().expect("wait").is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            common::signal(&child, "CONT");
            let trial = trial.wait_with_output().expect("the trial ends");
            let trial_log = String::from_utf8_lossy(&trial.stderr).into_owned();
            assert!(
                trial.status.success(),
                "the breaking trial failed: {trial_log}\n{}",
                run.replay()
            );
            assert!(
                trial_log.contains("Took over the load lock"),
                "the fault happened: {trial_log}\n{}",
                run.replay()
            );
            let output = child.wait_with_output().expect("the load ends");
            let log = String::from_utf8_lossy(&output.stderr).into_owned();
            assert_eq!(
                output.status.code(),
                Some(31),
                "the run that lost its lock mid-load ({} learners still to write): {log}\n{}",
                plan.writes_after,
                run.replay()
            );
            run.faults_done.push("lock broken mid-load");
            let (code, monitor) = exit_code(run, &["history", "--fail-if-last-failed"]);
            assert_eq!(
                code,
                Some(30),
                "the monitor sees the stopped run: {monitor}\n{}",
                run.replay()
            );
            let child = spawn_load(&dir, &input, &["--resume"]);
            let summary = finished(run, child, "the resumed load");
            let (code, monitor) = exit_code(run, &["history", "--fail-if-last-failed"]);
            assert_eq!(
                code,
                Some(0),
                "the resume made the stopped run good: {monitor}\n{}",
                run.replay()
            );
            (summary, false)
        }
        Fault::TrialFirst => {
            let rows = 1 + h % run_rows(run, step);
            run.step(format!(
                "trial load of snapshot {step} (--max-rows {rows}), then the full load"
            ));
            let child = spawn_load(&dir, &input, &["--max-rows", &rows.to_string()]);
            let trial = finished(run, child, "the trial load");
            assert_eq!(trial["trial_max_rows"], rows, "{}", run.replay());
            run.faults_done.push("--max-rows trial first");
            let child = spawn_load(&dir, &input, &[]);
            (finished(run, child, "the full load after a trial"), false)
        }
    }
}

/// Runs `future` to its end from the synchronous steps of the test (which
/// itself runs on a multi-threaded runtime).
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// The token of the load lock as the graph holds it (none without a lock).
fn lock_token(graph: &neo4rs::Graph) -> Option<String> {
    block_on(async {
        let mut rows = graph
            .execute(neo4rs::query(
                "MATCH (l:LoadLock {name: 'load'}) RETURN l.token AS token",
            ))
            .await
            .expect("the lock reads");
        match rows.next().await.expect("a row") {
            Some(row) => row.get::<Option<String>>("token").expect("token"),
            None => None,
        }
    })
}

fn run_rows(run: &Run, step: usize) -> u64 {
    let text = std::fs::read(&run.files[step - 1]).expect("the snapshot");
    (text.iter().filter(|&&b| b == b'\n').count() as u64)
        .saturating_sub(1)
        .max(1)
}

/// The graph as the second driver reads it, in the model's terms.
struct Observed {
    model: Model,
    /// Codes the graph gave the model's countries (one each, both ways).
    codes: BTreeMap<String, String>,
}

fn date(text: Option<String>) -> Option<NaiveDate> {
    text.map(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").expect("a date"))
}

/// A value the graph holds, in the model's form; a kind of value the
/// model never writes (a list, a string that should be a date) is kept
/// as its debug text, so that it shows as a difference.
fn prop(value: &neo4rs::BoltType) -> Prop {
    match value {
        neo4rs::BoltType::String(s) => Prop::Text(s.value.clone()),
        neo4rs::BoltType::Integer(n) => Prop::Int(n.value),
        neo4rs::BoltType::Float(f) => Prop::float(f.value),
        neo4rs::BoltType::Boolean(b) => Prop::Bool(b.value),
        neo4rs::BoltType::Date(d) => {
            Prop::Date(NaiveDate::try_from(d).unwrap_or_else(|_| panic!("a date: {d:?}")))
        }
        other => Prop::Text(format!("not a value the model writes: {other:?}")),
    }
}

/// The properties of a map, less those the model keeps elsewhere.
fn props(map: &neo4rs::BoltMap, leave_out: &[&str]) -> Props {
    map.value
        .iter()
        .filter(|(k, _)| !leave_out.contains(&k.value.as_str()))
        .map(|(k, v)| (k.value.clone(), prop(v)))
        .collect()
}

fn date_prop(map: &neo4rs::BoltMap, name: &str) -> Option<NaiveDate> {
    match map.value.get(name).map(prop) {
        Some(Prop::Date(d)) => Some(d),
        None => None,
        Some(other) => panic!("{name} is not a date: {other:?}"),
    }
}

/// The Learner properties the model compares apart from its profile.
const LEARNER_FACTS: &[&str] = &[
    "hashedEmail",
    "sandId",
    "countryOfResidenceCode",
    "countryOfOriginCode",
    "cityOfResidenceId",
    "currentLearningState",
    "currentProfessionalStatus",
    "isPlaced",
    "snapshotId",
    "missingSince",
    "firstSnapshot",
    "changedBySnapshot",
    // The load's own bookkeeping of changes (docs/graph.md, "What
    // learngraph adds"): a fingerprint and the marks before the last
    // change, which the model checks through the marks they restore.
    "sourceHash",
    "priorSourceHash",
    "priorChangedBySnapshot",
    "priorSnapshotId",
];

async fn strings(graph: &neo4rs::Graph, cypher: &str) -> BTreeSet<String> {
    let mut rows = graph.execute(neo4rs::query(cypher)).await.expect("query");
    let mut out = BTreeSet::new();
    while let Some(row) = rows.next().await.expect("row") {
        out.insert(row.get::<String>("k").expect("k"));
    }
    out
}

/// Reads the whole graph back and translates it into the model's terms,
/// learning the country codes from the model's countries.
async fn observe(expected: &Model) -> Result<Observed, String> {
    let graph = common::test_graph().await;
    let mut learners: BTreeMap<String, Learner> = BTreeMap::new();
    let mut codes: BTreeMap<String, String> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut learned = |code: &str, name: &str| common::learn_country_code(&mut codes, &mut names, code, name);
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (l:Learner) RETURN l.hashedEmail AS k, l.sandId AS sand, l.countryOfResidenceCode AS country, \
             l.countryOfOriginCode AS origin, l.cityOfResidenceId AS city, l.currentLearningState AS learning, l.currentProfessionalStatus AS professional, \
             l.isPlaced AS placed, properties(l) AS props",
        ))
        .await
        .expect("learners");
    while let Some(row) = rows.next().await.expect("row") {
        let key: String = row.get("k").expect("k");
        let code: Option<String> = row.get("country").expect("country");
        let expected_facts = expected.learners.get(&key).map(|l| &l.facts);
        let mut country_name =
            |code: &Option<String>, name: Option<&String>| -> Result<Option<String>, String> {
                Ok(match (code, name) {
                    (Some(code), Some(name)) => {
                        learned(code, name)?;
                        Some(name.clone())
                    }
                    (Some(code), None) => Some(format!("code {code}")),
                    (None, _) => None,
                })
            };
        let country = country_name(&code, expected_facts.and_then(|f| f.country.as_ref()))?;
        let origin = country_name(
            &row.get("origin").expect("origin"),
            expected_facts.and_then(|f| f.origin.as_ref()),
        )?;
        let city: Option<String> = row.get("city").expect("city");
        let city = city.map(|id| match &code {
            Some(code) if id.starts_with(&format!("{code}-")) => id[code.len() + 1..].to_string(),
            _ => format!("id {id}"),
        });
        let all: neo4rs::BoltMap = row.get("props").expect("props");
        let facts = Facts {
            profile: props(&all, LEARNER_FACTS),
            sand_id: row.get("sand").expect("sand"),
            country,
            origin,
            city,
            learning: row
                .get::<Option<String>>("learning")
                .expect("learning")
                .unwrap_or_default(),
            professional: row
                .get::<Option<String>>("professional")
                .expect("professional")
                .unwrap_or_default(),
            placed: row
                .get::<Option<bool>>("placed")
                .expect("placed")
                .unwrap_or(false),
            ..Facts::default()
        };
        learners.insert(
            key,
            Learner {
                facts,
                learning_history: Vec::new(),
                professional_history: Vec::new(),
                missing_since: date_prop(&all, "missingSince"),
                snapshot_id: match all.value.get("snapshotId").map(prop) {
                    Some(Prop::Int(n)) => Some(n),
                    None => None,
                    Some(other) => panic!("snapshotId is not an integer: {other:?}"),
                },
                first_snapshot: date_prop(&all, "firstSnapshot"),
                changed_by_snapshot: date_prop(&all, "changedBySnapshot"),
            },
        );
    }
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (l:Learner)-[r]->(t) RETURN l.hashedEmail AS k, type(r) AS type, \
             coalesce(t.id, t.state, t.status) AS target, properties(r) AS props",
        ))
        .await
        .expect("relationships");
    while let Some(row) = rows.next().await.expect("row") {
        let key: String = row.get("k").expect("k");
        let kind: String = row.get("type").expect("type");
        let target: String = row.get("target").expect("target");
        let Some(learner) = learners.get_mut(&key) else {
            continue;
        };
        let all: neo4rs::BoltMap = row.get("props").expect("props");
        let flag = |name: &str| match all.value.get(name).map(prop) {
            Some(Prop::Bool(b)) => b,
            None => false,
            Some(other) => panic!("{name} is not a boolean: {other:?}"),
        };
        let state = || StateRel {
            from: date_prop(&all, "validFrom"),
            state: target.clone(),
            to: date_prop(&all, "validTo"),
            current: flag("isCurrent"),
            date_unknown: flag("dateUnknown"),
            opened_by_snapshot: flag("openedBySnapshot"),
        };
        let with_props = || (target.clone(), props(&all, &[]));
        let facts = &mut learner.facts;
        match kind.as_str() {
            "HAS_SKILL" => {
                let source = props(&all, &[]);
                let only_profile =
                    source.len() == 1 && source.get("source") == Some(&Prop::Text("profile".into()));
                facts.skills.push(if only_profile {
                    target.clone()
                } else {
                    format!("{target} with {source:?}")
                });
            }
            "ENROLLED_IN" => facts.enrollments.push(with_props()),
            "WORKS_FOR" => facts.works_for.push(with_props()),
            "RUNS_VENTURE" => facts.ventures.push(with_props()),
            "STUDIED_AT" => facts.studies.push(with_props()),
            "HAS_LEARNING_STATE" => learner.learning_history.push(state()),
            "HAS_PROFESSIONAL_STATUS" => learner.professional_history.push(state()),
            other => facts.studies.push((format!("unexpected {other}"), Props::new())),
        }
    }
    // A country no learner names any more (its last learner moved away)
    // is still a node: its code is learned from its name where that is
    // the generator's.
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (n:Country) RETURN n.code AS code, n.name AS name",
        ))
        .await
        .expect("countries");
    let mut unlearned = Vec::new();
    while let Some(row) = rows.next().await.expect("row") {
        let code: String = row.get("code").expect("code");
        let name: Option<String> = row.get("name").expect("name");
        let Some(name) = name.and_then(|n| {
            expected
                .countries
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&n))
                .cloned()
        }) else {
            continue;
        };
        unlearned.push((code, name));
    }
    for (code, name) in unlearned {
        if !names.contains_key(&code) && !codes.contains_key(&name) {
            names.insert(code.clone(), name.clone());
            codes.insert(name, code);
        }
    }
    for learner in learners.values_mut() {
        learner.facts.skills.sort();
        learner.facts.enrollments.sort();
        learner.facts.works_for.sort();
        learner.facts.ventures.sort();
        learner.facts.studies.sort();
        learner.learning_history.sort();
        learner.professional_history.sort();
    }

    let mut model = Model {
        learners,
        skills: strings(&graph, "MATCH (n:Skill) RETURN n.id AS k").await,
        programs: strings(&graph, "MATCH (n:Program) RETURN n.id AS k").await,
        companies: strings(&graph, "MATCH (n:Company) RETURN n.id AS k").await,
        institutions: strings(&graph, "MATCH (n:Institution) RETURN n.id AS k").await,
        ..Model::default()
    };
    let name_of = |code: &str| {
        codes
            .iter()
            .find(|(_, c)| *c == code)
            .map_or_else(|| format!("code {code}"), |(name, _)| name.clone())
    };
    for code in strings(&graph, "MATCH (n:Country) RETURN n.code AS k").await {
        model.countries.insert(name_of(&code));
    }
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (c:City) RETURN c.id AS id, c.countryCode AS code, c.latitude AS lat, c.longitude AS lng",
        ))
        .await
        .expect("cities");
    while let Some(row) = rows.next().await.expect("row") {
        let id: String = row.get("id").expect("id");
        let code: String = row.get("code").expect("code");
        let coordinate = |name: &str| {
            row.get::<Option<f64>>(name)
                .expect("coordinate")
                .map(|v| format!("{v:.4}"))
        };
        let slug = id.strip_prefix(&format!("{code}-")).unwrap_or(&id).to_string();
        model
            .cities
            .insert((name_of(&code), slug), (coordinate("lat"), coordinate("lng")));
    }
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (s:Snapshot) RETURN toString(s.date) AS date, s.learnersNew AS new, s.learnersChanged AS changed, \
             s.learnersUnchanged AS unchanged, s.learnersMissing AS missing, s.learnersKeptRowRejected AS kept",
        ))
        .await
        .expect("snapshots");
    while let Some(row) = rows.next().await.expect("row") {
        let count = |name: &str| row.get::<Option<i64>>(name).expect("count").unwrap_or(-1) as u64;
        model.snapshots.insert(
            date(row.get("date").expect("date")).expect("a date"),
            SnapshotCounts {
                new: count("new"),
                changed: count("changed"),
                unchanged: count("unchanged"),
                missing: count("missing"),
                kept_row_rejected: count("kept"),
            },
        );
    }
    Ok(Observed { model, codes })
}

/// The model's coordinates as the graph stores them (numbers, 4 places).
fn normalized(expected: &Model) -> Model {
    let mut model = expected.clone();
    for coordinates in model.cities.values_mut() {
        let tidy = |v: &Option<String>| {
            v.as_ref()
                .map(|t| format!("{:.4}", t.parse::<f64>().expect("a number")))
        };
        *coordinates = (tidy(&coordinates.0), tidy(&coordinates.1));
    }
    for learner in model.learners.values_mut() {
        learner.learning_history.sort();
        learner.professional_history.sort();
    }
    model
}

fn first_differences<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: &BTreeMap<K, V>,
    observed: &BTreeMap<K, V>,
) -> Vec<String> {
    let keys: BTreeSet<&K> = expected.keys().chain(observed.keys()).collect();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|k| expected.get(k) != observed.get(k))
        .map(|k| {
            format!(
                "{what} {k:?}:\n      expected {:?}\n      in graph {:?}",
                expected.get(k),
                observed.get(k)
            )
        })
        .collect();
    let total = differing.len();
    let mut shown: Vec<String> = differing.into_iter().take(3).collect();
    if total > 3 {
        shown.push(format!("... and {} more {what}s differ", total - 3));
    }
    shown
}

fn set_difference(what: &str, expected: &BTreeSet<String>, observed: &BTreeSet<String>) -> Vec<String> {
    let missing: Vec<&String> = expected.difference(observed).take(5).collect();
    let extra: Vec<&String> = observed.difference(expected).take(5).collect();
    if missing.is_empty() && extra.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "{what}: {} expected, {} in graph; missing {missing:?}, unexpected {extra:?}",
        expected.len(),
        observed.len()
    )]
}

/// Compares the whole graph with the model; panics with the first
/// differences and the replay line.
async fn compare(run: &Run, expected: &Model, step: &str) {
    let observed = match observe(expected).await {
        Ok(observed) => observed,
        Err(problem) => panic!("after {step}: {problem}\n{}", run.replay()),
    };
    let expected = normalized(expected);
    let graph = &observed.model;
    let mut problems = first_differences("learner", &expected.learners, &graph.learners);
    problems.extend(first_differences(
        "snapshot",
        &expected.snapshots,
        &graph.snapshots,
    ));
    problems.extend(first_differences("city", &expected.cities, &graph.cities));
    problems.extend(set_difference("skills", &expected.skills, &graph.skills));
    problems.extend(set_difference("programs", &expected.programs, &graph.programs));
    problems.extend(set_difference("companies", &expected.companies, &graph.companies));
    problems.extend(set_difference(
        "institutions",
        &expected.institutions,
        &graph.institutions,
    ));
    problems.extend(set_difference("countries", &expected.countries, &graph.countries));
    assert!(
        problems.is_empty(),
        "after {step} the graph differs from the model ({} country codes learned):\n  {}\n{}",
        observed.codes.len(),
        problems.join("\n  "),
        run.replay()
    );
}

/// Names the learners the load wrote (created or changed, by the marks it
/// left) that the model did not, and the other way round.
async fn explain_written(run: &Run, model: &Model, date: NaiveDate) {
    let graph = common::test_graph().await;
    let mut rows = graph
        .execute(
            neo4rs::query(
                "MATCH (l:Learner) WHERE l.firstSnapshot = date($d) OR l.changedBySnapshot = date($d) RETURN l.hashedEmail AS k",
            )
            .param("d", date.to_string()),
        )
        .await
        .expect("written learners");
    let mut written = BTreeSet::new();
    while let Some(row) = rows.next().await.expect("row") {
        written.insert(row.get::<String>("k").expect("k"));
    }
    let only_graph: Vec<&String> = written.difference(&model.last_written).take(5).collect();
    let only_model: Vec<&String> = model.last_written.difference(&written).take(5).collect();
    assert!(
        only_graph.is_empty() && only_model.is_empty(),
        "the load wrote other learners than the model: written but unchanged in the model {only_graph:?}, changed in the model but not written {only_model:?}\n{}",
        run.replay()
    );
}

/// A run of snapshot `step + 1` before snapshot `step`: a `--max-rows`
/// trial, or a load killed after some rows. Snapshot `step` is then refused
/// (exit 19, naming the later run), and the later one is finished.
fn later_run_first(run: &mut Run, step: usize, plan: Option<Interruption>, h: u64) {
    let later = step + 1;
    let rows = run_rows(run, later);
    let dir = run.dir.path().to_path_buf();
    let input = run.path(later).to_string();
    let unfinished = match plan.filter(|_| !h.is_multiple_of(2)) {
        None => {
            let trial_rows = 1 + mix(h, 1) % rows;
            run.step(format!(
                "trial of snapshot {later} (--max-rows {trial_rows}), then snapshot {step}: refused"
            ));
            common::run_db_ok(&dir, &["load", &input, "--max-rows", &trial_rows.to_string()]);
            run.faults_done.push("a later snapshot's trial first");
            "--max-rows trial"
        }
        Some(plan) => {
            run.step(format!(
                "load of snapshot {later} killed after record {}, then snapshot {step}: refused",
                plan.after_record
            ));
            let checkpoint = PathBuf::from(format!("{input}.checkpoint.json"));
            let mut child = spawn_load_in_batches(&dir, &input, plan.batch, &[]);
            reach(run, &mut child, &checkpoint, &plan);
            kill_mid_load(run, child, &plan);
            run.faults_done.push("a later snapshot's killed load first");
            "did not finish"
        }
    };
    let (code, stderr) = exit_code(run, &["load", run.path(step)]);
    assert_eq!(code, Some(19), "{stderr}\n{}", run.replay());
    assert!(
        stderr.contains(unfinished),
        "the refusal names the later run ({unfinished}): {stderr}\n{}",
        run.replay()
    );
    run.step(format!("finish snapshot {later}, snapshot {step} skipped"));
    let finish: &[&str] = if unfinished == "did not finish" {
        &["load", &input, "--resume"]
    } else {
        &["load", &input]
    };
    common::run_db_ok(&dir, finish);
}

/// A corrected export of snapshot `step`, dated as it and holding the same
/// learners: of the rows the export accepted, about a third are as the
/// snapshot before had them (the change was wrong) and a third as the one
/// after has them (the change came early), where those accept them too.
/// Loads it and returns its path.
fn corrected_export(run: &mut Run, step: usize, snapshots: &[Snapshot], h: u64) -> PathBuf {
    let key = common::column("hashed_email");
    let snapshot_id = common::column("snapshot_id");
    let accepted = |snapshot: &Snapshot, k: &[u8]| {
        std::str::from_utf8(k)
            .map(|k| k.replace('\0', ""))
            .is_ok_and(|k| snapshot.rows.contains_key(k.trim()))
    };
    let neighbours: Vec<(usize, common::RowsByKey)> = [step - 1, step + 1]
        .into_iter()
        .filter(|&n| n >= 1 && n <= run.files.len())
        .map(|n| (n, common::rows_by_key(&run.files[n - 1])))
        .collect();
    let path = run.dir.path().join(format!("snapshot-{step}-corrected.csv"));
    let mut rewritten = 0;
    common::rewrite(&run.files[step - 1], &path, |i, fields| {
        let pick = (mix(h, i as u64) % 3) as usize;
        let Some((other, rows)) = neighbours.get(pick) else {
            return true;
        };
        let k = fields[key].clone();
        if let Some(row) = rows.get(&k)
            && fields.len() == row.len()
            && accepted(&snapshots[step - 1], &k)
            && accepted(&snapshots[other - 1], &k)
        {
            let mut row = row.clone();
            row[snapshot_id] = fields[snapshot_id].clone();
            if row != *fields {
                *fields = row;
                rewritten += 1;
            }
        }
        true
    });
    run.step(format!(
        "load a corrected export of snapshot {step} ({rewritten} rows as a neighbouring snapshot has them)"
    ));
    common::run_db_ok(run.dir.path(), &["load", path.to_str().expect("utf-8")]);
    path
}

fn exit_code(run: &Run, args: &[&str]) -> (Option<i32>, String) {
    let output = common::run_db(run.dir.path(), args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One sequence: generate, then load every snapshot with its faults,
/// comparing the graph with the model after every step.
/// Runs one seed's sequence; returns the number of steps it took, each
/// followed by a comparison of the whole graph with the model, and the
/// faults shown to have happened.
async fn sequence(seed: u64, rows: u64, count: usize, dirty: f64) -> (usize, Vec<&'static str>) {
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let files = common::generate_snapshots(dir.path(), "snapshots", rows, seed, count, dirty);
    let today = learngraph::transform::today();
    let snapshots: Vec<Snapshot> = files.iter().map(|f| common::model::read(f, today)).collect();
    let mut run = Run {
        seed,
        dir,
        files,
        log: Vec::new(),
        faults_done: Vec::new(),
    };
    let mut model = Model::default();
    let mut skipped_to = 0;
    for step in 1..=count {
        if step <= skipped_to {
            continue;
        }
        let h = mix(seed, step as u64);
        let snapshot = &snapshots[step - 1];
        // A run of the next snapshot before this one (a trial, or a load
        // killed mid-way): this one is then refused (the graph holds
        // learners of a later date), and the operator's way on is to
        // finish the later one, skipping this.
        if step < count && mix(h, 5).is_multiple_of(3) {
            let plan = interruption(&written_records(&model, &snapshots[step]), mix(h, 7));
            later_run_first(&mut run, step, plan, mix(h, 6));
            model.apply(&snapshots[step]);
            compare(
                &run,
                &model,
                &format!("loading snapshot {} after skipping {step}", step + 1),
            )
            .await;
            skipped_to = step + 1;
            continue;
        }
        let fault = match h % 8 {
            0 | 1 => Fault::KillAndResume,
            2 => Fault::TrialFirst,
            3 if step > 1 => Fault::RestartDatabase,
            4 => Fault::LoseLock,
            _ => Fault::None,
        };
        let expected_plan = model.plan(snapshot);
        let dry_run = mix(h, 1).is_multiple_of(2);
        let plan = dry_run.then(|| {
            run.step(format!("dry run of snapshot {step}"));
            common::json(&common::run_db_ok(
                run.dir.path(),
                &["load", run.path(step), "--dry-run", "--json"],
            ))
        });
        let planned = plan.as_ref().map(|plan| {
            (
                plan["learners_new"].as_u64().expect("n"),
                plan["learners_returning"].as_u64().expect("n"),
                plan["learners_to_mark_missing"].as_u64().expect("n"),
                plan["learners_kept_row_rejected"].as_u64().expect("n"),
            )
        });
        if let Some(planned) = planned {
            assert_eq!(
                planned,
                expected_plan,
                "the dry run's (new, returning, missing, kept) differ from the model\n{}",
                run.replay()
            );
            compare(&run, &model, &format!("the dry run of snapshot {step}")).await;
            run.faults_done.push("a dry run first");
        }
        let plan = interruption(&written_records(&model, snapshot), mix(h, 2));
        let (summary, alone) = load(&mut run, step, fault, plan, mix(h, 2));
        let before = model.clone();
        model.apply(snapshot);
        let counts = &model.snapshots[&snapshot.date];
        if alone {
            explain_written(&run, &model, snapshot.date).await;
            let did = (
                summary["learners_written"].as_u64().expect("n"),
                summary["learners_updated"].as_u64().expect("n"),
                summary["learners_marked_missing"].as_u64().expect("n"),
                summary["learners_kept_row_rejected"].as_u64().expect("n"),
            );
            assert_eq!(
                did,
                (
                    counts.new,
                    counts.changed,
                    counts.missing,
                    counts.kept_row_rejected
                ),
                "the load's (new, changed, missing, kept) differ from the model's\n{}",
                run.replay()
            );
            if let Some(planned) = planned {
                assert_eq!(
                    (did.0, did.2, did.3),
                    (planned.0, planned.2, planned.3),
                    "the load did other than its dry run planned\n{}",
                    run.replay()
                );
            }
        }
        compare(&run, &model, &format!("loading snapshot {step}")).await;

        // Drawn for a quarter of the loads, and at least once per seed (on
        // its last load) so that every run of seeds exercises it.
        let again_not_yet = !run.faults_done.contains(&"the same snapshot again");
        if mix(h, 3).is_multiple_of(4) || step == count && again_not_yet {
            run.step(format!("load snapshot {step} again"));
            let again = common::json(&common::run_db_ok(
                run.dir.path(),
                &["load", run.path(step), "--json"],
            ));
            assert_eq!(
                (
                    again["learners_written"].as_u64(),
                    again["learners_updated"].as_u64()
                ),
                (Some(0), Some(0)),
                "loading the same snapshot again changed learners\n{}",
                run.replay()
            );
            compare(&run, &model, &format!("loading snapshot {step} again")).await;
            run.faults_done.push("the same snapshot again");
        }
        if step > 1 && mix(h, 4).is_multiple_of(3) {
            run.step(format!("load the older snapshot {} after {step}", step - 1));
            let (code, stderr) = exit_code(&run, &["load", run.path(step - 1)]);
            assert_eq!(
                code,
                Some(19),
                "an older snapshot was not refused: {stderr}\n{}",
                run.replay()
            );
            compare(
                &run,
                &model,
                &format!("refusing snapshot {} after {step}", step - 1),
            )
            .await;
            run.faults_done.push("an older snapshot after a newer");
        }
        if mix(h, 8).is_multiple_of(4) {
            let corrected = corrected_export(&mut run, step, &snapshots, mix(h, 9));
            let corrected = common::model::read(&corrected, today);
            // The graph the corrected file alone would have made, with the
            // shared nodes the wrong one named (they are never deleted),
            // and a city's coordinates as the wrong one gave them where the
            // corrected one gives none (a load never erases a value).
            let mut expected = before;
            expected.apply(&corrected);
            expected.absorb_shared(&model);
            for (city, coordinates) in expected.cities.iter_mut() {
                let given = corrected
                    .shared
                    .cities
                    .get(city)
                    .is_some_and(|c| c.0.is_some() || c.1.is_some());
                if let (false, Some(wrong)) = (given, model.cities.get(city)) {
                    *coordinates = wrong.clone();
                }
            }
            model = expected;
            compare(&run, &model, &format!("loading the corrected snapshot {step}")).await;
            explain_written(&run, &model, corrected.date).await;
            run.faults_done.push("a corrected export of the same date");
        }
    }
    let steps = run.log.iter().filter(|line| !line.starts_with(' ')).count();
    (steps, run.faults_done)
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number, got {v}"))
        })
        .unwrap_or(default)
}

/// Every fault and odd order the sequence draws.
const FAULT_KINDS: &[&str] = &[
    "kill -9 and --resume",
    "database restarted mid-load",
    "lock broken mid-load",
    "--max-rows trial first",
    "a later snapshot's trial first",
    "a later snapshot's killed load first",
    "a dry run first",
    "the same snapshot again",
    "an older snapshot after a newer",
    "a corrected export of the same date",
];

/// The seeds to run: `LEARNGRAPH_SEQUENCE_SEEDS=FIRST..LAST` (inclusive),
/// else CI's fixed ones; and whether they must draw every fault.
fn seeds() -> (Vec<u64>, bool) {
    match std::env::var("LEARNGRAPH_SEQUENCE_SEEDS") {
        Ok(range) => {
            let (first, last) = range
                .split_once("..")
                .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
                .unwrap_or_else(|| panic!("LEARNGRAPH_SEQUENCE_SEEDS is FIRST..LAST, got {range}"));
            // An empty range would run nothing and pass.
            assert!(
                first <= last,
                "LEARNGRAPH_SEQUENCE_SEEDS={range} names no seed: FIRST must not be after LAST"
            );
            ((first..=last).collect(), false)
        }
        // Between them, every fault of FAULT_KINDS, which the test checks.
        Err(_) => (vec![6, 7, 11, 12], true),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_of_a_snapshot_sequence_matches_the_model() {
    let _db = common::db_lock();
    let rows = setting("LEARNGRAPH_SEQUENCE_ROWS", 2_000);
    let count = setting("LEARNGRAPH_SEQUENCE_SNAPSHOTS", 3) as usize;
    assert!(
        rows > 0 && count > 0,
        "LEARNGRAPH_SEQUENCE_ROWS and _SNAPSHOTS must be at least 1"
    );
    let (seeds, every_fault) = seeds();
    let mut happened: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in seeds {
        let started = Instant::now();
        let (steps, faults) = sequence(seed, rows, count, 0.005).await;
        for fault in &faults {
            *happened.entry(fault).or_default() += 1;
        }
        eprintln!(
            "seed {seed}: {count} snapshots of {rows} rows, {steps} steps, matched the model after every step ({:.0} s); faults: {}",
            started.elapsed().as_secs_f64(),
            faults.join(", ")
        );
    }
    eprintln!("faults shown to have happened: {happened:?}");
    if every_fault {
        let missing: Vec<&&str> = FAULT_KINDS
            .iter()
            .filter(|k| !happened.contains_key(**k))
            .collect();
        assert!(
            missing.is_empty(),
            "CI's seeds no longer draw every fault: {missing:?} never happened ({happened:?}); pick seeds that do"
        );
    }
}
