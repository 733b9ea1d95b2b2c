//! The records the transform produces for one row, and the shared entities
//! collected across the file. Property values are typed: dates are dates,
//! numbers are numbers, and a missing value is an absent property.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use chrono::NaiveDate;

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
}

/// Properties in a fixed order; absent values are simply not listed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Props(pub Vec<(&'static str, Value)>);

impl Props {
    pub fn str(&mut self, key: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.0.push((key, Value::Str(v)));
        }
    }
    pub fn int(&mut self, key: &'static str, value: Option<i64>) {
        if let Some(v) = value {
            self.0.push((key, Value::Int(v)));
        }
    }
    pub fn float(&mut self, key: &'static str, value: Option<f64>) {
        if let Some(v) = value {
            self.0.push((key, Value::Float(v)));
        }
    }
    pub fn bool(&mut self, key: &'static str, value: Option<bool>) {
        if let Some(v) = value {
            self.0.push((key, Value::Bool(v)));
        }
    }
    pub fn date(&mut self, key: &'static str, value: Option<NaiveDate>) {
        if let Some(v) = value {
            self.0.push((key, Value::Date(v)));
        }
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// A relationship from the learner to the node with key `target`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rel {
    pub target: String,
    pub props: Props,
}

/// Everything one accepted row writes: the Learner node and its relationships.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LearnerRecord {
    /// hashedEmail, the Learner key.
    pub key: String,
    pub props: Props,
    /// Skill ids (HAS_SKILL, source `profile`).
    pub skills: Vec<String>,
    pub enrollments: Vec<Rel>,
    pub works_for: Vec<Rel>,
    pub runs_venture: Vec<Rel>,
    pub studied_at: Vec<Rel>,
    pub learning_states: Vec<Rel>,
    pub professional_states: Vec<Rel>,
    /// For the optional RESIDES_IN and FROM_COUNTRY.
    pub city_id: Option<String>,
    pub origin_code: Option<String>,
    /// The snapshot date the row belongs to (configured or from snapshot_id).
    pub snapshot: Option<NaiveDate>,
}

/// Properties a fingerprint leaves out: they change with every export
/// without the learner changing.
const NOT_FINGERPRINTED: [&str; 2] = ["snapshotId", SOURCE_HASH];

/// The Learner property holding [`LearnerRecord::fingerprint`].
pub const SOURCE_HASH: &str = "sourceHash";

impl LearnerRecord {
    /// The fingerprint the transform stored in the properties.
    pub fn source_hash(&self) -> Option<i64> {
        match self.props.get(SOURCE_HASH) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A text property of the learner.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.props.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A hash of everything this row says about the learner, except what
    /// changes with every export (the snapshot id and the state dates a
    /// missing date borrows from the snapshot): equal fingerprints in two
    /// snapshots mean the learner did not change. The states themselves are
    /// covered by `currentLearningState` / `currentProfessionalStatus` and by
    /// the enrollment and job data their history is built from.
    pub fn fingerprint(&self) -> i64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut feed = |bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        fn props(feed: &mut impl FnMut(&[u8]), props: &Props) {
            for (key, value) in props.0.iter().filter(|(k, _)| !NOT_FINGERPRINTED.contains(k)) {
                feed(key.as_bytes());
                match value {
                    Value::Str(s) => feed(s.as_bytes()),
                    Value::Int(n) => feed(&n.to_le_bytes()),
                    Value::Float(n) => feed(&n.to_bits().to_le_bytes()),
                    Value::Bool(b) => feed(&[u8::from(*b)]),
                    Value::Date(d) => feed(&chrono::Datelike::num_days_from_ce(d).to_le_bytes()),
                }
            }
        }
        feed(self.key.as_bytes());
        props(&mut feed, &self.props);
        feed(b"skills");
        for skill in &self.skills {
            feed(skill.as_bytes());
        }
        for (kind, rels) in [
            ("enrollments", &self.enrollments),
            ("works_for", &self.works_for),
            ("runs_venture", &self.runs_venture),
            ("studied_at", &self.studied_at),
        ] {
            feed(kind.as_bytes());
            for rel in rels {
                feed(rel.target.as_bytes());
                props(&mut feed, &rel.props);
            }
        }
        feed(b"places");
        feed(self.city_id.as_deref().unwrap_or("").as_bytes());
        feed(self.origin_code.as_deref().unwrap_or("").as_bytes());
        // 64 bits: a false "unchanged" needs two versions of one learner
        // to collide, about 1 in 10^19 per change.
        hasher.digest() as i64
    }
}

/// A Country node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountryNode {
    pub name: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A City node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CityNode {
    pub name: String,
    pub country_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// The shared entities, by key: written once, in phase 1 of a load.
#[derive(Clone, Debug, Default)]
pub struct Entities {
    pub countries: HashMap<String, CountryNode>,
    pub cities: HashMap<String, CityNode>,
    /// Skill id -> first display form.
    pub skills: HashMap<String, String>,
    /// Cohort code -> program name (absent when `n/a`).
    pub programs: HashMap<String, Option<String>>,
    /// Company id -> first display form.
    pub companies: HashMap<String, String>,
    /// Institution id -> first display form.
    pub institutions: HashMap<String, String>,
    /// Fingerprints of every (kind, id, display form) seen, to count the
    /// spelling variants merged under one id whatever the chunking.
    pub name_forms: HashSet<u64>,
}

/// Which kind of named entity a display form belongs to.
#[derive(Clone, Copy)]
pub enum NameKind {
    Skill,
    Company,
    Institution,
    City,
}

/// Remembers that `name` was seen as a display form of `id`.
pub fn note_form(forms: &mut HashSet<u64>, kind: NameKind, id: &str, name: &str) {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&[kind as u8]);
    hasher.update(id.as_bytes());
    hasher.update(&[0xFF]);
    hasher.update(name.as_bytes());
    forms.insert(hasher.digest());
}

/// Inserts `name` under `id` unless the id is known (the first display form
/// wins) and notes the form.
pub fn first_name_wins(
    map: &mut HashMap<String, String>,
    forms: &mut HashSet<u64>,
    kind: NameKind,
    id: &str,
    name: &str,
) {
    if !map.contains_key(id) {
        map.insert(id.to_string(), name.to_string());
    }
    note_form(forms, kind, id, name);
}

impl Entities {
    /// Display forms beyond the first of each id: the spelling variants
    /// (case, spacing, punctuation, accents) merged into one node.
    pub fn name_variants(&self) -> u64 {
        let ids = self.skills.len() + self.companies.len() + self.institutions.len() + self.cities.len();
        (self.name_forms.len() as u64).saturating_sub(ids as u64)
    }

    /// Adds `later`'s entities that this set lacks; `later` must come after
    /// `self` in file order, so that first-seen names win.
    pub fn absorb(&mut self, later: Entities) {
        self.name_forms.extend(later.name_forms);
        for (code, country) in later.countries {
            let entry = self.countries.entry(code).or_insert_with(|| country.clone());
            entry.latitude = entry.latitude.or(country.latitude);
            entry.longitude = entry.longitude.or(country.longitude);
        }
        for (id, city) in later.cities {
            match self.cities.get_mut(&id) {
                Some(entry) => {
                    entry.latitude = entry.latitude.or(city.latitude);
                    entry.longitude = entry.longitude.or(city.longitude);
                }
                None => {
                    self.cities.insert(id, city);
                }
            }
        }
        for (map, other) in [
            (&mut self.skills, later.skills),
            (&mut self.companies, later.companies),
            (&mut self.institutions, later.institutions),
        ] {
            for (id, name) in other {
                map.entry(id).or_insert(name);
            }
        }
        for (id, name) in later.programs {
            let entry = self.programs.entry(id).or_insert(None);
            if entry.is_none() {
                *entry = name;
            }
        }
    }
}
