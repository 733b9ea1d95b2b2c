//! The reference model of the snapshot history: from the files alone, what
//! the graph must hold after each load of a sequence.
//!
//! Written for the sequence test from docs/input.md and docs/graph.md, and
//! on purpose independent of the loader: it reads the CSV with the `csv`
//! crate and the JSON cells with `serde_json`, and applies the rules in
//! their plainest form. It never calls the transform or the sink. The only
//! thing it borrows is the generator's list of countries (which spelling
//! names which country), the ground truth of the generated files; codes are
//! checked by consistency (one code per country, one country per code).
//!
//! What it models of each learner: every property docs/graph.md names
//! (the profile's text and flags, the country and city codes, the current
//! states, `isPlaced`, `snapshotId`) and the load's marks `firstSnapshot`,
//! `changedBySnapshot` and `missingSince`; every relationship, counted as
//! it is (a doubled one is a difference), with all of its properties:
//! HAS_SKILL, ENROLLED_IN, WORKS_FOR, RUNS_VENTURE and STUDIED_AT, and both
//! state histories whole (`validFrom`, `validTo`, `isCurrent`,
//! `dateUnknown`, `openedBySnapshot`). Of the graph: the shared nodes'
//! keys, the cities' coordinates and one Snapshot per date with its counts.
//! Names of shared nodes (the most frequent spelling) are left to
//! tests/names.rs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

/// One state relationship of a history.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StateRel {
    pub from: Option<NaiveDate>,
    pub state: String,
    pub to: Option<NaiveDate>,
    pub current: bool,
    pub date_unknown: bool,
    pub opened_by_snapshot: bool,
}

/// A property value in one comparable form; a float by its shortest
/// round-trip text (`{:?}`), so that equal values compare equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prop {
    Text(String),
    Int(i64),
    Float(String),
    Date(NaiveDate),
    Bool(bool),
}

impl Prop {
    pub fn float(value: f64) -> Prop {
        Prop::Float(format!("{value:?}"))
    }
}

/// A node's or relationship's properties by name; a missing value is an
/// absent key, as the graph stores it.
pub type Props = BTreeMap<String, Prop>;

/// A relationship to the node `.0`, with its properties.
pub type Rel = (String, Props);

/// What a learner's accepted row says, as the graph must show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub sand_id: Option<String>,
    /// The country of residence, by the generator's canonical name.
    pub country: Option<String>,
    /// The country of origin, likewise.
    pub origin: Option<String>,
    /// The slug of the city of residence (the graph's id is `CODE-slug`).
    pub city: Option<String>,
    pub learning: String,
    pub professional: String,
    pub placed: bool,
    /// The profile's own properties: fullName, bio, gender, the flags, ...
    pub profile: Props,
    /// Skill ids, sorted, each once per learner.
    pub skills: Vec<String>,
    /// Each of the following sorted, one per relationship the graph holds.
    pub enrollments: Vec<Rel>,
    pub works_for: Vec<Rel>,
    pub ventures: Vec<Rel>,
    pub studies: Vec<Rel>,
}

/// A learner as the graph must hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learner {
    pub facts: Facts,
    pub learning_history: Vec<StateRel>,
    pub professional_history: Vec<StateRel>,
    pub missing_since: Option<NaiveDate>,
    /// The `snapshot_id` of the row the learner was last written from.
    pub snapshot_id: Option<i64>,
    /// The load's marks: the snapshot that created the learner, and the
    /// latest that changed it or brought it back.
    pub first_snapshot: Option<NaiveDate>,
    pub changed_by_snapshot: Option<NaiveDate>,
}

/// A Snapshot node's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub missing: u64,
    pub kept_row_rejected: u64,
}

/// The whole expected graph.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub learners: BTreeMap<String, Learner>,
    pub snapshots: BTreeMap<NaiveDate, SnapshotCounts>,
    pub skills: BTreeSet<String>,
    pub programs: BTreeSet<String>,
    pub companies: BTreeSet<String>,
    pub institutions: BTreeSet<String>,
    /// (country name, city slug) -> coordinates
    pub cities: BTreeMap<(String, String), (Option<String>, Option<String>)>,
    pub countries: BTreeSet<String>,
    /// The learners the last snapshot applied created or changed.
    pub last_written: BTreeSet<String>,
}

/// One file, read by the model.
pub struct Snapshot {
    pub date: NaiveDate,
    /// Accepted rows: the first row of each key, in file order.
    pub rows: BTreeMap<String, Facts>,
    /// Keys of rejected rows that name one (the learner is still in the export).
    pub rejected_keys: BTreeSet<String>,
    /// Rows read and rejected.
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// The record number (1-based, the header aside) of each accepted row.
    pub records: BTreeMap<String, u64>,
    /// Shared nodes named by accepted and duplicate rows.
    pub shared: Model,
}

fn text(raw: &str) -> Option<String> {
    let value = raw.replace('\0', "");
    let value = value.trim();
    (!value.is_empty() && !value.eq_ignore_ascii_case("n/a")).then(|| value.to_string())
}

fn flag(raw: &str) -> bool {
    matches!(raw.trim(), "1" | "1.0" | "true")
}

/// A 0/1 column as the contract allows it (docs/input.md), or `None` when
/// missing or unreadable.
fn optional_flag(raw: &str) -> Option<bool> {
    match raw.replace('\0', "").trim() {
        "1" | "1.0" | "true" | "True" | "TRUE" => Some(true),
        "0" | "0.0" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A number, or `None` for `-99`, a missing marker or text that is none.
fn number(raw: &str) -> Option<f64> {
    let value = raw.trim();
    if text(value).is_none() || value.contains('\0') {
        return None;
    }
    value.parse::<f64>().ok().filter(|n| n.is_finite() && *n != -99.0)
}

/// A whole number (a number with no fraction).
fn integer(raw: &str) -> Option<i64> {
    number(raw)
        .filter(|n| n.fract() == 0.0 && n.abs() < 9.0e15)
        .map(|n| n as i64)
}

/// Adds `name` to `props` when the value is present.
fn put(props: &mut Props, name: &str, value: Option<Prop>) {
    if let Some(value) = value {
        props.insert(name.to_string(), value);
    }
}

/// A date, or `None` for a missing one (`1970-01-01`, `n/a`, ongoing).
fn date(raw: &str) -> Option<NaiveDate> {
    let day = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()?;
    let missing = NaiveDate::from_ymd_opt(1970, 1, 1);
    let ongoing = NaiveDate::from_ymd_opt(9999, 12, 31);
    (Some(day) != missing && Some(day) != ongoing).then_some(day)
}

/// A slug: `+` and `#` spelled out, accents folded (`deunicode`), lower
/// case, words of letters and digits joined by `separator`.
pub fn slug(name: &str, separator: &str) -> String {
    let spelled = deunicode::deunicode(&name.replace('+', " plus ").replace('#', " sharp ")).to_lowercase();
    spelled
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

fn field<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A value of a JSON entry as text: a string as it is, a number in its
/// JSON form (the venture counts are numbers), anything else missing.
fn value_text(entry: &Value, key: &str) -> String {
    match entry.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn text_prop(raw: &str) -> Option<Prop> {
    text(raw).map(Prop::Text)
}

fn date_prop(raw: &str) -> Option<Prop> {
    date(raw).map(Prop::Date)
}

/// Spelling (lower case, trimmed) -> the generator's country name.
fn country_names() -> HashMap<String, String> {
    let world = learngraph::generate::world::World::new(1);
    let mut names: HashMap<String, String> = world
        .countries
        .iter()
        .map(|c| (c.name.to_lowercase(), c.name.to_string()))
        .collect();
    for (canonical, variant) in learngraph::generate::vocab::COUNTRY_VARIANTS {
        names.insert(variant.to_lowercase(), canonical.to_string());
    }
    names
}

/// The learning states of the latest enrollment (by start date).
fn learning_spans(entries: &[Value]) -> Vec<(String, Option<NaiveDate>)> {
    let mut latest: Option<&Value> = None;
    for entry in entries {
        let start = date(field(entry, "program_start_date"));
        if latest.is_none_or(|l| start > date(field(l, "program_start_date"))) {
            latest = Some(entry);
        }
    }
    let Some(entry) = latest else {
        return vec![("Inactive".into(), None)];
    };
    let start = date(field(entry, "program_start_date"));
    let end = date(field(entry, "program_end_date"));
    let graduation = date(field(entry, "program_graduation_date"));
    let active = ("Active".to_string(), start);
    match field(entry, "enrollment_status").trim().to_lowercase().as_str() {
        "enrolled" => vec![active],
        "graduated" => vec![active, ("Graduate".into(), graduation.or(end))],
        "dropped out" => vec![active, ("Dropped Out".into(), end)],
        _ => vec![("Inactive".into(), None)],
    }
}

/// The professional states: wage employment while jobs run (overlapping
/// jobs are one span), unemployment in the gaps, then the flags' status.
fn professional_spans(
    jobs: &[Value],
    current: &str,
    since: Option<NaiveDate>,
) -> Vec<(String, Option<NaiveDate>)> {
    let mut periods: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for job in jobs {
        let Some(start) = date(field(job, "start_date")) else {
            continue;
        };
        let end_text = field(job, "end_date").trim();
        let running = flag(field(job, "is_current")) || end_text == "9999-12-31";
        let end = date(end_text).filter(|e| *e >= start);
        if running {
            periods.push((start, None));
        } else if let Some(end) = end {
            periods.push((start, Some(end)));
        }
    }
    periods.sort_by_key(|p| p.0);
    // Merged employment intervals: (start, end or None while running).
    let mut merged: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for (start, end) in periods {
        match merged.last_mut() {
            Some((_, last_end)) if last_end.is_none_or(|e| start <= e) => {
                *last_end = last_end.zip(end).map(|(a, b)| a.max(b));
            }
            _ => merged.push((start, end)),
        }
    }
    let mut spans: Vec<(String, Option<NaiveDate>)> = Vec::new();
    for (i, (start, _)) in merged.iter().enumerate() {
        if i > 0 {
            spans.push(("Unemployed".into(), merged[i - 1].1));
        }
        spans.push(("Wage Employed".into(), Some(*start)));
    }
    match merged.last() {
        Some((_, None)) if current == "Wage Employed" => return spans,
        Some((_, Some(end))) if current == "Unemployed" => {
            spans.push(("Unemployed".into(), Some(*end)));
            return spans;
        }
        _ => {}
    }
    if spans.last().is_some_and(|s| s.0 == current) {
        return spans;
    }
    let last_from = spans.last().and_then(|s| s.1);
    let since = since.filter(|d| last_from.is_none_or(|l| *d >= l));
    spans.push((current.to_string(), since));
    spans
}

/// A history's relationships as a load dated `snapshot` writes them: no
/// state begins after the snapshot or before the state ahead of it, a
/// current state without a date begins at the snapshot.
fn history(spans: Vec<(String, Option<NaiveDate>)>, snapshot: NaiveDate) -> Vec<StateRel> {
    let mut latest: Option<NaiveDate> = None;
    let mut bounded: Vec<(String, Option<NaiveDate>, bool)> = spans
        .into_iter()
        .map(|(state, from)| {
            let unknown = from.is_none();
            let from = from
                .map(|d| d.min(snapshot))
                .map(|d| latest.map_or(d, |l| d.max(l)));
            latest = from.or(latest);
            (state, from, unknown)
        })
        .collect();
    if let Some(last) = bounded.last_mut() {
        last.1 = last.1.or(Some(snapshot));
    }
    let count = bounded.len();
    (0..count)
        .map(|i| {
            let current = i + 1 == count;
            let to = if current { None } else { bounded[i + 1].1 };
            StateRel {
                from: bounded[i].1,
                state: bounded[i].0.clone(),
                to,
                current,
                // Its own date unknown, or (closed) the date it ended.
                date_unknown: bounded[i].2 || (!current && to.is_none()),
                opened_by_snapshot: false,
            }
        })
        .collect()
}

/// The status the employment flags give.
fn current_status(wage: bool, freelancer: bool, venture: bool) -> &'static str {
    match (wage, freelancer, venture) {
        (false, false, false) => "Unemployed",
        (true, false, false) => "Wage Employed",
        (false, true, false) => "Freelancer",
        (false, false, true) => "Entrepreneur",
        _ => "Multiple",
    }
}

/// A row the model accepts, read into its facts and both histories.
struct Row {
    facts: Facts,
    learning: Vec<(String, Option<NaiveDate>)>,
    professional: Vec<(String, Option<NaiveDate>)>,
    shared: Model,
    own_date: Option<NaiveDate>,
    snapshot_id: Option<i64>,
}

fn column(name: &str) -> usize {
    learngraph::source::columns::COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("a column of the export")
}

fn json_array(cell: &str) -> Option<Vec<Value>> {
    match serde_json::from_str::<Value>(cell.trim()) {
        Ok(Value::Array(entries)) => Some(entries),
        _ => None,
    }
}

/// The learner's own properties from its row's columns (docs/graph.md).
fn profile(fields: &[&str]) -> Props {
    let get = |name: &str| fields[column(name)];
    let mut props = Props::new();
    for (name, column) in [
        ("fullName", "full_name"),
        ("profilePhotoUrl", "profile_photo_url"),
        ("bio", "bio"),
        ("educationLevel", "education_level_of_study"),
        ("educationField", "education_field_of_study"),
        ("livingLocation", "description_of_living_location"),
        ("typeOfDisability", "type_of_disability"),
    ] {
        put(&mut props, name, text_prop(get(column)));
    }
    put(
        &mut props,
        "gender",
        text(get("gender")).map(|g| Prop::Text(g.to_lowercase())),
    );
    for (name, column) in [
        ("isFeatured", "is_featured"),
        ("isRural", "is_rural"),
        ("hasDisability", "has_disability"),
        ("isLowIncomeHousehold", "is_from_low_income_household"),
    ] {
        put(&mut props, name, optional_flag(get(column)).map(Prop::Bool));
    }
    props
}

/// ENROLLED_IN's properties from a learning_details entry.
fn enrollment(entry: &Value, cohort: &str) -> Props {
    let mut props = Props::new();
    let status = match field(entry, "enrollment_status").trim().to_lowercase().as_str() {
        "enrolled" => Some("Enrolled"),
        "graduated" => Some("Graduated"),
        "dropped out" => Some("Dropped Out"),
        _ => None,
    };
    put(&mut props, "cohortCode", Some(Prop::Text(cohort.to_string())));
    put(
        &mut props,
        "enrollmentStatus",
        status.map(|s| Prop::Text(s.into())),
    );
    put(
        &mut props,
        "isCompleted",
        status.map(|s| Prop::Bool(s == "Graduated")),
    );
    put(
        &mut props,
        "isDropped",
        status.map(|s| Prop::Bool(s == "Dropped Out")),
    );
    let start = date(field(entry, "program_start_date"));
    let end = date(field(entry, "program_end_date"));
    put(&mut props, "startDate", start.map(Prop::Date));
    put(&mut props, "endDate", end.map(Prop::Date));
    put(
        &mut props,
        "graduationDate",
        date_prop(field(entry, "program_graduation_date")),
    );
    let days = start
        .zip(end)
        .map(|(s, e)| (e - s).num_days())
        .filter(|d| *d >= 0);
    put(&mut props, "durationDays", days.map(Prop::Int));
    for (name, key) in [
        ("lmsOverallScore", "lms_overall_score"),
        ("completionRate", "completion_rate"),
        ("assignmentCompletionRate", "assignment_completion_rate"),
        ("milestoneCompletionRate", "milestone_completion_rate"),
        ("testCompletionRate", "test_completion_rate"),
    ] {
        put(&mut props, name, number(&value_text(entry, key)).map(Prop::float));
    }
    for (name, key) in [
        ("assignments", "no_of_assignments"),
        ("assignmentsSubmitted", "no_of_submissions"),
        ("assignmentsPassed", "no_of_assignment_passed"),
        ("milestones", "no_of_milestone"),
        ("milestonesSubmitted", "no_of_milestone_submitted"),
        ("milestonesPassed", "no_of_milestone_passed"),
        ("tests", "no_of_test"),
        ("testsSubmitted", "no_of_test_submitted"),
        ("testsPassed", "no_of_test_passed"),
    ] {
        put(&mut props, name, integer(&value_text(entry, key)).map(Prop::Int));
    }
    props
}

/// WORKS_FOR's properties from an employment_details entry.
fn job(entry: &Value) -> Props {
    let mut props = Props::new();
    let end_text = field(entry, "end_date").trim();
    let current = flag(field(entry, "is_current")) || end_text == "9999-12-31";
    put(&mut props, "position", text_prop(field(entry, "job_title")));
    put(&mut props, "startDate", date_prop(field(entry, "start_date")));
    put(&mut props, "endDate", date_prop(end_text));
    put(&mut props, "isCurrent", Some(Prop::Bool(current)));
    put(
        &mut props,
        "source",
        Some(Prop::Text("employment_details".into())),
    );
    let months = number(&value_text(entry, "duration_in_years"))
        .map(|years| (years * 12.0).round() as i64)
        .filter(|m| *m >= 0);
    put(&mut props, "durationMonths", months.map(Prop::Int));
    props
}

/// WORKS_FOR's properties from a placement_details entry of wage or
/// freelance work (current, as a placement is).
fn placed_work(entry: &Value) -> Props {
    let mut props = Props::new();
    put(&mut props, "position", text_prop(field(entry, "job_title")));
    put(&mut props, "startDate", date_prop(field(entry, "job_start_date")));
    put(&mut props, "isCurrent", Some(Prop::Bool(true)));
    put(
        &mut props,
        "employmentType",
        text_prop(field(entry, "employment_type")),
    );
    put(&mut props, "salaryRange", text_prop(field(entry, "salary_range")));
    put(&mut props, "source", Some(Prop::Text("placement_details".into())));
    props
}

/// RUNS_VENTURE's properties from a placement_details entry of a venture.
fn venture(entry: &Value) -> Props {
    let mut props = Props::new();
    put(&mut props, "startDate", date_prop(field(entry, "job_start_date")));
    put(
        &mut props,
        "jobsCreated",
        integer(&value_text(entry, "jobs_created_to_date")).map(Prop::Int),
    );
    put(
        &mut props,
        "capitalSecured",
        number(&value_text(entry, "capital_secured_todate")).map(Prop::float),
    );
    put(
        &mut props,
        "femaleOpportunities",
        integer(&value_text(entry, "female_opp_todate")).map(Prop::Int),
    );
    props
}

/// STUDIED_AT's properties from an education_details entry.
fn study(entry: &Value) -> Props {
    let mut props = Props::new();
    put(
        &mut props,
        "fieldOfStudy",
        text_prop(field(entry, "field_of_study")),
    );
    put(
        &mut props,
        "levelOfStudy",
        text_prop(field(entry, "level_of_study")),
    );
    put(&mut props, "startDate", date_prop(field(entry, "start_date")));
    put(&mut props, "endDate", date_prop(field(entry, "end_date")));
    put(
        &mut props,
        "graduated",
        optional_flag(field(entry, "graduated")).map(Prop::Bool),
    );
    props
}

fn read_row(fields: &[&str], countries: &HashMap<String, String>) -> Option<Row> {
    let get = |name: &str| fields[column(name)];
    let learning = json_array(get("learning_details"))?;
    let employment = json_array(get("employment_details"))?;
    let placement = json_array(get("placement_details"))?;
    let education = json_array(get("education_details"))?;
    let own_date = NaiveDate::parse_from_str(get("snapshot_id").trim(), "%Y%m%d").ok();
    let mut shared = Model::default();
    let mut facts = Facts {
        sand_id: text(get("sand_id")),
        profile: profile(fields),
        ..Facts::default()
    };
    let lookup = |cell: &str| text(cell).and_then(|name| countries.get(&name.to_lowercase()).cloned());
    facts.country = lookup(get("country_of_residence"));
    if let Some(country) = &facts.country {
        shared.countries.insert(country.clone());
        let coordinates = (
            text(get("city_of_residence_latitude")),
            text(get("city_of_residence_longitude")),
        );
        facts.city = text(get("city_of_residence"))
            .map(|c| slug(&c, "-"))
            .filter(|s| !s.is_empty());
        if let Some(city) = &facts.city {
            shared.cities.insert((country.clone(), city.clone()), coordinates);
        }
    }
    facts.origin = lookup(get("country_of_origin"));
    shared.countries.extend(facts.origin.clone());
    for skill in get("skills_list").split(',') {
        let id = text(skill).map(|s| slug(&s, "_")).unwrap_or_default();
        if !id.is_empty() && !facts.skills.contains(&id) {
            facts.skills.push(id.clone());
            shared.skills.insert(id);
        }
    }
    for entry in &learning {
        let Some(cohort) = text(field(entry, "cohort_code")) else {
            continue;
        };
        shared.programs.insert(cohort.clone());
        if !facts.enrollments.iter().any(|(c, _)| *c == cohort) {
            let props = enrollment(entry, &cohort);
            facts.enrollments.push((cohort, props));
        }
    }
    let company = |name: &str, shared: &mut Model| {
        let id = text(name).map(|n| slug(&n, "-")).filter(|s| !s.is_empty())?;
        shared.companies.insert(id.clone());
        Some(id)
    };
    for entry in &employment {
        let name = entry
            .get("organisation_name")
            .or_else(|| entry.get("organization_name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(id) = company(name, &mut shared) {
            facts.works_for.push((id, job(entry)));
        }
    }
    let mut since: Option<NaiveDate> = None;
    for entry in &placement {
        since = since.max(date(field(entry, "job_start_date")));
        if let Some(business) = entry.get("business_name").and_then(Value::as_str) {
            if let Some(id) = company(business, &mut shared) {
                facts.ventures.push((id, venture(entry)));
            }
            continue;
        }
        let name = entry
            .get("organisation_name")
            .or_else(|| entry.get("organization_name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(id) = company(name, &mut shared) {
            facts.works_for.push((id, placed_work(entry)));
        }
    }
    for entry in &education {
        if let Some(id) = text(field(entry, "institution_name"))
            .map(|n| slug(&n, "-"))
            .filter(|s| !s.is_empty())
        {
            shared.institutions.insert(id.clone());
            facts.studies.push((id, study(entry)));
        }
    }
    facts.skills.sort();
    facts.enrollments.sort();
    facts.works_for.sort();
    facts.ventures.sort();
    facts.studies.sort();
    let (wage, freelancer, venture) = (
        flag(get("is_wage_employed")),
        flag(get("is_a_freelancer")),
        flag(get("is_running_a_venture")),
    );
    facts.placed = wage || freelancer || venture;
    facts.professional = current_status(wage, freelancer, venture).to_string();
    let learning_spans = learning_spans(&learning);
    facts.learning = learning_spans.last().map(|s| s.0.clone()).unwrap_or_default();
    let professional = professional_spans(&employment, &facts.professional, since);
    Some(Row {
        facts,
        learning: learning_spans,
        professional,
        shared,
        own_date,
        snapshot_id: integer(get("snapshot_id")),
    })
}

impl Model {
    /// Adds the shared nodes `other` names (shared nodes are never deleted).
    pub fn absorb_shared(&mut self, other: &Model) {
        self.skills.extend(other.skills.iter().cloned());
        self.programs.extend(other.programs.iter().cloned());
        self.companies.extend(other.companies.iter().cloned());
        self.institutions.extend(other.institutions.iter().cloned());
        self.countries.extend(other.countries.iter().cloned());
        for (city, coordinates) in &other.cities {
            let known = self.cities.entry(city.clone()).or_default();
            if known.0.is_none() && known.1.is_none() {
                *known = coordinates.clone();
            }
        }
    }
}

/// Reads one file as the model sees it; `today` bounds the rows' own dates.
pub fn read(path: &Path, today: NaiveDate) -> Snapshot {
    let countries = country_names();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .expect("the snapshot opens");
    let mut rows: BTreeMap<String, Facts> = BTreeMap::new();
    let mut records: BTreeMap<String, u64> = BTreeMap::new();
    let mut histories: Vec<(String, Row)> = Vec::new();
    let mut rejected_keys = BTreeSet::new();
    let mut dates: HashMap<NaiveDate, u64> = HashMap::new();
    let mut shared = Model::default();
    let (mut rows_read, mut rows_rejected) = (0u64, 0u64);
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).expect("the file reads") {
        rows_read += 1;
        let hint = record
            .get(0)
            .and_then(|k| std::str::from_utf8(k).ok())
            .and_then(text);
        let fields: Option<Vec<&str>> = (record.len() == 58)
            .then(|| record.iter().map(|f| std::str::from_utf8(f).ok()).collect())
            .flatten();
        let row = fields
            .as_deref()
            .and_then(|f| hint.as_ref().and_then(|_| read_row(f, &countries)));
        let Some(row) = row.filter(|r| r.own_date.is_none_or(|d| d <= today)) else {
            rows_rejected += 1;
            rejected_keys.extend(hint);
            continue;
        };
        let key = hint.expect("an accepted row has a key");
        shared.absorb_shared(&row.shared);
        if rows.contains_key(&key) {
            rows_rejected += 1;
            continue;
        }
        if let Some(d) = row.own_date {
            *dates.entry(d).or_default() += 1;
        }
        rows.insert(key.clone(), row.facts.clone());
        records.insert(key.clone(), rows_read);
        histories.push((key, row));
    }
    let date = dates
        .iter()
        .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))
        .map(|(d, _)| *d)
        .expect("the file has a snapshot date");
    let mut snapshot = Snapshot {
        date,
        rows,
        rejected_keys,
        rows_read,
        rows_rejected,
        records,
        shared,
    };
    snapshot.shared.learners = histories
        .into_iter()
        .map(|(key, row)| {
            let learner = Learner {
                learning_history: history(row.learning, date),
                professional_history: history(row.professional, date),
                facts: row.facts,
                missing_since: None,
                snapshot_id: row.snapshot_id,
                first_snapshot: Some(date),
                changed_by_snapshot: None,
            };
            (key, learner)
        })
        .collect();
    snapshot
}

/// Closes the current state of a history and opens `state` at `date`.
fn transition(history: &mut Vec<StateRel>, state: &str, date: NaiveDate) {
    if history.iter().any(|r| r.current && r.state == state) {
        return;
    }
    for rel in history.iter_mut().filter(|r| r.current) {
        rel.current = false;
        rel.to = Some(date);
    }
    history.push(StateRel {
        from: Some(date),
        state: state.to_string(),
        to: None,
        current: true,
        date_unknown: false,
        opened_by_snapshot: true,
    });
}

impl Model {
    /// The graph after a complete load of `snapshot` onto this one.
    pub fn apply(&mut self, snapshot: &Snapshot) {
        let mut counts = SnapshotCounts::default();
        self.last_written.clear();
        for (key, row) in &snapshot.shared.learners {
            match self.learners.get_mut(key) {
                None => {
                    counts.new += 1;
                    self.last_written.insert(key.clone());
                    self.learners.insert(key.clone(), row.clone());
                }
                Some(known) => {
                    if known.missing_since.is_none() && known.facts == row.facts {
                        counts.unchanged += 1;
                        continue;
                    }
                    counts.changed += 1;
                    self.last_written.insert(key.clone());
                    known.missing_since = None;
                    known.snapshot_id = row.snapshot_id;
                    known.changed_by_snapshot = Some(snapshot.date);
                    transition(&mut known.learning_history, &row.facts.learning, snapshot.date);
                    transition(
                        &mut known.professional_history,
                        &row.facts.professional,
                        snapshot.date,
                    );
                    known.facts = row.facts.clone();
                }
            }
        }
        for (key, learner) in self.learners.iter_mut() {
            if learner.missing_since.is_some() || snapshot.rows.contains_key(key) {
                continue;
            }
            if snapshot.rejected_keys.contains(key) {
                counts.kept_row_rejected += 1;
            } else {
                counts.missing += 1;
                learner.missing_since = Some(snapshot.date);
            }
        }
        let shared = snapshot.shared.clone();
        for (city, coordinates) in &shared.cities {
            if coordinates.0.is_some() || coordinates.1.is_some() {
                self.cities.insert(city.clone(), coordinates.clone());
            }
        }
        self.absorb_shared(&shared);
        self.snapshots.entry(snapshot.date).or_insert(counts);
    }

    /// What `load --dry-run` of `snapshot` must plan on this graph:
    /// (new, returning, to mark missing, kept with their row rejected).
    pub fn plan(&self, snapshot: &Snapshot) -> (u64, u64, u64, u64) {
        let new = snapshot
            .rows
            .keys()
            .filter(|k| !self.learners.contains_key(*k))
            .count() as u64;
        let returning = snapshot
            .rows
            .keys()
            .filter(|k| self.learners.get(*k).is_some_and(|l| l.missing_since.is_some()))
            .count() as u64;
        let present: Vec<&String> = self
            .learners
            .iter()
            .filter(|(k, l)| l.missing_since.is_none() && !snapshot.rows.contains_key(*k))
            .map(|(k, _)| k)
            .collect();
        let kept = present
            .iter()
            .filter(|k| snapshot.rejected_keys.contains(**k))
            .count() as u64;
        (new, returning, present.len() as u64 - kept, kept)
    }
}
