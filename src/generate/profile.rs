//! The production profile of `docs/input.md` as numbers: the shares and
//! counts a generated file must reproduce, scaled to its row count.
//!
//! The generator draws from these numbers and the tests measure generated
//! files against them, so a change of the profile is made in one place.

/// Rows in the production export; counts below are scaled by `rows / this`.
pub const PRODUCTION_ROWS: f64 = 1_597_198.0;

/// Enrollment-status shares.
pub const SHARE_DROPPED_OUT: f64 = 0.7765;
pub const SHARE_GRADUATED: f64 = 0.1623;
pub const SHARE_ENROLLED: f64 = 0.0611;
/// Rows spelling the status `Dropped out` (lower-case o), per row.
pub const RATE_DROPPED_LOWER: f64 = 201.0 / PRODUCTION_ROWS;

/// Rows whose `hashed_email` repeats an earlier row's key.
pub const RATE_REPEATED_KEY: f64 = 31.0 / PRODUCTION_ROWS;
/// Rows whose person (full_name hash) already enrolled under another key:
/// 1,341,109 distinct names over 1,597,198 rows.
pub const SHARE_REPEATED_PERSON: f64 = 1.0 - 1_341_109.0 / PRODUCTION_ROWS;

/// `sand_id` is `n/a` in this share of rows.
pub const SHARE_SAND_ID_MISSING: f64 = 0.875;
/// A profile photo URL is present in this share of rows.
pub const SHARE_PHOTO: f64 = 0.074;

/// Share of rows whose JSON column is a non-empty array.
pub const SHARE_EMPLOYMENT: f64 = 1.0 - 0.8197;
pub const SHARE_PLACEMENT: f64 = 1.0 - 0.961;
pub const SHARE_EDUCATION: f64 = 1.0 - 0.9371;
/// Mean entries in a non-empty education_details array.
pub const MEAN_EDUCATION_ENTRIES: f64 = 1.25;
/// Mean entries in a non-empty employment_details array.
pub const MEAN_EMPLOYMENT_ENTRIES: f64 = 3.0;
/// Of the rows with employment entries, the share with at least one current job
/// (183,118 learners), and current jobs per such learner (244,138 / 183,118).
pub const SHARE_WITH_CURRENT_JOB: f64 = 183_118.0 / (PRODUCTION_ROWS * (1.0 - 0.8197));
pub const CURRENT_JOBS_PER_EMPLOYED: f64 = 244_138.0 / 183_118.0;

/// Employment flags.
pub const SHARE_WAGE_EMPLOYED: f64 = 0.0332;
pub const SHARE_FREELANCER: f64 = 0.004;
pub const SHARE_VENTURE: f64 = 0.002;

/// Disability flag.
pub const SHARE_DISABILITY: f64 = 0.036;

/// Learner-skill pairs per row (4.4 million over the file).
pub const SKILLS_PER_ROW: f64 = 4_400_000.0 / PRODUCTION_ROWS;
/// Share of rows with no skills at all (empty or `n/a`).
pub const SHARE_NO_SKILLS: f64 = 0.15;

/// Distinct shared values.
pub const DISTINCT_COUNTRIES: usize = 168;
pub const DISTINCT_CITIES: usize = 4_443;
pub const DISTINCT_COHORTS: usize = 121;
pub const DISTINCT_PROGRAMS: usize = 26;
pub const DISTINCT_SKILLS: usize = 3_334;
/// Distinct companies per row: about 462,000 over the file, growing with it.
pub const COMPANIES_PER_ROW: f64 = 462_000.0 / PRODUCTION_ROWS;
/// Distinct institutions per row: 28,595 over the file.
pub const INSTITUTIONS_PER_ROW: f64 = 28_595.0 / PRODUCTION_ROWS;

/// Program start and end dates are `1970-01-01` in this share of rows.
pub const SHARE_MISSING_PROGRAM_DATES: f64 = 0.0139;
/// LMS numbers are `-99` in this share of rows.
pub const SHARE_LMS_MISSING: f64 = 0.40;
/// Known inconsistencies, per row.
pub const RATE_GRADUATED_WITHOUT_DATE: f64 = 349.0 / PRODUCTION_ROWS;
pub const RATE_DATE_WITHOUT_GRADUATION: f64 = 228.0 / PRODUCTION_ROWS;
pub const RATE_GRADUATION_AFTER_END: f64 = 21_123.0 / PRODUCTION_ROWS;
pub const RATE_END_BEFORE_START: f64 = 1.0 / PRODUCTION_ROWS;

/// Average bytes per row of the production file (2.5 GB / 1.6 M rows; the
/// issue asks for about 1.5 KB).
pub const BYTES_PER_ROW: f64 = 1_550.0;

/// Share of 0/1 flag cells written as `0.0` / `1.0`.
pub const SHARE_FLAG_AS_FLOAT: f64 = 0.02;
/// Share of employment entries that spell the key `organization_name`.
pub const SHARE_ORGANIZATION_SPELLING: f64 = 0.05;

/// The snapshot written into `snapshot_id` (a date as YYYYMMDD).
pub const SNAPSHOT_ID: u32 = 20_250_930;

/// Expected count of a per-row rate in a file of `rows` rows.
pub fn expected(rows: u64, rate: f64) -> f64 {
    rows as f64 * rate
}
