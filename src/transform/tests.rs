//! A whole row through [`Transformer::transform`], its expected record
//! written by hand from docs/input.md and docs/graph.md, and the rows it
//! rejects.

use std::collections::BTreeMap;

use super::*;
use crate::graph::records::{Entities, Value};

// Shared with the other transform tests (learning.rs, chunk.rs).
pub(super) fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

pub(super) fn date(text: &str) -> Value {
    Value::Date(day(text))
}

pub(super) fn text(value: &str) -> Value {
    Value::Str(value.to_string())
}

/// One learner as the export writes them, every column the loader reads
/// filled (the others empty).
pub(super) const ROW: &[(usize, &str)] = &[
    (col::HASHED_EMAIL, " abc123 "),
    (col::SAND_ID, "SAND-1"),
    (col::EMAIL, "ada@example.org"),
    (col::FULL_NAME, "Ada\0 Obi"),
    (col::PROFILE_PHOTO_URL, "n/a"),
    (col::BIO, ""),
    (col::SKILLS_LIST, "Python, python ,Data Science,n/a,,C++"),
    (col::GENDER, "Female"),
    (col::COUNTRY_OF_RESIDENCE, "nigeria"),
    (col::COUNTRY_OF_ORIGIN, "Ghana"),
    (col::CITY_OF_RESIDENCE, "Lagos "),
    (col::EDUCATION_LEVEL, "Bachelor's"),
    (col::EDUCATION_FIELD, "Computer Science"),
    (col::COUNTRY_LAT, "9.082"),
    (col::COUNTRY_LNG, "8.6753"),
    (col::CITY_LAT, "6.5244"),
    (col::CITY_LNG, "3.3792"),
    (col::IS_FEATURED, "true"),
    (col::IS_GRADUATE, "1"),
    (col::IS_ACTIVE, "0"),
    (col::IS_DROPPED_OUT, "0.0"),
    (
        col::LEARNING_DETAILS,
        r#"[{"program_name":"Software Engineering","cohort_code":"SE-C1","program_start_date":"2023-01-10","program_end_date":"2023-07-10","enrollment_status":"Graduated","program_graduation_date":"2023-07-01"}]"#,
    ),
    (col::IS_RUNNING_VENTURE, "0"),
    (col::IS_FREELANCER, "0"),
    (col::IS_WAGE_EMPLOYED, "1"),
    (col::PLACEMENT_DETAILS, "[]"),
    (col::IS_PLACED, "1"),
    (
        col::EMPLOYMENT_DETAILS,
        r#"[{"organisation_name":"Andela","job_title":"Engineer","start_date":"2023-08-01","end_date":"9999-12-31","is_current":"1","duration_in_years":"1.4"}]"#,
    ),
    (col::HAS_EMPLOYMENT_DETAILS, "1"),
    (col::EDUCATION_DETAILS, "[]"),
    (col::HAS_EDUCATION_DETAILS, "1"),
    (col::IS_RURAL, "0"),
    (col::LIVING_LOCATION, "Urban"),
    (col::HAS_DISABILITY, "0"),
    (col::TYPE_OF_DISABILITY, "n/a"),
    (col::IS_LOW_INCOME, "1"),
    (col::HAS_PLACEMENT_DETAILS, "0"),
    (col::SNAPSHOT_ID, "20250131"),
];

/// [`ROW`] with some columns replaced.
pub(super) fn row(changes: &[(usize, &'static str)]) -> [&'static str; COLUMNS.len()] {
    let mut values = [""; COLUMNS.len()];
    for (column, value) in ROW.iter().chain(changes) {
        values[*column] = value;
    }
    values
}

struct Transformed {
    result: Result<LearnerRecord, Reject>,
    findings: Findings,
    entities: Entities,
}

fn transform_with(options: TransformOptions, values: [&str; COLUMNS.len()]) -> Transformed {
    let (mut findings, mut collector) = (Findings::default(), EntityCollector::default());
    let result =
        Transformer::new(options).transform(&Fields::from_text(values), &mut findings, &mut collector);
    Transformed {
        result,
        findings,
        entities: collector.take(),
    }
}

fn transform(values: [&str; COLUMNS.len()]) -> Transformed {
    transform_with(TransformOptions::default(), values)
}

pub(super) fn counts(pairs: &[(Finding, u64)]) -> BTreeMap<Finding, u64> {
    pairs.iter().copied().collect()
}

/// A state history's states with their properties, to compare whole.
pub(super) fn states(rels: &[Rel]) -> Vec<(&str, &Props)> {
    rels.iter().map(|r| (r.target.as_str(), &r.props)).collect()
}

/// The properties docs/graph.md gives a state relationship: from its
/// date, to the next state's (absent while it is current).
pub(super) fn state(valid_from: &str, valid_to: Option<&str>, date_unknown: bool) -> Props {
    let mut props = vec![("validFrom", date(valid_from))];
    props.extend(valid_to.map(|to| ("validTo", date(to))));
    props.push(("isCurrent", Value::Bool(valid_to.is_none())));
    props.push(("dateUnknown", Value::Bool(date_unknown)));
    Props(props)
}

#[test]
fn a_whole_row_becomes_its_learner_with_every_property_and_relationship() {
    let Transformed {
        result,
        findings,
        entities,
    } = transform(row(&[]));
    let record = result.expect("loads");

    assert_eq!(record.key, "abc123");
    assert_eq!(record.snapshot, Some(day("2025-01-31")));
    assert_eq!(record.city_id.as_deref(), Some("NG-lagos"));
    assert_eq!(record.origin_code.as_deref(), Some("GH"));
    let mut props = record.props.0.clone();
    let (hash_key, hash) = props.pop().expect("properties");
    assert_eq!(hash_key, SOURCE_HASH, "the fingerprint comes last");
    assert_eq!(hash, Value::Int(record.fingerprint()));
    assert_eq!(
        Props(props),
        Props(vec![
            ("sandId", text("SAND-1")),
            ("fullName", text("Ada Obi")),
            ("gender", text("female")),
            ("educationLevel", text("Bachelor's")),
            ("educationField", text("Computer Science")),
            ("countryOfResidenceCode", text("NG")),
            ("countryOfOriginCode", text("GH")),
            ("cityOfResidenceId", text("NG-lagos")),
            ("currentLearningState", text("Graduate")),
            ("currentProfessionalStatus", text("Wage Employed")),
            ("isPlaced", Value::Bool(true)),
            ("isFeatured", Value::Bool(true)),
            ("isRural", Value::Bool(false)),
            ("livingLocation", text("Urban")),
            ("hasDisability", Value::Bool(false)),
            ("isLowIncomeHousehold", Value::Bool(true)),
            ("snapshotId", Value::Int(20250131)),
        ])
    );

    assert_eq!(record.skills, ["python", "data_science", "c_plus_plus"]);
    let enrollments: Vec<&str> = record.enrollments.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(enrollments, ["SE-C1"]);
    assert_eq!(
        states(&record.learning_states),
        [
            ("Active", &state("2023-01-10", Some("2023-07-01"), false)),
            ("Graduate", &state("2023-07-01", None, false)),
        ]
    );
    assert_eq!(record.works_for.len(), 1);
    assert_eq!(record.works_for[0].target, "andela");
    assert_eq!(
        record.works_for[0].props,
        Props(vec![
            ("position", text("Engineer")),
            ("startDate", date("2023-08-01")),
            ("isCurrent", Value::Bool(true)),
            ("source", text("employment_details")),
            ("durationMonths", Value::Int(17)),
        ])
    );
    assert_eq!(
        states(&record.professional_states),
        [("Wage Employed", &state("2023-08-01", None, false))]
    );
    assert!(record.runs_venture.is_empty() && record.studied_at.is_empty());

    assert_eq!(
        findings.counts(),
        &counts(&[
            (Finding::NulBytesRemoved, 1),        // full_name
            (Finding::NaValue, 2),                // profile photo, type of disability
            (Finding::EmptyValue, 1),             // bio
            (Finding::CountryVariantResolved, 1), // "nigeria"
            (Finding::FlagAsDecimal, 1),          // is_a_dropped_out 0.0
            (Finding::DetailsFlagMismatch, 1),    // has_education_details 1, education_details []
        ])
    );

    let nigeria = &entities.countries["NG"];
    assert_eq!(
        (nigeria.name.as_str(), nigeria.latitude, nigeria.longitude),
        ("Nigeria", Some(9.082), Some(8.6753))
    );
    let ghana = &entities.countries["GH"];
    assert_eq!(
        (ghana.name.as_str(), ghana.latitude, ghana.longitude),
        ("Ghana", None, None),
        "the coordinates are the country of residence's"
    );
    assert_eq!(entities.countries.len(), 2);
    let lagos = &entities.cities["NG-lagos"];
    assert_eq!(
        (
            lagos.name.as_str(),
            lagos.country_code.as_str(),
            lagos.latitude,
            lagos.longitude
        ),
        ("Lagos", "NG", Some(6.5244), Some(3.3792))
    );
    let skills: BTreeMap<&str, &str> = entities
        .skills
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        skills,
        BTreeMap::from([
            ("python", "Python"),
            ("data_science", "Data Science"),
            ("c_plus_plus", "C++"),
        ])
    );
    assert_eq!(
        entities.programs["SE-C1"].as_deref(),
        Some("Software Engineering")
    );
    assert_eq!(entities.companies["andela"], "Andela");
}

#[test]
fn a_pass_that_only_counts_builds_no_property_and_finds_the_same() {
    let full = transform(row(&[]));
    let counted = transform_with(
        TransformOptions {
            counts_only: true,
            ..TransformOptions::default()
        },
        row(&[]),
    );
    let (full_record, counted_record) = (full.result.expect("loads"), counted.result.expect("loads"));
    assert_eq!(counted_record.props, Props::default());
    assert_eq!(counted.findings.counts(), full.findings.counts());
    let targets = |rels: &[Rel]| -> Vec<String> { rels.iter().map(|r| r.target.clone()).collect() };
    for (counted_rels, full_rels) in [
        (&counted_record.enrollments, &full_record.enrollments),
        (&counted_record.works_for, &full_record.works_for),
        (&counted_record.learning_states, &full_record.learning_states),
        (
            &counted_record.professional_states,
            &full_record.professional_states,
        ),
    ] {
        assert_eq!(targets(counted_rels), targets(full_rels));
        assert!(counted_rels.iter().all(|r| r.props == Props::default()));
    }
    assert_eq!(counted_record.skills, full_record.skills);
    assert_eq!(counted_record.city_id, full_record.city_id);
}

#[test]
fn a_row_is_rejected_without_a_key_and_with_a_broken_json_cell_before_any_entity() {
    for key in ["", "  ", "n/a", "N/A"] {
        let rejected = transform(row(&[(col::HASHED_EMAIL, key)]));
        assert_eq!(rejected.result.err(), Some(Reject::MissingKey), "{key:?}");
    }
    for (column, name) in [
        (col::LEARNING_DETAILS, "learning_details"),
        (col::EMPLOYMENT_DETAILS, "employment_details"),
        (col::PLACEMENT_DETAILS, "placement_details"),
        (col::EDUCATION_DETAILS, "education_details"),
    ] {
        let rejected = transform(row(&[(column, "[{\"a\":")]));
        match rejected.result {
            Err(Reject::InvalidJson { column, .. }) => assert_eq!(column, name),
            other => panic!("{name}: {other:?}"),
        }
        let entities = rejected.entities;
        assert!(
            entities.countries.is_empty() && entities.cities.is_empty() && entities.skills.is_empty(),
            "{name}: a rejected row records no entity"
        );
    }
}

#[test]
fn the_snapshot_date_is_the_configured_one_else_the_rows_own_and_never_after_the_latest() {
    let with = |snapshot_date: Option<&str>, latest: Option<&str>, snapshot_id: &'static str| {
        transform_with(
            TransformOptions {
                snapshot_date: snapshot_date.map(day),
                latest_snapshot: latest.map(day),
                counts_only: false,
            },
            row(&[(col::SNAPSHOT_ID, snapshot_id)]),
        )
    };
    let future = with(None, Some("2025-01-30"), "20250131");
    assert_eq!(
        future.result.err(),
        Some(Reject::FutureSnapshotId {
            date: day("2025-01-31"),
            today: day("2025-01-30"),
        })
    );
    let today = with(None, Some("2025-01-31"), "20250131");
    assert_eq!(today.result.expect("loads").snapshot, Some(day("2025-01-31")));

    let overridden = with(Some("2025-03-31"), None, "20250131");
    assert_eq!(
        overridden.result.expect("loads").snapshot,
        Some(day("2025-03-31"))
    );
    assert_eq!(overridden.findings.get(Finding::SnapshotIdOverridden), 1);
    let same = with(Some("2025-01-31"), None, "20250131");
    assert_eq!(same.findings.get(Finding::SnapshotIdOverridden), 0);

    let undated = with(None, None, "");
    let record = undated.result.expect("loads");
    assert_eq!(record.snapshot, None);
    assert_eq!(undated.findings.get(Finding::NoSnapshotDate), 1);
    assert_eq!(record.props.get("snapshotId"), None);
    let configured = with(Some("2025-03-31"), None, "");
    assert_eq!(configured.findings.get(Finding::NoSnapshotDate), 0);
}

#[test]
fn countries_and_cities_unknown_or_unnamed_give_no_code_and_no_node() {
    let unknown = transform(row(&[(col::COUNTRY_OF_RESIDENCE, "Atlantis")]));
    let record = unknown.result.expect("loads");
    assert_eq!(record.props.get("countryOfResidenceCode"), None);
    assert_eq!(record.city_id, None, "a city needs its country");
    assert_eq!(unknown.findings.get(Finding::UnknownCountry), 1);
    assert_eq!(unknown.findings.get(Finding::CityWithoutCountry), 1);
    assert_eq!(
        unknown.findings.unknown_countries(),
        &BTreeMap::from([("Atlantis".to_string(), 1)])
    );
    assert!(unknown.entities.cities.is_empty());
    assert_eq!(unknown.entities.countries.len(), 1, "only Ghana");

    let exact = transform(row(&[(col::COUNTRY_OF_RESIDENCE, "Nigeria")]));
    assert_eq!(exact.findings.get(Finding::CountryVariantResolved), 0);

    let unnamed = transform(row(&[(col::CITY_OF_RESIDENCE, "!!!")]));
    assert_eq!(unnamed.result.expect("loads").city_id, None);
    assert!(unnamed.entities.cities.is_empty());
    assert_eq!(unnamed.findings.get(Finding::CityWithoutCountry), 0);

    let no_origin = transform(row(&[(col::COUNTRY_OF_ORIGIN, "n/a")]));
    assert_eq!(no_origin.result.expect("loads").origin_code, None);
}

#[test]
fn the_employment_flags_give_the_status_and_are_checked_against_is_placed_and_the_cells() {
    let status =
        |wage: &'static str, freelancer: &'static str, venture: &'static str, placed: &'static str| {
            let transformed = transform(row(&[
                (col::IS_WAGE_EMPLOYED, wage),
                (col::IS_FREELANCER, freelancer),
                (col::IS_RUNNING_VENTURE, venture),
                (col::IS_PLACED, placed),
                (col::EMPLOYMENT_DETAILS, "[]"),
                (col::HAS_EMPLOYMENT_DETAILS, "0"),
                (col::HAS_EDUCATION_DETAILS, "0"),
            ]));
            let record = transformed.result.expect("loads");
            (
                record.props.get("currentProfessionalStatus").cloned(),
                record.props.get("isPlaced").cloned(),
                transformed.findings.get(Finding::PlacedFlagMismatch),
                transformed.findings.get(Finding::DetailsFlagMismatch),
            )
        };
    // wage, freelancer, venture, is_placed: the status, isPlaced, and
    // whether is_placed disagrees with the three flags.
    for ((wage, freelancer, venture, placed), expected, is_placed, mismatch) in [
        (("0", "0", "0", "0"), "Unemployed", false, 0),
        (("0", "1", "0", "1"), "Freelancer", true, 0),
        (("0", "0", "1", "1"), "Entrepreneur", true, 0),
        (("0", "1", "1", "0"), "Multiple", true, 1),
        (("1", "0", "0", "0"), "Wage Employed", true, 1),
        (("0", "0", "0", "1"), "Unemployed", false, 1),
    ] {
        assert_eq!(
            status(wage, freelancer, venture, placed),
            (Some(text(expected)), Some(Value::Bool(is_placed)), mismatch, 0),
            "flags {wage}{freelancer}{venture}, is_placed {placed}"
        );
    }

    let claimed = transform(row(&[
        (col::HAS_PLACEMENT_DETAILS, "1"),
        (col::HAS_EDUCATION_DETAILS, "0"),
    ]));
    assert_eq!(
        claimed.findings.get(Finding::DetailsFlagMismatch),
        1,
        "placement_details is []"
    );
    let denied = transform(row(&[
        (col::HAS_EMPLOYMENT_DETAILS, "0"),
        (col::HAS_EDUCATION_DETAILS, "0"),
    ]));
    assert_eq!(
        denied.findings.get(Finding::DetailsFlagMismatch),
        1,
        "employment_details has a job"
    );
}

#[test]
fn organisation_under_either_spelling_of_its_key() {
    let spelled = transform(row(&[(
        col::EMPLOYMENT_DETAILS,
        r#"[{"organization_name":"Acme","start_date":"2023-08-01","is_current":"1"},{"organisation_name":"Beta","organization_name":"Gamma","start_date":"2023-09-01","is_current":"1"}]"#,
    )]));
    let record = spelled.result.expect("loads");
    let companies: Vec<&str> = record.works_for.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        companies,
        ["acme", "beta"],
        "organisation_name wins when both are there"
    );
    assert_eq!(spelled.findings.get(Finding::OrganizationSpelling), 1);
}

#[test]
fn decode_checks_the_column_count_and_names_the_column_that_is_not_utf8() {
    let short = csv::ByteRecord::from(vec!["a"; 3]);
    assert_eq!(
        decode(&short).err(),
        Some(Reject::WrongColumnCount {
            found: 3,
            expected: 58
        })
    );
    let mut fields: Vec<Vec<u8>> = vec![b"x".to_vec(); COLUMNS.len()];
    fields[col::FULL_NAME] = "Zoë Ñandú 🚀".as_bytes().to_vec();
    let record = csv::ByteRecord::from(fields.clone());
    let decoded = decode(&record).expect("UTF-8");
    assert_eq!(decoded.get(col::FULL_NAME), "Zoë Ñandú 🚀");
    assert_eq!(decoded.get(col::SNAPSHOT_ID), "x");
    assert!((0..COLUMNS.len()).all(|c| c == col::FULL_NAME || decoded.get(c) == "x"));

    fields[col::BIO] = vec![b'o', 0xff, b'k'];
    let broken = csv::ByteRecord::from(fields);
    assert_eq!(decode(&broken).err(), Some(Reject::InvalidUtf8 { column: "bio" }));
}

#[test]
fn the_key_a_rejected_row_names_is_its_first_field_trimmed() {
    let hint = |first: &[u8]| key_hint(&csv::ByteRecord::from(vec![first, b"rest"]));
    assert_eq!(hint(b"  abc  ").as_deref(), Some("abc"));
    assert_eq!(hint(b"n/a"), None);
    assert_eq!(hint(b""), None);
    assert_eq!(hint(&[0xff, b'a']), None);
    assert_eq!(key_hint(&csv::ByteRecord::new()), None);
}

#[test]
fn reject_codes_are_the_documented_ones() {
    let date = day("2025-01-31");
    let codes: Vec<&str> = [
        Reject::WrongColumnCount {
            found: 1,
            expected: 58,
        },
        Reject::InvalidUtf8 { column: "bio" },
        Reject::MissingKey,
        Reject::InvalidJson {
            column: "learning_details",
            message: String::new(),
        },
        Reject::DuplicateKey { first_line: 2 },
        Reject::Truncated {
            found: 3,
            expected: 58,
            inside_quotes: true,
        },
        Reject::FutureSnapshotId { date, today: date },
    ]
    .iter()
    .map(Reject::code)
    .collect();
    assert_eq!(
        codes,
        [
            "wrong_column_count",
            "invalid_utf8",
            "missing_key",
            "invalid_json",
            "duplicate_key",
            "truncated",
            "future_snapshot_id"
        ]
    );
    let truncated = |inside_quotes| Reject::Truncated {
        found: 3,
        expected: 58,
        inside_quotes,
    };
    assert!(
        truncated(true)
            .to_string()
            .contains("3 of 58 fields, inside a quoted field")
    );
    assert!(truncated(false).to_string().contains("3 of 58 fields)"));
}

#[test]
fn today_is_the_days_since_the_epoch_by_the_system_clock() {
    let days = |date: NaiveDate| (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        / 86_400;
    let today = days(today());
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        / 86_400;
    assert!(
        (before..=after).contains(&(today as u64)),
        "{before} <= {today} <= {after}"
    );
}
