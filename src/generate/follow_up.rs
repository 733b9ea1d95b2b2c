//! Follow-up snapshots: the same population exported again a quarter later.
//!
//! Every row of the base file (same row count and seed) is generated as
//! before and then, by its own hash, possibly changed the way real learners
//! change between exports: enrolled learners graduate or drop out, learners
//! without a placement find a job. A few learners leave the export and a few
//! new ones join it. What was changed is counted, so that a test can compare
//! a load's summary with it.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::row::{RowFields, RowGenerator, mix, unit};
use super::{vocab, world};
use crate::source::columns::col;

/// The follow-up's snapshot_id (the base file's is `profile::SNAPSHOT_ID`).
pub const SNAPSHOT_ID: u32 = 20_251_231;
/// Share of enrolled learners who graduate by the follow-up.
pub const SHARE_ENROLLED_GRADUATING: f64 = 0.25;
/// Share of enrolled learners who drop out by the follow-up.
pub const SHARE_ENROLLED_DROPPING_OUT: f64 = 0.10;
/// Share of learners without a placement who find a wage job.
pub const SHARE_FINDING_JOB: f64 = 0.02;
/// Learners who leave the export, as a share of the base rows.
pub const SHARE_LEAVING: f64 = 0.005;
/// New learners, as a share of the base rows.
pub const SHARE_JOINING: f64 = 0.01;

const CHANGE_SPACE: u64 = 101;
const LEAVE_SPACE: u64 = 102;

/// What a follow-up changes in one row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowChange {
    pub graduated: bool,
    pub dropped_out: bool,
    pub found_job: bool,
}

impl RowChange {
    pub fn any(self) -> bool {
        self.graduated || self.dropped_out || self.found_job
    }
}

/// The plan of a follow-up: which rows leave, how many join.
pub struct FollowUpPlan {
    pub base_rows: u64,
    pub joining_rows: u64,
    /// Keys that later rows repeat: those rows never leave, so that a
    /// leaving learner is really gone rather than replaced by a repeat.
    repeated_keys: FxHashSet<u64>,
}

impl FollowUpPlan {
    pub fn new(generator: &RowGenerator<'_>, base_rows: u64) -> Self {
        let repeated_keys = (0..base_rows)
            .filter(|&row| generator.repeats_key(row))
            .map(|row| generator.key_of(row))
            .collect();
        FollowUpPlan {
            base_rows,
            joining_rows: (base_rows as f64 * SHARE_JOINING).round() as u64,
            repeated_keys,
        }
    }

    /// Rows written: the base rows that stay, then the joining ones.
    pub fn total_rows(&self) -> u64 {
        self.base_rows + self.joining_rows
    }

    /// Whether base row `row` is left out of the follow-up.
    pub fn leaves(&self, generator: &RowGenerator<'_>, row: u64) -> bool {
        row < self.base_rows
            && !generator.repeats_key(row)
            && !self.repeated_keys.contains(&row)
            && unit(generator.hash_of(LEAVE_SPACE, row)) < SHARE_LEAVING
    }

    /// Changes base row `row` (already filled as in the base file) into its
    /// follow-up form; returns what changed. Rows that repeat a key are
    /// rejected by the loader anyway and stay as they were.
    pub fn change(&self, generator: &RowGenerator<'_>, row: u64, fields: &mut RowFields) -> RowChange {
        let mut change = RowChange::default();
        fields.set(col::SNAPSHOT_ID, &SNAPSHOT_ID.to_string());
        if row >= self.base_rows || generator.repeats_key(row) {
            return change;
        }
        let h = generator.hash_of(CHANGE_SPACE, row);
        if fields.enrolled {
            let u = unit(h);
            if u < SHARE_ENROLLED_GRADUATING {
                let graduation = format!("2025-{:02}-{:02}", 10 + mix(h, 1) % 3, 1 + mix(h, 2) % 28);
                change_enrollment(fields, "Graduated", Some(&graduation));
                fields.set(col::IS_GRADUATE, "1");
                fields.set(col::IS_ACTIVE, "0");
                change.graduated = true;
            } else if u < SHARE_ENROLLED_GRADUATING + SHARE_ENROLLED_DROPPING_OUT {
                change_enrollment(fields, "Dropped Out", None);
                fields.set(col::IS_DROPPED_OUT, "1");
                fields.set(col::IS_ACTIVE, "0");
                change.dropped_out = true;
            }
        }
        if !fields.placed && unit(mix(h, 3)) < SHARE_FINDING_JOB {
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
                "job_start_date": format!("2025-{:02}-{:02}", 10 + mix(h, 7) % 3, 1 + mix(h, 8) % 28),
                "organisation_name": company,
                "salary_range": salary,
                "job_title": title,
            }]);
            fields.set(col::PLACEMENT_DETAILS, &placement.to_string());
            fields.set(col::IS_WAGE_EMPLOYED, "1");
            fields.set(col::IS_PLACED, "1");
            fields.set(col::HAS_PLACEMENT_DETAILS, "1");
            change.found_job = true;
        }
        change
    }
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

/// What a follow-up changed, as `<out>.changes.json` records it. The
/// transitions are named as the graph names the states.
#[derive(Debug, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct ChangeReport {
    pub base_rows: u64,
    pub rows_written: u64,
    pub snapshot_id: u32,
    /// Learners of the base file that are not in the follow-up.
    pub learners_leaving: u64,
    /// Rows of learners that were not in the base file.
    pub learners_joining: u64,
    /// Learners of both files whose data differs.
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
    }

    pub fn absorb(&mut self, other: ChangeReport) {
        self.learners_leaving += other.learners_leaving;
        self.learners_joining += other.learners_joining;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::world::World;

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
    fn leaving_rows_are_about_the_share_and_never_hold_a_repeated_key() {
        let world = World::new(50_000);
        let generator = RowGenerator::new(&world, 7, 0.0);
        let plan = FollowUpPlan::new(&generator, 50_000);
        let leaving: Vec<u64> = (0..50_000).filter(|&r| plan.leaves(&generator, r)).collect();
        let expected = 50_000.0 * SHARE_LEAVING;
        assert!(
            (leaving.len() as f64 - expected).abs() < expected * 0.25,
            "{}",
            leaving.len()
        );
        assert!(leaving.iter().all(|r| !generator.repeats_key(*r)));
        assert_eq!(plan.joining_rows, 500);
    }
}
