//! The records the transform produces for one row, and the shared entities
//! collected across the file. Property values are typed: dates are dates,
//! numbers are numbers, and a missing value is an absent property.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use chrono::NaiveDate;

use crate::graph::spellings::{FormCount, SpellingTally, Spellings};

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
    /// Skill id -> display form (the first seen until
    /// [`Entities::choose_names`] puts the most frequent).
    pub skills: HashMap<String, String>,
    /// Cohort code -> program name (absent when `n/a`).
    pub programs: HashMap<String, Option<String>>,
    /// Company id -> display form.
    pub companies: HashMap<String, String>,
    /// Institution id -> display form.
    pub institutions: HashMap<String, String>,
    /// Fingerprints of every (kind, id, display form) seen, to count the
    /// spelling variants merged under one id whatever the chunking.
    pub name_forms: HashSet<u64>,
    /// The text of every spelling besides the one the maps above hold, by
    /// its fingerprint: a candidate for the display name.
    pub other_spellings: HashMap<u64, String>,
}

/// Which kind of named entity a display form belongs to.
#[derive(Clone, Copy)]
pub enum NameKind {
    Skill,
    Company,
    Institution,
    City,
}

/// Which kind of shared entity a key names. Each kind has its own map in
/// [`EntityCollector`], so that the small, busy ones (skills, cities,
/// countries) stay in the processor's cache while companies fill theirs.
#[derive(Clone, Copy)]
enum EntityKind {
    Skill,
    Company,
    Institution,
    City,
    Country,
    Program,
}

const ENTITY_KINDS: usize = 6;

impl From<NameKind> for EntityKind {
    fn from(kind: NameKind) -> Self {
        match kind {
            NameKind::Skill => EntityKind::Skill,
            NameKind::Company => EntityKind::Company,
            NameKind::Institution => EntityKind::Institution,
            NameKind::City => EntityKind::City,
        }
    }
}

/// The optional values an entity's occurrence lacks, as bits: a later
/// occurrence that has one of them still adds to the entity.
const NO_LATITUDE: u8 = 1;
const NO_LONGITUDE: u8 = 2;
const NO_NAME: u8 = 4;

fn lacking(latitude: Option<f64>, longitude: Option<f64>) -> u8 {
    (if latitude.is_none() { NO_LATITUDE } else { 0 }) | (if longitude.is_none() { NO_LONGITUDE } else { 0 })
}

/// What a collector handed on for one key.
#[derive(Clone, Copy)]
struct HandedOn {
    /// The optional values it still lacked.
    lacks: u8,
    /// The fingerprint of the first display form handed on: repeats of the
    /// usual spelling need no look in the set of every form.
    first_form: u64,
    /// How often this thread met that first form, and where first: the
    /// usual spelling is counted here, without a second lookup.
    first_count: FormCount,
}

/// The fingerprint of an entity's key, of one kind.
fn key_fingerprint(kind: EntityKind, key: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128_with_seed(key.as_bytes(), kind as u64)
}

/// The fingerprint of a display form, seeded with the key's fingerprint: a
/// form is of one id of one kind.
fn form_fingerprint(key: u128, name: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(name.as_bytes(), key as u64)
}

/// One occurrence of an entity, fingerprinted.
struct Occurrence<'a> {
    kind: EntityKind,
    /// The key's fingerprint (kinds are kept apart by their maps).
    key: u128,
    /// Its display form and that form's fingerprint, for kinds that have one.
    form: Option<(u64, &'a str)>,
    /// The optional values it lacks.
    lacks: u8,
}

impl<'a> Occurrence<'a> {
    fn new(kind: EntityKind, key: &str, name: Option<&'a str>, lacks: u8) -> Self {
        let key = key_fingerprint(kind, key);
        let form = name.map(|name| (form_fingerprint(key, name), name));
        Occurrence {
            kind,
            key,
            form,
            lacks,
        }
    }
}

/// The shared entities one transform thread meets, chunk after chunk.
///
/// Each chunk's entities are merged into the file's in file order
/// ([`Entities::absorb`]), where a repeat of an entity changes nothing: the
/// first name stays (until the spellings' counts choose, see
/// `graph::spellings`), and coordinates or a program name only fill what is
/// still missing. So the collector hands on, per chunk, only what its own
/// earlier chunks did not (a thread takes chunks in file order): the merge
/// then sees each entity about once per thread instead of once per chunk,
/// with the same result (see `handing_on_less_merges_the_same`).
#[derive(Default)]
pub struct EntityCollector {
    /// The current chunk's entities, to hand on.
    pending: Entities,
    /// What was handed on, by kind and key fingerprint.
    handed_on: [HashMap<u128, HandedOn>; ENTITY_KINDS],
    /// The display forms handed on besides each key's first one.
    other_forms: HashSet<u64>,
    /// Every display form met, counted, to choose each node's name.
    pub spellings: SpellingTally,
    /// The program names handed on.
    program_forms: HashSet<u64>,
}

impl EntityCollector {
    /// Each id's spelling, from every thread's counts once the file is read.
    /// Only ids spelled more than one way need a choice: those with another
    /// spelling in some thread, or whose threads met different spellings
    /// first; every other id keeps the one spelling it has.
    pub fn spellings(collectors: &[EntityCollector]) -> Spellings {
        let mut several: HashSet<u128> = HashSet::default();
        for collector in collectors {
            several.extend(collector.spellings.forms.keys().map(|(key, _)| *key));
        }
        for kind in 0..ENTITY_KINDS {
            for (i, collector) in collectors.iter().enumerate() {
                for (key, held) in &collector.handed_on[kind] {
                    let differs = collectors[..i].iter().any(|earlier| {
                        earlier.handed_on[kind]
                            .get(key)
                            .is_some_and(|e| e.first_form != held.first_form)
                    });
                    if differs {
                        several.insert(*key);
                    }
                }
            }
        }
        let several = &several;
        let firsts = collectors.iter().flat_map(|collector| {
            collector.handed_on.iter().flat_map(move |map| {
                several.iter().filter_map(move |key| {
                    let held = map.get(key)?;
                    (held.first_count.count > 0).then_some(((*key, held.first_form), held.first_count))
                })
            })
        });
        let others = collectors.iter().flat_map(|collector| {
            collector
                .spellings
                .forms
                .iter()
                .map(|(form, count)| (*form, *count))
        });
        Spellings::choose(firsts.chain(others))
    }

    /// What follows is chunk `index` of the file.
    pub fn begin_chunk(&mut self, index: u64) {
        self.spellings.begin_chunk(index);
    }

    /// The entities met since the last call, for the chunk just transformed.
    pub fn take(&mut self) -> Entities {
        std::mem::take(&mut self.pending)
    }

    /// Notes the occurrence's display form, and tells whether it adds
    /// anything else to what was handed on (noting that as handed on).
    fn adds(&mut self, occurrence: Occurrence) -> bool {
        let forms = &mut self.pending.name_forms;
        let form = occurrence.form.map(|(form, _)| form);
        let position = if form.is_some() {
            self.spellings.next_position()
        } else {
            0
        };
        match self.handed_on[occurrence.kind as usize].entry(occurrence.key) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(HandedOn {
                    lacks: occurrence.lacks,
                    first_form: form.unwrap_or_default(),
                    first_count: FormCount {
                        count: u64::from(form.is_some()),
                        first: position,
                    },
                });
                forms.extend(form);
                true
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                let handed_on = slot.get_mut();
                if let Some((form, name)) = occurrence.form {
                    if form == handed_on.first_form {
                        handed_on.first_count.count += 1;
                    } else {
                        self.spellings.note_at(occurrence.key, form, position);
                        if self.other_forms.insert(form) {
                            forms.insert(form);
                            self.pending.other_spellings.insert(form, name.to_string());
                        }
                    }
                }
                if handed_on.lacks & !occurrence.lacks == 0 {
                    return false;
                }
                handed_on.lacks &= occurrence.lacks;
                true
            }
        }
    }

    /// A skill, company or institution: the first display form of its id wins.
    pub fn named(&mut self, kind: NameKind, id: &str, name: &str) {
        if !self.adds(Occurrence::new(kind.into(), id, Some(name), 0)) {
            return;
        }
        let map = match kind {
            NameKind::Skill => &mut self.pending.skills,
            NameKind::Company => &mut self.pending.companies,
            NameKind::Institution => &mut self.pending.institutions,
            NameKind::City => return,
        };
        map.entry(id.to_string()).or_insert_with(|| name.to_string());
    }

    /// A city: its first display form wins; the first known coordinates win.
    pub fn city(
        &mut self,
        id: &str,
        name: &str,
        country_code: &str,
        latitude: Option<f64>,
        longitude: Option<f64>,
    ) {
        if !self.adds(Occurrence::new(
            EntityKind::City,
            id,
            Some(name),
            lacking(latitude, longitude),
        )) {
            return;
        }
        match self.pending.cities.get_mut(id) {
            Some(node) => {
                node.latitude = node.latitude.or(latitude);
                node.longitude = node.longitude.or(longitude);
            }
            None => {
                self.pending.cities.insert(
                    id.to_string(),
                    CityNode {
                        name: name.to_string(),
                        country_code: country_code.to_string(),
                        latitude,
                        longitude,
                    },
                );
            }
        }
    }

    /// A country by its code: the first known coordinates win.
    pub fn country(&mut self, code: &str, name: &str, latitude: Option<f64>, longitude: Option<f64>) {
        if !self.adds(Occurrence::new(
            EntityKind::Country,
            code,
            None,
            lacking(latitude, longitude),
        )) {
            return;
        }
        let node = self
            .pending
            .countries
            .entry(code.to_string())
            .or_insert_with(|| CountryNode {
                name: name.to_string(),
                latitude: None,
                longitude: None,
            });
        node.latitude = node.latitude.or(latitude);
        node.longitude = node.longitude.or(longitude);
    }

    /// A program by its cohort code: the first known name stays until the
    /// spellings' counts choose. Its names are no spelling variants of an
    /// id (`name_forms`): every one is handed on once, to choose from.
    pub fn program(&mut self, cohort: &str, name: Option<&str>) {
        // One fingerprint of the cohort serves the name's count and the lookup.
        let key = key_fingerprint(EntityKind::Program, cohort);
        if let Some(name) = name {
            let form = form_fingerprint(key, name);
            self.spellings.note(key, form);
            if self.program_forms.insert(form) {
                self.pending.other_spellings.insert(form, name.to_string());
            }
        }
        let lacks = if name.is_none() { NO_NAME } else { 0 };
        let occurrence = Occurrence {
            kind: EntityKind::Program,
            key,
            form: None,
            lacks,
        };
        if !self.adds(occurrence) {
            return;
        }
        let program = self.pending.programs.entry(cohort.to_string()).or_insert(None);
        if program.is_none() {
            *program = name.map(str::to_string);
        }
    }
}

impl Entities {
    /// Names every skill, company, institution, city and program by the
    /// spelling `spellings` chose for it (the most frequent in the file).
    pub fn choose_names(&mut self, spellings: &Spellings) {
        let others = std::mem::take(&mut self.other_spellings);
        let chosen = |kind: EntityKind, id: &str, name: &mut String| {
            let key = key_fingerprint(kind, id);
            if let Some(best) = spellings.best(key)
                && best != form_fingerprint(key, name)
                && let Some(text) = others.get(&best)
            {
                name.clone_from(text);
            }
        };
        for (kind, map) in [
            (EntityKind::Skill, &mut self.skills),
            (EntityKind::Company, &mut self.companies),
            (EntityKind::Institution, &mut self.institutions),
        ] {
            for (id, name) in map.iter_mut() {
                chosen(kind, id, name);
            }
        }
        for (id, city) in self.cities.iter_mut() {
            chosen(EntityKind::City, id, &mut city.name);
        }
        for (cohort, name) in self.programs.iter_mut() {
            if let Some(name) = name {
                chosen(EntityKind::Program, cohort, name);
            }
        }
    }

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
        for (form, name) in later.other_spellings {
            self.other_spellings.entry(form).or_insert(name);
        }
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
                    if entry.name != city.name {
                        // Another thread's first spelling: a candidate still.
                        let form = form_fingerprint(key_fingerprint(EntityKind::City, &id), &city.name);
                        self.other_spellings.entry(form).or_insert(city.name);
                    }
                }
                None => {
                    self.cities.insert(id, city);
                }
            }
        }
        for (kind, map, other) in [
            (EntityKind::Skill, &mut self.skills, later.skills),
            (EntityKind::Company, &mut self.companies, later.companies),
            (
                EntityKind::Institution,
                &mut self.institutions,
                later.institutions,
            ),
        ] {
            for (id, name) in other {
                match map.get(&id) {
                    // Another thread's first spelling: a candidate still.
                    Some(held) if *held != name => {
                        let form = form_fingerprint(key_fingerprint(kind, &id), &name);
                        self.other_spellings.entry(form).or_insert(name);
                    }
                    Some(_) => {}
                    None => {
                        map.insert(id, name);
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One entity occurrence, as the transform reports it.
    #[derive(Clone, Debug)]
    enum Occurrence {
        Named(u8, &'static str, &'static str),
        City(&'static str, &'static str, Option<f64>, Option<f64>),
        Country(&'static str, Option<f64>, Option<f64>),
        Program(&'static str, Option<&'static str>),
    }

    fn occurrence() -> impl Strategy<Value = Occurrence> {
        let id = prop::sample::select(vec!["a", "b", "c", "d"]);
        let name = prop::sample::select(vec!["A", "a", "Á", "b"]);
        let coordinate = prop::option::of(prop::sample::select(vec![1.0, 2.0]));
        prop_oneof![
            (0u8..3, id.clone(), name.clone()).prop_map(|(kind, id, name)| Occurrence::Named(kind, id, name)),
            (id.clone(), name.clone(), coordinate.clone(), coordinate.clone())
                .prop_map(|(id, name, lat, lng)| Occurrence::City(id, name, lat, lng)),
            (id.clone(), coordinate.clone(), coordinate)
                .prop_map(|(code, lat, lng)| Occurrence::Country(code, lat, lng)),
            (id, prop::option::of(name)).prop_map(|(cohort, name)| Occurrence::Program(cohort, name)),
        ]
    }

    fn collect(collector: &mut EntityCollector, occurrence: &Occurrence) {
        match *occurrence {
            Occurrence::Named(kind, id, name) => {
                let kind = [NameKind::Skill, NameKind::Company, NameKind::Institution][usize::from(kind)];
                collector.named(kind, id, name);
            }
            Occurrence::City(id, name, lat, lng) => collector.city(id, name, "NG", lat, lng),
            Occurrence::Country(code, lat, lng) => collector.country(code, "Nigeria", lat, lng),
            Occurrence::Program(cohort, name) => collector.program(cohort, name),
        }
    }

    fn assert_same(a: &Entities, b: &Entities) {
        assert_eq!(a.countries, b.countries);
        assert_eq!(a.cities, b.cities);
        assert_eq!(a.skills, b.skills);
        assert_eq!(a.companies, b.companies);
        assert_eq!(a.institutions, b.institutions);
        assert_eq!(a.programs, b.programs);
        assert_eq!(a.name_forms, b.name_forms);
    }

    proptest! {
        /// Chunks shared out among threads in any way that keeps each
        /// thread's chunks in file order, merged in file order, give the
        /// entities of a merge of every chunk's full set.
        #[test]
        fn handing_on_less_merges_the_same(
            chunks in prop::collection::vec((prop::collection::vec(occurrence(), 0..12), 0usize..3), 1..10),
        ) {
            let mut every_chunk_whole = Entities::default();
            let mut handed_on = Entities::default();
            let mut threads: [EntityCollector; 3] = Default::default();
            for (occurrences, thread) in &chunks {
                let mut fresh = EntityCollector::default();
                for occurrence in occurrences {
                    collect(&mut fresh, occurrence);
                    collect(&mut threads[*thread], occurrence);
                }
                every_chunk_whole.absorb(fresh.take());
                handed_on.absorb(threads[*thread].take());
            }
            assert_same(&every_chunk_whole, &handed_on);
        }
    }

    /// The reference rule, written plainly: per (kind, id), the spelling
    /// met most often, ties to the first met.
    fn most_frequent(
        occurrences: &[&Occurrence],
    ) -> std::collections::BTreeMap<(u8, &'static str), &'static str> {
        let mut seen: Vec<((u8, &'static str), &'static str, usize)> = Vec::new();
        for occurrence in occurrences {
            let (id, name) = match **occurrence {
                Occurrence::Named(kind, id, name) => ((kind, id), name),
                Occurrence::City(id, name, ..) => ((3, id), name),
                Occurrence::Program(cohort, Some(name)) => ((4, cohort), name),
                _ => continue,
            };
            match seen.iter_mut().find(|(i, n, _)| *i == id && *n == name) {
                Some(entry) => entry.2 += 1,
                None => seen.push((id, name, 1)),
            }
        }
        let mut best: std::collections::BTreeMap<(u8, &'static str), (&'static str, usize)> =
            Default::default();
        for (id, name, count) in seen {
            let held = best.entry(id).or_insert((name, count));
            if count > held.1 {
                *held = (name, count);
            }
        }
        best.into_iter().map(|(id, (name, _))| (id, name)).collect()
    }

    proptest! {
            /// However the chunks are shared among threads, each node is named
            /// by its most frequent spelling, ties going to the first seen.
            #[test]
            fn names_are_the_most_frequent_spelling_whatever_the_threads(
                chunks in prop::collection::vec((prop::collection::vec(occurrence(), 0..12), 0usize..3), 1..10),
            ) {
                let mut file = Entities::default();
                let mut threads: [EntityCollector; 3] = Default::default();
                for (index, (occurrences, thread)) in chunks.iter().enumerate() {
                    let collector = &mut threads[*thread];
                    collector.begin_chunk(index as u64);
                    for occurrence in occurrences {
                        collect(collector, occurrence);
                    }
                    file.absorb(collector.take());
                }
    file.choose_names(&EntityCollector::spellings(&threads));
                let all: Vec<&Occurrence> = chunks.iter().flat_map(|(o, _)| o).collect();
                for ((kind, id), name) in most_frequent(&all) {
                    let chosen = match kind {
                        0 => file.skills[id].clone(),
                        1 => file.companies[id].clone(),
                        2 => file.institutions[id].clone(),
                        3 => file.cities[id].name.clone(),
                        _ => file.programs[id].clone().expect("a named program"),
                    };
                    prop_assert_eq!(chosen, name, "kind {} id {}", kind, id);
                }
            }
        }

    #[test]
    fn a_repeat_is_handed_on_only_when_it_fills_a_gap() {
        let mut collector = EntityCollector::default();
        collector.city("NG-lagos", "Lagos", "NG", None, Some(3.4));
        collector.named(NameKind::Skill, "python", "Python");
        let first = collector.take();
        assert_eq!(first.cities["NG-lagos"].longitude, Some(3.4));
        assert_eq!(first.skills["python"], "Python");

        collector.city("NG-lagos", "LAGOS", "NG", None, Some(9.9));
        collector.named(NameKind::Skill, "python", "Python");
        let nothing_new = collector.take();
        assert!(nothing_new.cities.is_empty() && nothing_new.skills.is_empty());
        assert_eq!(nothing_new.name_forms.len(), 1, "only the new spelling LAGOS");

        collector.city("NG-lagos", "Lagos", "NG", Some(6.5), None);
        let latitude = collector.take();
        assert_eq!(latitude.cities["NG-lagos"].latitude, Some(6.5));
    }
}
