//! Raw rows to clean graph records.
//!
//! [`Transformer::transform`] takes one row of the export and either returns
//! the [`LearnerRecord`] it writes (adding the shared entities it names to a
//! set) or a [`Reject`] saying why the row cannot be loaded. It never panics
//! on input; every value it cleans is counted in [`Findings`].

pub mod chunk;
pub mod clean;
pub mod country;
pub mod details;
mod education;
pub mod history;
mod learning;
pub mod normalize;
pub mod quality;
mod work;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::graph::records::{EntityCollector, LearnerRecord, NameKind, Props, Rel, SOURCE_HASH};
use crate::source::columns::{COLUMNS, col};
use country::CountryResolver;
use details::{EducationEntry, EmploymentEntry, LearningEntry, PlacementEntry, parse_array};
use quality::{Finding, Findings};

/// Why a row is not loaded. The code names are stable: they appear in the
/// rejects file and the report.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("the row has {found} fields, the header {expected}")]
    WrongColumnCount { found: usize, expected: usize },
    #[error("column {column} is not valid UTF-8")]
    InvalidUtf8 { column: &'static str },
    #[error("hashed_email (the learner key) is empty")]
    MissingKey,
    #[error("column {column} is not a JSON array: {message}")]
    InvalidJson { column: &'static str, message: String },
    #[error("hashed_email repeats the key of the row at line {first_line}; the first row with a key is kept")]
    DuplicateKey { first_line: u64 },
    #[error(
        "the file ends inside this row ({found} of {expected} fields{}): it was cut short; export the file again",
        if *inside_quotes { ", inside a quoted field" } else { "" }
    )]
    Truncated {
        found: usize,
        expected: usize,
        inside_quotes: bool,
    },
    #[error(
        "snapshot_id {date} is after today ({today}): a row cannot come from the future; fix the export's \
         snapshot_id"
    )]
    FutureSnapshotId { date: NaiveDate, today: NaiveDate },
}

impl Reject {
    /// The short, stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::WrongColumnCount { .. } => "wrong_column_count",
            Reject::InvalidUtf8 { .. } => "invalid_utf8",
            Reject::MissingKey => "missing_key",
            Reject::InvalidJson { .. } => "invalid_json",
            Reject::DuplicateKey { .. } => "duplicate_key",
            Reject::Truncated { .. } => "truncated",
            Reject::FutureSnapshotId { .. } => "future_snapshot_id",
        }
    }
}

/// Today's date (UTC): no snapshot, and no row's snapshot_id, may be later.
pub fn today() -> NaiveDate {
    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).date_naive()
}

/// Settings the transform needs, taken from the validated configuration.
#[derive(Clone, Debug, Default)]
pub struct TransformOptions {
    /// The snapshot date; when absent, read from the row's snapshot_id
    /// (YYYYMMDD).
    pub snapshot_date: Option<NaiveDate>,
    /// Rows whose own snapshot_id is after this date are rejected (today,
    /// for every command that reads an export).
    pub latest_snapshot: Option<NaiveDate>,
    /// Build no properties and no `sourceHash` fingerprint: passes that
    /// only count (check, verify, a load's analysis) need neither, and
    /// building them is a third of the transform's work. Findings,
    /// entities, relationships and rejections are the same either way.
    pub counts_only: bool,
}

/// The row transform, built once and shared by every worker thread.
pub struct Transformer {
    countries: CountryResolver,
    options: TransformOptions,
}

/// The fields of one row, by column, as text: checked once, not copied.
pub struct Fields<'r> {
    values: [&'r str; COLUMNS.len()],
}

impl<'r> Fields<'r> {
    /// A row's fields, each already text, in the contract's column order
    /// (a Parquet file's row, read in place).
    pub fn from_text(values: [&'r str; COLUMNS.len()]) -> Self {
        Fields { values }
    }

    fn get(&self, column: usize) -> &'r str {
        self.values[column]
    }
}

/// Checks the shape of a raw record and that every field is UTF-8.
/// The learner key a row names, read as loosely as a rejected row allows:
/// the first field, trimmed, when it is text and not empty. A later
/// snapshot uses it to tell a learner whose row was rejected from one who
/// left the export.
pub fn key_hint(raw: &csv::ByteRecord) -> Option<String> {
    let mut findings = Findings::default();
    std::str::from_utf8(raw.get(col::HASHED_EMAIL)?)
        .ok()
        .and_then(|key| clean::text(key, &mut findings))
}

pub fn decode(raw: &csv::ByteRecord) -> Result<Fields<'_>, Reject> {
    if raw.len() != COLUMNS.len() {
        return Err(Reject::WrongColumnCount {
            found: raw.len(),
            expected: COLUMNS.len(),
        });
    }
    let mut values = [""; COLUMNS.len()];
    // One validation of the whole record, then each field cut from it at
    // char boundaries; a field cut mid-character (or a record that is not
    // UTF-8) is looked at field by field to name its column.
    if let Ok(whole) = std::str::from_utf8(raw.as_slice()) {
        let cut = values.iter_mut().enumerate().all(|(column, value)| {
            match raw.range(column).and_then(|range| whole.get(range)) {
                Some(field) => {
                    *value = field;
                    true
                }
                None => false,
            }
        });
        if cut {
            return Ok(Fields { values });
        }
    }
    for (column, (value, bytes)) in values.iter_mut().zip(raw.iter()).enumerate() {
        *value = std::str::from_utf8(bytes).map_err(|_| Reject::InvalidUtf8 {
            column: COLUMNS[column],
        })?;
    }
    Ok(Fields { values })
}

/// The organisation's name under either spelling of its key; the
/// `organization_name` spelling is counted.
fn organisation_name<'e>(
    organisation: &'e details::Text<'_>,
    organization: &'e details::Text<'_>,
    findings: &mut Findings,
) -> &'e str {
    if organisation.0.is_some() {
        return organisation.as_str();
    }
    if organization.0.is_some() {
        findings.add(Finding::OrganizationSpelling);
    }
    organization.as_str()
}

/// The display form of a free-text name (see [`normalize::display_name`]),
/// or `None` when missing; borrowed from the row when nothing changes.
fn display_text<'a>(raw: &'a str, findings: &mut Findings) -> Option<Cow<'a, str>> {
    Some(match clean::text_ref(raw, findings)? {
        Cow::Borrowed(text) => normalize::display_name(text),
        Cow::Owned(text) => Cow::Owned(normalize::display_name(&text).into_owned()),
    })
}

/// The row's four JSON cells, parsed.
struct Cells<'r> {
    learning: Vec<LearningEntry<'r>>,
    employment: Vec<EmploymentEntry<'r>>,
    placement: Vec<PlacementEntry<'r>>,
    education: Vec<EducationEntry<'r>>,
}

impl<'r> Cells<'r> {
    fn parse(fields: &Fields<'r>) -> Result<Self, Reject> {
        Ok(Cells {
            learning: json_array(fields.get(col::LEARNING_DETAILS), col::LEARNING_DETAILS)?,
            employment: json_array(fields.get(col::EMPLOYMENT_DETAILS), col::EMPLOYMENT_DETAILS)?,
            placement: json_array(fields.get(col::PLACEMENT_DETAILS), col::PLACEMENT_DETAILS)?,
            education: json_array(fields.get(col::EDUCATION_DETAILS), col::EDUCATION_DETAILS)?,
        })
    }
}

/// The learner's own text: name, photo, bio, gender (lower case) and
/// education as the profile states it.
fn profile_props(fields: &Fields<'_>, findings: &mut Findings, props: &mut PropsBuilder) {
    props.str("sandId", clean::text_ref(fields.get(col::SAND_ID), findings));
    props.str("fullName", clean::text_ref(fields.get(col::FULL_NAME), findings));
    props.str(
        "profilePhotoUrl",
        clean::text_ref(fields.get(col::PROFILE_PHOTO_URL), findings),
    );
    props.str("bio", clean::text_ref(fields.get(col::BIO), findings));
    props.str(
        "gender",
        clean::text_ref(fields.get(col::GENDER), findings).map(|g| g.to_lowercase()),
    );
    props.str(
        "educationLevel",
        clean::text_ref(fields.get(col::EDUCATION_LEVEL), findings),
    );
    props.str(
        "educationField",
        clean::text_ref(fields.get(col::EDUCATION_FIELD), findings),
    );
}

/// Skills, from the comma-separated list: deduplicated by id within the row.
fn skills(list: &str, record: &mut LearnerRecord, entities: &mut EntityCollector) {
    for raw in list.split(',') {
        let Some(name) = display_text(raw, &mut Findings::default()) else {
            continue;
        };
        let id = normalize::skill_id(&name);
        if id.is_empty() || record.skills.contains(&id) {
            continue;
        }
        entities.named(NameKind::Skill, &id, &name);
        record.skills.push(id);
    }
}

/// The employment flags, checked against is_placed and the has_*_details
/// flags against their cells.
#[derive(Clone, Copy)]
struct Employment {
    wage: bool,
    freelancer: bool,
    venture: bool,
}

impl Employment {
    fn of(fields: &Fields<'_>, cells: &Cells<'_>, findings: &mut Findings) -> Self {
        let employment = Employment {
            wage: clean::flag(fields.get(col::IS_WAGE_EMPLOYED), findings).unwrap_or(false),
            freelancer: clean::flag(fields.get(col::IS_FREELANCER), findings).unwrap_or(false),
            venture: clean::flag(fields.get(col::IS_RUNNING_VENTURE), findings).unwrap_or(false),
        };
        if clean::flag(fields.get(col::IS_PLACED), findings).is_some_and(|p| p != employment.placed()) {
            findings.add(Finding::PlacedFlagMismatch);
        }
        for (flag_column, empty) in [
            (col::HAS_EMPLOYMENT_DETAILS, cells.employment.is_empty()),
            (col::HAS_EDUCATION_DETAILS, cells.education.is_empty()),
            (col::HAS_PLACEMENT_DETAILS, cells.placement.is_empty()),
        ] {
            if clean::flag(fields.get(flag_column), findings).is_some_and(|has| has == empty) {
                findings.add(Finding::DetailsFlagMismatch);
            }
        }
        employment
    }

    fn placed(self) -> bool {
        self.wage || self.freelancer || self.venture
    }

    fn current_status(self) -> &'static str {
        history::current_status(self.wage, self.freelancer, self.venture)
    }
}

/// The learner's current situation: states, placement and the
/// household and location flags, and the row's snapshot_id.
fn situation_props(
    fields: &Fields<'_>,
    record: &LearnerRecord,
    employment: Employment,
    findings: &mut Findings,
    props: &mut PropsBuilder,
) {
    let learning_state = record.learning_states.last().map(|r| r.target.clone());
    props.str("currentLearningState", learning_state);
    props.str("currentProfessionalStatus", Some(employment.current_status()));
    props.bool("isPlaced", Some(employment.placed()));
    props.bool("isFeatured", clean::flag(fields.get(col::IS_FEATURED), findings));
    props.bool("isRural", clean::flag(fields.get(col::IS_RURAL), findings));
    props.str(
        "livingLocation",
        clean::text_ref(fields.get(col::LIVING_LOCATION), findings),
    );
    props.bool(
        "hasDisability",
        clean::flag(fields.get(col::HAS_DISABILITY), findings),
    );
    props.str(
        "typeOfDisability",
        clean::text_ref(fields.get(col::TYPE_OF_DISABILITY), findings),
    );
    props.bool(
        "isLowIncomeHousehold",
        clean::flag(fields.get(col::IS_LOW_INCOME), findings),
    );
    props.int(
        "snapshotId",
        clean::integer(fields.get(col::SNAPSHOT_ID), findings),
    );
}

fn json_array<'a, T: serde::Deserialize<'a>>(cell: &'a str, column: usize) -> Result<Vec<T>, Reject> {
    parse_array(cell).map_err(|e| Reject::InvalidJson {
        column: COLUMNS[column],
        message: e.to_string(),
    })
}

/// Properties as the transform builds them: kept, or dropped unbuilt when
/// the pass only counts (values arrive borrowed, so a dropped one costs no
/// copy).
struct PropsBuilder {
    props: Props,
    keep: bool,
}

impl PropsBuilder {
    fn str<S: Into<String>>(&mut self, key: &'static str, value: Option<S>) {
        if self.keep {
            self.props.str(key, value.map(Into::into));
        }
    }
    fn int(&mut self, key: &'static str, value: Option<i64>) {
        if self.keep {
            self.props.int(key, value);
        }
    }
    fn float(&mut self, key: &'static str, value: Option<f64>) {
        if self.keep {
            self.props.float(key, value);
        }
    }
    fn bool(&mut self, key: &'static str, value: Option<bool>) {
        if self.keep {
            self.props.bool(key, value);
        }
    }
    fn date(&mut self, key: &'static str, value: Option<NaiveDate>) {
        if self.keep {
            self.props.date(key, value);
        }
    }
    fn finish(self) -> Props {
        self.props
    }
}

impl Transformer {
    fn props(&self) -> PropsBuilder {
        PropsBuilder {
            props: Props::default(),
            keep: !self.options.counts_only,
        }
    }

    pub fn new(options: TransformOptions) -> Self {
        Transformer {
            countries: CountryResolver::new(),
            options,
        }
    }

    /// Transforms one decoded row, in the order of docs/input.md: the key,
    /// the JSON cells, the snapshot date, the profile, the place of
    /// residence, skills, learning, work, education and the current
    /// situation. Shared entities are recorded in the order the row names
    /// them (the first spelling seen breaks ties between display names).
    pub fn transform(
        &self,
        fields: &Fields<'_>,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) -> Result<LearnerRecord, Reject> {
        let key = clean::text(fields.get(col::HASHED_EMAIL), findings).ok_or(Reject::MissingKey)?;
        // Parse every JSON cell first: a broken one rejects the row before
        // any entity is recorded for it.
        let cells = Cells::parse(fields)?;
        let snapshot = self.snapshot_date(fields, findings)?;
        let mut record = LearnerRecord {
            key,
            snapshot,
            ..LearnerRecord::default()
        };
        let mut props = self.props();
        profile_props(fields, findings, &mut props);
        self.residence(fields, &mut record, &mut props, findings, entities);
        skills(fields.get(col::SKILLS_LIST), &mut record, entities);
        self.enrollments(&cells.learning, fields, &mut record, findings, entities);
        let employment = Employment::of(fields, &cells, findings);
        self.professional_history(&cells, employment, &mut record, findings, entities);
        self.studies(&cells.education, &mut record, findings, entities);
        situation_props(fields, &record, employment, findings, &mut props);
        record.props = props.finish();
        if !self.options.counts_only {
            let fingerprint = record.fingerprint();
            record.props.int(SOURCE_HASH, Some(fingerprint));
        }
        Ok(record)
    }

    /// The countries of residence and origin and the city of residence:
    /// their nodes recorded, their codes and id on the learner.
    fn residence(
        &self,
        fields: &Fields<'_>,
        record: &mut LearnerRecord,
        props: &mut PropsBuilder,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) {
        let residence = self.country(
            fields,
            col::COUNTRY_OF_RESIDENCE,
            Some(col::COUNTRY_LAT),
            findings,
            entities,
        );
        let origin = self.country(fields, col::COUNTRY_OF_ORIGIN, None, findings, entities);
        let city_id = self.city(fields, residence, findings, entities);
        props.str("countryOfResidenceCode", residence);
        props.str("countryOfOriginCode", origin);
        props.str("cityOfResidenceId", city_id.as_deref());
        record.city_id = city_id;
        record.origin_code = origin.map(str::to_string);
    }

    /// Jobs and placements, and the professional status history they and
    /// the employment flags give.
    fn professional_history(
        &self,
        cells: &Cells<'_>,
        employment: Employment,
        record: &mut LearnerRecord,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) {
        let periods = self.jobs(&cells.employment, record, findings, entities);
        let placement_start = self.placements(&cells.placement, record, findings, entities);
        record.professional_states = self.state_rels(
            history::professional_spans(periods, employment.current_status(), placement_start),
            record.snapshot,
            findings,
        );
    }

    /// A state history's relationships, bounded to the snapshot (see
    /// [`history::bound`]), with their properties unless the pass only
    /// counts.
    fn state_rels(
        &self,
        mut spans: Vec<history::Span>,
        snapshot: Option<NaiveDate>,
        findings: &mut Findings,
    ) -> Vec<Rel> {
        let bounded = history::bound(&mut spans, snapshot);
        findings.set_add(Finding::StateDateAfterSnapshot, bounded.after_snapshot);
        findings.set_add(Finding::StateDatesOutOfOrder, bounded.out_of_order);
        if self.options.counts_only {
            history::to_targets(spans)
        } else {
            history::to_rels(spans, snapshot)
        }
    }

    /// The snapshot date the row's states and changes are dated by: the
    /// configured one (a load's phase 2 configures the load's date), else
    /// the row's own snapshot_id. A row whose own snapshot_id is after the
    /// latest allowed date (today) is rejected: no export comes from the
    /// future, and its dates would reach into it.
    fn snapshot_date(
        &self,
        fields: &Fields<'_>,
        findings: &mut Findings,
    ) -> Result<Option<NaiveDate>, Reject> {
        let own = clean::compact_date(clean::trim(fields.get(col::SNAPSHOT_ID)));
        if let (Some(own), Some(latest)) = (own, self.options.latest_snapshot)
            && own > latest
        {
            return Err(Reject::FutureSnapshotId {
                date: own,
                today: latest,
            });
        }
        if let Some(date) = self.options.snapshot_date {
            if own.is_some_and(|own| own != date) {
                findings.add(Finding::SnapshotIdOverridden);
            }
            return Ok(Some(date));
        }
        if own.is_none() {
            findings.add(Finding::NoSnapshotDate);
        }
        Ok(own)
    }

    /// Resolves a country column to its code and records the Country node.
    /// `lat_column` is the column of its latitude (longitude follows), when
    /// the row has coordinates for this country.
    fn country(
        &self,
        fields: &Fields<'_>,
        column: usize,
        lat_column: Option<usize>,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) -> Option<&'static str> {
        let name = clean::text_ref(fields.get(column), findings)?;
        let Some(country) = self.countries.resolve(&name) else {
            findings.unknown_country(&name);
            return None;
        };
        let country_name = self.countries.name(country);
        if name != country_name {
            findings.add(Finding::CountryVariantResolved);
        }
        let (latitude, longitude) = match lat_column {
            None => (None, None),
            Some(lat) => (
                clean::number(fields.get(lat), findings),
                clean::number(fields.get(lat + 1), findings),
            ),
        };
        entities.country(country.code, country_name, latitude, longitude);
        Some(country.code)
    }

    fn city(
        &self,
        fields: &Fields<'_>,
        country: Option<&'static str>,
        findings: &mut Findings,
        entities: &mut EntityCollector,
    ) -> Option<String> {
        let name = display_text(fields.get(col::CITY_OF_RESIDENCE), findings)?;
        let Some(code) = country else {
            findings.add(Finding::CityWithoutCountry);
            return None;
        };
        let slug = normalize::entity_id(&name);
        if slug.is_empty() {
            return None;
        }
        let id = format!("{code}-{slug}");
        let latitude = clean::number(fields.get(col::CITY_LAT), findings);
        let longitude = clean::number(fields.get(col::CITY_LNG), findings);
        entities.city(&id, &name, code, latitude, longitude);
        Some(id)
    }

    /// The id of an entry's organisation or institution, its display name
    /// recorded in `entities`; `None` when the entry names none, counted
    /// as `EntryWithoutName` (every kind of entry is skipped then).
    fn organisation(
        raw: &str,
        kind: NameKind,
        entities: &mut EntityCollector,
        findings: &mut Findings,
    ) -> Option<String> {
        let id = display_text(raw, findings).and_then(|name| {
            let id = normalize::entity_id(&name);
            (!id.is_empty()).then(|| {
                entities.named(kind, &id, &name);
                id
            })
        });
        if id.is_none() {
            findings.add(Finding::EntryWithoutName);
        }
        id
    }
}
