//! Successive snapshots: one population exported quarter after quarter.
//!
//! Snapshot 1 is the single-file generator's file. Each later snapshot
//! starts from the same rows and replays, quarter by quarter, how learners
//! change between exports: enrolled learners graduate or drop out, learners
//! find and lose jobs, move city and add skills; some leave the export and
//! some of those come back later; about 1% are new each quarter. Shared
//! nodes change now and then (a city's coordinates, a country's spelling),
//! a few rows carry the previous quarter's `snapshot_id`, and with `--dirty`
//! each snapshot damages other rows and holds one row from the future.
//! Every decision is a hash of (seed, row, quarter), so any snapshot of a
//! sequence is written alone, on any thread, byte for byte the same; what
//! changed is counted so that a test can compare a load with it.
//! `--follow-up` is snapshot 2 of this sequence.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashSet;
use serde::Serialize;

use super::fields::{RowFields, mix, unit};
use super::row::RowGenerator;
use super::{profile, vocab, world};
use crate::source::columns::col;

/// Share of enrolled learners who graduate in a quarter.
pub const SHARE_ENROLLED_GRADUATING: f64 = 0.25;
/// Share of enrolled learners who drop out in a quarter.
pub const SHARE_ENROLLED_DROPPING_OUT: f64 = 0.10;
/// Share of learners without a placement who find a wage job.
pub const SHARE_FINDING_JOB: f64 = 0.02;
/// Share of learners whose only placement is a wage job who lose it.
pub const SHARE_LOSING_JOB: f64 = 0.05;
/// Share of learners who move to another city of their country.
pub const SHARE_MOVING: f64 = 0.008;
/// Share of learners who add a skill to their profile.
pub const SHARE_ADDING_SKILL: f64 = 0.015;
/// Learners who leave the export in a quarter, as a share of those in it.
pub const SHARE_LEAVING: f64 = 0.005;
/// Learners out of the export who come back in a quarter.
pub const SHARE_RETURNING: f64 = 0.4;
/// New learners per quarter, as a share of the first snapshot's rows.
pub const SHARE_JOINING: f64 = 0.01;
/// Cities whose coordinates are corrected in a quarter.
pub const SHARE_CITY_MOVED: f64 = 0.05;
/// Countries the export spells another way in a quarter.
pub const SHARE_COUNTRY_RESPELLED: f64 = 0.1;
/// Rows that carry the previous quarter's `snapshot_id`.
pub const SHARE_STRAY_SNAPSHOT_ID: f64 = 0.002;
/// Whether row `row` of snapshot `step` keeps the previous snapshot's
/// `snapshot_id` (an export job that did not update it).
fn keeps_previous_id(generator: &RowGenerator<'_>, row: u64, step: u32) -> bool {
    step > 1 && unit(generator.hash_of(STRAY_SPACE, mix(row, u64::from(step)))) < SHARE_STRAY_SNAPSHOT_ID
}

/// The `snapshot_id` of the one row from the future a dirty snapshot holds.
pub const FUTURE_SNAPSHOT_ID: u32 = 20_991_231;

const CHANGE_SPACE: u64 = 101;
const LEAVE_SPACE: u64 = 102;
const CITY_SPACE: u64 = 103;
const COUNTRY_SPACE: u64 = 104;
const STRAY_SPACE: u64 = 105;
const FUTURE_SPACE: u64 = 106;

/// The quarter-end date of snapshot `step` (1 is `profile::SNAPSHOT_ID`).
pub fn snapshot_date(step: u32) -> NaiveDate {
    let first = i64::from(profile::SNAPSHOT_ID / 10_000) * 4 + 2;
    let quarter = first + i64::from(step) - 1;
    let (year, index) = (quarter.div_euclid(4) as i32, quarter.rem_euclid(4) as u32);
    let month = 3 * index + 4;
    let first_of_next = if month > 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month, 1)
    };
    first_of_next.and_then(|d| d.pred_opt()).unwrap_or_default()
}

/// The `snapshot_id` (YYYYMMDD) of snapshot `step`.
pub fn snapshot_id(step: u32) -> u32 {
    let date = snapshot_date(step);
    date.year() as u32 * 10_000 + date.month() * 100 + date.day()
}

/// A date in the quarter that ends at snapshot `step`, from a hash.
fn date_in_quarter(step: u32, h: u64) -> String {
    let end = snapshot_date(step);
    let first_month = end.month() - 2;
    format!(
        "{}-{:02}-{:02}",
        end.year(),
        first_month + (mix(h, 1) % 3) as u32,
        1 + mix(h, 2) % 28
    )
}

/// What a later snapshot changes in one learner's row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowChange {
    pub graduated: bool,
    pub dropped_out: bool,
    pub found_job: bool,
    pub lost_job: bool,
    pub moved: bool,
    pub added_skill: bool,
}

impl RowChange {
    pub fn any(self) -> bool {
        self.graduated
            || self.dropped_out
            || self.found_job
            || self.lost_job
            || self.moved
            || self.added_skill
    }
}

/// Whether a row is in a snapshot, and how it got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// In the export; `returning` when it was out of the previous one.
    Present { returning: bool, joining: bool },
    /// Out of the export; `leaving` when it was in the previous one.
    Absent { leaving: bool },
}

/// The plan of a sequence: which rows each snapshot holds and how each
/// learner changes from quarter to quarter.
pub struct SnapshotPlan {
    pub base_rows: u64,
    /// Rows that join in each quarter after the first.
    pub joining_rows: u64,
    /// Keys that other rows repeat: those rows never leave, so that a
    /// leaving learner is really gone rather than replaced by a repeat.
    repeated_keys: FxHashSet<u64>,
    /// The row dated in the future of each snapshot from the second on.
    future_rows: Vec<u64>,
}

impl SnapshotPlan {
    /// The plan of sequences up to `last_step` snapshots of `base_rows`.
    pub fn new(generator: &RowGenerator<'_>, base_rows: u64, last_step: u32) -> Self {
        let joining_rows = (base_rows as f64 * SHARE_JOINING).round() as u64;
        let total = base_rows + joining_rows * u64::from(last_step.saturating_sub(1));
        let repeated_keys = (0..total)
            .filter(|&row| generator.repeats_key(row))
            .map(|row| generator.key_of(row))
            .collect();
        let mut plan = SnapshotPlan {
            base_rows,
            joining_rows,
            repeated_keys,
            future_rows: Vec::new(),
        };
        plan.future_rows = (2..=last_step)
            .map(|step| plan.pick_future_row(generator, step))
            .collect();
        plan
    }

    /// The row a dirty snapshot `step` dates in the future: the one its
    /// hash draws, or the next that is in the snapshot with its own key and
    /// date, so that every later dirty snapshot holds exactly one.
    fn pick_future_row(&self, generator: &RowGenerator<'_>, step: u32) -> u64 {
        let rows = self.rows_in(step).max(1);
        let start = generator.hash_of(FUTURE_SPACE, u64::from(step)) % rows;
        (0..rows)
            .map(|offset| (start + offset) % rows)
            .find(|&row| {
                matches!(self.presence(generator, row, step), Presence::Present { .. })
                    && !generator.repeats_key(row)
                    && !keeps_previous_id(generator, row, step)
            })
            .unwrap_or(start)
    }

    /// Row numbers snapshot `step` draws from (some of them are absent).
    pub fn rows_in(&self, step: u32) -> u64 {
        self.base_rows + self.joining_rows * u64::from(step.saturating_sub(1))
    }

    /// The snapshot a row first appears in.
    fn joins_at(&self, row: u64) -> u32 {
        if row < self.base_rows || self.joining_rows == 0 {
            1
        } else {
            2 + ((row - self.base_rows) / self.joining_rows) as u32
        }
    }

    fn stays(&self, generator: &RowGenerator<'_>, row: u64) -> bool {
        generator.repeats_key(row) || self.repeated_keys.contains(&row)
    }

    /// Whether row `row` is in snapshot `step`.
    pub fn presence(&self, generator: &RowGenerator<'_>, row: u64, step: u32) -> Presence {
        let joins = self.joins_at(row);
        if joins > step {
            return Presence::Absent { leaving: false };
        }
        let mut present = true;
        let mut was_present = true;
        for quarter in joins + 1..=step {
            was_present = present;
            let u = unit(generator.hash_of(LEAVE_SPACE, mix(row, u64::from(quarter))));
            present = if present {
                self.stays(generator, row) || u >= SHARE_LEAVING
            } else {
                u < SHARE_RETURNING
            };
        }
        if present {
            Presence::Present {
                returning: !was_present,
                joining: joins == step && step > 1,
            }
        } else {
            Presence::Absent { leaving: was_present }
        }
    }

    /// Turns the filled first-snapshot row `row` into its snapshot-`step`
    /// form: the changes of every quarter the learner was in the export,
    /// then the snapshot's shared-node changes and `snapshot_id`. Returns
    /// what changed in the last quarter.
    pub fn advance(
        &self,
        generator: &RowGenerator<'_>,
        row: u64,
        step: u32,
        fields: &mut RowFields,
    ) -> RowChange {
        let mut last = RowChange::default();
        if !generator.repeats_key(row) {
            for quarter in self.joins_at(row) + 1..=step {
                if matches!(self.presence(generator, row, quarter), Presence::Present { .. }) {
                    last = self.change(generator, row, quarter, fields);
                } else {
                    last = RowChange::default();
                }
            }
        }
        self.shared_changes(generator, step, fields);
        let own = if keeps_previous_id(generator, row, step) {
            snapshot_id(step - 1)
        } else if step > 1 && generator.dirty_rate > 0.0 && Some(row) == self.future_row(step) {
            FUTURE_SNAPSHOT_ID
        } else {
            snapshot_id(step)
        };
        fields.set(col::SNAPSHOT_ID, &own.to_string());
        last
    }

    /// The one row of a dirty snapshot whose `snapshot_id` is in the future.
    fn future_row(&self, step: u32) -> Option<u64> {
        self.future_rows.get(step.checked_sub(2)? as usize).copied()
    }

    /// One quarter's changes to a learner in the export.
    fn change(
        &self,
        generator: &RowGenerator<'_>,
        row: u64,
        quarter: u32,
        fields: &mut RowFields,
    ) -> RowChange {
        let mut change = RowChange::default();
        let h = generator.hash_of(CHANGE_SPACE, mix(row, u64::from(quarter)));
        if fields.enrolled {
            let u = unit(h);
            if u < SHARE_ENROLLED_GRADUATING {
                change_enrollment(fields, "Graduated", Some(&date_in_quarter(quarter, mix(h, 1))));
                fields.set(col::IS_GRADUATE, "1");
                fields.set(col::IS_ACTIVE, "0");
                fields.enrolled = false;
                change.graduated = true;
            } else if u < SHARE_ENROLLED_GRADUATING + SHARE_ENROLLED_DROPPING_OUT {
                change_enrollment(fields, "Dropped Out", None);
                fields.set(col::IS_DROPPED_OUT, "1");
                fields.set(col::IS_ACTIVE, "0");
                fields.enrolled = false;
                change.dropped_out = true;
            }
        }
        if !fields.placed && unit(mix(h, 3)) < SHARE_FINDING_JOB {
            find_job(generator, quarter, h, fields);
            change.found_job = true;
        } else if fields.wage && !fields.freelancer && !fields.venture && unit(mix(h, 9)) < SHARE_LOSING_JOB {
            fields.set(col::PLACEMENT_DETAILS, "[]");
            for column in [col::IS_WAGE_EMPLOYED, col::IS_PLACED, col::HAS_PLACEMENT_DETAILS] {
                fields.set(column, "0");
            }
            fields.wage = false;
            fields.placed = false;
            change.lost_job = true;
        }
        if unit(mix(h, 10)) < SHARE_MOVING {
            change.moved = move_city(generator, mix(h, 11), fields);
        }
        if unit(mix(h, 12)) < SHARE_ADDING_SKILL {
            change.added_skill = add_skill(generator, mix(h, 13), fields);
        }
        change
    }

    /// The snapshot's changes to shared nodes as the row shows them: the
    /// city's coordinates as corrected so far, and this quarter's spelling
    /// of the row's countries.
    fn shared_changes(&self, generator: &RowGenerator<'_>, step: u32, fields: &mut RowFields) {
        let world = generator.world;
        if let Some((country, Some(city))) = fields.residence
            && !fields.fields[col::CITY_LAT].is_empty()
        {
            let spec = &world.countries[country].cities[city];
            let id = (country as u64) << 32 | city as u64;
            let corrections = (2..=step)
                .filter(|&q| unit(generator.hash_of(CITY_SPACE, mix(id, u64::from(q)))) < SHARE_CITY_MOVED)
                .count() as f64;
            fields.set(
                col::CITY_LAT,
                &format!("{:.4}", spec.latitude + 0.01 * corrections),
            );
            fields.set(
                col::CITY_LNG,
                &format!("{:.4}", spec.longitude - 0.01 * corrections),
            );
        }
        if step < 2 {
            return;
        }
        for (column, country) in [
            (col::COUNTRY_OF_RESIDENCE, fields.residence.map(|(c, _)| c)),
            (col::COUNTRY_OF_ORIGIN, fields.origin),
        ] {
            let Some(country) = country else { continue };
            if unit(generator.hash_of(COUNTRY_SPACE, mix(country as u64, u64::from(step))))
                < SHARE_COUNTRY_RESPELLED
            {
                let name = world.countries[country].name;
                let spelling = vocab::COUNTRY_VARIANTS
                    .iter()
                    .find(|(canonical, _)| *canonical == name)
                    .map_or_else(|| name.to_uppercase(), |(_, variant)| variant.to_string());
                fields.set(column, &spelling);
            }
        }
    }
}

/// A wage job found in `quarter`, as a placement.
fn find_job(generator: &RowGenerator<'_>, quarter: u32, h: u64, fields: &mut RowFields) {
    let pool = generator.world.company_pool.max(1);
    let index = mix(h, 4) % pool;
    let company = format!(
        "{} {}",
        world::syllable_name(index % 64_000, 3),
        vocab::COMPANY_SUFFIXES[((index / 64_000) % 10) as usize]
    );
    let title = vocab::JOB_TITLES[(mix(h, 5) % vocab::JOB_TITLES.len() as u64) as usize];
    let salary = vocab::SALARY_RANGES[(mix(h, 6) % vocab::SALARY_RANGES.len() as u64) as usize];
    let placement = serde_json::json!([{
        "employment_type": "Full-time",
        "job_start_date": date_in_quarter(quarter, mix(h, 7)),
        "organisation_name": company,
        "salary_range": salary,
        "job_title": title,
    }]);
    fields.set(col::PLACEMENT_DETAILS, &placement.to_string());
    for column in [col::IS_WAGE_EMPLOYED, col::IS_PLACED, col::HAS_PLACEMENT_DETAILS] {
        fields.set(column, "1");
    }
    fields.wage = true;
    fields.placed = true;
}

/// Moves the learner to another city of the same country; false when the
/// row names no city or its country has one city only.
fn move_city(generator: &RowGenerator<'_>, h: u64, fields: &mut RowFields) -> bool {
    let Some((country, Some(city))) = fields.residence else {
        return false;
    };
    let cities = &generator.world.countries[country].cities;
    if cities.len() < 2 {
        return false;
    }
    let next = (city + 1 + (h % (cities.len() as u64 - 1)) as usize) % cities.len();
    if cities[next].name.eq_ignore_ascii_case(&cities[city].name) {
        return false;
    }
    fields.set(col::CITY_OF_RESIDENCE, &cities[next].name);
    fields.residence = Some((country, Some(next)));
    true
}

/// Letters and digits only, lower case: two skill spellings the same here
/// are never counted as a new skill.
fn skill_letters(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Adds a skill the row does not list yet; false when it does.
fn add_skill(generator: &RowGenerator<'_>, h: u64, fields: &mut RowFields) -> bool {
    let skills = &generator.world.skills;
    let skill = &skills[(h % skills.len() as u64) as usize];
    let list = String::from_utf8_lossy(&fields.fields[col::SKILLS_LIST]).into_owned();
    let listed = list.trim();
    let missing = listed.is_empty() || listed.eq_ignore_ascii_case("n/a");
    if !missing
        && list
            .split(',')
            .any(|item| skill_letters(item) == skill_letters(skill))
    {
        return false;
    }
    let next = if missing {
        skill.clone()
    } else {
        format!("{list}, {skill}")
    };
    fields.set(col::SKILLS_LIST, &next);
    true
}

/// Rewrites the enrollment of a row's learning_details JSON.
fn change_enrollment(fields: &mut RowFields, status: &str, graduation: Option<&str>) {
    let text = String::from_utf8_lossy(&fields.fields[col::LEARNING_DETAILS]).into_owned();
    let Ok(serde_json::Value::Array(mut entries)) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    for entry in &mut entries {
        if let Some(entry) = entry.as_object_mut() {
            entry.insert("enrollment_status".into(), status.into());
            if let Some(date) = graduation {
                entry.insert("program_graduation_date".into(), date.into());
                if entry.contains_key("completion_rate") {
                    entry.insert("completion_rate".into(), "1".into());
                }
            }
        }
    }
    fields.set(
        col::LEARNING_DETAILS,
        &serde_json::Value::Array(entries).to_string(),
    );
}

/// What a later snapshot changed, as `<file>.changes.json` records it. The
/// transitions are named as the graph names the states.
#[derive(Debug, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct ChangeReport {
    pub base_rows: u64,
    pub rows_written: u64,
    pub snapshot_id: u32,
    /// Learners of the previous snapshot that are not in this one.
    #[serde(default)]
    pub learners_leaving: u64,
    /// Learners new to the export.
    #[serde(default)]
    pub learners_joining: u64,
    /// Learners out of the previous snapshot who are back in this one.
    #[serde(default)]
    pub learners_returning: u64,
    /// Learners of both snapshots whose data differs.
    pub learners_changed: u64,
    pub learning_transitions: BTreeMap<String, u64>,
    pub professional_transitions: BTreeMap<String, u64>,
}

impl ChangeReport {
    pub fn add(&mut self, change: RowChange) {
        if change.any() {
            self.learners_changed += 1;
        }
        let count =
            |map: &mut BTreeMap<String, u64>, kind: &str| *map.entry(kind.to_string()).or_default() += 1;
        if change.graduated {
            count(&mut self.learning_transitions, "Active -> Graduate");
        }
        if change.dropped_out {
            count(&mut self.learning_transitions, "Active -> Dropped Out");
        }
        if change.found_job {
            count(&mut self.professional_transitions, "Unemployed -> Wage Employed");
        }
        if change.lost_job {
            count(&mut self.professional_transitions, "Wage Employed -> Unemployed");
        }
    }

    pub fn absorb(&mut self, other: ChangeReport) {
        self.learners_leaving += other.learners_leaving;
        self.learners_joining += other.learners_joining;
        self.learners_returning += other.learners_returning;
        self.learners_changed += other.learners_changed;
        for (kind, n) in other.learning_transitions {
            *self.learning_transitions.entry(kind).or_default() += n;
        }
        for (kind, n) in other.professional_transitions {
            *self.professional_transitions.entry(kind).or_default() += n;
        }
    }
}

/// `<out>.changes.json`.
pub fn report_path(out: &std::path::Path) -> std::path::PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".changes.json");
    std::path::PathBuf::from(name)
}

/// The file of snapshot `step` in a sequence's folder.
pub fn file_name(step: u32) -> String {
    format!("snapshot-{step}.csv")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::world::World;

    #[test]
    fn snapshots_are_a_quarter_apart_from_the_first_file() {
        assert_eq!(snapshot_id(1), profile::SNAPSHOT_ID);
        let ids: Vec<u32> = (1..=6).map(snapshot_id).collect();
        assert_eq!(
            ids,
            [
                20_250_930, 20_251_231, 20_260_331, 20_260_630, 20_260_930, 20_261_231
            ]
        );
        assert_eq!(date_in_quarter(2, 7)[..7].len(), 7);
        assert!(date_in_quarter(3, 99).starts_with("2026-0"));
    }

    #[test]
    fn a_graduation_rewrites_the_enrollment_and_keeps_the_rest() {
        let mut fields = RowFields::default();
        fields.set(
            col::LEARNING_DETAILS,
            r#"[{"index":"1","enrollment_status":"Enrolled","program_graduation_date":"1970-01-01","completion_rate":"0"}]"#,
        );
        change_enrollment(&mut fields, "Graduated", Some("2025-11-02"));
        let value: serde_json::Value =
            serde_json::from_slice(&fields.fields[col::LEARNING_DETAILS]).expect("valid JSON");
        assert_eq!(value[0]["enrollment_status"], "Graduated");
        assert_eq!(value[0]["program_graduation_date"], "2025-11-02");
        assert_eq!(value[0]["completion_rate"], "1");
        assert_eq!(value[0]["index"], "1");
    }

    #[test]
    fn learners_leave_and_come_back_and_repeated_keys_never_leave() {
        let world = World::new(50_000);
        let generator = RowGenerator::new(&world, 7, 0.0);
        let plan = SnapshotPlan::new(&generator, 50_000, 5);
        let leaving: Vec<u64> = (0..50_000)
            .filter(|&r| plan.presence(&generator, r, 2) == Presence::Absent { leaving: true })
            .collect();
        let expected = 50_000.0 * SHARE_LEAVING;
        assert!(
            (leaving.len() as f64 - expected).abs() < expected * 0.25,
            "{}",
            leaving.len()
        );
        assert!(leaving.iter().all(|r| !generator.repeats_key(*r)));
        let back = leaving
            .iter()
            .filter(|&&r| {
                matches!(
                    plan.presence(&generator, r, 3),
                    Presence::Present { returning: true, .. }
                )
            })
            .count() as f64;
        assert!(
            (back - leaving.len() as f64 * SHARE_RETURNING).abs() < leaving.len() as f64 * 0.15,
            "{back} of {}",
            leaving.len()
        );
        assert_eq!(plan.joining_rows, 500);
        assert_eq!(plan.rows_in(3), 51_000);
        assert_eq!(
            plan.presence(&generator, 50_600, 3),
            Presence::Present {
                returning: false,
                joining: true
            }
        );
        assert_eq!(
            plan.presence(&generator, 50_600, 2),
            Presence::Absent { leaving: false }
        );
    }
}
