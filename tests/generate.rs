//! `learngraph generate`: determinism, the header, the flag/JSON consistency
//! rules, and the production profile's shares at 200,000 rows.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

use learngraph::generate::profile;
use learngraph::source::columns::{COLUMNS, col};
use serde_json::Value;

fn reader(path: &Path) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .expect("generated file opens")
}

/// Reads a 0/1 flag as the export writes it.
fn flag(text: &[u8]) -> bool {
    matches!(text, b"1" | b"1.0")
}

fn json(text: &[u8]) -> Vec<Value> {
    serde_json::from_slice::<Value>(text)
        .expect("valid JSON array")
        .as_array()
        .expect("a JSON array")
        .clone()
}

#[test]
fn same_rows_and_seed_give_identical_bytes_whatever_the_thread_count() {
    let dir = common::temp_dir();
    let mut files = Vec::new();
    for (name, threads) in [("one.csv", "1"), ("two.csv", "2"), ("three.csv", "3")] {
        let out = dir.path().join(name);
        let status = Command::new(common::binary())
            .args([
                "generate", "--rows", "9000", "--seed", "11", "--dirty", "0.01", "--out",
            ])
            .arg(&out)
            .env("RAYON_NUM_THREADS", threads)
            .status()
            .expect("generate runs");
        assert!(status.success());
        files.push(std::fs::read(&out).expect("output exists"));
    }
    assert!(files[0].len() > 9000 * 1000, "file is {} bytes", files[0].len());
    assert!(files[0] == files[1], "1 and 2 threads differ");
    assert!(files[0] == files[2], "1 and 3 threads differ");

    let other_seed = common::generate(dir.path(), "other.csv", 9000, 12, 0.01);
    assert!(
        std::fs::read(other_seed).expect("exists") != files[0],
        "another seed gives another file"
    );
}

#[test]
fn header_is_the_58_columns_of_the_input_contract() {
    let dir = common::temp_dir();
    let path = common::generate(dir.path(), "small.csv", 50, 1, 0.0);
    let mut rdr = reader(&path);
    let header: Vec<String> = rdr.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(header, COLUMNS.to_vec());
    let rows = rdr
        .byte_records()
        .map(|r| r.expect("row parses"))
        .collect::<Vec<_>>();
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.len() == 58));
}

/// The column list of docs/input.md, the contract, read as its table
/// writes it: `15-16 | country_of_residence_latitude / _longitude` is two
/// columns, the second named by its suffix.
fn contract_columns() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/input.md"))
        .expect("docs/input.md");
    let mut columns = Vec::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(number), Some(names)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let (first, last) = match number.split_once('-') {
            Some((a, b)) => (a.parse::<usize>(), b.parse::<usize>()),
            None => (number.parse::<usize>(), number.parse::<usize>()),
        };
        let (Ok(first), Ok(last)) = (first, last) else {
            continue;
        };
        assert_eq!(
            first,
            columns.len() + 1,
            "docs/input.md numbers its columns in order: {line}"
        );
        let parts: Vec<&str> = names.split(" / ").collect();
        let stem = parts[0].rsplit_once('_').map_or(parts[0], |(stem, _)| stem);
        for part in &parts {
            columns.push(match part.strip_prefix('_') {
                Some(suffix) => format!("{stem}_{suffix}"),
                None => part.to_string(),
            });
        }
        assert_eq!(columns.len(), last, "{line}");
    }
    columns
}

#[test]
fn the_generated_header_is_the_column_list_of_docs_input_md() {
    let contract = contract_columns();
    assert_eq!(contract.len(), 58, "{contract:?}");
    let dir = common::temp_dir();
    let path = common::generate(dir.path(), "header.csv", 5, 1, 0.0);
    let header: Vec<String> = reader(&path)
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, contract, "the generated header against docs/input.md");
}

/// Counters measured over a generated file.
#[derive(Default)]
struct Measured {
    rows: u64,
    dropped: u64,
    dropped_lower: u64,
    graduated: u64,
    enrolled: u64,
    keys: HashMap<Vec<u8>, u64>,
    names: HashSet<Vec<u8>>,
    sand_missing: u64,
    photo: u64,
    employment_rows: u64,
    employment_entries: u64,
    current_jobs: u64,
    placement_rows: u64,
    education_rows: u64,
    education_entries: u64,
    wage: u64,
    disability: u64,
    skill_pairs: u64,
    skills: HashSet<String>,
    countries: HashSet<String>,
    cities: HashSet<(String, String)>,
    programs: HashSet<String>,
    cohorts: HashSet<String>,
    companies: HashSet<String>,
    organization_spelling: u64,
    ongoing_end: u64,
    flags_as_float: u64,
    na_variants: HashSet<Vec<u8>>,
    bios_with_line_breaks: u64,
    bios_with_emoji: u64,
    accented_cities: u64,
    missing_program_dates: u64,
    lms_missing: u64,
    bytes: u64,
}

/// Lower case, words joined by one space, punctuation dropped: the loose
/// identity used to count distinct free-text values.
fn loose(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn measure(path: &Path) -> Measured {
    let mut m = Measured {
        bytes: std::fs::metadata(path).expect("exists").len(),
        ..Measured::default()
    };
    let mut rdr = reader(path);
    for record in rdr.byte_records() {
        let r = record.expect("a clean file parses");
        assert_eq!(r.len(), 58, "clean rows have 58 fields");
        m.rows += 1;
        *m.keys.entry(r[col::HASHED_EMAIL].to_vec()).or_default() += 1;
        m.names.insert(r[col::FULL_NAME].to_vec());
        if r[col::SAND_ID].eq_ignore_ascii_case(b"n/a") || r[col::SAND_ID].is_empty() {
            m.sand_missing += 1;
        }
        if r[col::PROFILE_PHOTO_URL].starts_with(b"https://") {
            m.photo += 1;
        }
        for c in [col::SAND_ID, col::GENDER, col::BIO, col::COUNTRY_OF_RESIDENCE] {
            if r[c].eq_ignore_ascii_case(b"n/a") {
                m.na_variants.insert(r[c].to_vec());
            }
        }

        // Flag / JSON consistency rules of input.md, checked on every row.
        let learning = json(&r[col::LEARNING_DETAILS]);
        assert_eq!(learning.len(), 1, "exactly one learning entry");
        let entry = &learning[0];
        let status = entry["enrollment_status"].as_str().expect("status");
        assert_eq!(flag(&r[col::IS_GRADUATE]), status == "Graduated");
        assert_eq!(flag(&r[col::IS_ACTIVE]), status == "Enrolled");
        assert_eq!(
            flag(&r[col::IS_DROPPED_OUT]),
            status.eq_ignore_ascii_case("Dropped Out")
        );
        match status {
            "Dropped Out" => m.dropped += 1,
            "Dropped out" => {
                m.dropped += 1;
                m.dropped_lower += 1
            }
            "Graduated" => m.graduated += 1,
            "Enrolled" => m.enrolled += 1,
            other => panic!("unexpected status {other}"),
        }
        m.programs
            .insert(entry["program_name"].as_str().expect("program").to_string());
        m.cohorts
            .insert(entry["cohort_code"].as_str().expect("cohort").to_string());
        if entry["program_start_date"] == "1970-01-01" {
            m.missing_program_dates += 1;
        }
        if entry["lms_overall_score"] == "-99" {
            m.lms_missing += 1;
        }
        let placed = flag(&r[col::IS_WAGE_EMPLOYED])
            || flag(&r[col::IS_FREELANCER])
            || flag(&r[col::IS_RUNNING_VENTURE]);
        assert_eq!(
            flag(&r[col::IS_PLACED]),
            placed,
            "is_placed is 1 exactly when an employment flag is"
        );
        if flag(&r[col::IS_WAGE_EMPLOYED]) {
            m.wage += 1;
        }
        let employment = json(&r[col::EMPLOYMENT_DETAILS]);
        assert_eq!(flag(&r[col::HAS_EMPLOYMENT_DETAILS]), !employment.is_empty());
        if !employment.is_empty() {
            m.employment_rows += 1;
            m.employment_entries += employment.len() as u64;
        }
        for job in &employment {
            let name = job
                .get("organisation_name")
                .or_else(|| job.get("organization_name"))
                .expect("organisation");
            if job.get("organization_name").is_some() {
                m.organization_spelling += 1;
            }
            let name = name.as_str().expect("a string");
            if !name.eq_ignore_ascii_case("n/a") {
                m.companies.insert(loose(name));
            }
            if job["end_date"] == "9999-12-31" {
                m.ongoing_end += 1;
            }
            if job["is_current"] == "1" {
                m.current_jobs += 1;
            }
        }
        let placement = json(&r[col::PLACEMENT_DETAILS]);
        assert_eq!(flag(&r[col::HAS_PLACEMENT_DETAILS]), !placement.is_empty());
        if !placement.is_empty() {
            m.placement_rows += 1;
        }
        for job in &placement {
            let name = job
                .get("organisation_name")
                .or_else(|| job.get("business_name"))
                .expect("a name");
            m.companies.insert(loose(name.as_str().expect("a string")));
        }
        let education = json(&r[col::EDUCATION_DETAILS]);
        assert_eq!(flag(&r[col::HAS_EDUCATION_DETAILS]), !education.is_empty());
        if !education.is_empty() {
            m.education_rows += 1;
            m.education_entries += education.len() as u64;
        }
        assert_eq!(
            flag(&r[col::HAS_PROFILE_PHOTO]),
            r[col::PROFILE_PHOTO_URL].starts_with(b"https://")
        );
        if flag(&r[col::HAS_DISABILITY]) {
            m.disability += 1;
        }
        for c in [col::IS_GRADUATE, col::IS_PLACED, col::HAS_DATA] {
            if r[c].contains(&b'.') {
                m.flags_as_float += 1;
            }
        }

        let skills = std::str::from_utf8(&r[col::SKILLS_LIST]).expect("utf-8");
        if !skills.eq_ignore_ascii_case("n/a") {
            let distinct: HashSet<String> = skills.split(',').map(loose).filter(|s| !s.is_empty()).collect();
            m.skill_pairs += distinct.len() as u64;
            m.skills.extend(distinct);
        }
        let country = loose(std::str::from_utf8(&r[col::COUNTRY_OF_RESIDENCE]).expect("utf-8"));
        let city = std::str::from_utf8(&r[col::CITY_OF_RESIDENCE]).expect("utf-8");
        if !country.is_empty() && country != "n a" {
            m.countries.insert(country.clone());
            if !city.eq_ignore_ascii_case("n/a") {
                if !city.is_ascii() {
                    m.accented_cities += 1;
                }
                m.cities.insert((country, loose(city)));
            }
        }
        let bio = std::str::from_utf8(&r[col::BIO]).expect("utf-8");
        if bio.contains('\n') {
            m.bios_with_line_breaks += 1;
        }
        if bio.chars().any(|c| c as u32 > 0x1F000) {
            m.bios_with_emoji += 1;
        }
    }
    m
}

/// Asserts `actual` is within 10% (relative) of `target`.
fn within_ten_percent(what: &str, actual: f64, target: f64) {
    let off = (actual - target).abs() / target;
    assert!(
        off <= 0.10,
        "{what}: measured {actual:.4}, target {target:.4} ({:.1}% off)",
        off * 100.0
    );
}

#[test]
fn shares_at_200k_rows_follow_the_production_profile() {
    let dir = common::temp_dir();
    let rows = 200_000u64;
    let path = common::generate(dir.path(), "profile.csv", rows, 2024, 0.0);
    let m = measure(&path);
    let n = m.rows as f64;
    assert_eq!(m.rows, rows);

    within_ten_percent(
        "Dropped Out share",
        m.dropped as f64 / n,
        profile::SHARE_DROPPED_OUT,
    );
    within_ten_percent(
        "Graduated share",
        m.graduated as f64 / n,
        profile::SHARE_GRADUATED,
    );
    within_ten_percent("Enrolled share", m.enrolled as f64 / n, profile::SHARE_ENROLLED);
    within_ten_percent(
        "`Dropped out` rows",
        m.dropped_lower as f64,
        profile::expected(rows, profile::RATE_DROPPED_LOWER),
    );
    within_ten_percent(
        "programs",
        m.programs.len() as f64,
        profile::DISTINCT_PROGRAMS as f64,
    );
    within_ten_percent(
        "cohorts",
        m.cohorts.len() as f64,
        profile::DISTINCT_COHORTS as f64,
    );
    within_ten_percent(
        "employment non-empty",
        m.employment_rows as f64 / n,
        profile::SHARE_EMPLOYMENT,
    );
    within_ten_percent(
        "placement non-empty",
        m.placement_rows as f64 / n,
        profile::SHARE_PLACEMENT,
    );
    within_ten_percent(
        "education non-empty",
        m.education_rows as f64 / n,
        profile::SHARE_EDUCATION,
    );
    within_ten_percent(
        "employment entries per non-empty row",
        m.employment_entries as f64 / m.employment_rows as f64,
        profile::MEAN_EMPLOYMENT_ENTRIES,
    );
    within_ten_percent(
        "education entries per non-empty row",
        m.education_entries as f64 / m.education_rows as f64,
        profile::MEAN_EDUCATION_ENTRIES,
    );
    within_ten_percent(
        "current jobs per row",
        m.current_jobs as f64 / n,
        244_138.0 / profile::PRODUCTION_ROWS,
    );
    within_ten_percent(
        "sand_id n/a share",
        m.sand_missing as f64 / n,
        profile::SHARE_SAND_ID_MISSING,
    );
    within_ten_percent("photo share", m.photo as f64 / n, profile::SHARE_PHOTO);
    within_ten_percent(
        "wage employed share",
        m.wage as f64 / n,
        profile::SHARE_WAGE_EMPLOYED,
    );
    within_ten_percent(
        "disability share",
        m.disability as f64 / n,
        profile::SHARE_DISABILITY,
    );
    within_ten_percent(
        "skills per row",
        m.skill_pairs as f64 / n,
        profile::SKILLS_PER_ROW,
    );
    within_ten_percent(
        "distinct skills",
        m.skills.len() as f64,
        profile::DISTINCT_SKILLS as f64,
    );
    // Country variants (`Ivory Coast`, `USA`, ...) add a few loose spellings;
    // the transform maps them to one code each.
    within_ten_percent(
        "distinct countries",
        m.countries.len() as f64,
        profile::DISTINCT_COUNTRIES as f64,
    );
    within_ten_percent(
        "distinct cities",
        m.cities.len() as f64,
        profile::DISTINCT_CITIES as f64,
    );
    within_ten_percent(
        "distinct companies",
        m.companies.len() as f64,
        n * profile::COMPANIES_PER_ROW,
    );
    within_ten_percent(
        "distinct people (full_name)",
        m.names.len() as f64 / n,
        1.0 - profile::SHARE_REPEATED_PERSON,
    );
    within_ten_percent(
        "missing program dates",
        m.missing_program_dates as f64 / n,
        profile::SHARE_MISSING_PROGRAM_DATES,
    );
    within_ten_percent(
        "LMS -99 share",
        m.lms_missing as f64 / n,
        profile::SHARE_LMS_MISSING,
    );
    within_ten_percent("bytes per row", m.bytes as f64 / n, profile::BYTES_PER_ROW);

    // Repeated keys are rare (about 4 at this size); they are placed evenly,
    // so the count is the expected one rounded either way.
    let repeated: u64 = m.keys.values().map(|c| c - 1).sum();
    let expected = profile::expected(rows, profile::RATE_REPEATED_KEY);
    assert!(
        (repeated as f64 - expected).abs() <= 1.0,
        "repeated keys: {repeated}, expected {expected:.1}"
    );

    // The quirks appear.
    assert!(m.organization_spelling > 0, "organization_name spelling");
    assert!(m.ongoing_end > 0, "9999-12-31 end dates");
    assert!(m.flags_as_float > 0, "flags written 1.0/0.0");
    assert!(
        m.na_variants.len() >= 3,
        "n/a in several cases: {:?}",
        m.na_variants
    );
    assert!(
        m.bios_with_line_breaks > 0 && m.bios_with_emoji > 0,
        "bios with line breaks and emoji"
    );
    assert!(m.accented_cities > 0, "accented names");
}

#[test]
fn companies_grow_with_the_row_count() {
    let dir = common::temp_dir();
    let small = measure(&common::generate(dir.path(), "small.csv", 10_000, 5, 0.0));
    let large = measure(&common::generate(dir.path(), "large.csv", 40_000, 5, 0.0));
    let ratio = large.companies.len() as f64 / small.companies.len() as f64;
    assert!(ratio > 3.0, "4x the rows gave {ratio:.2}x the companies");
}

#[test]
fn dirty_files_list_every_injected_fault_at_its_line() {
    let dir = common::temp_dir();
    let path = common::generate(dir.path(), "dirty.csv", 5_000, 3, 0.02);
    let sidecar = dir.path().join("dirty.csv.faults.csv");
    let faults: Vec<(u64, u64, String, String, String)> = csv::Reader::from_path(&sidecar)
        .expect("sidecar exists")
        .deserialize()
        .map(|r| r.expect("sidecar row"))
        .collect();
    assert!(faults.len() > 50, "{} faults at 2% of 5,000 rows", faults.len());
    let kinds: HashSet<&str> = faults.iter().map(|f| f.2.as_str()).collect();
    assert_eq!(kinds.len(), 7, "every fault kind appears: {kinds:?}");

    // Read the file with its positions and check each fault is where the
    // sidecar says, and is the damage it names.
    let mut rdr = reader(&path);
    let mut by_record = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut number = 0u64;
    while rdr
        .read_byte_record(&mut record)
        .expect("csv structure stays valid")
    {
        number += 1;
        by_record.insert(
            number,
            (record.position().expect("position").line(), record.clone()),
        );
    }
    for (line, rec, fault, expected, reported_as) in &faults {
        let (actual_line, row) = &by_record[rec];
        assert_eq!(actual_line, line, "fault {fault} at record {rec}");
        let damaged = match fault.as_str() {
            "invalid_json" => serde_json::from_slice::<Value>(&row[col::LEARNING_DETAILS]).is_err(),
            "too_few_columns" => row.len() == 57,
            "too_many_columns" => row.len() == 59,
            "missing_key" => row[col::HASHED_EMAIL].is_empty(),
            "invalid_utf8" => std::str::from_utf8(&row[col::BIO]).is_err(),
            "nul_byte" => row[col::BIO].contains(&0),
            "unknown_country" => !row[col::COUNTRY_OF_RESIDENCE].is_empty(),
            other => panic!("unknown fault {other}"),
        };
        assert!(damaged, "record {rec} shows no {fault}");
        let cleaned = matches!(fault.as_str(), "nul_byte" | "unknown_country");
        assert_eq!(expected, if cleaned { "cleaned" } else { "rejected" });
        // In check's words: the rejects file's reason, or the finding.
        let words = match fault.as_str() {
            "too_few_columns" | "too_many_columns" => "wrong_column_count",
            "nul_byte" => "nul_bytes_removed",
            same => same,
        };
        assert_eq!(reported_as, words, "record {rec}");
    }
}

/// The follow-up's change report against the two files as the transform
/// reads them: the learners new, gone and changed (fingerprints differ) and
/// the state transitions are exactly what the report says.
#[test]
fn a_follow_up_changes_what_its_report_says_and_nothing_else() {
    use learngraph::graph::records::LearnerRecord;
    use std::collections::{BTreeMap, HashMap};

    let dir = common::temp_dir();
    let base = common::generate(dir.path(), "base.csv", 30_000, 5, 0.0);
    let (next, report) = common::generate_follow_up(dir.path(), "next.csv", 30_000, 5);

    let by_key = |records: Vec<LearnerRecord>| {
        let mut map = HashMap::new();
        for record in records {
            map.entry(record.key.clone()).or_insert(record);
        }
        map
    };
    let before = by_key(common::records(&base));
    let after = by_key(common::records(&next));
    let joining = after.keys().filter(|k| !before.contains_key(*k)).count() as u64;
    let leaving = before.keys().filter(|k| !after.contains_key(*k)).count() as u64;
    let mut changed = 0u64;
    let mut learning = BTreeMap::new();
    let mut professional = BTreeMap::new();
    for (key, new) in &after {
        let Some(old) = before.get(key) else { continue };
        if old.source_hash() != new.source_hash() {
            changed += 1;
        }
        for (property, map) in [
            ("currentLearningState", &mut learning),
            ("currentProfessionalStatus", &mut professional),
        ] {
            if let (Some(a), Some(b)) = (old.text(property), new.text(property))
                && a != b
            {
                *map.entry(format!("{a} -> {b}")).or_insert(0u64) += 1;
            }
        }
    }
    assert_eq!(joining, report.learners_joining);
    assert_eq!(leaving, report.learners_leaving);
    assert_eq!(changed, report.learners_changed);
    assert_eq!(learning, report.learning_transitions);
    assert_eq!(professional, report.professional_transitions);
    let share = changed as f64 / before.len() as f64;
    assert!(
        (0.03..0.08).contains(&share),
        "about 5% of learners change, got {share}"
    );
}
