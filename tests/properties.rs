//! Property tests: the reader and the transform never panic on arbitrary
//! bytes or field values, missing-value markers never reach the graph, and
//! chunking never changes what is read.

use std::io::Write;

use proptest::test_runner::{Config as RunnerConfig, TestRunner};

use learngraph::graph::records::{EntityCollector, Value};
use learngraph::source::columns::COLUMNS;
use learngraph::source::reader::{ChunkReader, for_each_record};
use learngraph::transform::quality::Findings;
use learngraph::transform::{TransformOptions, Transformer, decode};
use proptest::prelude::*;

fn read_all(content: &[u8], records_per_chunk: u64) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(content).expect("write");
    let mut reader = ChunkReader::open(file.path(), records_per_chunk).expect("opens");
    reader.header().ok()?;
    let mut records = Vec::new();
    while let Some(chunk) = reader.next_chunk().expect("reads") {
        for_each_record(&chunk, |record, _| {
            records.push(record.iter().map(<[u8]>::to_vec).collect())
        });
    }
    Some(records)
}

/// Values the export holds, with the odd ones, and arbitrary text.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("n/a".to_string()),
        Just("N/A".to_string()),
        Just("-99".to_string()),
        Just("-99.0".to_string()),
        Just("1970-01-01".to_string()),
        Just("9999-12-31".to_string()),
        Just("1.0".to_string()),
        Just("[]".to_string()),
        Just("[{}]".to_string()),
        Just(r#"[{"enrollment_status":"Dropped out","cohort_code":"SE-C1","program_start_date":"2024-01-01","program_end_date":"1970-01-01"}]"#.to_string()),
        Just(r#"[{"organization_name":"n/a","start_date":"2024-13-45","end_date":"9999-12-31","is_current":"1.0"}]"#.to_string()),
        Just(r#"[{"business_name":"X","jobs_created_to_date":-99,"capital_secured_todate":1e300}]"#.to_string()),
        Just(r#"[{"institution_name":"  ","graduated":null}]"#.to_string()),
        Just("Côte d'Ivoire".to_string()),
        Just("C++, c#, ,n/a,,🚀".to_string()),
        Just("20250931".to_string()),
        ".{0,40}",
        "[\\[\\]{}\",:0-9a-z\\\\]{0,30}",
    ]
}

/// The keys of each JSON column's entries (docs/input.md).
const LEARNING_KEYS: &[&str] = &[
    "index",
    "program_name",
    "cohort_code",
    "program_start_date",
    "program_end_date",
    "enrollment_status",
    "program_graduation_date",
    "lms_overall_score",
    "completion_rate",
    "no_of_assignments",
    "no_of_submissions",
    "no_of_assignment_passed",
    "assignment_completion_rate",
    "no_of_milestone",
    "no_of_milestone_submitted",
    "no_of_milestone_passed",
    "milestone_completion_rate",
    "no_of_test",
    "no_of_test_submitted",
    "no_of_test_passed",
    "test_completion_rate",
];
const EMPLOYMENT_KEYS: &[&str] = &[
    "index",
    "organisation_name",
    "organization_name",
    "start_date",
    "end_date",
    "country",
    "job_title",
    "is_current",
    "duration_in_years",
];
const PLACEMENT_KEYS: &[&str] = &[
    "employment_type",
    "job_start_date",
    "organisation_name",
    "salary_range",
    "job_title",
    "business_name",
    "jobs_created_to_date",
    "capital_secured_todate",
    "female_opp_todate",
];
const EDUCATION_KEYS: &[&str] = &[
    "index",
    "institution_name",
    "start_date",
    "end_date",
    "field_of_study",
    "level_of_study",
    "graduated",
];

/// A value inside a JSON cell: the export's odd text, a number or null.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        6 => field_value().prop_map(serde_json::Value::String),
        1 => Just(serde_json::Value::Null),
        1 => any::<i32>().prop_map(serde_json::Value::from),
        1 => prop_oneof![Just(-99.0), Just(0.5), Just(1e300), Just(-0.0)].prop_map(serde_json::Value::from),
        1 => prop_oneof!["20[0-3][0-9]-[01][0-9]-[0-3][0-9]", "(Enrolled|Graduated|Dropped [Oo]ut|n/a)"]
            .prop_map(serde_json::Value::String),
    ]
}

/// A JSON array cell of the contract's shape: entries whose keys are drawn
/// from `keys`, each with an odd value.
fn json_cell(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let entry =
        proptest::collection::vec((proptest::sample::select(keys), json_value()), 0..8).prop_map(|pairs| {
            serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        });
    proptest::collection::vec(entry, 0..4).prop_map(|entries| serde_json::Value::Array(entries).to_string())
}

fn column(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("a column of the contract")
}

/// A whole row as the contract shapes it: a key, the four JSON columns as
/// arrays of entries of their shape, a snapshot id of a past date, and odd
/// values everywhere else.
fn contract_row() -> impl Strategy<Value = Vec<String>> {
    (
        proptest::collection::vec(field_value(), COLUMNS.len()),
        "[0-9a-f]{8,40}",
        json_cell(LEARNING_KEYS),
        json_cell(EMPLOYMENT_KEYS),
        json_cell(PLACEMENT_KEYS),
        json_cell(EDUCATION_KEYS),
        prop_oneof![Just("20250930"), Just("20251231"), Just("n/a"), Just("")],
    )
        .prop_map(
            |(mut values, key, learning, employment, placement, education, snapshot)| {
                values[column("hashed_email")] = key;
                values[column("learning_details")] = learning;
                values[column("employment_details")] = employment;
                values[column("placement_details")] = placement;
                values[column("education_details")] = education;
                values[column("snapshot_id")] = snapshot.to_string();
                values
            },
        )
}

/// What the transform of one row must never write: a missing-value marker
/// as a value, or a history without exactly one current state of each kind.
fn assert_clean(learner: &learngraph::graph::records::LearnerRecord) -> Result<(), TestCaseError> {
    prop_assert!(!learner.key.is_empty());
    let all_props = std::iter::once(&learner.props)
        .chain(learner.enrollments.iter().map(|r| &r.props))
        .chain(learner.works_for.iter().map(|r| &r.props))
        .chain(learner.runs_venture.iter().map(|r| &r.props))
        .chain(learner.studied_at.iter().map(|r| &r.props))
        .chain(learner.learning_states.iter().map(|r| &r.props))
        .chain(learner.professional_states.iter().map(|r| &r.props));
    for props in all_props {
        for (key, value) in &props.0 {
            match value {
                Value::Str(s) => prop_assert!(
                    !s.trim().is_empty() && !s.eq_ignore_ascii_case("n/a") && !s.contains('\0'),
                    "{key} = {s:?}"
                ),
                Value::Int(n) => prop_assert!(*n != -99, "{key}"),
                Value::Float(n) => prop_assert!(*n != -99.0 && n.is_finite(), "{key}"),
                Value::Date(d) => prop_assert!(
                    d.to_string() != "1970-01-01" && d.to_string() != "9999-12-31",
                    "{key}"
                ),
                Value::Bool(_) => {}
            }
        }
    }
    let current = |rels: &[learngraph::graph::records::Rel]| {
        rels.iter()
            .filter(|r| r.props.get("isCurrent") == Some(&Value::Bool(true)))
            .count()
    };
    prop_assert_eq!(current(&learner.learning_states), 1);
    prop_assert_eq!(current(&learner.professional_states), 1);
    Ok(())
}

/// Rows of the contract's shape with odd values everywhere: at least 95%
/// of the cases must reach the assertions (a transform that rejected them
/// would prove nothing), and every one that does is clean.
#[test]
fn rows_of_the_contracts_shape_are_transformed_and_never_write_missing_markers() {
    const CASES: u32 = 600;
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let transformer = Transformer::new(TransformOptions::default());
    let reached = std::cell::Cell::new(0u32);
    let outcome = runner.run(&contract_row(), |values| {
        let raw = csv::ByteRecord::from(values.iter().map(String::as_str).collect::<Vec<_>>());
        let fields = decode(&raw).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
        let mut findings = Findings::default();
        let mut entities = EntityCollector::default();
        match transformer.transform(&fields, &mut findings, &mut entities) {
            Ok(learner) => {
                reached.set(reached.get() + 1);
                assert_clean(&learner)
            }
            Err(reject) => Err(TestCaseError::fail(format!(
                "a row of the contract's shape rejected: {reject}"
            ))),
        }
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    assert!(
        reached.get() >= CASES * 95 / 100,
        "only {} of {CASES} cases reached the assertions",
        reached.get()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..2_000), chunk in 1u64..5) {
        let mut content = b"a,b,c\n".to_vec();
        content.extend_from_slice(&body);
        let records = read_all(&content, chunk).expect("the header is fine");
        prop_assert!(records.len() <= body.len() + 1);
    }

    #[test]
    fn every_byte_of_a_chunk_is_part_of_a_record_or_a_line_end(
        data in proptest::collection::vec(prop_oneof![
            4 => any::<u8>(),
            2 => Just(b'\n'),
            1 => Just(b'\r'),
            2 => Just(b'"'),
            2 => Just(b','),
        ], 0..600),
    ) {
        let chunk = learngraph::source::reader::Chunk {
            index: 0,
            first_line: 2,
            records: 1,
            bytes: data.clone(),
            line_end: b'\n',
            tail: Default::default(),
            decoded: None,
        };
        let mut covered_to = 0usize;
        let mut failure = None;
        for_each_record(&chunk, |_, raw| {
            let gap_is_line_ends = raw.start >= covered_to
                && data[covered_to..raw.start].iter().all(|b| matches!(b, b'\r' | b'\n'));
            if !gap_is_line_ends && failure.is_none() {
                failure = Some(format!("bytes {covered_to}..{} belong to no record", raw.start));
            }
            covered_to = covered_to.max(raw.start + raw.raw.len());
        });
        prop_assert!(failure.is_none(), "{:?}", failure);
        prop_assert!(
            data[covered_to.min(data.len())..].iter().all(|b| matches!(b, b'\r' | b'\n')),
            "the tail from {} belongs to no record", covered_to
        );
    }

    #[test]
    fn chunking_never_changes_what_is_read(
        rows in proptest::collection::vec(proptest::collection::vec(".{0,12}", 3), 0..40),
        chunk in 1u64..6,
    ) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["a", "b", "c"]).expect("header");
        for row in &rows {
            writer.write_record(row).expect("row");
        }
        let content = writer.into_inner().expect("bytes");
        let records = read_all(&content, chunk).expect("header");
        // The csv format cannot tell a single empty field from a blank line.
        let expected: Vec<Vec<Vec<u8>>> = rows
            .iter()
            .map(|r| r.iter().map(|f| f.as_bytes().to_vec()).collect())
            .collect();
        prop_assert_eq!(records, expected);
    }

    #[test]
    fn the_transform_never_panics_and_never_writes_missing_markers(
        values in proptest::collection::vec(field_value(), COLUMNS.len()),
    ) {
        let transformer = Transformer::new(TransformOptions::default());
        let raw = csv::ByteRecord::from(values.iter().map(String::as_str).collect::<Vec<_>>());
        let Ok(fields) = decode(&raw) else { return Ok(()); };
        let mut findings = Findings::default();
        let mut entities = EntityCollector::default();
        if let Ok(learner) = transformer.transform(&fields, &mut findings, &mut entities) {
            assert_clean(&learner)?;
        }
    }

    #[test]
    fn a_counting_pass_finds_what_a_full_pass_finds(
        values in proptest::collection::vec(field_value(), COLUMNS.len()),
    ) {
        let full = Transformer::new(TransformOptions::default());
        let counting = Transformer::new(TransformOptions { counts_only: true, ..TransformOptions::default() });
        let raw = csv::ByteRecord::from(values.iter().map(String::as_str).collect::<Vec<_>>());
        let Ok(fields) = decode(&raw) else { return Ok(()); };
        let (mut full_findings, mut full_entities) = (Findings::default(), EntityCollector::default());
        let (mut counted_findings, mut counted_entities) = (Findings::default(), EntityCollector::default());
        let full_result = full.transform(&fields, &mut full_findings, &mut full_entities);
        let counted_result = counting.transform(&fields, &mut counted_findings, &mut counted_entities);
        let (full_entities, counted_entities) = (full_entities.take(), counted_entities.take());
        prop_assert_eq!(
            serde_json::to_value(&full_findings).unwrap(),
            serde_json::to_value(&counted_findings).unwrap()
        );
        prop_assert_eq!(&full_entities.countries, &counted_entities.countries);
        prop_assert_eq!(&full_entities.cities, &counted_entities.cities);
        prop_assert_eq!(&full_entities.skills, &counted_entities.skills);
        prop_assert_eq!(&full_entities.programs, &counted_entities.programs);
        prop_assert_eq!(&full_entities.companies, &counted_entities.companies);
        prop_assert_eq!(&full_entities.institutions, &counted_entities.institutions);
        prop_assert_eq!(&full_entities.name_forms, &counted_entities.name_forms);
        match (full_result, counted_result) {
            (Ok(full), Ok(counted)) => {
                prop_assert!(!full.props.0.is_empty());
                prop_assert!(counted.props.0.is_empty());
                prop_assert_eq!(&full.key, &counted.key);
                prop_assert_eq!(&full.skills, &counted.skills);
                prop_assert_eq!(&full.city_id, &counted.city_id);
                prop_assert_eq!(&full.origin_code, &counted.origin_code);
                prop_assert_eq!(full.snapshot, counted.snapshot);
                let targets = |rels: &[learngraph::graph::records::Rel]| rels.iter().map(|r| r.target.clone()).collect::<Vec<_>>();
                for (a, b) in [
                    (&full.enrollments, &counted.enrollments),
                    (&full.works_for, &counted.works_for),
                    (&full.runs_venture, &counted.runs_venture),
                    (&full.studied_at, &counted.studied_at),
                    (&full.learning_states, &counted.learning_states),
                    (&full.professional_states, &counted.professional_states),
                ] {
                    prop_assert_eq!(targets(a), targets(b));
                }
            }
            (Err(full), Err(counted)) => prop_assert_eq!(full, counted),
            (full, counted) => prop_assert!(false, "full {:?} but counting {:?}", full.is_ok(), counted.is_ok()),
        }
    }
}
