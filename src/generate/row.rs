//! One generated row: every field of the 58 columns, drawn from a random
//! stream seeded by (seed, row number) so that rows can be generated on any
//! thread in any order and still give a byte-identical file.

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::faults::Fault;
use super::fields::{RowFields, mix, unit};
use super::profile;
use super::vocab;
use super::world::{self, World};
use crate::source::columns::col;

/// Domain separators so that different decisions about one row never share
/// a hash.
const KEY_SPACE: u64 = 1;
const PERSON_SPACE: u64 = 2;
const REPEAT_SPACE: u64 = 3;
const ROW_SPACE: u64 = 4;
const UNIQUE_COMPANY_SPACE: u64 = 5;
const FAULT_SPACE: u64 = 6;

/// True on about `rate * rows` evenly spread rows: rare events are placed
/// systematically so that small files still show them at the profile's rate.
pub fn systematic(row: u64, rate: f64, phase: f64) -> bool {
    let position = row as f64 + phase;
    (position * rate).floor() != ((position - 1.0) * rate).floor()
}

/// Per-file decisions that do not depend on one row.
pub struct RowGenerator<'w> {
    pub world: &'w World,
    pub seed: u64,
    pub dirty_rate: f64,
    phases: [f64; 6],
}

const PHASE_REPEATED_KEY: usize = 0;
const PHASE_DROPPED_LOWER: usize = 1;
const PHASE_GRADUATED_NO_DATE: usize = 2;
const PHASE_DATE_NOT_GRADUATED: usize = 3;
const PHASE_END_BEFORE_START: usize = 4;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

const MISSING_DATE: &str = "1970-01-01";
const ONGOING_DATE: &str = "9999-12-31";

impl<'w> RowGenerator<'w> {
    pub fn new(world: &'w World, seed: u64, dirty_rate: f64) -> Self {
        let mut phases = [0.0; 6];
        for (i, phase) in phases.iter_mut().enumerate() {
            *phase = unit(mix(seed, 1000 + i as u64)) * 1_000_000.0;
        }
        RowGenerator {
            world,
            seed,
            dirty_rate,
            phases,
        }
    }

    fn hash(&self, space: u64, n: u64) -> u64 {
        mix(mix(self.seed, space), n)
    }

    /// The hash of row `n` in a decision space of another module.
    pub fn hash_of(&self, space: u64, n: u64) -> u64 {
        self.hash(space, n)
    }

    /// The row whose key row `row` carries (itself unless it repeats one).
    pub fn key_of(&self, row: u64) -> u64 {
        self.key_index(row)
    }

    /// The learner key index of row `row`: its own, or an earlier row's for
    /// the few rows that repeat a key.
    fn key_index(&self, row: u64) -> u64 {
        if row > 0 && systematic(row, profile::RATE_REPEATED_KEY, self.phases[PHASE_REPEATED_KEY]) {
            self.key_index(self.hash(REPEAT_SPACE, row) % row)
        } else {
            row
        }
    }

    /// Whether `row` repeats an earlier row's key (for tests and the sidecar).
    pub fn repeats_key(&self, row: u64) -> bool {
        self.key_index(row) != row
    }

    /// The person behind row `row`: people enrolled in several programs
    /// appear under several keys with one full_name hash.
    fn person_index(&self, row: u64) -> u64 {
        let h = self.hash(PERSON_SPACE, row);
        if row > 0 && unit(h) < profile::SHARE_REPEATED_PERSON {
            self.person_index(mix(h, 7) % row)
        } else {
            row
        }
    }

    /// The fault `--dirty` injects into `row`, if any.
    pub fn fault(&self, row: u64) -> Option<Fault> {
        self.fault_in(row, 1)
    }

    /// The fault `--dirty` injects into `row` in snapshot `step` of a
    /// sequence (1 is the first file, as [`Self::fault`]): each snapshot
    /// damages other rows, so a learner's row may be rejected in one
    /// snapshot and fine in the next.
    pub fn fault_in(&self, row: u64, step: u32) -> Option<Fault> {
        let mut h = self.hash(FAULT_SPACE, row);
        if step > 1 {
            h = mix(h, u64::from(step));
        }
        (unit(h) < self.dirty_rate).then(|| Fault::ALL[(mix(h, 1) % Fault::ALL.len() as u64) as usize])
    }

    /// Fills `out` with row number `row` (0-based, header excluded).
    pub fn fill(&self, row: u64, out: &mut RowFields) {
        self.fill_clean(row, out);
        self.damage(row, 1, out);
    }

    /// Damages the filled row `row` of snapshot `step` with its fault, if
    /// it has one; returns it.
    pub fn damage(&self, row: u64, step: u32, out: &mut RowFields) -> Option<Fault> {
        let fault = self.fault_in(row, step)?;
        let mut h = self.hash(FAULT_SPACE, row);
        if step > 1 {
            h = mix(h, u64::from(step));
        }
        fault.apply(out, h);
        Some(fault)
    }

    /// Fills `out` with row number `row`, undamaged.
    pub fn fill_clean(&self, row: u64, out: &mut RowFields) {
        for field in &mut out.fields {
            field.clear();
        }
        out.fields.resize(58, Vec::new());
        out.residence = None;
        out.origin = None;
        let mut rng = Pcg64Mcg::seed_from_u64(self.hash(ROW_SPACE, row));
        let mut ctx = Ctx {
            generator: self,
            rng: &mut rng,
            out,
            row,
        };
        ctx.fill();
    }

    fn hex_id(&self, space: u64, n: u64, buf: &mut Vec<u8>) {
        for part in 0..4 {
            let _ = std::io::Write::write_fmt(buf, format_args!("{:016x}", mix(self.hash(space, n), part)));
        }
    }
}

/// State for generating one row.
struct Ctx<'a, 'w> {
    generator: &'a RowGenerator<'w>,
    rng: &'a mut Pcg64Mcg,
    out: &'a mut RowFields,
    row: u64,
}

/// Which status the learning entry holds.
#[derive(Clone, Copy, PartialEq)]
enum Status {
    DroppedOut,
    Graduated,
    Enrolled,
}

impl Ctx<'_, '_> {
    fn set(&mut self, column: usize, value: &str) {
        self.out.set(column, value);
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.rng.gen_range(0..items.len())]
    }

    /// A 0/1 flag as the export writes it: mostly `0`/`1`, sometimes `0.0`/`1.0`.
    fn flag(&mut self, column: usize, value: bool) {
        let text = match (value, self.chance(profile::SHARE_FLAG_AS_FLOAT)) {
            (true, false) => "1",
            (false, false) => "0",
            (true, true) => "1.0",
            (false, true) => "0.0",
        };
        self.set(column, text);
    }

    /// `n/a` in one of the case variants the export holds.
    fn missing(&mut self) -> &'static str {
        match self.rng.gen_range(0..20) {
            0 => "N/A",
            1 => "N/a",
            2 => "",
            _ => "n/a",
        }
    }

    fn fill(&mut self) {
        let generator = self.generator;
        let row = self.row;
        let key = generator.key_index(row);
        generator.hex_id(KEY_SPACE, key, &mut self.out.fields[col::HASHED_EMAIL]);
        let person = generator.person_index(row);
        generator.hex_id(PERSON_SPACE, person, &mut self.out.fields[col::FULL_NAME]);
        let email = format!(
            "learner.{:012x}@mail.example.org",
            generator.hash(KEY_SPACE, key) >> 16
        );
        self.set(col::EMAIL, &email);

        if self.chance(profile::SHARE_SAND_ID_MISSING) {
            let m = self.missing();
            self.set(col::SAND_ID, m);
        } else {
            self.set(col::SAND_ID, &format!("SAND-{:08}", row + 1));
        }
        let has_photo = self.chance(profile::SHARE_PHOTO);
        if has_photo {
            let url = format!(
                "https://cdn.example.org/photos/{:016x}.jpg",
                generator.hash(KEY_SPACE, key)
            );
            self.set(col::PROFILE_PHOTO_URL, &url);
        } else {
            self.set(col::PROFILE_PHOTO_URL, "n/a");
        }
        self.bio();
        self.skills();
        self.gender();
        self.place();
        let level = self.pick(&vocab::EDUCATION_LEVELS);
        let level = if self.chance(0.05) {
            level.to_lowercase()
        } else {
            level.to_string()
        };
        self.set(col::EDUCATION_LEVEL, &level);
        let field = self.pick(&vocab::FIELDS_OF_STUDY);
        self.set(col::EDUCATION_FIELD, field);
        self.set(col::DESIGNATION, "Learner");
        self.set(col::TESTIMONIAL, "n/a");
        self.flag(col::IS_LEARNING_DATA, true);
        let featured = self.chance(0.005);
        self.flag(col::IS_FEATURED, featured);
        if featured {
            self.set(col::YOUTUBE_ID, &format!("yt{:09x}", row));
        } else {
            self.set(col::YOUTUBE_ID, "n/a");
        }
        if self.chance(0.01) {
            let m = self.missing();
            self.set(col::IS_FEATURED_VIDEO, m);
        } else {
            self.flag(col::IS_FEATURED_VIDEO, false);
        }

        let status = self.learning();
        self.out.enrolled = status == Status::Enrolled;
        self.flag(col::IS_GRADUATE, status == Status::Graduated);
        self.flag(col::IS_ACTIVE, status == Status::Enrolled);
        self.flag(col::IS_DROPPED_OUT, status == Status::DroppedOut);

        let wage = self.chance(profile::SHARE_WAGE_EMPLOYED);
        let freelancer = self.chance(profile::SHARE_FREELANCER);
        let venture = self.chance(profile::SHARE_VENTURE);
        self.flag(col::IS_RUNNING_VENTURE, venture);
        self.flag(col::IS_FREELANCER, freelancer);
        self.flag(col::IS_WAGE_EMPLOYED, wage);
        let placed = wage || freelancer || venture;
        self.out.placed = placed;
        self.out.wage = wage;
        self.out.freelancer = freelancer;
        self.out.venture = venture;
        self.placements(wage, freelancer, venture);
        self.flag(col::IS_PLACED, placed);
        self.flag(col::HAS_PLACEMENT_DETAILS, placed);

        let employed = self.chance(profile::SHARE_EMPLOYMENT);
        self.employment(employed);
        self.flag(col::HAS_EMPLOYMENT_DETAILS, employed);
        let educated = self.chance(profile::SHARE_EDUCATION);
        self.education(educated);
        self.flag(col::HAS_EDUCATION_DETAILS, educated);

        self.flag(col::HAS_DATA, true);
        let location = match self.rng.gen_range(0..100) {
            0..=69 => vocab::LIVING_LOCATIONS[0],
            70..=89 => vocab::LIVING_LOCATIONS[1],
            90..=94 => vocab::LIVING_LOCATIONS[2],
            _ => vocab::LIVING_LOCATIONS[3],
        };
        self.flag(col::IS_RURAL, location == "Rural");
        self.set(col::LIVING_LOCATION, location);
        let disabled = self.chance(profile::SHARE_DISABILITY);
        self.flag(col::HAS_DISABILITY, disabled);
        if disabled {
            let kind = self.pick(&vocab::DISABILITY_TYPES);
            self.set(col::TYPE_OF_DISABILITY, kind);
        } else {
            self.set(col::TYPE_OF_DISABILITY, "n/a");
        }
        let low_income = self.chance(0.3);
        self.flag(col::IS_LOW_INCOME, low_income);
        let household = self.rng.gen_range(1..9);
        let age = self.pick(&["18-24", "25-34", "35-44", "45+"]);
        let demographic = format!(
            "{{\"age_range\": \"{age}\", \"household_size\": \"{household}\", \"employment_status_at_enrollment\": \"{}\"}}",
            if placed { "Employed" } else { "Unemployed" },
        );
        self.set(col::DEMOGRAPHIC_DETAILS, &demographic);
        let points = self.chance(0.05);
        if points {
            let p = self.rng.gen_range(1..500);
            self.set(
                col::LEGACY_POINTS,
                &format!("[{{\"points\": \"{p}\", \"reason\": \"quiz\"}}]"),
            );
        } else {
            self.set(col::LEGACY_POINTS, "[]");
        }
        self.flag(col::HAS_LEGACY_POINTS, points);
        self.set(col::META_RN, "1");
        if self.chance(0.3) {
            self.set(col::META_UI_LAT, "-99");
            self.set(col::META_UI_LNG, "-99.0");
        } else {
            let lat: f64 = self.rng.gen_range(-35.0..37.0);
            let lng: f64 = self.rng.gen_range(-18.0..51.0);
            self.set(col::META_UI_LAT, &format!("{lat:.6}"));
            self.set(col::META_UI_LNG, &format!("{lng:.6}"));
        }
        let ranking = self.rng.gen_range(1..4);
        self.set(col::STUDENT_RECORD_RANKING, &ranking.to_string());
        self.set(col::RNK, "1");
        let sessions = self.rng.gen_range(0..4);
        let mut zoom = String::from("[");
        for s in 0..sessions {
            if s > 0 {
                zoom.push_str(", ");
            }
            let _ = write!(
                zoom,
                "{{\"session\": \"{}\", \"minutes\": \"{}\"}}",
                s + 1,
                self.rng.gen_range(5..90)
            );
        }
        zoom.push(']');
        self.set(col::ZOOM_ATTENDANCE, &zoom);
        self.set(col::CIRCLE_EVENTS, "[]");
        self.set(col::EHUB_CHECK_INS, "[]");
        self.flag(col::HAS_PROFILE_PHOTO, has_photo);
        if self.chance(0.01) {
            let m = self.missing();
            self.set(col::HAS_SOCIAL_ECONOMIC_DATA, m);
        } else {
            self.flag(col::HAS_SOCIAL_ECONOMIC_DATA, true);
        }
        self.set(col::SNAPSHOT_ID, &profile::SNAPSHOT_ID.to_string());
    }

    fn bio(&mut self) {
        if self.chance(0.35) {
            let m = self.missing();
            self.set(col::BIO, m);
            return;
        }
        let mut bio = std::mem::take(&mut self.out.scratch);
        bio.clear();
        let words = self.rng.gen_range(5..70);
        for w in 0..words {
            if w > 0 {
                bio.push(' ');
            }
            if self.chance(0.02) {
                bio.push_str(self.pick(&vocab::BIO_EXTRAS));
            } else {
                bio.push_str(self.pick(&vocab::BIO_WORDS));
            }
        }
        bio.push('.');
        self.set(col::BIO, &bio);
        self.out.scratch = bio;
    }

    fn skills(&mut self) {
        if self.chance(profile::SHARE_NO_SKILLS) {
            let m = if self.chance(0.6) { "" } else { self.missing() };
            self.set(col::SKILLS_LIST, m);
            return;
        }
        let mean_when_present = profile::SKILLS_PER_ROW / (1.0 - profile::SHARE_NO_SKILLS);
        let mut count = self.rng.gen_range(1..=5);
        if self.chance(mean_when_present - 3.0) {
            count += 1;
        }
        let world = self.generator.world;
        let mut chosen: Vec<usize> = Vec::with_capacity(count);
        while chosen.len() < count {
            let index = if self.chance(0.6) {
                let u: f64 = self.rng.r#gen();
                (u * u * 200.0) as usize
            } else {
                self.rng.gen_range(0..world.skills.len())
            };
            if !chosen.contains(&index) {
                chosen.push(index);
            }
        }
        let separator = if self.chance(0.5) { ", " } else { "," };
        let mut list = String::new();
        for (n, index) in chosen.into_iter().enumerate() {
            if n > 0 {
                list.push_str(separator);
            }
            let name = &world.skills[index];
            match self.rng.gen_range(0..100) {
                0..=9 => list.push_str(&name.to_lowercase()),
                10..=12 => list.push_str(&name.to_uppercase()),
                13..=15 => {
                    list.push(' ');
                    list.push_str(&name.replace(' ', "  "));
                }
                _ => list.push_str(name),
            }
        }
        self.set(col::SKILLS_LIST, &list);
    }

    fn gender(&mut self) {
        let gender = match self.rng.gen_range(0..1000) {
            0..=519 => "male",
            520..=919 => "female",
            920..=939 => "Male",
            940..=949 => "FEMALE",
            950..=969 => "Female",
            970..=974 => "other",
            975..=979 => "Non-binary",
            _ => self.missing(),
        };
        self.set(col::GENDER, gender);
    }

    fn country_index(&mut self) -> usize {
        let u: f64 = self.rng.r#gen();
        world::pick_cdf(&self.generator.world.country_cdf, u)
    }

    /// Displays a country the way the export might: canonical, a known
    /// variant, or with stray case and spaces.
    fn country_text(&mut self, index: usize) -> String {
        let name = self.generator.world.countries[index].name;
        match self.rng.gen_range(0..100) {
            0 => name.to_uppercase(),
            1 => name.to_lowercase(),
            2 => format!("{name} "),
            3..=5 => vocab::COUNTRY_VARIANTS
                .iter()
                .filter(|(canonical, _)| *canonical == name)
                .nth(self.rng.gen_range(0..2))
                .map_or_else(|| name.to_string(), |(_, variant)| variant.to_string()),
            _ => name.to_string(),
        }
    }

    fn place(&mut self) {
        let world = self.generator.world;
        if self.chance(0.03) {
            let m = self.missing();
            self.set(col::COUNTRY_OF_RESIDENCE, m);
            self.set(col::COUNTRY_OF_ORIGIN, "n/a");
            self.set(col::CITY_OF_RESIDENCE, "n/a");
            self.set(col::REGION_NAME, "n/a");
            return;
        }
        let residence = self.country_index();
        self.out.residence = Some((residence, None));
        let text = self.country_text(residence);
        self.set(col::COUNTRY_OF_RESIDENCE, &text);
        let origin = if self.chance(0.85) {
            residence
        } else {
            self.country_index()
        };
        self.out.origin = Some(origin);
        let text = self.country_text(origin);
        self.set(col::COUNTRY_OF_ORIGIN, &text);
        let country = &world.countries[residence];
        self.set(col::REGION_NAME, country.region);
        if !self.chance(0.02) {
            self.set(col::COUNTRY_LAT, &format!("{:.4}", country.latitude));
            self.set(col::COUNTRY_LNG, &format!("{:.4}", country.longitude));
        }
        if self.chance(0.04) {
            self.set(col::CITY_OF_RESIDENCE, "n/a");
            return;
        }
        let city_index = self.rng.gen_range(0..country.cities.len());
        self.out.residence = Some((residence, Some(city_index)));
        let city = &country.cities[city_index];
        let name = match self.rng.gen_range(0..100) {
            0..=2 => city.name.to_lowercase(),
            3 => format!(" {} ", city.name),
            _ => city.name.clone(),
        };
        self.set(col::CITY_OF_RESIDENCE, &name);
        if !self.chance(0.02) {
            self.set(col::CITY_LAT, &format!("{:.4}", city.latitude));
            self.set(col::CITY_LNG, &format!("{:.4}", city.longitude));
        }
    }

    fn random_date(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(1);
        from + Duration::days(self.rng.gen_range(0..span))
    }

    fn learning(&mut self) -> Status {
        let generator = self.generator;
        let world = generator.world;
        let row = self.row;
        let u: f64 = self.rng.r#gen();
        let mut status = if u < profile::SHARE_DROPPED_OUT {
            Status::DroppedOut
        } else if u < profile::SHARE_DROPPED_OUT + profile::SHARE_GRADUATED {
            Status::Graduated
        } else {
            Status::Enrolled
        };
        let lower_spelling = systematic(
            row,
            profile::RATE_DROPPED_LOWER,
            generator.phases[PHASE_DROPPED_LOWER],
        );
        let graduated_no_date = systematic(
            row,
            profile::RATE_GRADUATED_WITHOUT_DATE,
            generator.phases[PHASE_GRADUATED_NO_DATE],
        );
        let date_not_graduated = systematic(
            row,
            profile::RATE_DATE_WITHOUT_GRADUATION,
            generator.phases[PHASE_DATE_NOT_GRADUATED],
        );
        if lower_spelling || date_not_graduated {
            status = Status::DroppedOut;
        }
        if graduated_no_date {
            status = Status::Graduated;
        }
        let cohort = &world.cohorts[world::pick_cdf(&world.cohort_cdf, self.rng.r#gen())];
        let duration = Duration::days(self.rng.gen_range(90..366));
        let snapshot = date(2025, 9, 30);
        let start = if status == Status::Enrolled {
            self.random_date(date(2025, 1, 1), date(2025, 9, 1))
        } else {
            self.random_date(date(2020, 1, 1), date(2025, 3, 1))
        };
        let end = if systematic(
            row,
            profile::RATE_END_BEFORE_START,
            generator.phases[PHASE_END_BEFORE_START],
        ) {
            start - Duration::days(10)
        } else {
            start + duration
        };
        let dates_missing = self.chance(profile::SHARE_MISSING_PROGRAM_DATES);
        let (start_text, end_text) = if dates_missing {
            (MISSING_DATE.to_string(), MISSING_DATE.to_string())
        } else {
            (start.to_string(), end.to_string())
        };
        let graduation = match status {
            _ if graduated_no_date => MISSING_DATE.to_string(),
            _ if date_not_graduated => (end - Duration::days(3)).to_string(),
            Status::Graduated => {
                let late_share = profile::RATE_GRADUATION_AFTER_END / profile::SHARE_GRADUATED;
                if self.chance(late_share) {
                    (end + Duration::days(self.rng.gen_range(1..120)))
                        .min(snapshot)
                        .to_string()
                } else {
                    (end - Duration::days(self.rng.gen_range(0..7))).to_string()
                }
            }
            _ => if self.chance(0.02) { "n/a" } else { MISSING_DATE }.to_string(),
        };
        let status_text = match status {
            Status::DroppedOut if lower_spelling => "Dropped out",
            Status::DroppedOut => "Dropped Out",
            Status::Graduated => "Graduated",
            Status::Enrolled => "Enrolled",
        };
        let mut entry = JsonObject::default();
        entry.field("index", "1");
        entry.field("program_name", cohort.program.name);
        entry.field("cohort_code", &cohort.code);
        entry.field("program_start_date", &start_text);
        entry.field("program_end_date", &end_text);
        entry.field("enrollment_status", status_text);
        entry.field("program_graduation_date", &graduation);
        if self.chance(profile::SHARE_LMS_MISSING) {
            for key in LMS_KEYS {
                entry.field(key, "-99");
            }
        } else {
            let score: f64 = self.rng.gen_range(0.0..100.0);
            entry.field("lms_overall_score", &format!("{score:.2}"));
            entry.field(
                "completion_rate",
                if status == Status::Graduated { "1" } else { "0" },
            );
            for (total_key, submitted_key, passed_key, rate_key, max) in LMS_GROUPS {
                let total: u32 = self.rng.gen_range(1..=max);
                let submitted = self.rng.gen_range(0..=total);
                let passed = self.rng.gen_range(0..=submitted);
                entry.field(total_key, &total.to_string());
                entry.field(submitted_key, &submitted.to_string());
                entry.field(passed_key, &passed.to_string());
                entry.field(
                    rate_key,
                    &format!("{:.2}", f64::from(submitted) / f64::from(total)),
                );
            }
        }
        let json = format!("[{}]", entry.finish());
        self.set(col::LEARNING_DETAILS, &json);
        status
    }

    fn company_name(&mut self, entry: u64) -> String {
        let generator = self.generator;
        let name = if self.chance(world::UNIQUE_COMPANY_SHARE) {
            let h = generator.hash(UNIQUE_COMPANY_SPACE, self.row * 64 + entry);
            format!(
                "{} {}",
                world::syllable_name(h % 2_560_000 + 64_000, 4),
                vocab::COMPANY_SUFFIXES[(mix(h, 3) % 10) as usize]
            )
        } else {
            let index = self.rng.gen_range(0..generator.world.company_pool);
            format!(
                "{} {}",
                world::syllable_name(index % 64_000, 3),
                vocab::COMPANY_SUFFIXES[((index / 64_000) % 10) as usize]
            )
        };
        match self.rng.gen_range(0..100) {
            0..=2 => name.to_lowercase(),
            3 => name.to_uppercase(),
            4 => name.replace(' ', "  "),
            5 => format!("{name} "),
            6 => format!("{name}."),
            _ => name,
        }
    }

    fn placements(&mut self, wage: bool, freelancer: bool, venture: bool) {
        let mut entries = Vec::new();
        for (present, kind) in [(wage, "wage"), (freelancer, "freelance")] {
            if !present {
                continue;
            }
            let mut entry = JsonObject::default();
            let employment_type = if kind == "freelance" {
                "Freelance"
            } else {
                self.pick(&vocab::EMPLOYMENT_TYPES)
            };
            entry.field("employment_type", employment_type);
            let start = self.random_date(date(2021, 1, 1), date(2025, 9, 1));
            entry.field("job_start_date", &start.to_string());
            let company = self.company_name(60 + entries.len() as u64);
            entry.field("organisation_name", &company);
            let salary = self.pick(&vocab::SALARY_RANGES);
            entry.field("salary_range", salary);
            let title = self.pick(&vocab::JOB_TITLES);
            entry.field("job_title", title);
            entries.push(entry.finish());
        }
        if venture {
            let mut entry = JsonObject::default();
            let company = self.company_name(63);
            entry.field("business_name", &company);
            let start = self.random_date(date(2021, 1, 1), date(2025, 9, 1));
            entry.field("job_start_date", &start.to_string());
            entry.number("jobs_created_to_date", self.rng.gen_range(0..25));
            entry.number("capital_secured_todate", self.rng.gen_range(0..50) * 500);
            entry.number("female_opp_todate", self.rng.gen_range(0..10));
            entries.push(entry.finish());
        }
        let json = format!("[{}]", entries.join(","));
        self.set(col::PLACEMENT_DETAILS, &json);
    }

    fn employment(&mut self, employed: bool) {
        if !employed {
            self.set(col::EMPLOYMENT_DETAILS, "[]");
            return;
        }
        let count = self.rng.gen_range(1..=5usize);
        let has_current = self.chance(profile::SHARE_WITH_CURRENT_JOB);
        let two_current =
            count >= 2 && has_current && self.chance((profile::CURRENT_JOBS_PER_EMPLOYED - 1.0) * 1.25);
        let mut start = self.random_date(date(2010, 1, 1), date(2019, 1, 1));
        let country = self.generator.world.countries[self.country_index()].name;
        let mut entries = Vec::with_capacity(count);
        for index in 0..count {
            let current = has_current && (index + 1 == count || (two_current && index + 2 == count));
            let length = Duration::days(self.rng.gen_range(60..1200));
            let end = start + length;
            let mut entry = JsonObject::default();
            entry.field("index", &(index + 1).to_string());
            let company = if self.chance(0.03) {
                "n/a".to_string()
            } else {
                self.company_name(index as u64)
            };
            let key = if self.chance(profile::SHARE_ORGANIZATION_SPELLING) {
                "organization_name"
            } else {
                "organisation_name"
            };
            entry.field(key, &company);
            let dates_missing = self.chance(0.02);
            if dates_missing {
                entry.field("start_date", MISSING_DATE);
            } else {
                entry.field("start_date", &start.to_string());
            }
            if current {
                entry.field("end_date", ONGOING_DATE);
            } else if dates_missing {
                entry.field("end_date", MISSING_DATE);
            } else {
                entry.field("end_date", &end.to_string());
            }
            entry.field("country", country);
            let title = self.pick(&vocab::JOB_TITLES);
            entry.field("job_title", title);
            entry.field("is_current", if current { "1" } else { "0" });
            entry.field(
                "duration_in_years",
                &format!("{:.1}", length.num_days() as f64 / 365.25),
            );
            entries.push(entry.finish());
            start = end + Duration::days(self.rng.gen_range(0..200));
        }
        let json = format!("[{}]", entries.join(","));
        self.set(col::EMPLOYMENT_DETAILS, &json);
    }

    fn education(&mut self, educated: bool) {
        if !educated {
            self.set(col::EDUCATION_DETAILS, "[]");
            return;
        }
        let count = match self.rng.gen_range(0..100) {
            0..=77 => 1,
            78..=96 => 2,
            _ => 3,
        };
        let mut entries = Vec::with_capacity(count);
        for index in 0..count {
            let pool = self.generator.world.institution_pool;
            let institution = self.rng.gen_range(0..pool);
            let kind = vocab::INSTITUTION_KINDS[(institution % 6) as usize];
            let name = if institution % 2 == 0 {
                format!("{} {kind}", world::syllable_name(institution / 6, 3))
            } else {
                format!("{kind} of {}", world::syllable_name(institution / 6, 3))
            };
            let start = self.random_date(date(2005, 1, 1), date(2021, 1, 1));
            let end = start + Duration::days(self.rng.gen_range(300..1800));
            let mut entry = JsonObject::default();
            entry.field("index", &(index + 1).to_string());
            entry.field("institution_name", &name);
            entry.field("start_date", &start.to_string());
            entry.field("end_date", &end.to_string());
            let field = self.pick(&vocab::FIELDS_OF_STUDY);
            entry.field("field_of_study", field);
            let level = self.pick(&vocab::EDUCATION_LEVELS);
            entry.field("level_of_study", level);
            entry.field("graduated", if self.chance(0.7) { "1" } else { "0" });
            entries.push(entry.finish());
        }
        let json = format!("[{}]", entries.join(","));
        self.set(col::EDUCATION_DETAILS, &json);
    }
}

const LMS_KEYS: [&str; 14] = [
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

const LMS_GROUPS: [(&str, &str, &str, &str, u32); 3] = [
    (
        "no_of_assignments",
        "no_of_submissions",
        "no_of_assignment_passed",
        "assignment_completion_rate",
        30,
    ),
    (
        "no_of_milestone",
        "no_of_milestone_submitted",
        "no_of_milestone_passed",
        "milestone_completion_rate",
        8,
    ),
    (
        "no_of_test",
        "no_of_test_submitted",
        "no_of_test_passed",
        "test_completion_rate",
        6,
    ),
];

/// A JSON object written field by field in a fixed order (the export's
/// order), with values escaped by serde_json.
#[derive(Default)]
struct JsonObject {
    text: String,
}

impl JsonObject {
    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        self.text.push('"');
        self.text.push_str(key);
        self.text.push_str("\":");
    }

    fn field(&mut self, key: &str, value: &str) {
        self.key(key);
        // Serializing a &str to a String cannot fail.
        self.text
            .push_str(&serde_json::to_string(value).unwrap_or_default());
    }

    fn number(&mut self, key: &str, value: u32) {
        self.key(key);
        let _ = write!(self.text, "{value}");
    }

    fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systematic_events_hit_the_rate_exactly() {
        let rate = 2.0 / 100_000.0;
        let hits = (0..1_000_000u64).filter(|&r| systematic(r, rate, 1234.5)).count();
        assert!((19..=21).contains(&hits), "{hits}");
    }

    #[test]
    fn json_object_escapes_values() {
        let mut object = JsonObject::default();
        object.field("a", "say \"hi\"\n");
        object.number("b", 3);
        let text = object.finish();
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["a"], "say \"hi\"\n");
        assert_eq!(value["b"], 3);
    }

    #[test]
    fn syllable_names_are_distinct_for_distinct_numbers() {
        let names: std::collections::HashSet<String> =
            (0..5_000).map(|n| world::syllable_name(n, 3)).collect();
        assert_eq!(names.len(), 5_000);
    }
}
