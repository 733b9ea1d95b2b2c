//! End-to-end: every question of the catalogue, asked through the binary
//! of a graph of two snapshots in the real local database, against the
//! answer computed here from the independent reference model
//! (tests/common/model.rs), which reads the files without the crate's
//! transform. Two labels come from the graph, because choosing them is
//! not what a question computes: a program's name (its spelling is
//! tests/names.rs's to check) and the code the graph gave each of the
//! model's countries (one each way, or the test fails).
// The database lock serializes whole tests, each on its own runtime.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use common::model::{Learner, Model, Prop, Props, StateRel};
use serde_json::{Value as Json, json};

/// The two snapshots, loaded one after the other, and what the files say.
struct Loaded {
    dir: tempfile::TempDir,
    /// The graph after both loads by the reference model.
    model: Model,
    /// Program names by cohort, as the graph spells them.
    programs: HashMap<String, Option<String>>,
    /// The code the graph gave each of the model's countries.
    codes: BTreeMap<String, String>,
    first_date: NaiveDate,
    second_date: NaiveDate,
}

impl Loaded {
    /// The learners of the latest snapshot: the graph's present learners.
    fn present(&self) -> Vec<(&String, &Learner)> {
        self.model
            .learners
            .iter()
            .filter(|(_, l)| l.missing_since.is_none())
            .collect()
    }

    /// Learners marked missing: in the first snapshot, not in the latest.
    fn missing(&self) -> Vec<(&String, &Learner)> {
        self.model
            .learners
            .iter()
            .filter(|(_, l)| l.missing_since.is_some())
            .collect()
    }

    fn program_name(&self, cohort: &str) -> Json {
        match self.programs.get(cohort) {
            Some(Some(name)) => json!(name),
            _ => Json::Null,
        }
    }

    fn code(&self, country: &Option<String>) -> Option<&str> {
        country.as_ref().map(|name| {
            self.codes
                .get(name)
                .unwrap_or_else(|| panic!("the graph gave {name} no code"))
                .as_str()
        })
    }

    fn ask(&self, args: &[&str]) -> Json {
        let mut all = vec!["ask"];
        all.extend_from_slice(args);
        all.push("--json");
        common::json(&common::run_db_ok(self.dir.path(), &all))
    }
}

fn load_two_snapshots() -> Loaded {
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let first = common::generate(dir.path(), "snapshot1.csv", 3_000, 23, 0.0);
    let (second, report) = common::generate_follow_up(dir.path(), "snapshot2.csv", 3_000, 23);
    assert!(
        report.learners_leaving > 0 && report.learners_changed > 0,
        "{report:?}"
    );
    let date = |path: &Path| -> NaiveDate {
        let summary = common::json(&common::run_db_ok(
            dir.path(),
            &["load", path.to_str().expect("utf-8"), "--json"],
        ));
        assert_eq!(summary["rows_rejected"], 0, "{summary}");
        summary["snapshot_date"]
            .as_str()
            .expect("a date")
            .parse()
            .expect("a date")
    };
    let (first_date, second_date) = (date(&first), date(&second));
    let today = learngraph::transform::today();
    let mut model = Model::default();
    let (first, second) = (
        common::model::read(&first, today),
        common::model::read(&second, today),
    );
    assert_eq!(
        (first.date, second.date),
        (first_date, second_date),
        "the model dates the snapshots as the loads did"
    );
    model.apply(&first);
    model.apply(&second);
    let (programs, codes) = tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(labels_from_the_graph(&model));
    Loaded {
        dir,
        model,
        programs,
        codes,
        first_date,
        second_date,
    }
}

/// Program names by cohort, and the code of each of the model's countries
/// learned from the learners that name it, one code per country and one
/// country per code.
async fn labels_from_the_graph(model: &Model) -> (HashMap<String, Option<String>>, BTreeMap<String, String>) {
    let graph = common::test_graph().await;
    let mut programs = HashMap::new();
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (p:Program) RETURN p.id AS id, p.name AS name",
        ))
        .await
        .expect("programs");
    while let Some(row) = rows.next().await.expect("row") {
        programs.insert(row.get("id").expect("id"), row.get("name").expect("name"));
    }
    let (mut codes, mut names) = (BTreeMap::new(), BTreeMap::new());
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (l:Learner) RETURN l.hashedEmail AS k, l.countryOfResidenceCode AS residence, \
             l.countryOfOriginCode AS origin",
        ))
        .await
        .expect("learners");
    while let Some(row) = rows.next().await.expect("row") {
        let key: String = row.get("k").expect("k");
        let facts = &model.learners.get(&key).expect("a learner of the files").facts;
        for (column, name) in [("residence", &facts.country), ("origin", &facts.origin)] {
            let code: Option<String> = row.get(column).expect("a code or null");
            match (code, name) {
                (Some(code), Some(name)) => {
                    common::learn_country_code(&mut codes, &mut names, &code, name)
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                (None, None) => {}
                (code, name) => panic!("{key}'s {column}: the graph has {code:?}, the files {name:?}"),
            }
        }
    }
    (programs, codes)
}

fn text<'a>(props: &'a Props, key: &str) -> Option<&'a str> {
    match props.get(key) {
        Some(Prop::Text(s)) => Some(s),
        _ => None,
    }
}

fn date(props: &Props, key: &str) -> Option<NaiveDate> {
    match props.get(key) {
        Some(Prop::Date(d)) => Some(*d),
        _ => None,
    }
}

/// An answer's rows as objects keyed by column.
fn rows(answer: &Json) -> Vec<BTreeMap<String, Json>> {
    let columns: Vec<String> = serde_json::from_value(answer["columns"].clone()).expect("columns");
    answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            columns
                .iter()
                .cloned()
                .zip(row.as_array().expect("a row").iter().cloned())
                .collect()
        })
        .collect()
}

/// `round(1000 * part / whole) / 10`, as the questions compute rates.
fn rate(part: u64, whole: u64) -> f64 {
    (1000.0 * part as f64 / whole as f64).round() / 10.0
}

fn works_now(learner: &Learner) -> bool {
    let status = learner.facts.professional.as_str();
    !status.is_empty() && status != "Unemployed"
}

/// Linear interpolation between closest ranks, as Cypher's percentileCont.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = p * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64))
}

fn assert_close(actual: &Json, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: {actual} but expected nothing"),
        Some(e) => {
            let a = actual
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
            assert!((a - e).abs() < 1e-6, "{what}: {a} but expected {e}");
        }
    }
}

fn learners_per_country(loaded: &Loaded) {
    for include_missing in [false, true] {
        let mut learners = loaded.present();
        if include_missing {
            learners.extend(loaded.missing());
        }
        let mut expected: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (_, learner) in learners {
            if let Some(code) = loaded.code(&learner.facts.country) {
                expected.entry(code).or_default().0 += 1;
            }
            if let Some(code) = loaded.code(&learner.facts.origin) {
                expected.entry(code).or_default().1 += 1;
            }
        }
        let mut expected: Vec<(&str, u64, u64)> = expected.into_iter().map(|(c, (r, o))| (c, r, o)).collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        let mut args = vec!["learners-per-country", "--param", "limit=1000"];
        if include_missing {
            args.push("--include-missing");
        }
        let answer = loaded.ask(&args);
        let actual: Vec<(String, u64, u64)> = rows(&answer)
            .iter()
            .map(|row| {
                assert!(row["name"].is_string(), "every country has its name: {row:?}");
                (
                    row["country"].as_str().expect("a code").to_string(),
                    row["residents"].as_u64().expect("a count"),
                    row["fromCountry"].as_u64().expect("a count"),
                )
            })
            .collect();
        let expected: Vec<(String, u64, u64)> = expected
            .into_iter()
            .map(|(c, r, o)| (c.to_string(), r, o))
            .collect();
        assert_eq!(
            actual, expected,
            "learners-per-country, include missing: {include_missing}"
        );
    }
}

fn program_completion(loaded: &Loaded) {
    let mut expected: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (_, learner) in loaded.present() {
        for (cohort, props) in &learner.facts.enrollments {
            let counts = expected.entry(cohort.as_str()).or_default();
            counts.0 += 1;
            match text(props, "enrollmentStatus") {
                Some("Graduated") => counts.1 += 1,
                Some("Dropped Out") => counts.2 += 1,
                _ => {}
            }
        }
    }
    let answer = loaded.ask(&["program-completion", "--param", "limit=1000"]);
    let actual = rows(&answer);
    assert_eq!(actual.len(), expected.len(), "one row per cohort");
    for row in &actual {
        let cohort = row["cohort"].as_str().expect("a cohort");
        let (enrollments, graduated, dropped) = expected[cohort];
        assert_eq!(row["program"], loaded.program_name(cohort), "{row:?}");
        assert_eq!(row["enrollments"], enrollments, "{row:?}");
        assert_eq!(row["graduated"], graduated, "{row:?}");
        assert_eq!(row["droppedOut"], dropped, "{row:?}");
        assert_eq!(row["stillEnrolled"], enrollments - graduated - dropped, "{row:?}");
        assert_close(&row["completionRate"], Some(rate(graduated, enrollments)), cohort);
        assert_close(&row["dropOutRate"], Some(rate(dropped, enrollments)), cohort);
    }
    assert!(
        expected.values().any(|c| c.1 > 0 && c.2 > 0),
        "some cohort has graduates and drop-outs: {expected:?}"
    );
    let sizes: Vec<u64> = actual
        .iter()
        .map(|r| r["enrollments"].as_u64().expect("n"))
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "largest cohorts first: {sizes:?}"
    );
}

fn graduate_employment(loaded: &Loaded) {
    // program -> (graduates, employed, placed), each learner once per program.
    let mut expected: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for (_, learner) in loaded.present() {
        let programs: BTreeSet<String> = learner
            .facts
            .enrollments
            .iter()
            .filter(|(_, props)| text(props, "enrollmentStatus") == Some("Graduated"))
            .map(|(cohort, _)| loaded.program_name(cohort).to_string())
            .collect();
        for program in programs {
            let counts = expected.entry(program).or_default();
            counts.0 += 1;
            counts.1 += u64::from(works_now(learner));
            counts.2 += u64::from(learner.facts.placed);
        }
    }
    let actual = rows(&loaded.ask(&["graduate-employment"]));
    assert_eq!(actual.len(), expected.len());
    for row in &actual {
        let (graduates, employed, placed) = expected[&row["program"].to_string()];
        assert_eq!(row["graduates"], graduates, "{row:?}");
        assert_eq!(row["employed"], employed, "{row:?}");
        assert_eq!(row["placed"], placed, "{row:?}");
        assert_close(
            &row["employmentRate"],
            Some(rate(employed, graduates)),
            "employment rate",
        );
        assert_close(
            &row["placementRate"],
            Some(rate(placed, graduates)),
            "placement rate",
        );
    }
    assert!(
        expected.values().any(|c| c.1 > 0 && c.2 > 0),
        "some graduates work and some are placed: {expected:?}"
    );
}

fn time_to_first_job(loaded: &Loaded) {
    // program -> (graduations, days to the first job after each).
    let mut expected: BTreeMap<String, (u64, Vec<f64>)> = BTreeMap::new();
    for (_, learner) in loaded.present() {
        for (cohort, props) in &learner.facts.enrollments {
            let Some(graduated) = date(props, "graduationDate") else {
                continue;
            };
            let entry = expected
                .entry(loaded.program_name(cohort).to_string())
                .or_default();
            entry.0 += 1;
            let first_job = learner
                .facts
                .works_for
                .iter()
                .filter_map(|(_, job)| date(job, "startDate"))
                .filter(|start| *start >= graduated)
                .min();
            if let Some(start) = first_job {
                entry.1.push((start - graduated).num_days() as f64);
            }
        }
    }
    let actual = rows(&loaded.ask(&["time-to-first-job"]));
    assert_eq!(actual.len(), expected.len());
    for row in &actual {
        let (graduations, days) = expected
            .get_mut(&row["program"].to_string())
            .expect("a program of the file");
        days.sort_by(f64::total_cmp);
        assert_eq!(row["graduations"], *graduations, "{row:?}");
        assert_eq!(row["withJob"], days.len() as u64, "{row:?}");
        assert_close(&row["q1Days"], percentile(days, 0.25), "q1");
        assert_close(&row["medianDays"], percentile(days, 0.5), "median");
        assert_close(&row["q3Days"], percentile(days, 0.75), "q3");
    }
    assert!(expected.values().any(|(_, days)| days.len() > 3), "{expected:?}");
}

fn top_skills(loaded: &Loaded, question: &str, counted: impl Fn(&Learner) -> bool) {
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, learner) in loaded.present().into_iter().filter(|(_, l)| counted(l)) {
        for skill in &learner.facts.skills {
            *expected.entry(skill).or_default() += 1;
        }
    }
    let mut expected: Vec<(String, u64)> = expected.into_iter().map(|(s, n)| (s.to_string(), n)).collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    assert!(!expected.is_empty(), "{question}: the file has such learners");
    let actual: Vec<(String, u64)> = rows(&loaded.ask(&[question, "--param", "limit=100000"]))
        .iter()
        .map(|row| {
            (
                row["skill"].as_str().expect("an id").to_string(),
                row["learners"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(actual, expected, "{question}");
    let top3 = rows(&loaded.ask(&[question, "--param", "limit=3"]));
    assert_eq!(top3.len(), 3.min(expected.len()), "the limit is in force");
}

/// The state a history holds on `day`: the latest that began by then
/// and had not ended.
fn state_at(history: &[StateRel], day: NaiveDate) -> String {
    history
        .iter()
        .filter(|r| r.from.unwrap_or(NaiveDate::MIN) <= day && r.to.is_none_or(|to| to > day))
        .max_by_key(|r| r.from.unwrap_or(NaiveDate::MIN))
        .map_or("(none)".to_string(), |r| r.state.clone())
}

fn state_transitions(loaded: &Loaded) {
    let mut expected: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for (_, learner) in loaded.present() {
        let history = &learner.learning_history;
        let programs: BTreeSet<String> = learner
            .facts
            .enrollments
            .iter()
            .map(|(cohort, _)| loaded.program_name(cohort).to_string())
            .collect();
        for program in programs {
            let key = (
                program,
                state_at(history, loaded.first_date),
                state_at(history, loaded.second_date),
            );
            *expected.entry(key).or_default() += 1;
        }
    }
    let answer = loaded.ask(&["state-transitions"]);
    let actual: BTreeMap<(String, String, String), u64> = rows(&answer)
        .iter()
        .map(|row| {
            assert_eq!(
                row["fromDate"],
                loaded.first_date.to_string(),
                "the snapshot before the latest"
            );
            assert_eq!(
                row["toDate"],
                loaded.second_date.to_string(),
                "the latest snapshot"
            );
            (
                (
                    row["program"].to_string(),
                    row["fromState"].as_str().expect("a state").to_string(),
                    row["toState"].as_str().expect("a state").to_string(),
                ),
                row["learners"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(actual, expected);
    assert!(
        expected
            .keys()
            .any(|(_, from, to)| from == "Active" && to == "Graduate"),
        "the follow-up graduates some: {expected:?}"
    );
    // The same dates given explicitly give the same answer.
    let first = format!("from={}", loaded.first_date);
    let second = format!("to={}", loaded.second_date);
    let explicit = loaded.ask(&["state-transitions", "--param", &first, "--param", &second]);
    assert_eq!(explicit["rows"], answer["rows"]);
}

/// The learners present on each snapshot date and the states they held
/// then, from the reference model's histories.
fn population_over_time(loaded: &Loaded) {
    let held = |history: &[StateRel], day: NaiveDate| -> Vec<String> {
        history
            .iter()
            .filter(|r| r.from.is_none_or(|from| from <= day) && r.to.is_none_or(|to| to > day))
            .map(|r| r.state.clone())
            .collect()
    };
    let mut expected: BTreeMap<(String, u64, String, String), u64> = BTreeMap::new();
    for (date, counts) in &loaded.model.snapshots {
        let present = counts.new + counts.changed + counts.unchanged + counts.kept_row_rejected;
        let mut per_state: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
        for (key, learner) in &loaded.model.learners {
            let there = learner.first_snapshot.is_some_and(|first| first <= *date)
                && learner.missing_since.is_none_or(|since| since > *date);
            if !there {
                continue;
            }
            for (kind, history) in [
                ("learning state", &learner.learning_history),
                ("professional status", &learner.professional_history),
            ] {
                for state in held(history, *date) {
                    per_state
                        .entry((kind.to_string(), state))
                        .or_default()
                        .insert(key);
                }
            }
        }
        for ((kind, state), learners) in per_state {
            expected.insert((date.to_string(), present, kind, state), learners.len() as u64);
        }
    }
    let answer = loaded.ask(&["population-over-time"]);
    let actual: BTreeMap<(String, u64, String, String), u64> = rows(&answer)
        .iter()
        .map(|row| {
            (
                (
                    row["snapshotDate"].as_str().expect("a date").to_string(),
                    row["present"].as_u64().expect("n"),
                    row["kind"].as_str().expect("a kind").to_string(),
                    row["state"].as_str().expect("a state").to_string(),
                ),
                row["learners"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(actual, expected);
    let dates: BTreeSet<&String> = expected.keys().map(|k| &k.0).collect();
    assert_eq!(dates.len(), 2, "both snapshots: {expected:?}");
}

fn learner_journey(loaded: &Loaded) {
    // A learner of both snapshots whose learning state the latest changed.
    let (key, changed) = loaded
        .present()
        .into_iter()
        .filter(|(_, l)| {
            l.first_snapshot == Some(loaded.first_date)
                && l.learning_history
                    .iter()
                    .any(|r| r.opened_by_snapshot && r.from == Some(loaded.second_date))
        })
        .max_by_key(|(_, l)| l.facts.enrollments.len() + l.facts.works_for.len() + l.facts.studies.len())
        .expect("the follow-up changes some learner's state");
    let param = format!("learner={key}");
    let journey = rows(&loaded.ask(&["learner-journey", "--param", &param]));
    let kinds = |kind: &str| journey.iter().filter(|row| row["kind"] == kind).count();
    assert_eq!(kinds("enrollment"), changed.facts.enrollments.len());
    assert_eq!(kinds("job"), changed.facts.works_for.len());
    assert_eq!(kinds("venture"), changed.facts.ventures.len());
    assert_eq!(kinds("study"), changed.facts.studies.len());
    let states: Vec<(String, Json, Json)> = journey
        .iter()
        .filter(|row| row["kind"] == "learning state")
        .map(|row| {
            (
                row["what"].as_str().expect("a state").to_string(),
                row["since"].clone(),
                row["until"].clone(),
            )
        })
        .collect();
    let day = |d: &Option<NaiveDate>| d.map_or(Json::Null, |d| json!(d.to_string()));
    let mut expected: Vec<(String, Json, Json)> = changed
        .learning_history
        .iter()
        .map(|r| (r.state.clone(), day(&r.from), day(&r.to)))
        .collect();
    let mut states_sorted = states.clone();
    states_sorted.sort_by(|a, b| a.1.to_string().cmp(&b.1.to_string()).then(a.0.cmp(&b.0)));
    expected.sort_by(|a, b| a.1.to_string().cmp(&b.1.to_string()).then(a.0.cmp(&b.0)));
    assert_eq!(
        states_sorted, expected,
        "the learning-state history across both snapshots"
    );
    let current: Vec<_> = journey
        .iter()
        .filter(|row| row["kind"] == "learning state" && row["detail"] == "current")
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["what"], changed.facts.learning);
    assert_eq!(current[0]["since"], loaded.second_date.to_string());
    // In time order; what has no date comes last, as Cypher sorts nulls.
    let since: Vec<Option<&str>> = journey.iter().map(|r| r["since"].as_str()).collect();
    let mut sorted = since.clone();
    sorted.sort_by_key(|d| (d.is_none(), *d));
    assert_eq!(since, sorted, "in time order");

    // Found by sandId as well; a learner marked missing only when asked.
    if let Some(sand_id) = &changed.facts.sand_id {
        let by_sand_id = loaded.ask(&["learner-journey", "--param", &format!("learner={sand_id}")]);
        assert_eq!(rows(&by_sand_id), journey);
    }
    let (gone_key, gone) = loaded.missing()[0];
    let param = format!("learner={gone_key}");
    assert!(rows(&loaded.ask(&["learner-journey", "--param", &param])).is_empty());
    let asked = rows(&loaded.ask(&["learner-journey", "--param", &param, "--include-missing"]));
    assert_eq!(
        asked.iter().filter(|row| row["kind"] == "enrollment").count(),
        gone.facts.enrollments.len()
    );
}

#[test]
fn every_question_answers_what_the_files_say() {
    let _db = common::db_lock();
    let loaded = load_two_snapshots();
    learners_per_country(&loaded);
    program_completion(&loaded);
    graduate_employment(&loaded);
    time_to_first_job(&loaded);
    top_skills(&loaded, "top-skills", |_| true);
    top_skills(&loaded, "top-skills-employed-graduates", |l| {
        l.facts.learning == "Graduate" && works_now(l)
    });
    state_transitions(&loaded);
    population_over_time(&loaded);
    learner_journey(&loaded);
}

#[test]
fn the_catalogue_lists_every_question_and_prints_its_cypher() {
    let dir = common::temp_dir();
    let listed = common::json(&common::run_ok(dir.path(), &["ask", "--json"]));
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|q| q["name"].as_str().expect("a name"))
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("questions"))
        .expect("the questions folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".cypher")
                .to_string()
        })
        .collect();
    assert_eq!(
        names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>(),
        files,
        "every file is in the catalogue"
    );
    let cypher = common::run_ok(dir.path(), &["ask", "top-skills", "--cypher"]);
    let on_disk = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("questions/top-skills.cypher"))
        .expect("the file");
    assert_eq!(cypher.stdout, on_disk);
}

#[test]
fn a_wrong_question_or_parameter_is_a_usage_error_before_connecting() {
    let dir = common::temp_dir();
    // No database settings at all: the mistake is found before connecting.
    for (args, says) in [
        (
            vec!["ask", "top-skill"],
            "there is no question named \"top-skill\"",
        ),
        (
            vec!["ask", "top-skills", "--param", "limit=ten"],
            "is not an integer",
        ),
        (
            vec!["ask", "top-skills", "--param", "top=3"],
            "has no parameter \"top\"",
        ),
        (vec!["ask", "learner-journey"], "needs --param learner=VALUE"),
        (
            vec!["ask", "state-transitions", "--param", "from=30.9.2025"],
            "is not a date",
        ),
    ] {
        let output = common::run_in(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
